using System.Reflection;
using SkiaSharp;

namespace MlpTools.Core.Platform;

/// <summary>
/// Makes sure SkiaSharp's native library (libSkiaSharp) loads before anything is drawn, and picks the fonts:
/// a missing native library becomes one error with the loader's reason instead of "type initializer threw".
/// </summary>
public static class ImagingRuntime
{
    private static readonly Lazy<Exception?> LoadFailure = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly Lazy<string> SansFamily = new(FindSansFamily);

    public static void EnsureAvailable()
    {
        NativeLibraries.EnsureInstalled();
        if (LoadFailure.Value is Exception failure)
        {
            throw new MlpToolsException(ErrorIds.ImagingUnavailable, LoadError!, null, failure);
        }
    }

    /// <summary>Why pictures cannot be drawn, or null when they can.</summary>
    public static string? LoadError => NativeLibraries.MissingError ?? (LoadFailure.Value is Exception failure
        ? $"SkiaSharp, which MlpTools draws pictures with, cannot load its native library: {Innermost(failure).Message} Rebuild the module for this platform with 'dotnet pwsh ./build.ps1 -Task Build'."
        : null);

    public static string SkiaSharpVersion =>
        typeof(SKSurface).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0]
        ?? typeof(SKSurface).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>A sans-serif family the system has (DejaVu Sans on Debian), or null for SkiaSharp's default.</summary>
    internal static string? Sans => SansFamily.Value.Length == 0 ? null : SansFamily.Value;

    internal static SKTypeface Typeface(bool bold = false) =>
        SKTypeface.FromFamilyName(Sans, bold ? SKFontStyle.Bold : SKFontStyle.Normal) ?? SKTypeface.Default;

    private static Exception? TryLoad()
    {
        try
        {
            using var probe = SKSurface.Create(new SKImageInfo(1, 1));
            return probe is null ? new InvalidOperationException("SkiaSharp could not create a 1x1 surface.") : null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static string FindSansFamily()
    {
        string[] families = SKFontManager.Default.GetFontFamilies();
        return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Segoe UI", "Noto Sans" }
            .FirstOrDefault(f => families.Contains(f, StringComparer.OrdinalIgnoreCase)) ?? "";
    }

    private static Exception Innermost(Exception e) => e.InnerException is null ? e : Innermost(e.InnerException);
}
