# What the module's format views (MlpTools.Format.ps1xml) print: Format-Table output, line by line.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $trainFolder = Join-Path $TestDrive 'train'
    $testFolder = Join-Path $TestDrive 'test'
    $train = New-SeparableDataset -Folder $trainFolder -Count 32 -Seed 1
    # Ten test images; 0, 3 and 5 are mislabelled, so the trained model gets 7 right (see Test-MlpAccuracy.Tests.ps1).
    $test = New-SeparableDataset -Folder $testFolder -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name 'Separable'
    $records = @(Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $test -Epochs 10 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
    $result = Test-MlpAccuracy -Model $model -Dataset $test -ErrorAction Stop

    # The lines Format-Table (or the default view) prints, without trailing spaces and blank lines.
    function Get-FormattedLine([Parameter(ValueFromPipeline)]$InputObject, [switch]$Table) {
        begin { $all = [System.Collections.Generic.List[object]]::new() }
        process { $all.Add($InputObject) }
        end {
            $text = if ($Table) { $all | Format-Table | Out-String -Width 200 } else { $all | Out-String -Width 200 }
            @($text -split '\r?\n' | ForEach-Object TrimEnd | Where-Object { $_ })
        }
    }
}

Describe 'Format views' {
    It 'a model: name, layers as 16-8-2, activation, parameter count and epochs trained' {
        $model | Get-FormattedLine -Table | Should -BeExactly @(
            'Name      Layers Activation Parameters EpochsTrained'
            '----      ------ ---------- ---------- -------------'
            'Separable 16-8-2 ReLU              154            10')
    }

    It 'a model of the notebook''s size groups its 203,530 parameters' {
        New-Mlp -Seed 1 | Get-FormattedLine -Table | Should -BeExactly @(
            'Name Layers     Activation Parameters EpochsTrained'
            '---- ------     ---------- ---------- -------------'
            ('Mlp  784-256-10 ReLU       {0,10}             0' -f (203530).ToString('N0')))
    }

    It 'datasets: name, split, count, image size or feature count, classes or targets, and source' {
        $train, $test | Get-FormattedLine -Table | Should -BeExactly @(
            'Name      Split Count Features   Answers Source'
            '----      ----- ----- --------   ------- ------'
            "Separable Train    32      4x4 2 classes $trainFolder"
            "Separable Test     10      4x4 2 classes $testFolder")
    }

    It 'epoch records read like the notebook''s epoch line: Epoch, Loss, TrainAccuracy, ValidationAccuracy, Seconds' {
        $lines = $records | Get-FormattedLine -Table
        $lines[0..1] | Should -BeExactly @(
            'Epoch  Loss TrainAccuracy ValidationAccuracy Seconds'
            '-----  ---- ------------- ------------------ -------')
        $lines.Count | Should -Be 12
        for ($i = 0; $i -lt 10; $i++) {
            $r = $records[$i]
            $lines[$i + 2] | Should -BeExactly ('{0,5} {1,5:F3} {2,13:F3} {3,18:F3} {4,7:F2}' -f $r.Epoch, $r.Loss, $r.TrainAccuracy, $r.ValidationAccuracy, $r.Seconds)
        }
        $lines[-1] | Should -Match '^   10 \d\.\d{3}         1\.000              0\.700 +\d+\.\d\d$'
    }

    It 'an epoch record keeps its columns when it gains properties, and leaves ValidationAccuracy blank without validation' {
        $extended = $records[0] | Add-Member -NotePropertyName AddedLater -NotePropertyValue 42 -PassThru
        ($extended | Get-FormattedLine -Table)[0] | Should -BeExactly 'Epoch  Loss TrainAccuracy ValidationAccuracy Seconds'
        $plain = Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1
        ($plain | Get-FormattedLine -Table)[2] | Should -Match ('^   11 \d\.\d{3}         1\.000 {19}' + [regex]::Escape(' {0,7:F2}' -f $plain.Seconds) + '$')
    }

    It 'an accuracy result: model, dataset, split, correct, total and accuracy' {
        $result | Get-FormattedLine | Should -BeExactly @(
            'Model     Dataset   Split Correct Total Accuracy'
            '-----     -------   ----- ------- ----- --------'
            ('Separable Separable Test        7    10 {0,8:F4}' -f 0.7))
    }

    It 'per-class results: counts, precision, recall and F1' {
        $result.PerClass | Get-FormattedLine | Should -BeExactly @(
            'Class Total Correct Predicted Precision Recall     F1'
            '----- ----- ------- --------- --------- ------     --'
            ('    0     6       4         5 {0,9:F4} {1,6:F4} {2,6:F4}' -f 0.8, (4 / 6), (8 / 11))
            ('    1     4       3         5 {0,9:F4} {1,6:F4} {2,6:F4}' -f 0.6, 0.75, (2 / 3)))
    }

    It 'the confusion matrix prints as a grid, actual classes down, predicted across' {
        $result.ConfusionMatrix | Get-FormattedLine | Should -BeExactly @(
            'Actual \ Predicted  0  1'
            '                 0  4  2'
            '                 1  1  3')
    }

    It 'its cells as a table: actual, predicted, images, correct' {
        $result.ConfusionMatrix.Cells | Get-FormattedLine -Table | Should -BeExactly @(
            'Actual Predicted Images Correct'
            '------ --------- ------ -------'
            '     0         0      4    True'
            '     0         1      2   False'
            '     1         0      1   False'
            '     1         1      3    True')
    }

    It 'predictions: index, predicted, label, confidence and whether right' {
        $predictions = @(Invoke-MlpPrediction -Model $model -Dataset $test -First 3)
        $predictions | Get-FormattedLine -Table | Should -BeExactly @(
            'Index Predicted Label Confidence Correct'
            '----- --------- ----- ---------- -------'
            ('    0         0     1 {0,10:F4} False' -f $predictions[0].Confidence)
            ('    1         1     1 {0,10:F4} True' -f $predictions[1].Confidence)
            ('    2         0     0 {0,10:F4} True' -f $predictions[2].Confidence))
    }
}
