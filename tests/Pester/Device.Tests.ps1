# -Device: Cpu is the only device of this package and gives exactly what leaving -Device out gives; Cuda is accepted by
# the parameter and refused by MlpTools (DeviceUnavailable, NotInstalled), with nothing created or changed.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $validation = New-SeparableDataset -Folder (Join-Path $TestDrive 'validation') -Count 10 -Seed 2 -Split Test
    $tiny = @{ InputSize = 16; HiddenSize = 8; OutputSize = 2; Seed = 1 }
    $recipe = @{ Dataset = $train; ValidationDataset = $validation; Epochs = 3; BatchSize = 8; LearningRate = 0.01; Seed = 3 }

    function Get-Confidence($Model) { (Invoke-MlpPrediction -Model $Model -Dataset $train -ErrorAction Stop).Confidence }

    # Asserts a DeviceUnavailable refusal from $Command, category NotInstalled, naming the CUDA builds of the engine.
    function Assert-DeviceRefused([scriptblock]$Call, [string]$Command) {
        $err = $Call | Should -Throw -ErrorId "DeviceUnavailable,MlpTools.Commands.$Command" -PassThru
        $err.CategoryInfo.Category | Should -Be 'NotInstalled'
        $err.TargetObject | Should -Be 'Cuda'
        $err.Exception.Message | Should -Match 'CPU only'
        $err.Exception.Message | Should -Match 'TorchSharp-cuda-linux or TorchSharp-cuda-windows'
    }
}

Describe '-Device' {
    Context 'Cpu' {
        It 'is the device of a model from New-Mlp, with or without -Device Cpu' {
            (New-Mlp @tiny).Device | Should -Be 'Cpu'
            (New-Mlp @tiny -Device Cpu).Device | Should -Be 'Cpu'
        }

        It 'New-Mlp -Device Cpu and Invoke-MlpTraining -Device Cpu give exactly the losses and accuracies of neither' {
            $plain = New-Mlp @tiny
            $onCpu = New-Mlp @tiny -Device Cpu
            $expected = @(Invoke-MlpTraining -Model $plain @recipe -ErrorAction Stop)
            $got = @(Invoke-MlpTraining -Model $onCpu @recipe -Device Cpu -ErrorAction Stop)

            $got.Loss | Should -Be $expected.Loss
            $got.ValidationLoss | Should -Be $expected.ValidationLoss
            $got.ValidationAccuracy | Should -Be $expected.ValidationAccuracy
            $expected[-1].Loss | Should -BeLessThan $expected[0].Loss
            $onCpu.Device | Should -Be 'Cpu'
            Get-Confidence $onCpu | Should -Be (Get-Confidence $plain)
        }

        It 'a model file records no device: Import-Mlp reads it onto Cpu, or the -Device given' {
            $path = Join-Path $TestDrive 'cpu.mlp'
            New-Mlp @tiny | Export-Mlp -Path $path -ErrorAction Stop
            (Import-Mlp -Path $path).Device | Should -Be 'Cpu'
            (Import-Mlp -Path $path -Device Cpu).Device | Should -Be 'Cpu'
        }
    }

    Context 'Cuda, on this CPU-only package' {
        It 'New-Mlp -Device Cuda is refused with DeviceUnavailable and makes no model' {
            $made = [System.Collections.Generic.List[object]]::new()
            Assert-DeviceRefused { New-Mlp @tiny -Device Cuda | ForEach-Object { $made.Add($_) } } 'NewMlpCommand'
            $made.Count | Should -Be 0
        }

        It 'Invoke-MlpTraining -Device Cuda is refused before the model or the checkpoint is touched' {
            $model = New-Mlp @tiny
            $before = Get-Confidence $model
            $checkpoint = Join-Path $TestDrive 'refused.ckpt'
            $records = [System.Collections.Generic.List[object]]::new()

            Assert-DeviceRefused { Invoke-MlpTraining -Model $model @recipe -CheckpointPath $checkpoint -Device Cuda | ForEach-Object { $records.Add($_) } } 'InvokeMlpTrainingCommand'

            $records.Count | Should -Be 0
            $model.EpochsTrained | Should -Be 0
            $model.Device | Should -Be 'Cpu'
            Get-Confidence $model | Should -Be $before
            $checkpoint | Should -Not -Exist
        }

        It 'Invoke-MlpTraining -Resume -Device Cuda is refused and leaves the checkpoint as it was' {
            $checkpoint = Join-Path $TestDrive 'run.ckpt'
            Invoke-MlpTraining -Model (New-Mlp @tiny) @recipe -Epochs 1 -CheckpointPath $checkpoint -ErrorAction Stop | Out-Null
            $hash = (Get-FileHash $checkpoint).Hash

            Assert-DeviceRefused { Invoke-MlpTraining -Dataset $train -ValidationDataset $validation -CheckpointPath $checkpoint -Resume -Device Cuda } 'InvokeMlpTrainingCommand'

            (Get-FileHash $checkpoint).Hash | Should -Be $hash
        }

        It 'Import-Mlp -Device Cuda stops the command (it would fail for every file alike) and reads no model' {
            $path = Join-Path $TestDrive 'cuda.mlp'
            New-Mlp @tiny | Export-Mlp -Path $path -ErrorAction Stop
            $read = [System.Collections.Generic.List[object]]::new()

            Assert-DeviceRefused { Import-Mlp -Path $path, $path -Device Cuda | ForEach-Object { $read.Add($_) } } 'ImportMlpCommand'

            $read.Count | Should -Be 0
        }
    }
}
