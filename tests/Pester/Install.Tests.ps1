# Installing MlpTools as a PowerShell user does: the packages 'build.ps1 -Task Package' writes (the Test task makes them
# when stale) go through a file repository and PSResourceGet into a clean user scope, and are used from a new process.
# Linux x64 is installed and run; the Windows and macOS packages can only be checked by content here.
BeforeDiscovery {
    $canRun = $IsLinux -and [Runtime.InteropServices.RuntimeInformation]::OSArchitecture -eq 'X64'
    $checkedPlatforms = @(
        @{ RuntimeId = 'linux-x64'; OS = 'Linux' }
        @{ RuntimeId = 'win-x64'; OS = 'Windows' }
        @{ RuntimeId = 'osx-arm64'; OS = 'OSX' }
    )
}

BeforeAll {
    $manifest = Import-PowerShellDataFile $env:MLPTOOLS_MODULE
    $version = $manifest.ModuleVersion
    $packages = Join-Path (Split-Path (Split-Path $env:MLPTOOLS_MODULE)) 'packages'
    function Get-Package([string]$Name) {
        $path = Join-Path $packages "$Name.$version.nupkg"
        if (-not (Test-Path $path)) { throw "$path is missing: run 'dotnet pwsh ./build.ps1 -Task Package' first." }
        $path
    }
    # The platform rules the loader uses (NativePackage.cs), from the built engine.
    Import-Module $env:MLPTOOLS_MODULE
    $rules = (Test-MlpEnvironment).GetType().Assembly.GetType('MlpTools.Core.Platform.NativePackage', $true)
}

Describe 'The packages' {
    It 'are the module and one native package per shipped platform, each under 250 MB, at the manifest''s version' {
        $names = Get-ChildItem $packages -Filter *.nupkg | ForEach-Object Name | Sort-Object
        $names | Should -Be (@("MlpTools.$version.nupkg") + ($rules::ShippedRuntimeIds | ForEach-Object { "MlpTools.Native.$_.$version.nupkg" }) | Sort-Object)
        Get-ChildItem $packages -Filter *.nupkg | ForEach-Object { $_.Length | Should -BeLessThan 250MB -Because $_.Name }
        (Get-Item (Get-Package MlpTools)).Length | Should -BeLessThan 5MB
    }

    It 'the module carries no native library' {
        $zip = [IO.Compression.ZipFile]::OpenRead((Get-Package MlpTools))
        try { $entries = $zip.Entries.FullName } finally { $zip.Dispose() }
        $entries | Should -Contain 'MlpTools.psd1'
        $entries | Should -Contain 'dependencies/TorchSharp.dll'
        $entries | Where-Object { $_ -match '\.(so|dylib)(\.|$)' -or $_ -match '(?i)torch_cpu|LibTorchSharp\.dll|libSkiaSharp' } | Should -BeNullOrEmpty
    }
}

Describe 'MlpTools.Native.<RuntimeId> by content' -ForEach $checkedPlatforms {
    BeforeAll {
        $platform = [Runtime.InteropServices.OSPlatform]::Create($OS.ToUpperInvariant())
        $zip = [IO.Compression.ZipFile]::OpenRead((Get-Package "MlpTools.Native.$RuntimeId"))
        try {
            $entries = $zip.Entries.FullName | Where-Object { $_ -notmatch '^(_rels/|package/|\[Content_Types\])' }
            $nuspec = [xml][IO.StreamReader]::new($zip.GetEntry("MlpTools.Native.$RuntimeId.nuspec").Open()).ReadToEnd()
        }
        finally { $zip.Dispose() }
        $natives = $entries | Where-Object { $_ -like "$($rules::NativeFolderName)/*" } | ForEach-Object { $_.Substring($rules::NativeFolderName.Length + 1) }
        # Every native library a managed engine assembly imports (its P/Invoke module references) that the Linux package
        # holds: the names the load context asks for, so every platform's package must answer them too.
        $engine = Join-Path (Split-Path $env:MLPTOOLS_MODULE) 'dependencies'
        $linuxNatives = Get-ChildItem $engine -File | Where-Object Name -Like '*.so*' | ForEach-Object Name
        $asked = foreach ($assembly in Get-ChildItem $engine -Filter *.dll) {
            $pe = [Reflection.PortableExecutable.PEReader]::new([IO.File]::OpenRead($assembly.FullName))
            try {
                if (-not $pe.HasMetadata) { continue }
                $metadata = [Reflection.Metadata.PEReaderExtensions]::GetMetadataReader($pe)
                for ($row = 1; $row -le [Reflection.Metadata.Ecma335.MetadataReaderExtensions]::GetTableRowCount($metadata, [Reflection.Metadata.Ecma335.TableIndex]::ModuleRef); $row++) {
                    $name = $metadata.GetString($metadata.GetModuleReference([Reflection.Metadata.Ecma335.MetadataTokens]::ModuleReferenceHandle($row)).Name)
                    if ($rules::LibraryFileNames([Runtime.InteropServices.OSPlatform]::Linux, $name) | Where-Object { $_ -in $linuxNatives }) { $name }
                }
            }
            finally { $pe.Dispose() }
        }
        $asked = $asked | Sort-Object -Unique
    }

    It 'has the manifest''s version, and its manifest next to native/' {
        $nuspec.package.metadata.id | Should -Be "MlpTools.Native.$RuntimeId"
        $nuspec.package.metadata.version | Should -Be $version
        $entries | Should -Contain "MlpTools.Native.$RuntimeId.psd1"
        $entries | Where-Object { $_ -notlike 'native/*' -and $_ -notlike 'MlpTools.Native.*' } | Should -BeNullOrEmpty
    }

    It 'holds TorchSharp''s bridge under the name the loader resolves on that platform' {
        $natives | Should -Contain ($rules::TorchSharpLibraryFileName($platform))
    }

    It 'answers every native library the engine''s assemblies ask for (LibTorchSharp, libSkiaSharp, ...)' {
        $asked | Should -Contain 'LibTorchSharp'
        $asked | Should -Contain 'libSkiaSharp'
        foreach ($name in $asked) {
            $rules::LibraryFileNames($platform, $name) | Where-Object { $_ -in $natives } | Should -Not -BeNullOrEmpty -Because "$name on $RuntimeId"
        }
    }

    It 'holds libtorch itself and nothing the loader never needs' {
        $ext = $rules::LibraryExtension($platform)
        $natives | Should -Contain (($OS -eq 'Windows' ? 'torch_cpu' : 'libtorch_cpu') + $ext)
        $natives | Should -Contain (($OS -eq 'Windows' ? 'c10' : 'libc10') + $ext)
        $natives | Where-Object { $_ -match 'torch_python|_test\.|\.pdb$|aoti_custom_ops|backend_with_compiler|nnapi|\.lib$' } | Should -BeNullOrEmpty
    }

    It 'is tagged for its platform' {
        $nuspec.package.metadata.tags -split ' ' | Should -Contain (@{ Linux = 'Linux'; Windows = 'Windows'; OSX = 'MacOS' }[$OS])
    }
}

Describe 'Install-PSResource MlpTools into a clean user scope, then train, predict, export and uninstall' -Skip:(-not $canRun) {
    BeforeAll {
        $home_ = Join-Path $TestDrive 'home'
        $repository = Join-Path $TestDrive 'repository'
        $work = Join-Path $TestDrive 'work'
        New-Item -ItemType Directory $home_, $repository, $work | Out-Null
        $userModules = Join-Path $home_ '.local/share/powershell/Modules'
        $nativeName = "MlpTools.Native.linux-x64"
        # A new pwsh whose HOME is the temporary one and whose module path is its own: nothing of this machine's
        # modules leaks in. ('dotnet pwsh', the local tool, does not start with HOME elsewhere; its pwsh.dll does.)
        function Invoke-CleanPwsh([string]$Script) {
            $output = & env -u PSModulePath -u XDG_DATA_HOME -u XDG_CONFIG_HOME -u XDG_CACHE_HOME "HOME=$home_" dotnet (Join-Path $PSHOME 'pwsh.dll') -NoProfile -NonInteractive -Command "`$ErrorActionPreference = 'Stop'; $Script" 2>&1
            if ($LASTEXITCODE -ne 0) { throw "The child pwsh failed ($LASTEXITCODE): $($output -join [Environment]::NewLine)" }
            $output
        }
        $started = Get-Date
        Invoke-CleanPwsh "
            Register-PSResourceRepository -Name MlpToolsTest -Uri '$repository' -Trusted
            Publish-PSResource -NupkgPath '$(Get-Package MlpTools)' -Repository MlpToolsTest
            Publish-PSResource -NupkgPath '$(Get-Package $nativeName)' -Repository MlpToolsTest" | Out-Null
        $found = Invoke-CleanPwsh "(Find-PSResource -CommandName New-Mlp -Repository MlpToolsTest).ParentResource.Name"

        # First the module alone: what a user sees before the platform package is there.
        Invoke-CleanPwsh "Install-PSResource MlpTools -Repository MlpToolsTest -Scope CurrentUser" | Out-Null
        $withoutNatives = Invoke-CleanPwsh "
            Import-Module MlpTools
            try { New-Mlp | Out-Null; 'loaded' } catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category.ToString(); `$_.Exception.Message }
            (Test-MlpEnvironment).NativeSource"

        Invoke-CleanPwsh "Install-PSResource $nativeName -Version $version -Repository MlpToolsTest -Scope CurrentUser" | Out-Null
        $run = Invoke-CleanPwsh "
            Import-Module MlpTools
            `$environment = Test-MlpEnvironment
            # A small dataset made here: y is which of two clusters a point is in.
            `$rows = foreach (`$i in 0..63) { [pscustomobject]@{ X = (`$i % 2) * 4 + (`$i % 7) / 10; Y = (`$i % 2) * 4 - (`$i % 5) / 10; Side = ('left', 'right')[`$i % 2] } }
            `$data = `$rows | ConvertTo-MlpDataset -LabelProperty Side
            `$model = New-Mlp -Dataset `$data -HiddenSize 8 -Seed 1
            `$epoch = Invoke-MlpTraining -Model `$model -Dataset `$data -Epochs 1 -BatchSize 16 -Seed 1
            `$points = [pscustomobject]@{ X = 4.1; Y = 3.9 }, [pscustomobject]@{ X = 0.1; Y = 0 }
            `$predictions = `$points | Invoke-MlpPrediction -Model `$model
            Export-Mlp -Model `$model -Path '$work/model.mlp'
            `$imported = Import-Mlp '$work/model.mlp'
            [pscustomobject]@{
                ModulePath = (Get-Module MlpTools).ModuleBase
                Environment = `$environment | Select-Object Ready, RuntimeId, NativeSource, NativePackageName, NativePackageVersion, NativeFolder, NativeLibraryPath, CompatibilityFixApplied
                Epochs = @(`$epoch).Count
                Predicted = @(`$predictions.Predicted)
                Imported = '{0}-{1}-{2}' -f `$imported.Architecture.InputSize, (`$imported.Architecture.HiddenSizes -join '-'), `$imported.Architecture.OutputSize
                ImportedConfidence = @((`$points | Invoke-MlpPrediction -Model `$imported).Confidence)
                Confidence = @(`$predictions.Confidence)
            } | ConvertTo-Json -Depth 4"
        $run = $run | ConvertFrom-Json
        $installed = Get-ChildItem $userModules -Directory | ForEach-Object Name | Sort-Object
        $nativeVersions = Get-ChildItem (Join-Path $userModules $nativeName) -Directory | ForEach-Object Name

        Invoke-CleanPwsh "Uninstall-PSResource MlpTools, $nativeName -Scope CurrentUser" | Out-Null
        $left = @(Get-ChildItem $userModules -ErrorAction Ignore)
        Write-Host "Publish, install, import, train, uninstall: $([int]((Get-Date) - $started).TotalSeconds) s"
    }

    It 'Find-PSResource -CommandName New-Mlp finds the module' {
        $found | Should -Be 'MlpTools'
    }

    It 'without the platform package every command stops with NativePackageMissing, naming the command that installs it' {
        $withoutNatives[0] | Should -Be 'NativePackageMissing,MlpTools.Commands.NewMlpCommand'
        $withoutNatives[1] | Should -Be 'NotInstalled'
        $withoutNatives[2] | Should -BeLike "*Run: Install-PSResource $nativeName -Version $version *"
        $withoutNatives[3] | Should -Be 'Missing'
    }

    It 'installs both as versioned folders in the user scope' {
        $installed | Should -Be 'MlpTools', $nativeName
        $nativeVersions | Should -Be $version
        $run.ModulePath | Should -Be (Join-Path $userModules "MlpTools/$version")
    }

    It 'Test-MlpEnvironment names the package, version, platform and folder it loads from, with the libstdc++ fix' {
        $folder = Join-Path $userModules "$nativeName/$version/native"
        $run.Environment.Ready | Should -BeTrue
        $run.Environment.RuntimeId | Should -Be 'linux-x64'
        $run.Environment.NativeSource | Should -Be 'Package'
        $run.Environment.NativePackageName | Should -Be $nativeName
        $run.Environment.NativePackageVersion | Should -Be $version
        $run.Environment.NativeFolder | Should -Be $folder
        $run.Environment.NativeLibraryPath | Should -Be (Join-Path $folder 'libLibTorchSharp.so')
        $run.Environment.CompatibilityFixApplied | Should -BeTrue
    }

    It 'trains one epoch, predicts and exports' {
        $run.Epochs | Should -Be 1
        $run.Predicted.Count | Should -Be 2
        $run.Predicted | ForEach-Object { $_ | Should -BeIn 'left', 'right' }
        Join-Path $work 'model.mlp' | Should -Exist
        # The exported file, read back in the same session, is the same model.
        $run.Imported | Should -Be '2-8-2'
        $run.ImportedConfidence | Should -Be $run.Confidence
    }

    It 'Uninstall-PSResource leaves nothing behind' {
        $left | Should -BeNullOrEmpty
    }
}
