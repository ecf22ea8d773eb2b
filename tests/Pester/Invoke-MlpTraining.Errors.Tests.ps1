BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.InvokeMlpTrainingCommand'
    # 32 separable 4x4 images to train on.
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $recipe = @{ BatchSize = 8; LearningRate = 0.01 }
}

Describe 'Invoke-MlpTraining' {
    Context 'Errors' {
        BeforeAll {
            $folder = Join-Path $TestDrive 'three-by-five'
            Write-MnistSplit -Folder $folder -Split Test -Pixels ([byte[]](1..45)) -Labels ([byte[]](2, 0, 1)) -Height 3 -Width 5
            $threeByFive = Get-MnistDataset -Path $folder -Split Test -ErrorAction Stop
        }

        It 'a model with another input size: ModelInputSizeMismatch (InvalidArgument), suggesting the right -InputSize' {
            $model = New-Mlp -InputSize 15 -HiddenSize 8 -OutputSize 2
            $err = { Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelInputSizeMismatch,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            [object]::ReferenceEquals($err.TargetObject, $train) | Should -BeTrue
            $err.Exception.Message | Should -BeLike "*New-Mlp -InputSize 16*"
            $model.EpochsTrained | Should -Be 0
        }

        It 'a model with fewer outputs than classes: ModelOutputSizeMismatch (InvalidArgument), suggesting the right -OutputSize' {
            $model = New-Mlp -InputSize 15 -HiddenSize 8 -OutputSize 2
            $err = { Invoke-MlpTraining -Model $model -Dataset $threeByFive -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelOutputSizeMismatch,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike "*New-Mlp -OutputSize 3*"
            $model.EpochsTrained | Should -Be 0
        }

        It 'a validation set that does not fit is refused before any training' {
            $model = New-TinyModel
            $err = { Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $threeByFive -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelInputSizeMismatch,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            [object]::ReferenceEquals($err.TargetObject, $threeByFive) | Should -BeTrue
            $model.EpochsTrained | Should -Be 0
        }

        It 'the errors are non-terminating: a misfit dataset in the pipeline does not stop the next one' {
            $model = New-TinyModel
            $output = @($threeByFive, $train | Invoke-MlpTraining -Model $model -Epochs 1 @recipe -Seed 1 -ErrorAction SilentlyContinue -ErrorVariable errors)
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -BeExactly "ModelInputSizeMismatch,$Cmdlet"
            $output.Count | Should -Be 1
            $model.EpochsTrained | Should -Be 1
        }

        It 'a dataset without images: DatasetEmpty (InvalidArgument)' {
            $emptyFolder = Join-Path $TestDrive 'empty'
            Write-MnistSplit -Folder $emptyFolder -Split Train -Pixels @() -Labels @() -Height 4 -Width 4
            $empty = Get-MnistDataset -Path $emptyFolder -Split Train -ErrorAction Stop
            $model = New-TinyModel
            $err = { Invoke-MlpTraining -Model $model -Dataset $empty -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "DatasetEmpty,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            [object]::ReferenceEquals($err.TargetObject, $empty) | Should -BeTrue
            $model.EpochsTrained | Should -Be 0
        }

        It 'a disposed model: ModelDisposed (InvalidOperation)' {
            $model = New-TinyModel
            $model.Dispose()
            $err = { Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelDisposed,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It '<Arguments> does nothing there: TrainingOptionIgnored (InvalidArgument), naming what it needs' -ForEach @(
            @{ Arguments = '-Patience 2'; Splat = @{ Patience = 2 }; Needs = '-EarlyStopping' }
            @{ Arguments = '-MinDelta 0.1'; Splat = @{ MinDelta = 0.1 }; Needs = '-EarlyStopping or -LearningRateSchedule ReduceOnPlateau' }
            @{ Arguments = '-Momentum 0.9 (Adam)'; Splat = @{ Momentum = 0.9 }; Needs = '-Optimizer SGD' }
            @{ Arguments = '-Momentum 0 -Optimizer AdamW'; Splat = @{ Momentum = 0; Optimizer = 'AdamW' }; Needs = '-Optimizer SGD' }
            @{ Arguments = '-StepSize 2'; Splat = @{ StepSize = 2 }; Needs = '-LearningRateSchedule Step' }
            @{ Arguments = '-StepSize 2 -LearningRateSchedule ReduceOnPlateau'; Splat = @{ StepSize = 2; LearningRateSchedule = 'ReduceOnPlateau' }; Needs = '-LearningRateSchedule Step' }
            @{ Arguments = '-SchedulePatience 1 -LearningRateSchedule Step'; Splat = @{ SchedulePatience = 1; LearningRateSchedule = 'Step' }; Needs = '-LearningRateSchedule ReduceOnPlateau' }
            @{ Arguments = '-Gamma 0.5'; Splat = @{ Gamma = 0.5 }; Needs = '-LearningRateSchedule Step or ReduceOnPlateau' }
        ) {
            $model = New-TinyModel
            $checkpoint = Join-Path $TestDrive 'ignored.ckpt'
            $err = { Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -CheckpointPath $checkpoint @Splat -ErrorAction Stop } |
                Should -Throw -ErrorId "TrainingOptionIgnored,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $option = ($Splat.Keys | Where-Object { $_ -notin 'Optimizer', 'LearningRateSchedule' })
            $err.Exception.Message | Should -BeExactly "-$option does nothing without $Needs. Add $Needs, or leave -$option out."
            $model.EpochsTrained | Should -Be 0
            Test-Path $checkpoint | Should -BeFalse
        }

        It 'the same options with what uses them train: <Arguments>' -ForEach @(
            @{ Arguments = '-EarlyStopping -Patience -MinDelta'; Splat = @{ EarlyStopping = $true; Patience = 2; MinDelta = 0.1; ValidationFraction = 0.25 } }
            @{ Arguments = 'ReduceOnPlateau -SchedulePatience -MinDelta -Gamma'; Splat = @{ LearningRateSchedule = 'ReduceOnPlateau'; SchedulePatience = 1; MinDelta = 0.1; Gamma = 0.5 } }
            @{ Arguments = 'Step -StepSize -Gamma'; Splat = @{ LearningRateSchedule = 'Step'; StepSize = 1; Gamma = 0.5 } }
            @{ Arguments = 'SGD -Momentum'; Splat = @{ Optimizer = 'SGD'; Momentum = 0.9 } }
        ) {
            $model = New-TinyModel
            $records = @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 2 @recipe -Seed 1 @Splat -ErrorAction Stop)
            $records.Count | Should -Be 2
            $model.EpochsTrained | Should -Be 2
        }

        It 'rejects <Arguments> by parameter validation' -ForEach @(
            @{ Arguments = '-Epochs 0'; Splat = @{ Epochs = 0 } }
            @{ Arguments = '-Epochs -1'; Splat = @{ Epochs = -1 } }
            @{ Arguments = '-Epochs 100001'; Splat = @{ Epochs = 100001 } }
            @{ Arguments = '-BatchSize 0'; Splat = @{ BatchSize = 0 } }
            @{ Arguments = '-LearningRate 0'; Splat = @{ LearningRate = 0 } }
            @{ Arguments = '-LearningRate -0.001'; Splat = @{ LearningRate = -0.001 } }
        ) {
            $model = New-TinyModel
            $err = { Invoke-MlpTraining -Model $model -Dataset $train @Splat -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $model.EpochsTrained | Should -Be 0
        }
    }
}
