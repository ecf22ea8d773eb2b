using System.Collections.ObjectModel;
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

    /// <summary>For PyTorch and SafeTensors files, whose state_dict does not record it: the activation between the layers.</summary>
    [Parameter]
    public Activation Activation { get; set; } = Activation.ReLU;

    /// <summary>The imported model's name; by default the name stored in an MlpTools file, or the file's name.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessItem()
    {
        foreach (string file in ResolveFiles())
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
        }
    }

    private IEnumerable<string> ResolveFiles()
    {
        if (ParameterSetName == LiteralPathSet)
        {
            return LiteralPath.Select(p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p));
        }
        var files = new List<string>();
        foreach (string pattern in Path)
        {
            if (!WildcardPattern.ContainsWildcardCharacters(pattern))
            {
                files.Add(ResolvePath(pattern));
                continue;
            }
            Collection<string> matches;
            try
            {
                matches = SessionState.Path.GetResolvedProviderPathFromPSPath(pattern, out _);
            }
            catch (ItemNotFoundException)
            {
                matches = new Collection<string>();
            }
            if (matches.Count == 0)
            {
                WriteError(ToErrorRecord(new Core.MlpToolsException("ModelFileNotFound", Core.FailureKind.ObjectNotFound,
                    $"No file matches '{pattern}'.", pattern)));
            }
            files.AddRange(matches);
        }
        return files;
    }
}
