BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.InvokeMlpPredictionCommand'
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    # Ten images showing patterns 0,1,0,1,...; images 0, 3 and 5 carry the other label.
    $test = New-SeparableDataset -Folder (Join-Path $TestDrive 'test') -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $patterns = 0, 1, 0, 1, 0, 1, 0, 1, 0, 1
    $labels = 1, 1, 0, 0, 0, 0, 0, 1, 0, 1
    $model = New-TrainedSeparableModel -Dataset $train
    $all = @(Invoke-MlpPrediction -Model $model -Dataset $test -ErrorAction Stop)
}

Describe 'Invoke-MlpPrediction' {
    Context 'What a prediction says' {
        It 'writes one Prediction per image, in order' {
            $all.Count | Should -Be 10
            $all | ForEach-Object { $_.GetType().FullName | Should -BeExactly 'MlpTools.Core.Training.Prediction' }
            $all.Index | Should -Be (0..9)
        }

        It 'predicts the pattern each image shows' {
            $all.Predicted | Should -Be $patterns
        }

        It 'reports the dataset''s own label, wrong ones included, and whether the prediction matches it' {
            $all.Label | Should -Be $labels
            $all.Label | Should -Be @(0..9 | ForEach-Object { $test.GetLabel($_) })
            $all.Correct | Should -Be @(0..9 | ForEach-Object { $patterns[$_] -eq $labels[$_] })
        }

        It 'gives a confidence in (0, 1], at least 1/2 for the winner of two classes' {
            $all | ForEach-Object {
                $_.Confidence | Should -BeGreaterOrEqual 0.5
                $_.Confidence | Should -BeLessOrEqual 1
            }
        }

        It 'gives a confidence in (0, 1], at least 1/3, for an untrained model on three classes' {
            $untrained = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 3 -Seed 3
            $predictions = @(Invoke-MlpPrediction -Model $untrained -Dataset $test -ErrorAction Stop)
            $predictions.Count | Should -Be 10
            $predictions | ForEach-Object {
                $_.Confidence | Should -BeGreaterOrEqual (1 / 3)
                $_.Confidence | Should -BeLessOrEqual 1
                $_.Predicted | Should -BeIn 0, 1, 2
            }
        }
    }

    Context 'Choosing images' {
        It '<Arguments> predicts images <Expected>' -ForEach @(
            @{ Arguments = '-First 3'; Splat = @{ First = 3 }; Expected = @(0, 1, 2) }
            @{ Arguments = '-Skip 7'; Splat = @{ Skip = 7 }; Expected = @(7, 8, 9) }
            @{ Arguments = '-Skip 2 -First 3'; Splat = @{ Skip = 2; First = 3 }; Expected = @(2, 3, 4) }
            @{ Arguments = '-Skip 8 -First 5'; Splat = @{ Skip = 8; First = 5 }; Expected = @(8, 9) }
            @{ Arguments = '-First 100'; Splat = @{ First = 100 }; Expected = @(0..9) }
            @{ Arguments = '-Index 5,2,9'; Splat = @{ Index = 5, 2, 9 }; Expected = @(5, 2, 9) }
            @{ Arguments = '-Index 9,0,9'; Splat = @{ Index = 9, 0, 9 }; Expected = @(9, 0, 9) }
        ) {
            $predictions = @(Invoke-MlpPrediction -Model $model -Dataset $test @Splat -ErrorAction Stop)
            $predictions.Index | Should -Be $Expected
            # Each is the same prediction as in the full run, with the dataset's label for that image.
            $predictions.Label | Should -Be @($Expected | ForEach-Object { $labels[$_] })
            $predictions.Predicted | Should -Be @($Expected | ForEach-Object { $patterns[$_] })
            $predictions.Confidence | Should -Be @($Expected | ForEach-Object { $all[$_].Confidence })
        }

        It '<Arguments> predicts nothing' -ForEach @(
            @{ Arguments = '-First 0'; Splat = @{ First = 0 } }
            @{ Arguments = '-Skip 10'; Splat = @{ Skip = 10 } }
            @{ Arguments = '-Skip 50 -First 2'; Splat = @{ Skip = 50; First = 2 } }
        ) {
            Invoke-MlpPrediction -Model $model -Dataset $test @Splat -ErrorAction Stop | Should -BeNullOrEmpty
        }
    }

    Context 'Pipeline binding by type' {
        BeforeAll {
            $forty = New-SeparableDataset -Folder (Join-Path $TestDrive 'forty') -Count 40 -Seed 3
        }

        It '$dataset | Invoke-MlpPrediction -Model $m -First 25 writes 25 predictions, Index 0 to 24' {
            $predictions = @($forty | Invoke-MlpPrediction -Model $model -First 25 -ErrorAction Stop)
            $predictions.Count | Should -Be 25
            $predictions.Index | Should -Be (0..24)
            $predictions.Label | Should -Be @(0..24 | ForEach-Object { $_ % 2 })
        }

        It '$model | Invoke-MlpPrediction -Dataset' {
            @($model | Invoke-MlpPrediction -Dataset $test -Index 3 -ErrorAction Stop).Predicted | Should -Be 1
        }

        It 'takes the dataset as the first positional argument' {
            @(Invoke-MlpPrediction $test -Model $model -First 2 -ErrorAction Stop).Index | Should -Be 0, 1
        }
    }

    Context 'Errors' {
        It 'an index outside the dataset (<Index>): DatasetIndexOutOfRange (InvalidArgument), and no prediction at all' -ForEach @(
            @{ Index = @(10); Culprit = 10 }
            @{ Index = @(-1); Culprit = -1 }
            @{ Index = @(0, 1, 12); Culprit = 12 }
        ) {
            $err = { Invoke-MlpPrediction -Model $model -Dataset $test -Index $Index -ErrorAction Stop } |
                Should -Throw -ErrorId "DatasetIndexOutOfRange,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.TargetObject | Should -Be $Culprit
            $err.Exception.Message | Should -BeLike '*images 0 to 9*'
            Invoke-MlpPrediction -Model $model -Dataset $test -Index $Index -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'a model with another input size: ModelInputSizeMismatch (InvalidArgument)' {
            $wrong = New-Mlp -InputSize 15 -HiddenSize 4 -OutputSize 2
            $err = { Invoke-MlpPrediction -Model $wrong -Dataset $test -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelInputSizeMismatch,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        }

        It 'a disposed model: ModelDisposed (InvalidOperation)' {
            $gone = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2
            $gone.Dispose()
            $err = { Invoke-MlpPrediction -Model $gone -Dataset $test -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelDisposed,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'rejects <Arguments> by parameter validation' -ForEach @(
            @{ Arguments = '-First -1'; Splat = @{ First = -1 } }
            @{ Arguments = '-Skip -1'; Splat = @{ Skip = -1 } }
            @{ Arguments = '-Index @()'; Splat = @{ Index = @() } }
        ) {
            { Invoke-MlpPrediction -Model $model -Dataset $test @Splat -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        }

        It 'refuses -Index together with -First' {
            { Invoke-MlpPrediction -Model $model -Dataset $test -Index 1 -First 2 -ErrorAction Stop } |
                Should -Throw -ErrorId "AmbiguousParameterSet,$Cmdlet"
        }
    }
}
