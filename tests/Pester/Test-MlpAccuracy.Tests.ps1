BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.TestMlpAccuracyCommand'
    # Both splits in one folder: 32 training images, and 10 test images of which 0, 3 and 5 are mislabelled.
    # Images alternate pattern 0,1,0,1..., so the test labels are 1,1,0,0,0,0,0,1,0,1 and a model that learned the
    # patterns gets 7 right: class 0 4 of 6 (images 2,4,6,8 of 2,3,4,5,6,8), class 1 3 of 4 (1,7,9 of 0,1,7,9).
    $folder = Join-Path $TestDrive 'separable'
    $train = New-SeparableDataset -Folder $folder -Count 32 -Seed 1 -Split Train
    $test = New-SeparableDataset -Folder $folder -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $model = New-TrainedSeparableModel -Dataset $train
}

Describe 'Test-MlpAccuracy' {
    Context 'Counts' {
        It 'counts 7 of 10 right on the test set with three wrong labels' {
            $result = Test-MlpAccuracy -Model $model -Dataset $test -ErrorAction Stop
            $result.GetType().FullName | Should -BeExactly 'MlpTools.Core.Training.AccuracyResult'
            $result.Correct | Should -Be 7
            $result.Total | Should -Be 10
            $result.Accuracy | Should -Be 0.7
            $result.ModelName | Should -BeExactly 'Separable'
            $result.DatasetName | Should -BeExactly 'Separable'
            $result.Split | Should -BeExactly 'Test'
        }

        It 'counts per class: class 0 4 of 6, class 1 3 of 4' {
            $perClass = (Test-MlpAccuracy -Model $model -Dataset $test -ErrorAction Stop).PerClass
            $perClass.Class | Should -Be 0, 1
            $perClass.Correct | Should -Be 4, 3
            $perClass.Total | Should -Be 6, 4
            $perClass.Accuracy | Should -Be (4 / 6), 0.75
        }

        It 'counts all 32 training images right, 16 per class' {
            $result = Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop
            $result.Correct, $result.Total, $result.Accuracy | Should -Be 32, 32, 1
            $result.PerClass.Correct | Should -Be 16, 16
            $result.PerClass.Total | Should -Be 16, 16
        }

        It 'agrees with Invoke-MlpPrediction, class by class, for an untrained model on 3 classes' {
            $random = [System.Random]::new(5)
            $pixels = [byte[]]::new(60 * 15); $random.NextBytes($pixels)
            $labels = [byte[]]@(0..59 | ForEach-Object { $_ % 3 })
            $threeFolder = Join-Path $TestDrive 'three-classes'
            Write-MnistSplit -Folder $threeFolder -Split Test -Pixels $pixels -Labels $labels -Height 3 -Width 5
            $three = Get-MnistDataset -Path $threeFolder -Split Test -ErrorAction Stop
            $untrained = New-Mlp -InputSize 15 -HiddenSize 6 -OutputSize 3 -Seed 2

            $predictions = Invoke-MlpPrediction -Model $untrained -Dataset $three -ErrorAction Stop
            $result = Test-MlpAccuracy -Model $untrained -Dataset $three -ErrorAction Stop
            $result.Total | Should -Be 60
            $result.Correct | Should -Be @($predictions | Where-Object Correct).Count
            $result.PerClass.Total | Should -Be 20, 20, 20
            $result.PerClass.Correct | Should -Be @(0..2 | ForEach-Object { $class = $_; @($predictions | Where-Object { $_.Label -eq $class -and $_.Correct }).Count })
        }

        It 'does not train: the model''s epochs and answers stay the same' {
            $before = (Invoke-MlpPrediction -Model $model -Dataset $test).Confidence
            $epochs = $model.EpochsTrained
            Test-MlpAccuracy -Model $model -Dataset $train | Out-Null
            $model.EpochsTrained | Should -Be $epochs
            (Invoke-MlpPrediction -Model $model -Dataset $test).Confidence | Should -Be $before
        }

        It 'an empty dataset: 0 of 0, accuracy NaN, no classes' {
            $emptyFolder = Join-Path $TestDrive 'empty'
            Write-MnistSplit -Folder $emptyFolder -Split Test -Pixels @() -Labels @() -Height 4 -Width 4
            $result = Test-MlpAccuracy -Model $model -Dataset (Get-MnistDataset -Path $emptyFolder -Split Test) -ErrorAction Stop
            $result.Correct, $result.Total | Should -Be 0, 0
            [double]::IsNaN($result.Accuracy) | Should -BeTrue
            $result.PerClass | Should -BeNullOrEmpty
        }
    }

    Context 'Confusion matrix and per-class precision, recall and F1' {
        BeforeAll {
            # Answers (the patterns) 0 1 0 1 0 1 0 1 0 1 against labels 1 1 0 0 0 0 0 1 0 1, counted by hand:
            # actual 0 answered 0: images 2,4,6,8; actual 0 answered 1: 3,5; actual 1 answered 0: 0; actual 1 answered 1: 1,7,9.
            $result = Test-MlpAccuracy -Model $model -Dataset $test -ErrorAction Stop
        }

        It 'counts label against answer: 4 2 / 1 3' {
            $matrix = $result.ConfusionMatrix
            $matrix.ClassCount | Should -Be 2
            $matrix.GetCount(0, 0), $matrix.GetCount(0, 1), $matrix.GetCount(1, 0), $matrix.GetCount(1, 1) | Should -Be 4, 2, 1, 3
            $matrix.Total | Should -Be 10
            $matrix.ToArray()[0] | Should -Be 4, 2
            $matrix.ToArray()[1] | Should -Be 1, 3
        }

        It 'offers every cell, and the mistakes most frequent first, as objects' {
            $cells = $result.ConfusionMatrix.Cells
            $cells.Actual | Should -Be 0, 0, 1, 1
            $cells.Predicted | Should -Be 0, 1, 0, 1
            $cells.Images | Should -Be 4, 2, 1, 3
            $mistakes = $result.ConfusionMatrix.Mistakes
            $mistakes.Actual | Should -Be 0, 1
            $mistakes.Predicted | Should -Be 1, 0
            $mistakes.Images | Should -Be 2, 1
        }

        It 'agrees with the predictions cell by cell' {
            $predictions = Invoke-MlpPrediction -Model $model -Dataset $test
            foreach ($cell in $result.ConfusionMatrix.Cells) {
                @($predictions | Where-Object { $_.Label -eq $cell.Actual -and $_.Predicted -eq $cell.Predicted }).Count | Should -Be $cell.Images
            }
        }

        It 'gives each class its precision, recall and F1: class 0 4/5, 4/6; class 1 3/5, 3/4' {
            $result.PerClass.PredictedCount | Should -Be 5, 5
            $result.PerClass.Precision | Should -Be 0.8, 0.6
            $result.PerClass.Recall | Should -Be (4 / 6), 0.75
            $result.PerClass[0].F1 | Should -BeGreaterThan 0.727272
            $result.PerClass[0].F1 | Should -BeLessThan 0.727273
            $result.PerClass[1].F1 | Should -BeGreaterThan 0.666666
            $result.PerClass[1].F1 | Should -BeLessThan 0.666667
        }
    }

    Context '-MinimumAccuracy' {
        It 'passes silently at or below the accuracy (0.7): <Minimum>' -ForEach @(@{ Minimum = 0 }, @{ Minimum = 0.5 }, @{ Minimum = 0.7 }) {
            $result = Test-MlpAccuracy -Model $model -Dataset $test -MinimumAccuracy $Minimum -ErrorVariable failures
            $failures | Should -BeNullOrEmpty
            $result.Correct | Should -Be 7
        }

        It 'stops with AccuracyBelowMinimum (InvalidResult) above it, with the result as target' {
            $err = { Test-MlpAccuracy -Model $model -Dataset $test -MinimumAccuracy 0.71 } |
                Should -Throw -ErrorId "AccuracyBelowMinimum,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidResult'
            $err.TargetObject.Correct | Should -Be 7
            $err.Exception.Message | Should -BeLike '*7 of 10*0.7000 is below the minimum 0.7100*'
        }

        It 'makes a scheduled check''s pwsh exit with 1 below the minimum and 0 at it' {
            $pwsh = Join-Path $PSHOME 'pwsh'
            $check = { param($minimum) & $pwsh -NoProfile -NonInteractive -Command "
                Import-Module '$env:MLPTOOLS_MODULE'
                `$model = New-Mlp -InputSize 16 -HiddenSize 2 -OutputSize 2 -Seed 1
                Test-MlpAccuracy -Model `$model -Dataset (Get-MnistDataset -Path '$folder' -Split Test) -MinimumAccuracy $minimum | Out-Null" 2>&1 | Out-Null
                $LASTEXITCODE }
            & $check 1 | Should -Be 1
            & $check 0 | Should -Be 0
        }

        It 'rejects a minimum outside 0 to 1 by parameter validation' {
            { Test-MlpAccuracy -Model $model -Dataset $test -MinimumAccuracy 97 -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        }
    }

    Context 'Pipeline binding by type' {
        It 'measures each dataset piped in: Get-MnistDataset | Test-MlpAccuracy -Model' {
            $results = @(Get-MnistDataset -Path $folder | Test-MlpAccuracy -Model $model -ErrorAction Stop)
            $results.Split | Should -Be 'Train', 'Test'
            $results.Correct | Should -Be 32, 7
        }

        It 'takes the model from the pipeline: $model | Test-MlpAccuracy -Dataset' {
            ($model | Test-MlpAccuracy -Dataset $test -ErrorAction Stop).Correct | Should -Be 7
        }

        It 'takes the dataset as the first positional argument' {
            (Test-MlpAccuracy $test -Model $model -ErrorAction Stop).Correct | Should -Be 7
        }
    }

    Context 'Errors' {
        BeforeAll {
            $threeByFive = Join-Path $TestDrive 'three-by-five'
            Write-MnistSplit -Folder $threeByFive -Split Test -Pixels ([byte[]](1..45)) -Labels ([byte[]](2, 0, 1)) -Height 3 -Width 5
            $small = Get-MnistDataset -Path $threeByFive -Split Test -ErrorAction Stop
        }

        It '<Case>: <Id> (<Category>)' -ForEach @(
            @{ Case = 'images larger than the model''s input'; Id = 'ModelInputSizeMismatch'; Category = 'InvalidArgument'; Model = { New-Mlp -InputSize 15 -HiddenSize 4 -OutputSize 2 }; Data = 'train' }
            @{ Case = 'more classes than the model''s outputs'; Id = 'ModelOutputSizeMismatch'; Category = 'InvalidArgument'; Model = { New-Mlp -InputSize 15 -HiddenSize 4 -OutputSize 2 }; Data = 'small' }
            @{ Case = 'a disposed model'; Id = 'ModelDisposed'; Category = 'InvalidOperation'; Model = { $m = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2; $m.Dispose(); $m }; Data = 'train' }
        ) {
            $subject = & $Model
            $dataset = if ($Data -eq 'train') { $train } else { $small }
            $err = { Test-MlpAccuracy -Model $subject -Dataset $dataset -ErrorAction Stop } | Should -Throw -ErrorId "$Id,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be $Category
        }
    }
}
