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

    It 'epoch records read like the notebook''s epoch line: Epoch, Loss, TrainAccuracy, ValidationLoss, ValidationAccuracy, Seconds' {
        $lines = $records | Get-FormattedLine -Table
        # The Loss column is as wide as its widest value.
        -split $lines[0] | Should -BeExactly @('Epoch', 'Loss', 'TrainAccuracy', 'ValidationLoss', 'ValidationAccuracy', 'Seconds')
        $lines.Count | Should -Be 12
        # Losses with four significant digits, accuracies with four decimals, seconds with two.
        for ($i = 0; $i -lt 10; $i++) {
            $r = $records[$i]
            -split $lines[$i + 2] | Should -BeExactly @("$($r.Epoch)", $r.Loss.ToString('G4'), $r.TrainAccuracy.ToString('F4'), $r.ValidationLoss.ToString('G4'), $r.ValidationAccuracy.ToString('F4'), $r.Seconds.ToString('F2'))
        }
        (-split $lines[-1])[0, 2, 4] | Should -BeExactly @('10', '1.0000', '0.7000')
    }

    It 'an epoch record keeps its columns when it gains properties, and leaves the validation columns blank without validation' {
        $extended = $records[0] | Add-Member -NotePropertyName AddedLater -NotePropertyValue 42 -PassThru
        -split ($extended | Get-FormattedLine -Table)[0] | Should -BeExactly @('Epoch', 'Loss', 'TrainAccuracy', 'ValidationLoss', 'ValidationAccuracy', 'Seconds')
        $plain = Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1
        $lines = $plain | Get-FormattedLine -Table
        -split $lines[2] | Should -BeExactly @('11', $plain.Loss.ToString('G4'), '1.0000', $plain.Seconds.ToString('F2'))
        $validationColumns = $lines[0].IndexOf('ValidationLoss')
        $lines[2].Substring($validationColumns, 'ValidationLoss ValidationAccuracy'.Length).Trim() | Should -BeNullOrEmpty
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

Describe 'Lists, scripts and exports' {
    It 'Format-List of a model: the layers as 16-8-2, no type names, the classes joined' {
        $lines = $model | Format-List | Get-FormattedLine
        $lines | Should -Contain 'Layers         : 16-8-2'
        $lines | Should -Contain 'Parameters     : 154'
        $lines | Should -Contain 'ClassNames     : 0, 1'
        $lines -join "`n" | Should -Not -Match 'System\.'
    }

    It 'a model''s architecture prints its widths, not System.Int32[]' {
        "$($model.Architecture)" | Should -BeExactly '16-8-2 ReLU, KaimingNormal'
        $model.Architecture | Get-FormattedLine | Should -BeExactly @(
            'Layers Activation Initialization Dropout'
            '------ ---------- -------------- -------'
            '16-8-2 ReLU       KaimingNormal        0')
    }

    It 'Format-List of an epoch: a learning rate of 0.001 reads 0.001, accuracies four decimals, empty measures left out' {
        $record = $records[0]
        $lines = $record | Format-List | Get-FormattedLine
        $lines | Should -Contain 'LearningRate       : 0.01'
        $lines | Should -Contain ('Loss               : {0}' -f $record.Loss.ToString('G4'))
        $lines | Should -Contain ('TrainAccuracy      : {0}' -f $record.TrainAccuracy.ToString('F4'))
        $lines | Where-Object { $_ -match '^(TrainRmse|BestEpoch|StopReason|GradientNorms) ' } | Should -BeNullOrEmpty
        $slow = $record | Select-Object * | ForEach-Object { $_.LearningRate = 0.001; $_.PSObject.TypeNames.Insert(0, 'MlpTools.Core.Modeling.EpochRecord'); $_ }
        $slow | Format-List | Get-FormattedLine | Should -Contain 'LearningRate       : 0.001'
    }

    It 'a model''s training runs as a table: the learning rate with its digits, not PowerShell''s two decimals' {
        $lines = $model.History.Runs[0] | Get-FormattedLine -Table
        -split $lines[0] | Should -BeExactly @('Started', 'Epochs', 'Optimizer', 'LearningRate', 'BatchSize', 'LastLoss', 'TrainData')
        (-split $lines[2])[2..5] | Should -BeExactly @('10', 'Adam', '0.01', '8')
        (-split $lines[2])[-3..-1] | Should -BeExactly @('Separable', 'Train', '(32)')
    }

    It 'Format-List of an accuracy result: accuracy with four decimals, F1 by class on one line, the matrix' {
        $result | Format-List | Get-FormattedLine | Should -BeExactly @(
            'Model           : Separable'
            'Dataset         : Separable'
            'Split           : Test'
            'Correct         : 7'
            'Total           : 10'
            'Accuracy        : 0.7000'
            ('F1ByClass       : 0: {0:F4}, 1: {1:F4}' -f (8 / 11), (2 / 3))
            'ConfusionMatrix : Actual \ Predicted  0  1'
            '                                   0  4  2'
            '                                   1  1  3')
    }

    It 'a script''s output that starts with epochs shows the accuracy and the model in a few lines, not every property' {
        # Out-String formats like the console: the first object's table is kept, later types fall back to a list of
        # their default properties (MlpTools.Types.ps1xml).
        $lines = & { $records[-1]; $result; $model } | Get-FormattedLine
        $lines.Count | Should -Be 14
        $lines[3..8] | Should -BeExactly @(
            'ModelName   : Separable'
            'DatasetName : Separable'
            'Split       : Test'
            'Correct     : 7'
            'Total       : 10'
            'Accuracy    : 0.7')
        $lines[9..13] -join "`n" | Should -Match '^Name +: Separable\nLayers +: 16-8-2\n'
    }

    It 'gradient checks and activation points keep their small numbers' {
        $checks = Test-MlpGradient -Model $model -Dataset $test
        $lines = $checks | Get-FormattedLine -Table
        $lines[0] | Should -BeExactly 'Model     Layer Method          EntriesChecked MaxRelativeError GradientNorm'
        (-split $lines[2])[4] | Should -BeExactly $checks[0].MaxRelativeError.ToString('G4')
        Invoke-MlpActivation -Activation Sigmoid -InputObject 0.001 | Get-FormattedLine | Select-Object -Last 1 | Should -BeExactly 'Sigmoid    0.001 0.5002       0.25'
    }

    It 'Export-Csv and ConvertTo-Json keep every digit and every property' {
        $csvPath = Join-Path $TestDrive 'epochs.csv'
        $records | Export-Csv $csvPath
        $csv = Import-Csv $csvPath
        [double]$csv[0].Loss | Should -Be $records[0].Loss
        [double]$csv[0].ValidationLoss | Should -Be $records[0].ValidationLoss
        $csv[0].PSObject.Properties.Name | Should -Contain 'LearningRate'
        $json = $result | Select-Object ModelName, Accuracy, PerClass | ConvertTo-Json -Depth 3 | ConvertFrom-Json
        $json.PerClass[0].F1 | Should -Be $result.PerClass[0].F1
        ($records[0] | ConvertTo-Json | ConvertFrom-Json).Loss | Should -Be $records[0].Loss
    }
}
