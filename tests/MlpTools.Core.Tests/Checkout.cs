namespace MlpTools.Core.Tests;

/// <summary>The checkout the tests were built from (their binaries live inside it, under out/ or bin/): for tests that read the sources and docs.</summary>
internal static class Checkout
{
    public static string Root { get; } = FindRoot();

    public static string CoreFolder { get; } = Path.Combine(Root, "src", "MlpTools.Core");

    private static string FindRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "src", "MlpTools.Core", "MlpTools.Core.csproj")))
            {
                return folder.FullName;
            }
        }
        throw new InvalidOperationException($"No MlpTools checkout above {AppContext.BaseDirectory}: build the tests inside it (out/xunit).");
    }
}
