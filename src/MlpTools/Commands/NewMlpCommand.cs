using System.Management.Automation;
using MlpTools.Core.Modeling;

namespace MlpTools.Commands;

/// <summary>Creates a multilayer perceptron with kaiming-normal weights and zero biases.</summary>
[Cmdlet(VerbsCommon.New, "Mlp")]
[OutputType(typeof(MlpModel))]
public sealed class NewMlpCommand : MlpCmdlet
{
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int InputSize { get; set; } = 784;

    /// <summary>Width of each hidden layer, input side first.</summary>
    [Parameter]
    [ValidateNotNull]
    [ValidateRange(1, int.MaxValue)]
    public int[] HiddenSize { get; set; } = { 256 };

    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int OutputSize { get; set; } = 10;

    [Parameter]
    public Activation Activation { get; set; } = Activation.ReLU;

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "Mlp";

    /// <summary>Seed of the weight initialisation; a random one (recorded on the model) when omitted.</summary>
    [Parameter]
    public long? Seed { get; set; }

    protected override void ProcessItem() =>
        WriteObject(MlpModel.Create(Name, InputSize, HiddenSize, OutputSize, Activation, Seed ?? Random.Shared.NextInt64(0, int.MaxValue)));
}
