BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.ShowMlpDigitCommand'
    # Three 2x3 images: black, white, and the gradient 0 50 100 / 150 200 250; labels 4, 7, 1.
    $folder = Join-Path $TestDrive 'tiny'
    Write-MnistSplit -Folder $folder -Split Test -Height 2 -Width 3 -Labels ([byte[]](4, 7, 1)) `
        -Pixels ([byte[]](0, 0, 0, 0, 0, 0, 255, 255, 255, 255, 255, 255, 0, 50, 100, 150, 200, 250))
    $tiny = Get-MnistDataset -Path $folder -Split Test -ErrorAction Stop
}

Describe 'Show-MlpDigit' {
    It 'draws each pixel as two block characters of its shade, under the index and label' {
        Show-MlpDigit -Dataset $tiny -Index 2 | Should -BeExactly "[2] Label:1`n  ░░▒▒`n▒▒▓▓██"
        Show-MlpDigit $tiny -Index 1 | Should -BeExactly "[1] Label:7`n██████`n██████"
    }

    It 'writes one string per image, in the order of -Index' {
        $shown = @(Show-MlpDigit -Dataset $tiny -Index 1, 0, 2)
        $shown.Count | Should -Be 3
        $shown | ForEach-Object { $_.GetType().FullName | Should -Be 'System.String' }
        ($shown | ForEach-Object { ($_ -split "`n")[0] }) | Should -Be '[1] Label:7', '[0] Label:4', '[2] Label:1'
    }

    It 'titles piped predictions with Pred and Label and marks wrong ones' {
        $shown = @([pscustomobject]@{ Index = 1; Label = 7; Predicted = 3 }, [pscustomobject]@{ Index = 0; Label = 4; Predicted = 4 } |
                Show-MlpDigit -Dataset $tiny -ErrorAction Stop)
        ($shown | ForEach-Object { ($_ -split "`n")[0] }) | Should -Be '[1] Pred:3, Label:7 (wrong)', '[0] Pred:4, Label:4'
    }

    It 'shows a real prediction of a 4x4 dataset as 4 lines of 8 characters' {
        $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
        $model = New-TrainedSeparableModel -Dataset $train
        $lines = (Invoke-MlpPrediction -Model $model -Dataset $train -Index 1 | Show-MlpDigit -Dataset $train) -split "`n"
        $lines[0] | Should -BeExactly '[1] Pred:1, Label:1'
        $lines.Count | Should -Be 5
        $lines[1..4] | ForEach-Object { $_.Length | Should -Be 8 }
        # Pattern 1: the left half dark, the right half bright.
        $lines[1..4] | ForEach-Object { $_ | Should -Match '^[ ░]{4}[▓█]{4}$' }
    }

    It 'an index outside the dataset: DatasetIndexOutOfRange' {
        { Show-MlpDigit -Dataset $tiny -Index 3 -ErrorAction Stop } | Should -Throw -ErrorId "DatasetIndexOutOfRange,$Cmdlet"
    }

    It 'a prediction whose label is not the dataset''s: PredictionDatasetMismatch' {
        { [pscustomobject]@{ Index = 0; Label = 5; Predicted = 5 } | Show-MlpDigit -Dataset $tiny -ErrorAction Stop } |
            Should -Throw -ErrorId "PredictionDatasetMismatch,$Cmdlet"
    }
}
