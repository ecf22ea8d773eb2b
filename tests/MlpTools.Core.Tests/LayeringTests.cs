using System.Text.RegularExpressions;
using Xunit;

namespace MlpTools.Core.Tests;

/// <summary>
/// The engine's folders are layers: each may use only the layers below it, so that one can be understood (and tested)
/// without those above. Read from the source, since every use of a type from another folder names its namespace
/// (a using directive, or a qualified name).
/// </summary>
public sealed class LayeringTests
{
    /// <summary>Bottom first. Imaging (pictures), Diagnostics (the environment report) and Sweeps share the top and use none of each other.</summary>
    private static readonly Dictionary<string, int> Rank = new(StringComparer.Ordinal)
    {
        ["Platform"] = 0,    // errors, regular files, atomic writes, JSON options, the native runtimes
        ["Data"] = 1,        // datasets: IDX, MNIST, CSV and objects, image files
        ["Modeling"] = 2,    // the network, its preprocessing, its history, ONNX scoring
        ["Training"] = 3,    // training, evaluation, gradient checks
        ["Persistence"] = 4, // model files, checkpoints, ONNX files
        ["Imaging"] = 5,
        ["Diagnostics"] = 5,
        ["Sweeps"] = 5,      // the search over trials: its space, result file and the datasets sent to sessions
    };

    private static readonly Regex Comment = new(@"//[^\n]*|/\*.*?\*/", RegexOptions.Singleline | RegexOptions.Compiled);
    // Plain and verbatim literals; an interpolated string's holes are code, so those strings stay.
    private static readonly Regex Literal = new(@"(?<![$@""])""(?:[^""\\\n]|\\.)*""|(?<![$])@""(?:[^""]|"""")*""", RegexOptions.Compiled);
    private static readonly Regex Namespace = new(@"^namespace [\w.]+;", RegexOptions.Multiline | RegexOptions.Compiled);
    private static readonly Regex Qualified = new(@"\bMlpTools\.Core\.(\w+)", RegexOptions.Compiled);
    // A name qualified from the enclosing MlpTools.Core namespace, such as Training.EpochRecord; a member access (x.Training) is not.
    private static readonly Regex PartlyQualified = new(@"(?<![\w.])(" + string.Join('|', Rank.Keys) + @")\.(?=[A-Z])", RegexOptions.Compiled);

    [Fact]
    public void EveryFolderUsesOnlyTheLayersBelowIt()
    {
        var violations = new List<string>();
        foreach (var (path, layer) in SourceFiles())
        {
            foreach (string used in UsedLayers(File.ReadAllText(path)))
            {
                if (used != layer && (!Rank.TryGetValue(used, out int usedRank) || usedRank >= Rank[layer]))
                {
                    violations.Add($"{Relative(path)} ({layer}) uses {used}");
                }
            }
        }
        Assert.True(violations.Count == 0, "Layering: Platform < Data < Modeling < Training < Persistence < Imaging, Diagnostics, Sweeps.\n" + string.Join('\n', violations));
    }

    [Fact]
    public void EveryFileIsInALayerFolderAndItsNamespaceMatchesTheFolder()
    {
        var wrong = new List<string>();
        foreach (string path in Directory.EnumerateFiles(Checkout.CoreFolder, "*.cs", SearchOption.AllDirectories).Where(IsSource))
        {
            string folder = Path.GetRelativePath(Checkout.CoreFolder, Path.GetDirectoryName(path)!);
            string expected = "MlpTools.Core." + folder.Replace(Path.DirectorySeparatorChar, '.');
            Match declared = Regex.Match(File.ReadAllText(path), @"^namespace ([\w.]+)", RegexOptions.Multiline);
            if (folder == "." || !Rank.ContainsKey(folder.Split(Path.DirectorySeparatorChar)[0]))
            {
                wrong.Add($"{Relative(path)} is in no layer folder ({string.Join(", ", Rank.Keys)})");
            }
            else if (declared.Groups[1].Value != expected)
            {
                wrong.Add($"{Relative(path)} declares namespace '{declared.Groups[1].Value}', not '{expected}'");
            }
        }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    /// <summary>The check itself: it sees a using directive, a fully and a partly qualified name, and ignores comments and text.</summary>
    [Fact]
    public void TheCheckSeesEveryWayOfNamingAnotherLayer()
    {
        Assert.Equal(new[] { "Training" }, UsedLayers("using MlpTools.Core.Training;\nnamespace MlpTools.Core.Data;"));
        Assert.Equal(new[] { "Persistence" }, UsedLayers("namespace MlpTools.Core.Data; class A { object B => MlpTools.Core.Persistence.X.Y; }"));
        Assert.Equal(new[] { "Imaging" }, UsedLayers("namespace MlpTools.Core.Data; class A { object B => Imaging.PngImage.Z; }"));
        Assert.Empty(UsedLayers("namespace MlpTools.Core.Data; // see MlpTools.Core.Training\nclass A { string B = \"Training.Epoch\"; object C => d.Training.Epoch; }"));
    }

    private static IEnumerable<string> UsedLayers(string source)
    {
        string code = Namespace.Replace(Literal.Replace(Comment.Replace(source, ""), "\"\""), "");
        return Qualified.Matches(code).Select(m => m.Groups[1].Value)
            .Concat(PartlyQualified.Matches(code).Select(m => m.Groups[1].Value))
            .Distinct().Order(StringComparer.Ordinal);
    }

    private static IEnumerable<(string Path, string Layer)> SourceFiles() =>
        Directory.EnumerateFiles(Checkout.CoreFolder, "*.cs", SearchOption.AllDirectories).Where(IsSource)
            .Select(path => (path, Path.GetRelativePath(Checkout.CoreFolder, path).Split(Path.DirectorySeparatorChar)[0]))
            .Where(file => Rank.ContainsKey(file.Item2));

    private static bool IsSource(string path)
    {
        string relative = Path.GetRelativePath(Checkout.CoreFolder, path);
        return !relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal) &&
               !relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    private static string Relative(string path) => Path.GetRelativePath(Checkout.CoreFolder, path);
}
