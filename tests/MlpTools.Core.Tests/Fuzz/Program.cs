namespace MlpTools.Core.Tests.Fuzz;

/// <summary>
/// The test assembly's entry point (instead of the one Microsoft.NET.Test.Sdk generates): `dotnet MlpTools.Core.Tests.dll
/// fuzz-worker ...` runs the fuzz cases in a process of their own, so a native crash cannot take the test runner down.
/// </summary>
internal static class Program
{
    public static int Main(string[] args) => args.Length > 0 && args[0] == FuzzWorker.Command ? FuzzWorker.Run(args[1..]) : 0;
}
