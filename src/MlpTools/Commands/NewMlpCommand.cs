using System.Management.Automation;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;

namespace MlpTools.Commands;

/// <summary>Creates a multilayer perceptron with zero biases and kaiming-normal (or Xavier) weights.</summary>
[Cmdlet(VerbsCommon.New, "Mlp")]
[OutputType(typeof(MlpModel))]
public sealed class NewMlpCommand : MlpCmdlet
{
    /// <summary>The data the model is for: input size, output size, class or target names, columns and image size come from it.</summary>
    [Parameter(ValueFromPipeline = true)]
    public MlpDataset? Dataset { get; set; }

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int InputSize { get; set; } = 784;

    /// <summary>Width of each hidden layer, input side first; @() gives the linear softmax model.</summary>
    [Parameter]
    [ValidateNotNull]
    [ValidateRange(1, int.MaxValue)]
    [AllowEmptyCollection]
    public int[] HiddenSize { get; set; } = { 256 };

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; } = 10;

    [Parameter]
    public Activation Activation { get; set; } = Activation.ReLU;

    /// <summary>α of ELU: the value ELU approaches for large negative inputs is −α.</summary>
    [Parameter]
    [ValidateRange(0.0, 1e6)]
    public double Alpha { get; set; } = 1.0;

    /// <summary>Slope of leaky ReLU for negative inputs.</summary>
    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double NegativeSlope { get; set; } = 0.01;

    /// <summary>Probability of zeroing each hidden unit during training (inverted dropout); 0 turns it off.</summary>
    [Parameter]
    [ValidateRange(0.0, 0.999999)]
    public double Dropout { get; set; }

    [Parameter]
    public Initialization Initialization { get; set; } = Initialization.KaimingNormal;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "Mlp";

    /// <summary>Seed of the weight initialisation; a random one (recorded on the model) when omitted.</summary>
    [Parameter]
    public long? Seed { get; set; }

    /// <summary>Where the weights live and the model computes. Cpu is the only device of this package; Cuda is refused (DeviceUnavailable).</summary>
    [Parameter]
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    protected override void ProcessItem()
    {
        int inputSize = InputSize;
        int outputSize = OutputSize;
        Preprocessing? preprocessing = null;
        if (Dataset is not null)
        {
            var bound = MyInvocation.BoundParameters;
            inputSize = bound.ContainsKey(nameof(InputSize)) ? InputSize : Dataset.FeatureCount;
            int answers = Dataset.Task == MlpTask.Regression ? Dataset.TargetNames.Count : Dataset.ClassCount;
            outputSize = bound.ContainsKey(nameof(OutputSize)) ? OutputSize : answers;
            if (answers == 0 || answers > outputSize)
            {
                throw new MlpToolsException(ErrorIds.ModelOutputSizeMismatch,
                    answers == 0
                        ? $"Dataset '{Dataset.Name}' has no labels or targets, so it cannot say what the model's outputs are. Build it with -LabelProperty or -TargetProperty."
                        : $"Dataset '{Dataset.Name}' has {answers} {(Dataset.Task == MlpTask.Regression ? "targets" : "classes")}; -OutputSize {outputSize} is too few. Leave -OutputSize out.", Dataset);
            }
            preprocessing = Preprocessing.Of(Dataset, outputSize);
            if (inputSize != Dataset.FeatureCount)
            {
                throw new MlpToolsException(ErrorIds.ModelInputSizeMismatch,
                    $"Dataset '{Dataset.Name}' has {Dataset.FeatureCount} features; -InputSize {inputSize} does not fit it. Leave -InputSize out.", Dataset);
            }
        }
        var architecture = new MlpArchitecture(inputSize, HiddenSize, outputSize, new ActivationSpec(Activation, Alpha, NegativeSlope), Initialization, Dropout);
        MlpModel model = MlpModel.Create(Name, architecture, Seed ?? Random.Shared.NextInt64(0, int.MaxValue), preprocessing, Device);
        WriteVerbose($"Created '{model.Name}': {model.Layers}, {model.Activation}, {model.ParameterCount:N0} parameters, {model.Initialization} weights from seed {model.Seed}, on {model.Device}" +
            $"{(Dropout > 0 ? $", dropout {Dropout}" : "")}{(Dataset is null ? "" : $", sized for dataset '{Dataset.Name}'")}.");
        WriteObject(model);
    }
}
