# What a user sees when libtorch cannot load: one error that names the missing piece, not "type initializer threw".
BeforeDiscovery {
    # The scenario exists only where the build had to apply the libstdc++ fix (Debian 12, Ubuntu 22.04).
    $fixApplied = Test-Path (Join-Path (Split-Path $env:MLPTOOLS_MODULE) 'dependencies/libmlptools_glibcxx_shim.so')
}

Describe 'libtorch that cannot load' -Skip:(-not $fixApplied) {
    BeforeAll {
        $moduleDir = Split-Path $env:MLPTOOLS_MODULE
        $packages = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME '.nuget/packages' }
        $unpatched = Join-Path $packages 'torchsharp/0.107.0/runtimes/linux-x64/native/libLibTorchSharp.so'

        # A copy of the built module whose libLibTorchSharp.so is TorchSharp's original, without the fix.
        $copy = Join-Path $TestDrive 'MlpTools'
        New-Item -ItemType Directory (Join-Path $copy 'dependencies') | Out-Null
        Get-ChildItem $moduleDir -File | Copy-Item -Destination $copy
        Get-ChildItem (Join-Path $moduleDir 'dependencies') -File | Where-Object Name -NotIn 'libLibTorchSharp.so', 'libmlptools_glibcxx_shim.so' |
            ForEach-Object { New-Item -ItemType SymbolicLink -Path (Join-Path $copy "dependencies/$($_.Name)") -Target $_.FullName | Out-Null }
        Copy-Item $unpatched (Join-Path $copy 'dependencies')

        $pwsh = Join-Path $PSHOME 'pwsh'
        $report = & $pwsh -NoProfile -NonInteractive -Command "
            Import-Module '$(Join-Path $copy 'MlpTools.psd1')'
            try { New-Mlp | Out-Null; 'loaded' } catch { `$_.FullyQualifiedErrorId; `$_.CategoryInfo.Category.ToString(); `$_.Exception.Message }
            'session alive'"
        $environment = & $pwsh -NoProfile -NonInteractive -Command "
            Import-Module '$(Join-Path $copy 'MlpTools.psd1')'
            Test-MlpEnvironment | ConvertTo-Json -Depth 3"
        $environment = $environment | ConvertFrom-Json

        # An ONNX model, written (and measured) by the working module, then scored where libtorch cannot load.
        $onnxFile = Join-Path $TestDrive 'digits.onnx'
        $expectedCorrect = & $pwsh -NoProfile -NonInteractive -Command "
            Import-Module '$env:MLPTOOLS_MODULE'
            `$m = New-Mlp -HiddenSize 32 -Seed 5
            Export-Mlp -Model `$m -Path '$onnxFile'
            (Test-MlpAccuracy -Model `$m -Dataset (Get-MnistDataset -Split Test)).Correct"
        $onnxReport = & $pwsh -NoProfile -NonInteractive -Command "
            Import-Module '$(Join-Path $copy 'MlpTools.psd1')'
            `$m = Import-Mlp '$onnxFile' -ErrorAction Stop
            `$test = Get-MnistDataset -Split Test
            (Test-MlpAccuracy -Model `$m -Dataset `$test -ErrorAction Stop).Correct
            @(Invoke-MlpPrediction -Model `$m -Dataset `$test -First 3 -ErrorAction Stop).Count
            try { Invoke-MlpTraining -Model `$m -Dataset `$test -Epochs 1 -ErrorAction Stop } catch { `$_.FullyQualifiedErrorId }
            @(Get-Content /proc/`$PID/maps | Where-Object { `$_ -match 'libtorch_cpu|libLibTorchSharp' }).Count"
    }

    It 'stops New-Mlp with TorchNativeLoadFailed in category NotInstalled, printing nothing else' {
        $report.Count | Should -Be 4
        $report[0] | Should -Be 'TorchNativeLoadFailed,MlpTools.Commands.NewMlpCommand'
        $report[1] | Should -Be 'NotInstalled'
    }

    It 'names the missing GLIBCXX version and how to fix it' {
        $report[2] | Should -Match 'GLIBCXX_3\.4\.32'
        $report[2] | Should -Match 'build\.ps1 -Task Build'
        $report[2] | Should -Not -Match 'type initializer'
    }

    It 'points to Test-MlpEnvironment' {
        $report[2] | Should -Match 'Run Test-MlpEnvironment'
    }

    It 'Test-MlpEnvironment reports the failure and its reason instead of failing itself' {
        $environment.Ready | Should -BeFalse
        $environment.NativeLibraryLoaded | Should -BeFalse
        $environment.NativeLoadError | Should -Match 'GLIBCXX_3\.4\.32'
        $environment.CompatibilityFixApplied | Should -BeFalse
        $environment.LibTorchVersion | Should -BeNullOrEmpty
        $environment.TorchThreads | Should -BeNullOrEmpty
        $environment.TorchSharpVersion | Should -Be '0.107.0'
        $environment.ImagingAvailable | Should -BeTrue
        $environment.Problems[0] | Should -Be $environment.NativeLoadError
    }

    It 'still scores a model imported from ONNX, through ONNX Runtime, without loading libtorch' {
        $onnxReport[0] | Should -Be $expectedCorrect
        $onnxReport[1] | Should -Be 3
        $onnxReport[3] | Should -Be 0
    }

    It 'refuses to train that model with ModelScoringOnly, not a libtorch failure' {
        $onnxReport[2] | Should -BeExactly 'ModelScoringOnly,MlpTools.Commands.InvokeMlpTrainingCommand'
    }

    It 'Test-MlpEnvironment reports ONNX Runtime loaded though libtorch is not' {
        $environment.OnnxRuntimeLoaded | Should -BeTrue
        $environment.OnnxRuntimeVersion | Should -BeExactly '1.31.1'
    }

    It 'writes nothing into the module folder' {
        Join-Path $copy 'dependencies/cpu' | Should -Not -Exist
    }

    It 'leaves the session running' {
        $report[-1] | Should -Be 'session alive'
    }
}
