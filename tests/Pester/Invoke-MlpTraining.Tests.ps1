BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.InvokeMlpTrainingCommand'
    # 32 separable 4x4 images to train on; 10 others to validate on, 3 of them (0, 3, 5) deliberately mislabelled,
    # so a model that has learned the patterns scores exactly 7/10 on them.
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $validation = New-SeparableDataset -Folder (Join-Path $TestDrive 'validation') -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $recipe = @{ BatchSize = 8; LearningRate = 0.01 }

    function New-TinyModel([long]$Seed = 1) { New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed $Seed -ErrorAction Stop }
}

Describe 'Invoke-MlpTraining' {
    Context 'Learning a separable set' {
        BeforeAll {
            $model = New-TinyModel
            $records = @(Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $validation -Epochs 8 @recipe -Seed 3 -ErrorAction Stop)
        }

        It 'writes one EpochRecord per epoch, Epoch 1 to N of N' {
            $records.Count | Should -Be 8
            $records | ForEach-Object { $_.GetType().FullName | Should -BeExactly 'MlpTools.Core.Modeling.EpochRecord' }
            $records.Epoch | Should -Be (1..8)
            $records.Epochs | Should -Be (@(8) * 8)
            $records.ModelName | Should -Be (@('Mlp') * 8)
        }

        It 'the loss falls' {
            $records[-1].Loss | Should -BeLessThan ($records[0].Loss / 4)
            $records[-1].Loss | Should -BeGreaterThan 0
        }

        It 'the training accuracy reaches 1' {
            $records[-1].TrainAccuracy | Should -Be 1
        }

        It 'measures the validation set after every epoch: exactly 7 of 10 at the end' {
            $records | ForEach-Object { $_.ValidationAccuracy | Should -BeOfType [double] }
            $records[-1].ValidationAccuracy | Should -Be 0.7
            (Test-MlpAccuracy -Model $model -Dataset $validation).Accuracy | Should -Be 0.7
        }

        It 'records the recipe on every record' {
            $records.BatchSize | Should -Be (@(8) * 8)
            $records.LearningRate | Should -Be (@(0.01) * 8)
            $records.Seed | Should -Be (@(3) * 8)
            $records | ForEach-Object { $_.Seconds | Should -BeGreaterThan 0 }
        }

        It 'trains the model in place and counts its epochs' {
            $model.EpochsTrained | Should -Be 8
            (Test-MlpAccuracy -Model $model -Dataset $train).Correct | Should -Be 32
        }

        It 'training again continues from the trained weights and counts on: epochs 9 and 10 of 10' {
            $more = @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 2 @recipe -Seed 4 -ErrorAction Stop)
            $more.Count | Should -Be 2
            $more.Epoch | Should -Be 9, 10
            $more.Epochs | Should -Be 10, 10
            $model.EpochsTrained | Should -Be 10
            $more[0].Loss | Should -BeLessThan $records[0].Loss
            $more[0].TrainAccuracy | Should -Be 1
        }

        It 'leaves ValidationAccuracy empty without -ValidationDataset' {
            $record = Invoke-MlpTraining -Model (New-TinyModel) -Dataset $train -Epochs 1 @recipe -Seed 1 -ErrorAction Stop
            $record.ValidationAccuracy | Should -BeNullOrEmpty
        }
    }

    Context 'Output stream' {
        It 'writes each record as its epoch ends, not all at the end' {
            $model = New-TinyModel
            $seen = Invoke-MlpTraining -Model $model -Dataset $train -Epochs 4 @recipe -Seed 1 |
                ForEach-Object { [pscustomobject]@{ Epoch = $_.Epoch; EpochsTrainedOnArrival = $model.EpochsTrained; At = [datetime]::UtcNow } }
            $seen.Epoch | Should -Be 1, 2, 3, 4
            # Had the cmdlet collected the records first, the model would already count 4 epochs when the first arrived.
            $seen.EpochsTrainedOnArrival | Should -Be 1, 2, 3, 4
            $seen.At | Should -Be ($seen.At | Sort-Object)
        }

        It '-PassThru writes the model itself, and the records to the information stream' {
            $model = New-TinyModel
            $output = @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 3 @recipe -Seed 1 -PassThru -InformationVariable records -ErrorAction Stop)
            $output.Count | Should -Be 1
            [object]::ReferenceEquals($output[0], $model) | Should -BeTrue
            $records.MessageData.Epoch | Should -Be 1, 2, 3
            $records[0].Tags | Should -Contain 'Epoch'
            "$($records[0].MessageData)" | Should -Match '^epoch:\[1\] loss:\[\d\.\d{3}\] train_accr:\[\d\.\d{3}\]\.$'
        }

        It 'the spec pipeline works: New-Mlp | Invoke-MlpTraining -PassThru | Test-MlpAccuracy, with no errors' {
            $result = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 |
                Invoke-MlpTraining -Dataset $train -Epochs 2 @recipe -Seed 1 -PassThru -ErrorVariable failures |
                Test-MlpAccuracy -Dataset $train -ErrorVariable +failures
            $failures | Should -BeNullOrEmpty
            @($result).Count | Should -Be 1
            $result.Total | Should -Be $train.Count
        }

        It 'writes no model without -PassThru' {
            $output = @(Invoke-MlpTraining -Model (New-TinyModel) -Dataset $train -Epochs 2 @recipe -Seed 1 -ErrorAction Stop)
            $output.Count | Should -Be 2
            $output | ForEach-Object { $_.GetType().Name | Should -BeExactly 'EpochRecord' }
        }
    }

    Context 'Pipeline binding by type' {
        It 'takes the model from the pipeline: New-Mlp | Invoke-MlpTraining -Dataset' {
            $output = @(New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 | Invoke-MlpTraining -Dataset $train -Epochs 2 @recipe -Seed 1 -PassThru -ErrorAction Stop)
            $output.Count | Should -Be 1
            $output[0].GetType().Name | Should -BeExactly 'MlpModel'
            $output[0].EpochsTrained | Should -Be 2
        }

        It 'takes the dataset from the pipeline: $dataset | Invoke-MlpTraining -Model' {
            $model = New-TinyModel
            $output = @($train | Invoke-MlpTraining -Model $model -Epochs 2 @recipe -Seed 1 -ErrorAction Stop)
            $output.Epoch | Should -Be 1, 2
            $model.EpochsTrained | Should -Be 2
        }

        It 'takes the dataset as the first positional argument' {
            $model = New-TinyModel
            @(Invoke-MlpTraining $train -Model $model -Epochs 1 @recipe -Seed 1 -ErrorAction Stop).Count | Should -Be 1
            $model.EpochsTrained | Should -Be 1
        }
    }

    Context 'Reproducibility' {
        It 'the same -Seed for New-Mlp and for training gives identical losses and accuracies' {
            $first = Invoke-MlpTraining -Model (New-TinyModel 5) -Dataset $train -Epochs 3 @recipe -Seed 9 -ErrorAction Stop
            $second = Invoke-MlpTraining -Model (New-TinyModel 5) -Dataset $train -Epochs 3 @recipe -Seed 9 -ErrorAction Stop
            $second.Loss | Should -Be $first.Loss
            $second.TrainAccuracy | Should -Be $first.TrainAccuracy
        }

        It 'a different training seed shuffles differently: different losses' {
            $first = Invoke-MlpTraining -Model (New-TinyModel 5) -Dataset $train -Epochs 3 @recipe -Seed 9 -ErrorAction Stop
            $other = Invoke-MlpTraining -Model (New-TinyModel 5) -Dataset $train -Epochs 3 @recipe -Seed 10 -ErrorAction Stop
            $other.Loss | Should -Not -Be $first.Loss
        }

        It 'without -Seed draws a seed, records it on every record, and the recorded seeds reproduce the run' {
            $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2
            $first = @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 2 @recipe -ErrorAction Stop)
            $first[1].Seed | Should -Be $first[0].Seed
            $again = Invoke-MlpTraining -Model (New-TinyModel $model.Seed) -Dataset $train -Epochs 2 @recipe -Seed $first[0].Seed -ErrorAction Stop
            $again.Loss | Should -Be $first.Loss
        }
    }

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

    Context 'Records as data: Export-Csv and ConvertTo-Json' {
        BeforeAll {
            $records = @(Invoke-MlpTraining -Model (New-TinyModel) -Dataset $train -ValidationDataset $validation -Epochs 2 @recipe -Seed 1 -ErrorAction Stop)
            $plain = @(Invoke-MlpTraining -Model (New-TinyModel) -Dataset $train -Epochs 1 @recipe -Seed 1 -ErrorAction Stop)
        }

        It 'Export-Csv keeps every field, Loss and the accuracies to the last digit' {
            $csv = Join-Path $TestDrive 'epochs.csv'
            $records | Export-Csv -LiteralPath $csv
            $rows = @(Import-Csv -LiteralPath $csv)
            $rows.Count | Should -Be 2
            $rows[0].PSObject.Properties.Name | Should -Be 'ModelName', 'Epoch', 'Epochs', 'Loss', 'TrainAccuracy', 'ValidationLoss', 'ValidationAccuracy', 'Seconds', 'BatchSize', 'LearningRate', 'Optimizer', 'WeightDecay', 'WeightPenalty', 'Seed', 'BestEpoch', 'StopReason', 'GradientNorms', 'TrainRmse', 'ValidationRmse', 'ValidationMae', 'ValidationR2'
            foreach ($i in 0, 1) {
                [double]$rows[$i].Loss | Should -Be $records[$i].Loss
                [double]$rows[$i].TrainAccuracy | Should -Be $records[$i].TrainAccuracy
                [double]$rows[$i].ValidationAccuracy | Should -Be $records[$i].ValidationAccuracy
                [int]$rows[$i].Epoch | Should -Be ($i + 1)
            }
        }

        It 'ConvertTo-Json keeps Loss and the accuracies to the last digit' {
            $parsed = @($records | ConvertTo-Json | ConvertFrom-Json)
            $parsed.Count | Should -Be 2
            foreach ($i in 0, 1) {
                $parsed[$i].Loss | Should -Be $records[$i].Loss
                $parsed[$i].TrainAccuracy | Should -Be $records[$i].TrainAccuracy
                $parsed[$i].ValidationAccuracy | Should -Be $records[$i].ValidationAccuracy
                $parsed[$i].Epoch | Should -Be ($i + 1)
            }
        }

        It 'a record without validation exports an empty ValidationAccuracy' {
            ($plain | ConvertTo-Csv | ConvertFrom-Csv).ValidationAccuracy | Should -BeExactly ''
            ($plain | ConvertTo-Json | ConvertFrom-Json).ValidationAccuracy | Should -BeNullOrEmpty
        }
    }

    Context 'Stopping (Ctrl+C)' {
        BeforeAll {
            $model = New-TinyModel
            $requested = 100000
            $worker = [powershell]::Create()
            $null = $worker.AddScript({
                    param($Module, $Model, $Dataset, $Epochs)
                    Import-Module $Module -ErrorAction Stop
                    Invoke-MlpTraining -Model $Model -Dataset $Dataset -Epochs $Epochs -BatchSize 1 -Seed 1
                }).AddArgument($env:MLPTOOLS_MODULE).AddArgument($model).AddArgument($train).AddArgument($requested)
            $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $noInput.Complete()
            $received = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $running = $worker.BeginInvoke($noInput, $received)

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($received.Count -lt 1 -and -not $running.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 10 }
            $firstRecordArrived = $received.Count -ge 1

            # While it trains, the model is busy for everyone else.
            $busyError = try { Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop; $null } catch { $_ }

            $clock.Restart()
            $stopping = $worker.BeginStop($null, $null)
            $stoppedInTime = $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30))
            $secondsToStop = $clock.Elapsed.TotalSeconds
            $finalState = $worker.InvocationStateInfo.State
        }
        AfterAll {
            if ($stoppedInTime) { $worker.Dispose() }
        }

        It 'the first epoch record arrives while training goes on' {
            $firstRecordArrived | Should -BeTrue
            $received[0].Epoch | Should -Be 1
        }

        It 'a second command on the busy model gets ModelInUse (InvalidOperation)' {
            $busyError | Should -Not -BeNullOrEmpty
            $busyError.FullyQualifiedErrorId | Should -BeExactly 'ModelInUse,MlpTools.Commands.TestMlpAccuracyCommand'
            $busyError.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'Stop ends the training promptly, as stopped' {
            $stoppedInTime | Should -BeTrue
            $secondsToStop | Should -BeLessThan 10
            $finalState | Should -Be 'Stopped'
        }

        It 'the model keeps the epochs it finished: at least one, far fewer than asked, one record for each written' {
            $model.EpochsTrained | Should -BeGreaterOrEqual 1
            $model.EpochsTrained | Should -BeLessThan $requested
            $received.Count | Should -BeLessOrEqual $model.EpochsTrained
            @($received).Epoch | Should -Be (1..$received.Count)
        }

        It 'the model is released and usable afterwards' {
            $result = Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop
            $result.Total | Should -Be 32
            $before = $model.EpochsTrained
            @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 @recipe -Seed 1 -ErrorAction Stop).Count | Should -Be 1
            $model.EpochsTrained | Should -Be ($before + 1)
        }
    }

    Context 'Disposing a model while it trains' {
        BeforeAll {
            $model = New-TinyModel
            $worker = [powershell]::Create()
            $null = $worker.AddScript({
                    param($Module, $Model, $Dataset)
                    Import-Module $Module -ErrorAction Stop
                    Invoke-MlpTraining -Model $Model -Dataset $Dataset -Epochs 100000 -BatchSize 1 -Seed 1
                }).AddArgument($env:MLPTOOLS_MODULE).AddArgument($model).AddArgument($train)
            $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $noInput.Complete()
            $received = [System.Management.Automation.PSDataCollection[psobject]]::new()
            $running = $worker.BeginInvoke($noInput, $received)

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($received.Count -lt 1 -and -not $running.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 10 }
            $model.Dispose()
            $recordsAtDispose = $received.Count
            $clock.Restart()
            while ($received.Count -le $recordsAtDispose + 1 -and -not $running.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 10 }
            $recordsAfterDispose = $received.Count - $recordsAtDispose
            $stopping = $worker.BeginStop($null, $null)
            $stoppedInTime = $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30))
            $finalState = $worker.InvocationStateInfo.State
            $workerErrors = @($worker.Streams.Error)
        }
        AfterAll {
            if ($stoppedInTime) { $worker.Dispose() }
        }

        It 'the running training is not cut off: more epochs finish after Dispose' {
            $recordsAtDispose | Should -BeGreaterOrEqual 1
            $recordsAfterDispose | Should -BeGreaterOrEqual 2
            $workerErrors | Should -BeNullOrEmpty
        }

        It 'the training still stops as asked' {
            $stoppedInTime | Should -BeTrue
            $finalState | Should -Be 'Stopped'
        }

        It 'once the training has ended the model is gone: ModelDisposed (InvalidOperation)' {
            $err = { Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop } |
                Should -Throw -ErrorId 'ModelDisposed,MlpTools.Commands.TestMlpAccuracyCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            { Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelDisposed,$Cmdlet"
        }
    }
}
