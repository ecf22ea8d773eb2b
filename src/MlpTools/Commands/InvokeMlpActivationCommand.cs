using System.Management.Automation;
using MlpTools.Core.Modeling;

namespace MlpTools.Commands;

/// <summary>One point of an activation function: its value and its derivative.</summary>
public sealed record ActivationPoint(Activation Activation, double X, double Value, double Derivative);

/// <summary>Evaluates an activation function and its derivative at given points, to see its shape at the prompt.</summary>
[Cmdlet(VerbsLifecycle.Invoke, "MlpActivation")]
[OutputType(typeof(ActivationPoint))]
public sealed class InvokeMlpActivationCommand : MlpCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    public Activation Activation { get; set; }

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true)]
    [ValidateNotNullOrEmpty]
    public double[] InputObject { get; set; } = Array.Empty<double>();

    [Parameter]
    [ValidateRange(0.0, 1e6)]
    public double Alpha { get; set; } = 1.0;

    [Parameter]
    [ValidateRange(0.0, 1.0)]
    public double NegativeSlope { get; set; } = 0.01;

    protected override void ProcessItem()
    {
        var (values, derivatives) = ActivationSpec.Evaluate(new ActivationSpec(Activation, Alpha, NegativeSlope), InputObject);
        for (int i = 0; i < InputObject.Length; i++)
        {
            WriteObject(new ActivationPoint(Activation, InputObject[i], values[i], derivatives[i]));
        }
    }
}
