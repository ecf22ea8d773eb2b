using MlpTools.Core.Platform;
using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;

namespace MlpTools.Commands;

/// <summary>Reads models from files written by Export-Mlp, by PyTorch (torch.save of a state_dict) or as SafeTensors.</summary>
[Cmdlet(VerbsData.Import, "Mlp", DefaultParameterSetName = PathSet)]
[OutputType(typeof(MlpModel))]
public sealed class ImportMlpCommand : FileReadingCmdlet
{
    /// <summary>Auto (from the content), MlpTools, PyTorch or SafeTensors.</summary>
    [Parameter]
    public ModelFileFormat Format { get; set; } = ModelFileFormat.Auto;

    /// <summary>
    /// The activation between the layers, for PyTorch and SafeTensors files that do not record it (required for those);
    /// given for a file that records one, it takes precedence.
    /// </summary>
    [Parameter]
    public Activation? Activation { get; set; }

    /// <summary>The imported model's name; by default the name stored in an MlpTools file, or the file's name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>The device the model is read onto (files do not record one). Cpu is the only device of this package; Cuda is refused.</summary>
    [Parameter]
    public ComputeDevice Device { get; set; } = ComputeDevice.Cpu;

    protected override void ProcessItem() => ReadEach(ErrorIds.ModelFileNotFound, file =>
    {
        var time = Stopwatch.StartNew();
        // One step in the engine: the record says which file is being read while it is.
        ReportProgress("Importing models", $"Reading {System.IO.Path.GetFileName(file)}", 0);
        MlpModel model = ModelFiles.Import(file, Format, Activation, Name, StopToken, Device);
        WriteVerboseTimed($"Read model '{model.Name}' ({model.Layers}, {model.Activation}, {model.Task.ToString().ToLowerInvariant()}, {model.Runtime}) from {file}", time);
        WriteObject(model);
    });
}
