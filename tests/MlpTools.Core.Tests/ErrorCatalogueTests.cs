using MlpTools.Core.Platform;
using System.Reflection;
using System.Text.RegularExpressions;
using MlpTools.Core.Data;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>
/// The catalogue of error ids (ErrorIds): every id has one kind, every site in src/ names its id through the catalogue,
/// and the help's table (docs/about_MlpTools_Errors.md) and the cmdlets' help pages agree with it.
/// </summary>
public class ErrorCatalogueTests
{
    private static readonly string KindNames = string.Join('|', Enum.GetNames<FailureKind>());

    /// <summary>Ids PowerShell gives, which the help names next to MlpTools' own.</summary>
    private static readonly string[] PowerShellIds = { "ParameterArgumentValidationError" };

    /// <summary>Fails listing every item, where Assert.Empty would show only the first few.</summary>
    private static void None(string what, IEnumerable<string> items)
    {
        var list = items.ToList();
        Assert.True(list.Count == 0, $"{list.Count} {what}:\n{string.Join('\n', list)}");
    }

    [Fact]
    public void EveryIdIsAPascalCaseNameWithOneKind()
    {
        var constants = typeof(ErrorIds).GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).ToArray();

        Assert.Equal(constants.Length, ErrorIds.All.Count);
        Assert.True(constants.Length > 100, $"only {constants.Length} ids");
        foreach (var field in constants)
        {
            string id = (string)field.GetRawConstantValue()!;
            Assert.Equal(field.Name, id);
            Assert.Matches("^[A-Z][a-z]+([A-Z][a-z0-9]*)+$", id);
            Assert.Equal(ErrorIds.All[id], ErrorIds.KindOf(id));
        }
        Assert.Equal(FailureKind.InvalidData, new MlpToolsException(ErrorIds.DataEmpty, "m").Kind);
        Assert.Equal(FailureKind.NotSpecified, ErrorIds.KindOf(ErrorIds.UnexpectedEngineFailure));
        Assert.Throws<ArgumentException>(() => ErrorIds.KindOf("ImageIndexOutOfRange"));
    }

    [Fact]
    public void NoSourceFileSpellsAnErrorIdAsAStringLiteral()
    {
        string src = Path.Combine(Checkout.Root, "src");
        // An id written out where an error is made (new MlpToolsException("Id", ...), a target-typed new("Id", ...),
        // new ErrorRecord(e, "Id", ...)), and any literal that is a catalogue id (a comparison, an argument).
        var literalAtSite = new Regex(@"(MlpToolsException\(\s*[$@]*""|\bnew\(\s*""[A-Z][A-Za-z0-9]+"",|ErrorRecord\(\s*\w+\s*,\s*[$@]*"")");
        var literal = new Regex(@"""([A-Z][A-Za-z0-9]+)""");
        var found = new List<string>();
        foreach (string file in Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
                     .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")))
        {
            string[] lines = File.ReadAllLines(file);
            for (int i = 0; i < lines.Length; i++)
            {
                if (literalAtSite.IsMatch(lines[i]) || literal.Matches(lines[i]).Any(m => ErrorIds.All.ContainsKey(m.Groups[1].Value)))
                {
                    found.Add($"{Path.GetRelativePath(src, file)}:{i + 1}: {lines[i].Trim()}");
                }
            }
        }
        None("error ids spelt out (use the ErrorIds constants)", found);
    }

    [Fact]
    public void TheErrorsHelpHasARowForEveryIdWithItsCategoryAndNoOtherIds()
    {
        string help = File.ReadAllText(Path.Combine(Checkout.Root, "docs", "about_MlpTools_Errors.md"));
        int start = help.IndexOf("    Case ", StringComparison.Ordinal), end = help.IndexOf("## SEE ALSO", StringComparison.Ordinal);
        Assert.True(start > 0 && end > start, "the table of cases is missing");
        // "What you see": an id (or several, "A / B"), a comma, the category.
        var rows = Regex.Matches(help[start..end], $@"(?<![\w.])(?<ids>[A-Z][a-z]\w*(?: / [A-Z][a-z]\w*)*), (?<kind>{KindNames})\b");
        var documented = rows.SelectMany(m => m.Groups["ids"].Value.Split(" / ").Select(id => (Id: id, Kind: m.Groups["kind"].Value))).ToList();

        None("rows that disagree with the catalogue", documented
            .Where(row => !ErrorIds.All.ContainsKey(row.Id) && !PowerShellIds.Contains(row.Id)).Select(row => $"not in the catalogue: {row.Id}").Distinct()
            .Concat(documented.Where(row => ErrorIds.All.TryGetValue(row.Id, out var kind) && kind.ToString() != row.Kind).Select(row => $"another category: {row.Id}, {row.Kind}"))
            .Concat(ErrorIds.All.Keys.Except(documented.Select(row => row.Id)).Order().Select(id => $"no row: {id}")));
    }

    [Fact]
    public void TheHelpPagesGiveEachIdItsCatalogueCategory()
    {
        // The cmdlets' pages ("- `PathIsFolder` (InvalidArgument): ...") and about_MlpTools' table ("    Id    Category    Meaning").
        var mentions = new List<(string Page, string Id, string Kind)>();
        foreach (string page in Directory.EnumerateFiles(Path.Combine(Checkout.Root, "docs"), "*.md"))
        {
            string text = File.ReadAllText(page);
            var inline = Regex.Matches(text, $@"`(?<id>[A-Z][a-z]\w*)` \((?<kind>{KindNames})[,)]");
            var table = Regex.Matches(text, $@"^ {{4}}(?<id>[A-Z][a-z]\w*)\s+(?<kind>{KindNames})\b", RegexOptions.Multiline);
            mentions.AddRange(inline.Concat(table).Select(m => (Path.GetFileName(page), m.Groups["id"].Value, m.Groups["kind"].Value)));
        }

        Assert.True(mentions.Count > 100, $"only {mentions.Count} mentions found: the patterns no longer fit the help");
        None("ids the catalogue lacks or gives another category", mentions.Where(m => !(ErrorIds.All.TryGetValue(m.Id, out var kind) && kind.ToString() == m.Kind)).Select(m => $"{m.Page}: {m.Id} ({m.Kind})"));
    }

    // The faults that had two ids, or an id of another concern, before the catalogue.

    [Fact]
    public void ImagesOfNoPixelsAreImageSizeInvalidInMemoryAndIdxHeaderInvalidFromAFile()
    {
        var inMemory = Fails(ErrorIds.ImageSizeInvalid, () => InMemory(3, 0, Array.Empty<byte>(), new byte[] { 0, 1, 0 }));
        Assert.Equal(FailureKind.InvalidArgument, inMemory.Kind);
        Assert.Contains("3x0", inMemory.Message);

        using var folder = new TempFolder();
        string images = WriteIdx(folder.File("images"), new[] { 3, 3, 0 }, Array.Empty<byte>());
        string labels = WriteIdx(folder.File("labels"), new[] { 3 }, new byte[] { 0, 1, 0 });
        var fromFile = Fails(ErrorIds.IdxHeaderInvalid, () => MnistFiles.Load(images, labels, "zero", "Train"));
        Assert.Equal(FailureKind.InvalidData, fromFile.Kind);
        Assert.Equal(images, fromFile.Target);
        Assert.Contains("3x0", fromFile.Message);
    }
}
