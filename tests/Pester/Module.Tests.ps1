BeforeDiscovery {
    $cmdlets = @(
        @{ Name = 'Get-MnistDataset'; OutputType = @('MlpTools.Core.Data.MlpDataset') }
        @{ Name = 'New-Mlp'; OutputType = @('MlpTools.Core.Modeling.MlpModel') }
        @{ Name = 'Invoke-MlpTraining'; OutputType = @('MlpTools.Core.Modeling.EpochRecord', 'MlpTools.Core.Modeling.MlpModel') }
        @{ Name = 'Test-MlpAccuracy'; OutputType = @('MlpTools.Core.Training.AccuracyResult', 'MlpTools.Core.Training.RegressionResult') }
        @{ Name = 'Invoke-MlpPrediction'; OutputType = @('MlpTools.Core.Training.Prediction', 'System.Management.Automation.PSObject') }
        @{ Name = 'Export-Mlp'; OutputType = @('System.IO.FileInfo') }
        @{ Name = 'Import-Mlp'; OutputType = @('MlpTools.Core.Modeling.MlpModel') }
        @{ Name = 'Invoke-MlpActivation'; OutputType = @('MlpTools.Commands.ActivationPoint') }
        @{ Name = 'Test-MlpGradient'; OutputType = @('MlpTools.Core.Training.GradientCheckResult') }
        @{ Name = 'Export-MlpDigitGrid'; OutputType = @('System.IO.FileInfo') }
        @{ Name = 'Export-MlpTrainingCurve'; OutputType = @('System.IO.FileInfo') }
        @{ Name = 'Export-MlpConfusionMatrix'; OutputType = @('System.IO.FileInfo') }
        @{ Name = 'Show-MlpDigit'; OutputType = @('System.String') }
        @{ Name = 'Test-MlpEnvironment'; OutputType = @('MlpTools.Core.Diagnostics.EnvironmentReport') }
        @{ Name = 'ConvertTo-MlpDataset'; OutputType = @('MlpTools.Core.Data.MlpDataset') }
        @{ Name = 'Import-MlpDataset'; OutputType = @('MlpTools.Core.Data.MlpDataset') }
        @{ Name = 'Split-MlpDataset'; OutputType = @('MlpTools.Core.Data.MlpDataset') }
        @{ Name = 'Invoke-MlpSweep'; OutputType = @('MlpTools.Core.Sweeps.SweepTrialResult') }
        @{ Name = 'Export-MlpSweepChart'; OutputType = @('System.IO.FileInfo') }
    )
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $expectedCmdlets = 'ConvertTo-MlpDataset', 'Export-Mlp', 'Export-MlpConfusionMatrix', 'Export-MlpDigitGrid', 'Export-MlpSweepChart', 'Export-MlpTrainingCurve', 'Get-MnistDataset',
        'Import-Mlp', 'Import-MlpDataset', 'Invoke-MlpActivation', 'Invoke-MlpPrediction', 'Invoke-MlpSweep', 'Invoke-MlpTraining', 'New-Mlp', 'Show-MlpDigit', 'Split-MlpDataset', 'Test-MlpAccuracy',
        'Test-MlpEnvironment', 'Test-MlpGradient'
    $manifest = Import-PowerShellDataFile -LiteralPath $env:MLPTOOLS_MODULE
}

Describe 'The MlpTools module' {
    Context 'Commands' {
        It 'exports exactly the nineteen cmdlets' {
            $commands = @(Get-Command -Module MlpTools)
            $commands.Name | Sort-Object | Should -BeExactly $expectedCmdlets
            $commands.CommandType | Should -Be (@('Cmdlet') * 19)
        }

        It '<Name> is a compiled cmdlet from MlpTools.Commands' -ForEach $cmdlets {
            (Get-Command $Name -Module MlpTools).ImplementingType.Namespace | Should -BeExactly 'MlpTools.Commands'
        }

        It '<Name> declares its OutputType: <OutputType>' -ForEach $cmdlets {
            (Get-Command $Name -Module MlpTools).OutputType.Name | Should -BeExactly $OutputType
        }

        It 'exactly the cmdlets that write files at the user''s request support -WhatIf and -Confirm' {
            # Invoke-MlpTraining among them: -CheckpointPath writes a file after every epoch; Invoke-MlpSweep: -ResultPath and -BestModelPath.
            $withWhatIf = Get-Command -Module MlpTools | Where-Object { $_.Parameters.ContainsKey('WhatIf') -and $_.Parameters.ContainsKey('Confirm') }
            $withWhatIf.Name | Sort-Object | Should -BeExactly 'Export-Mlp', 'Export-MlpConfusionMatrix', 'Export-MlpDigitGrid', 'Export-MlpSweepChart', 'Export-MlpTrainingCurve',
            'Get-MnistDataset', 'Invoke-MlpSweep', 'Invoke-MlpTraining'
        }
    }

    Context 'Manifest' {
        It 'requires PowerShell 7.4 on the Core edition' {
            $manifest.PowerShellVersion | Should -BeExactly '7.4'
            $manifest.CompatiblePSEditions | Should -BeExactly 'Core'
            (Get-Module MlpTools).PowerShellVersion | Should -Be ([version]'7.4')
        }

        It 'lists the nineteen cmdlets and its format views, and exports nothing else' {
            $manifest.FormatsToProcess | Should -BeExactly 'MlpTools.Format.ps1xml'
            (Get-Module MlpTools).ExportedFormatFiles | Should -Be (Join-Path (Split-Path $env:MLPTOOLS_MODULE) 'MlpTools.Format.ps1xml')
            $manifest.CmdletsToExport | Sort-Object | Should -BeExactly $expectedCmdlets
            $manifest.FunctionsToExport | Should -BeNullOrEmpty
            $manifest.AliasesToExport | Should -BeNullOrEmpty
            $manifest.VariablesToExport | Should -BeNullOrEmpty
        }

        It 'is a valid manifest whose version the loaded module carries' {
            $tested = Test-ModuleManifest -Path $env:MLPTOOLS_MODULE -ErrorAction Stop
            $tested.Version | Should -Be ([version]$manifest.ModuleVersion)
            (Get-Module MlpTools).Version | Should -Be ([version]$manifest.ModuleVersion)
        }
    }

    Context 'Loading' {
        It 'keeps the engine and TorchSharp in a load context of their own' {
            $engine = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext((New-Mlp -InputSize 2 -HiddenSize 2 -OutputSize 2).GetType().Assembly)
            $engine.Name | Should -BeExactly 'MlpTools.Engine'
            $torchSharp = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'TorchSharp' }
            @($torchSharp).Count | Should -Be 1
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($torchSharp).Name | Should -BeExactly 'MlpTools.Engine'
        }

        It 'loads TorchSharp.PyBridge and Razorvine.Pickle (the PyTorch file format) into the engine''s context too, and they work there' {
            $model = New-Mlp -InputSize 2 -HiddenSize 2 -OutputSize 2 -Seed 1
            Export-Mlp -Model $model -Path (Join-Path $TestDrive 'context.pt') -ErrorAction Stop
            (Import-Mlp -Path (Join-Path $TestDrive 'context.pt') -Activation ReLU -ErrorAction Stop).Layers | Should -BeExactly '2-2-2'
            foreach ($name in 'TorchSharp.PyBridge', 'Razorvine.Pickle') {
                $loaded = @([System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq $name })
                $loaded.Count | Should -Be 1 -Because "$name is loaded once"
                [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($loaded[0]).Name | Should -BeExactly 'MlpTools.Engine'
                $loaded[0].Location | Should -BeExactly (Join-Path (Split-Path $env:MLPTOOLS_MODULE) "dependencies/$name.dll")
            }
        }

        It 'loads SkiaSharp and its native library from its own dependencies folder' {
            $folder = Join-Path (Split-Path $env:MLPTOOLS_MODULE) 'dependencies'
            (Test-MlpEnvironment).ImagingAvailable | Should -BeTrue
            $skia = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SkiaSharp' }
            @($skia).Count | Should -Be 1
            [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($skia).Name | Should -BeExactly 'MlpTools.Engine'
            $skia.Location | Should -Be (Join-Path $folder 'SkiaSharp.dll')
            if ($IsLinux) {
                $mapped = Get-Content "/proc/$PID/maps" | Where-Object { $_ -match 'libSkiaSharp\.so' } | ForEach-Object { ($_ -split '\s+')[-1] } | Select-Object -Unique
                $mapped | Should -Be (Join-Path $folder 'libSkiaSharp.so')
            }
        }

        It 'can be removed and imported again in the same session, and still trains' {
            $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'reimport') -Count 32
            $madeBefore = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1

            Remove-Module MlpTools -Force -ErrorAction Stop
            Get-Module MlpTools | Should -BeNullOrEmpty
            Get-Command New-Mlp -ErrorAction SilentlyContinue | Should -BeNullOrEmpty

            Import-Module $env:MLPTOOLS_MODULE -Global -ErrorAction Stop
            (Get-Command -Module MlpTools).Name | Sort-Object | Should -BeExactly $expectedCmdlets
            $records = @(New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 |
                    Invoke-MlpTraining -Dataset $data -Epochs 6 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
            $records.Count | Should -Be 6
            $records[-1].Loss | Should -BeLessThan $records[0].Loss
            $records[-1].TrainAccuracy | Should -Be 1
            # A model made before the re-import is the same type and trains the same way.
            $again = @(Invoke-MlpTraining -Model $madeBefore -Dataset $data -Epochs 6 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
            $again.Loss | Should -Be $records.Loss
        }

        It 'another runspace in the same process imports it and uses it' {
            $worker = [powershell]::Create()
            try {
                $null = $worker.AddScript({
                        param($Module)
                        Import-Module $Module -ErrorAction Stop
                        (New-Mlp -InputSize 3 -HiddenSize 2 -OutputSize 2 -ErrorAction Stop).Layers
                    }).AddArgument($env:MLPTOOLS_MODULE)
                $output = $worker.Invoke()
                $worker.Streams.Error | Should -BeNullOrEmpty
                $output | Should -BeExactly '3-2-2'
            } finally {
                $worker.Dispose()
            }
        }
    }
}
