using System.Management.Automation;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;

namespace MlpTools.Commands;

/// <summary>Reads models from files written by Export-Mlp, by PyTorch (torch.save of a state_dict) or as SafeTensors.</summary>
[Cmdlet(VerbsData.Import, "Mlp", DefaultParameterSetName = PathSet)]
[OutputType(typeof(MlpModel))]
public sealed class ImportMlpCommand : MlpCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";

    /// <summary>One or more files; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Files taken exactly as written, without wildcard expansion.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

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

    protected override void ProcessItem()
    {
        foreach (string file in ResolveFiles(ParameterSetName == LiteralPathSet ? LiteralPath : Path, ParameterSetName == LiteralPathSet, "ModelFileNotFound"))
        {
            try
            {
                WriteObject(ModelFiles.Import(file, Format, Activation, Name, StopToken));
            }
            catch (Core.MlpToolsException e) when (e.Kind != Core.FailureKind.NotInstalled)
            {
                // One unreadable file does not stop the others.
                WriteError(ToErrorRecord(e));
            }
            catch (Exception e) when (e is not Core.MlpToolsException and not PipelineStoppedException and not OperationCanceledException)
            {
                // Not even a failure nobody foresaw: the record names the file, and the next one is still read.
                WriteError(new ErrorRecord(e, "UnexpectedEngineFailure", ErrorCategory.NotSpecified, file)
                {
                    ErrorDetails = new ErrorDetails($"Import-Mlp could not read '{file}': {e.Message} Run Get-Error for details and report it with the file."),
                });
            }
        }
    }
}
