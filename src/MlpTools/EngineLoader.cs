using System.Reflection;
using System.Runtime.Loader;
using MlpTools.Core.Platform;

namespace MlpTools;

/// <summary>
/// Loads the engine (MlpTools.Core with TorchSharp, Google.Protobuf, SkiaSharp) from the module's dependencies/
/// folder, and their native libraries from the platform package (see NativeLibraries), into a load context of its
/// own, so another module that brings a different version of one of those assemblies cannot collide with ours.
/// Only MlpTools.Core is resolved from the default context; everything it needs comes from its own.
/// </summary>
/// <remarks>
/// MlpTools.psm1 calls <see cref="Register"/> before it imports the cmdlets: PowerShell reads the cmdlets'
/// parameter types (which are engine types) while importing, before an IModuleAssemblyInitializer would run.
/// </remarks>
public static class EngineLoader
{
    private const string EngineAssemblyName = "MlpTools.Core";
    private static readonly EngineLoadContext Engine =
        new(Path.Combine(Path.GetDirectoryName(typeof(EngineLoader).Assembly.Location)!, "dependencies"));
    private static int _registered;

    /// <summary>Hooks engine resolution into the default context; safe to call on every import.</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref _registered, 1) == 0)
        {
            AssemblyLoadContext.Default.Resolving += ResolveEngine;
        }
    }

    private static Assembly? ResolveEngine(AssemblyLoadContext context, AssemblyName name) =>
        name.Name == EngineAssemblyName ? Engine.LoadFromAssemblyName(name) : null;

    private sealed class EngineLoadContext(string folder) : AssemblyLoadContext("MlpTools.Engine")
    {
        protected override Assembly? Load(AssemblyName name)
        {
            string path = Path.Combine(folder, name.Name + ".dll");
            // Anything not shipped in dependencies/ (the framework itself) comes from the default context.
            return File.Exists(path) ? LoadFromAssemblyPath(path) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string name)
        {
            // Every native library (LibTorchSharp, libSkiaSharp, whatever else a dependency brings) comes from the
            // platform package MlpTools.Native.<rid>, or from dependencies/ in a development build.
            return NativeLibraries.Resolve(name) is string path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
        }
    }
}
