BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # 32 separable 4x4 images to train on; 10 others to validate on, 3 of them (0, 3, 5) deliberately mislabelled,
    # so a model that has learned the patterns scores exactly 7/10 on them.
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $validation = New-SeparableDataset -Folder (Join-Path $TestDrive 'validation') -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $recipe = @{ BatchSize = 8; LearningRate = 0.01 }
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

        It '-SkipTrainEvaluation leaves TrainAccuracy empty and changes nothing else: same losses, validation and weights' {
            $measured = New-TinyModel 5
            $skipped = New-TinyModel 5
            $first = @(Invoke-MlpTraining -Model $measured -Dataset $train -ValidationDataset $validation -Epochs 3 @recipe -Seed 9 -ErrorAction Stop)
            $second = @(Invoke-MlpTraining -Model $skipped -Dataset $train -ValidationDataset $validation -Epochs 3 @recipe -Seed 9 -SkipTrainEvaluation -ErrorAction Stop)
            $first.TrainAccuracy | ForEach-Object { $_ | Should -BeOfType [double] }
            $second | ForEach-Object { $_.TrainAccuracy | Should -BeNullOrEmpty }
            $second.Loss | Should -Be $first.Loss
            $second.ValidationLoss | Should -Be $first.ValidationLoss
            $second.ValidationAccuracy | Should -Be $first.ValidationAccuracy
            (Invoke-MlpPrediction -Model $skipped -Dataset $validation).Confidence | Should -Be (Invoke-MlpPrediction -Model $measured -Dataset $validation).Confidence
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
}
