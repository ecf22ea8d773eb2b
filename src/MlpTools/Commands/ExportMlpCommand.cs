using System.Diagnostics;
using System.Management.Automation;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;

namespace MlpTools.Commands;

/// <summary>Saves a model to a file: MlpTools' own format (everything), its weights for PyTorch or SafeTensors, or an ONNX graph for any ONNX runtime.</summary>
[Cmdlet(VerbsData.Export, "Mlp", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(FileInfo))]
public sealed class ExportMlpCommand : MlpCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    public MlpModel Model { get; set; } = null!;

    /// <summary>The file to write, taken literally (no wildcards); relative paths are relative to the current location.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [Alias("LiteralPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>MlpTools (the default, or chosen by a .pt, .pth, .safetensors or .onnx extension), PyTorch, SafeTensors or Onnx.</summary>
    [Parameter]
    [ValidateSet(nameof(ModelFileFormat.MlpTools), nameof(ModelFileFormat.PyTorch), nameof(ModelFileFormat.SafeTensors), nameof(ModelFileFormat.Onnx))]
    public ModelFileFormat Format { get; set; } = ModelFileFormat.Auto;

    /// <summary>Replace an existing file, even a read-only one.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    /// <summary>Write the file, as Get-Item gives it, to the pipeline.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        string target = ResolvePath(Path);
        ModelFileFormat format = Format == ModelFileFormat.Auto ? ModelFiles.FormatForPath(target) : Format;
        bool exists = File.Exists(target);
        string action = $"Export model '{Model.Name}' ({Model.Layers}) as {format}{(exists ? ", replacing the existing file" : "")}";
        if (!ShouldProcess(target, action))
        {
            return;
        }
        var time = Stopwatch.StartNew();
        // One step in the engine: the record says what is being written while it is.
        ReportProgress($"Exporting {Model.Name}", $"Writing {format} file {System.IO.Path.GetFileName(target)}", 0);
        ModelFiles.Export(Model, target, format, overwrite: Force);
        WriteVerboseTimed($"Wrote model '{Model.Name}' ({Model.Layers}) to {target} ({SizeOf(target)}, {format})", time);
        if (PassThru)
        {
            WriteFileItem(target);
        }
    }
}
