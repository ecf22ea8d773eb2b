# The lecture notebook's recipe end to end on the real MNIST in the data folder (build.ps1 -Task Data puts it there).
# Trains once, in BeforeAll (~30-60 s); exclude it with -ExcludeTagFilter Acceptance for a quick run.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
}

Describe 'The notebook''s MLP on real MNIST' -Tag 'Acceptance' {
    BeforeAll {
        $train, $test = Get-MnistDataset -ErrorAction Stop
        $model = New-Mlp -Seed 1
        $records = @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 10 -Seed 1 -ErrorAction Stop)
        $result = Test-MlpAccuracy -Model $model -Dataset $test -ErrorAction Stop
    }

    It 'reads 60000 training and 10000 test images of 28x28 in 10 classes' {
        $train.Split, $train.Count, $train.ImageHeight, $train.ImageWidth, $train.ClassCount | Should -Be 'Train', 60000, 28, 28, 10
        $test.Split, $test.Count, $test.ImageHeight, $test.ImageWidth, $test.ClassCount | Should -Be 'Test', 10000, 28, 28, 10
    }

    It 'trains 10 epochs of the notebook''s recipe, the loss falling' {
        $records.Epoch | Should -Be (1..10)
        $records.BatchSize | Should -Be (@(256) * 10)
        $records.LearningRate | Should -Be (@(0.001) * 10)
        $records[-1].Loss | Should -BeLessThan $records[0].Loss
        $model.EpochsTrained | Should -Be 10
    }

    It 'classifies at least 97.5% of the test set right' {
        $result.Total | Should -Be 10000
        $result.Accuracy | Should -BeGreaterOrEqual 0.975
        $result.PerClass.Total | Should -Be 980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009
    }

    It 'its predictions over the whole test set agree with the accuracy' {
        $predictions = Invoke-MlpPrediction -Model $model -Dataset $test -ErrorAction Stop
        @($predictions | Where-Object Correct).Count | Should -Be $result.Correct
        ($predictions | Select-Object -First 5).Label | Should -Be 7, 2, 1, 0, 4
    }
}
