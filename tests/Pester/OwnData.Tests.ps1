# Your own data end to end: train on rows, predict new rows and image files, save and resume, and the refusals in between.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $Prediction = 'MlpTools.Commands.InvokeMlpPredictionCommand'
    $Training = 'MlpTools.Commands.InvokeMlpTrainingCommand'
    $Accuracy = 'MlpTools.Commands.TestMlpAccuracyCommand'

    $rows = @(New-FlowerRows -Count 90)
    $flowers = $rows | ConvertTo-MlpDataset -LabelProperty Species
    $train, $test = Split-MlpDataset $flowers -TestFraction 0.2 -Seed 1 -Stratify
    $model = New-Mlp -Dataset $train -HiddenSize 16 -Seed 1
    $records = @(Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $test -Epochs 40 -BatchSize 8 -Seed 1 -LearningRate 0.01)
}

Describe 'Your own data' {
    Context 'Classification of table rows' {
        It 'New-Mlp -Dataset takes its sizes and class names from the data' {
            $model.Layers | Should -BeExactly '5-16-3'
            $model.ClassNames | Should -BeExactly @('setosa', 'versicolor', 'virginica')
            "$($model.Task)" | Should -BeExactly 'Classification'
        }

        It 'learns the species (A separates them) on the held-out rows' {
            (Test-MlpAccuracy -Model $model -Dataset $test).Accuracy | Should -Be 1
            $records[-1].ValidationAccuracy | Should -Be 1
        }

        It 'predicts rows without a label, keeping their properties and adding the class, confidence and probabilities' {
            $new = $rows[0..5] | Select-Object A, B, Color
            $answers = @($new | Invoke-MlpPrediction -Model $model -ErrorAction Stop)
            $answers.Count | Should -Be 6
            $answers.Predicted | Should -BeExactly $rows[0..5].Species
            $answers[0].PSObject.Properties.Name | Should -BeExactly @('A', 'B', 'Color', 'Predicted', 'Confidence', 'Probability_setosa', 'Probability_versicolor', 'Probability_virginica')
            foreach ($answer in $answers) {
                ($answer.Probability_setosa + $answer.Probability_versicolor + $answer.Probability_virginica) | Should -BeGreaterThan 0.99999
                $answer.Confidence | Should -Be ([math]::Max([math]::Max($answer.Probability_setosa, $answer.Probability_versicolor), $answer.Probability_virginica))
            }
            $new[0].PSObject.Properties.Name | Should -Not -Contain 'Predicted'
        }

        It 'gives the same answers for -InputObject, the pipeline and the rows'' dataset' {
            $byParameter = Invoke-MlpPrediction -Model $model -InputObject $rows[10..20]
            $byDataset = Invoke-MlpPrediction -Model $model -Dataset $flowers -Skip 10 -First 11
            $byParameter.Predicted | Should -BeExactly $byDataset.PredictedClass
            $byParameter.Confidence | Should -Be $byDataset.Confidence
        }

        It 'exports its predictions to CSV with every column' {
            $csv = Join-Path $TestDrive 'predictions.csv'
            $rows[0..2] | Invoke-MlpPrediction -Model $model | Export-Csv -LiteralPath $csv
            $back = @(Import-Csv -LiteralPath $csv)
            $back.Count | Should -Be 3
            $back[0].Species | Should -BeExactly 'setosa'
            [double]$back[0].Probability_setosa | Should -BeGreaterThan 0.5
        }

        It 'a row without a feature is an error for that row only; the others are predicted' {
            $mixed = @($rows[0] | Select-Object A, Color), $rows[1], $rows[2]
            $answers = @($mixed | Invoke-MlpPrediction -Model $model -ErrorVariable failures -ErrorAction SilentlyContinue)
            $answers.Count | Should -Be 2
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "FeatureMissing,$Prediction"
            $failures[0].Exception.Message | Should -Match "'B'"
        }

        It 'a category never seen in training is an error, or with -UnknownCategory Ignore none of the column''s categories' {
            $purple = [pscustomobject]@{ A = 4.5; B = -1.8; Color = 'purple' }
            { $purple | Invoke-MlpPrediction -Model $model -ErrorAction Stop } | Should -Throw -ErrorId "CategoryUnseen,$Prediction"
            ($purple | Invoke-MlpPrediction -Model $model -UnknownCategory Ignore).Predicted | Should -BeExactly 'virginica'
        }

        It 'refuses data of another shape with what to do' {
            $other = $rows | Select-Object A, Color, Species | ConvertTo-MlpDataset -LabelProperty Species
            $err = { Test-MlpAccuracy -Model $model -Dataset $other -ErrorAction Stop } | Should -Throw -ErrorId "ModelFeatureMismatch,$Accuracy" -PassThru
            $err.Exception.Message | Should -Match 'lacks B'
            { Invoke-MlpTraining -Model $model -Dataset (Get-MnistDataset -Split Test) -Epochs 1 -ErrorAction Stop } | Should -Throw -ErrorId "ModelDataKindMismatch,$Training"
            { Invoke-MlpPrediction -Model $model -LiteralPath (Join-Path $TestDrive 'x.png') -ErrorAction Stop } | Should -Throw -ErrorId "ModelDataKindMismatch,$Prediction"
        }

        It 'rows without a label can be predicted but not measured or trained on' {
            $csv = Join-Path $TestDrive 'unlabelled.csv'
            $rows[0..9] | Select-Object A, B, Color | Export-Csv -LiteralPath $csv
            $unlabelled = Import-MlpDataset $csv
            $unlabelled.HasAnswers | Should -BeFalse
            (Invoke-MlpPrediction -Model $model -Dataset $unlabelled).PredictedClass | Should -BeExactly $rows[0..9].Species
            { Test-MlpAccuracy -Model $model -Dataset $unlabelled -ErrorAction Stop } | Should -Throw -ErrorId "DatasetUnlabelled,$Accuracy"
            { Invoke-MlpTraining -Model $model -Dataset $unlabelled -ErrorAction Stop } | Should -Throw -ErrorId "DatasetUnlabelled,$Training"
        }
    }

    Context 'Regression' {
        BeforeAll {
            $prices = New-PriceRows -Count 300 | ConvertTo-MlpDataset -TargetProperty Price
            $priceTrain, $priceTest = Split-MlpDataset $prices -TestFraction 0.2 -Seed 2
            $regressor = New-Mlp -Dataset $priceTrain -HiddenSize 32 -Seed 1
            $priceRecords = @(Invoke-MlpTraining -Model $regressor -Dataset $priceTrain -ValidationDataset $priceTest -Epochs 60 -BatchSize 16 -Seed 1 -LearningRate 0.005)
            $result = Test-MlpAccuracy -Model $regressor -Dataset $priceTest
        }

        It 'learns a linear price (R² above 0.99) and reports RMSE, MAE and R² per target' {
            "$($regressor.Task)" | Should -BeExactly 'Regression'
            $result | Should -BeOfType ([RegressionResult])
            $result.R2 | Should -BeGreaterThan 0.99
            $result.PerTarget.Target | Should -BeExactly 'Price'
            $result.Total | Should -Be 60
        }

        It 'its epoch records carry the loss, RMSE and R² instead of accuracy' {
            $last = $priceRecords[-1]
            $last.TrainAccuracy | Should -BeNullOrEmpty
            $last.TrainRmse | Should -BeGreaterThan 0
            $last.ValidationRmse | Should -Be $result.Rmse
            $last.ValidationR2 | Should -Be $result.R2
            ($priceRecords | Format-Table | Out-String) | Should -Match 'TrainRmse'
        }

        It 'predicts in the target''s units, and the RMSE is that of its predictions' {
            $answers = @(Invoke-MlpPrediction -Model $regressor -Dataset $priceTest)
            $rmse = [math]::Sqrt(($answers | ForEach-Object { [math]::Pow($_.Predicted - $_.Actual, 2) } | Measure-Object -Average).Average)
            $rmse | Should -BeGreaterThan ($result.Rmse * 0.9999)
            $rmse | Should -BeLessThan ($result.Rmse * 1.0001)
            $row = [pscustomobject]@{ X1 = 5; X2 = 2 }
            ($row | Invoke-MlpPrediction -Model $regressor).Predicted | Should -BeGreaterThan 59
            ($row | Invoke-MlpPrediction -Model $regressor).Predicted | Should -BeLessThan 63
        }

        It 'has no accuracy to check: -MinimumAccuracy says to use R2' {
            { Test-MlpAccuracy -Model $regressor -Dataset $priceTest -MinimumAccuracy 0.9 -ErrorAction Stop } | Should -Throw -ErrorId "AccuracyNotApplicable,$Accuracy"
        }

        It 'draws RMSE curves' {
            $png = Join-Path $TestDrive 'price-curves.png'
            $priceRecords | Export-MlpTrainingCurve -Path $png
            (Get-Item -LiteralPath $png).Length | Should -BeGreaterThan 1000
        }

        It 'refuses a classification model for regression data' {
            { Test-MlpAccuracy -Model $model -Dataset $priceTest -ErrorAction Stop } | Should -Throw -ErrorId "ModelTaskMismatch,$Accuracy"
        }
    }

    Context 'What the model learned travels with it' {
        It 'a .mlp file keeps the columns, categories, standardisation and class names' {
            $file = Join-Path $TestDrive 'flowers.mlp'
            Export-Mlp -Model $model -Path $file
            $back = Import-Mlp $file
            $back.Preprocessing.FeatureMean | Should -Be $model.Preprocessing.FeatureMean
            $back.ClassNames | Should -BeExactly $model.ClassNames
            ($rows[0..9] | Invoke-MlpPrediction -Model $back).Confidence | Should -Be ($rows[0..9] | Invoke-MlpPrediction -Model $model).Confidence
        }

        It 'a checkpointed run stopped part-way and resumed ends with the answers of a run never stopped' {
            $checkpoint = Join-Path $TestDrive 'flowers.ckpt'
            $whole = New-Mlp -Dataset $train -HiddenSize 8 -Seed 4
            Invoke-MlpTraining -Model $whole -Dataset $train -Epochs 4 -Seed 2 | Out-Null
            $stopped = New-Mlp -Dataset $train -HiddenSize 8 -Seed 4
            Invoke-MlpTraining -Model $stopped -Dataset $train -Epochs 4 -Seed 2 -CheckpointPath $checkpoint | Select-Object -First 2 | Out-Null
            $resumed = Invoke-MlpTraining -Dataset $train -CheckpointPath $checkpoint -Resume -PassThru
            $resumed.EpochsTrained | Should -Be 4
            ($rows | Invoke-MlpPrediction -Model $resumed).Confidence | Should -Be ($rows | Invoke-MlpPrediction -Model $whole).Confidence
        }
    }

    Context 'Type names in scripts' {
        It '[MlpDataset], [MlpModel] and the result types work in parameters and -is' {
            function Get-Size([MlpModel]$Model, [MlpDataset]$Dataset) { "$($Model.InputSize):$($Dataset.FeatureCount)" }
            Get-Size -Model $model -Dataset $train | Should -BeExactly '5:5'
            $flowers -is [MlpDataset] | Should -BeTrue
            (Test-MlpAccuracy -Model $model -Dataset $test) -is [AccuracyResult] | Should -BeTrue
            [MlpTask]::Regression | Should -Be 'Regression'
        }
    }
}

Describe 'MNIST digits as image files' {
    BeforeAll {
        $mnistTest = Get-MnistDataset -Split Test
        $digits = New-Mlp -Seed 1
        Invoke-MlpTraining -Model $digits -Dataset (Get-MnistDataset -Split Train) -Epochs 1 -Seed 1 | Out-Null
        $ImageFiles = [MlpDataset].Assembly.GetType('MlpTools.Core.Data.Images.ImageFiles')
        $folder = Join-Path $TestDrive 'digits'
        New-Item -ItemType Directory $folder | Out-Null
        foreach ($i in 0..199) { $ImageFiles::WritePng((Join-Path $folder ('{0:D3}.png' -f $i)), $mnistTest.GetPixels($i), 28, 28) }
    }

    It 'test images written as PNG files and read back get exactly the predictions of the dataset' {
        $fromFiles = @(Invoke-MlpPrediction -Model $digits -Path (Join-Path $folder '*.png'))
        $fromDataset = @(Invoke-MlpPrediction -Model $digits -Dataset $mnistTest -First 200)
        $fromFiles.Count | Should -Be 200
        $fromFiles.Predicted | Should -BeExactly $fromDataset.PredictedClass
        # One image a forward pass against batches of 200: the same arithmetic up to float32 rounding.
        foreach ($i in 0..199) { [math]::Abs($fromFiles[$i].Confidence - $fromDataset[$i].Confidence) | Should -BeLessThan 1e-5 }
        $fromFiles[7].Path | Should -BeExactly (Join-Path $folder '007.png')
    }

    It 'takes files from the pipeline (Get-ChildItem) and reports a damaged one without stopping' {
        Set-Content -LiteralPath (Join-Path $folder 'zzz.png') -Value 'not a png'
        $answers = @(Get-ChildItem -LiteralPath $folder -Filter '*.png' | Invoke-MlpPrediction -Model $digits -ErrorVariable failures -ErrorAction SilentlyContinue)
        $answers.Count | Should -Be 200
        $failures[0].FullyQualifiedErrorId | Should -BeExactly "ImageFileInvalid,$Prediction"
    }
}
