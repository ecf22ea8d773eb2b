using System.Collections;
using System.Management.Automation;
using System.Reflection;
using MlpTools.Core.Diagnostics;

namespace MlpTools.Commands;

/// <summary>Reports what MlpTools needs and finds on this machine: versions, native libraries, threads, data.</summary>
[Cmdlet(VerbsDiagnostic.Test, "MlpEnvironment")]
[OutputType(typeof(EnvironmentReport))]
public sealed class TestMlpEnvironmentCommand : MlpCmdlet
{
    protected override void ProcessItem()
    {
        string moduleVersion = MyInvocation.MyCommand.Module?.Version?.ToString() is string version && version != "0.0"
            ? version
            : typeof(TestMlpEnvironmentCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "unknown";
        string powerShellVersion = (SessionState.PSVariable.GetValue("PSVersionTable") as Hashtable)?["PSVersion"]?.ToString() ?? "unknown";
        WriteObject(EnvironmentReport.Collect(moduleVersion, powerShellVersion));
    }
}
