using System.Management.Automation;

namespace MlpTools.Commands;

/// <summary>
/// A cmdlet that reads one thing per file or folder named by -Path (wildcards expanded) or -LiteralPath (taken as
/// written), the PowerShell way: a file it cannot read is an error record naming it, and the next one is still read.
/// </summary>
public abstract class FileReadingCmdlet : MlpCmdlet
{
    protected const string PathSet = "Path";
    protected const string LiteralPathSet = "LiteralPath";

    /// <summary>One or more paths; wildcards are expanded.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Paths taken exactly as written, without wildcard expansion.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    /// <summary>Runs <paramref name="read"/> for every path given; <paramref name="notFoundId"/> is the error of a pattern that matches nothing.</summary>
    protected void ReadEach(string notFoundId, Action<string> read)
    {
        bool literal = ParameterSetName == LiteralPathSet;
        ForEachPath(literal ? LiteralPath : Path, literal, notFoundId, read);
    }
}
