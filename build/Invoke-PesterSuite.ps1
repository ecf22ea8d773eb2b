<#
.SYNOPSIS
    Runs every Pester test against the built module and writes the pass and fail counts as JSON.
.DESCRIPTION
    build.ps1's Test task runs it in a child pwsh, so that the module's assemblies are never loaded (and locked) in the
    build's own session. Failed blocks and containers (a BeforeAll that throws, a file that does not parse) count as
    failures.
#>
param(
    # The built module's manifest; the tests import it from $env:MLPTOOLS_MODULE.
    [Parameter(Mandatory)][string]$ModulePath,
    # Pester's own manifest (tools/Pester.psd1 of the NuGet package).
    [Parameter(Mandatory)][string]$PesterPath,
    # The folder of *.Tests.ps1 files.
    [Parameter(Mandatory)][string]$TestPath,
    # Where the NUnit XML results go.
    [Parameter(Mandatory)][string]$ResultPath,
    # Where the JSON summary { Passed, Failed } goes.
    [Parameter(Mandatory)][string]$SummaryPath
)

$env:MLPTOOLS_MODULE = $ModulePath
Import-Module $PesterPath
$config = New-PesterConfiguration
$config.Run.Path = $TestPath
$config.Run.PassThru = $true
$config.Output.Verbosity = 'Detailed'
$run = Invoke-Pester -Configuration $config
# The XML report apart from the run: Pester's writer throws on a control character in a test's message (a captured
# colour escape, say), which would otherwise lose the counts of the whole run.
try {
    $run | Export-NUnitReport -Path $ResultPath
} catch {
    Write-Warning "No NUnit report at $ResultPath ($($_.Exception.Message)); the counts below are complete."
}
@{ Passed = $run.PassedCount; Failed = $run.FailedCount + $run.FailedBlocksCount + $run.FailedContainersCount } | ConvertTo-Json | Set-Content $SummaryPath
