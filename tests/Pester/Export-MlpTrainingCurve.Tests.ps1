BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.ExportMlpTrainingCurveCommand'
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $validation = New-SeparableDataset -Folder (Join-Path $TestDrive 'validation') -Count 10 -Seed 2 -Split Test
    $records = @(New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name First |
            Invoke-MlpTraining -Dataset $train -ValidationDataset $validation -Epochs 4 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
}

Describe 'Export-MlpTrainingCurve' {
    It 'writes a PNG of 1000x420 pixels by default' {
        $path = Join-Path $TestDrive 'curves.png'
        $records | Export-MlpTrainingCurve -Path $path -ErrorAction Stop | Should -BeNullOrEmpty
        $png = Get-PngInfo $path
        $png.IsPng | Should -BeTrue
        $png.Width, $png.Height | Should -Be 1000, 420
    }

    It 'follows -Width and -Height, with or without -Title' {
        $path = Join-Path $TestDrive 'small.png'
        $records | Export-MlpTrainingCurve -Path $path -Width 640 -Height 300 -Title 'Four epochs' -ErrorAction Stop
        (Get-PngInfo $path).Width, (Get-PngInfo $path).Height | Should -Be 640, 300
    }

    It 'draws both charts: loss on the left half, accuracy on the right' {
        $path = Join-Path $TestDrive 'halves.png'
        $records | Export-MlpTrainingCurve -Path $path -Width 600 -Height 300 -ErrorAction Stop
        $bitmap = Read-PngPixels $path
        try {
            $line = { param($c) $c.Blue -gt 120 -and $c.Red -lt 60 } # the first run's blue (#0072B2)
            Test-RegionHasColour $bitmap 0 300 0 300 $line | Should -BeTrue
            Test-RegionHasColour $bitmap 300 600 0 300 $line | Should -BeTrue
        } finally { $bitmap.Dispose() }
    }

    It 'draws the same picture from the records'' CSV export' {
        $csv = Join-Path $TestDrive 'epochs.csv'
        $records | Export-Csv $csv
        $fromRecords = Join-Path $TestDrive 'records.png'; $fromCsv = Join-Path $TestDrive 'csv.png'
        $records | Export-MlpTrainingCurve -Path $fromRecords -ErrorAction Stop
        Import-Csv $csv | Export-MlpTrainingCurve -Path $fromCsv -ErrorAction Stop
        (Get-FileHash $fromCsv).Hash | Should -Be (Get-FileHash $fromRecords).Hash
    }

    It 'draws runs of two models in two colours' {
        $second = @(New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 -Seed 2 -Name Second |
                Invoke-MlpTraining -Dataset $train -Epochs 4 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
        $path = Join-Path $TestDrive 'two.png'
        $records + $second | Export-MlpTrainingCurve -Path $path -ErrorAction Stop
        $bitmap = Read-PngPixels $path
        try {
            Test-RegionHasColour $bitmap 0 500 0 420 { param($c) $c.Red -gt 180 -and $c.Green -lt 120 -and $c.Blue -lt 40 } |
                Should -BeTrue -Because 'the second run is orange-red (#D55E00)'
        } finally { $bitmap.Dispose() }
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.png'
        $records | Export-MlpTrainingCurve -Path $path -WhatIf
        $path | Should -Not -Exist
    }

    It 'an object without Loss: ImageInputInvalid (InvalidArgument), and no picture from nothing' {
        $path = Join-Path $TestDrive 'bad.png'
        $err = { [pscustomobject]@{ Epoch = 1; TrainAccuracy = 0.5 } | Export-MlpTrainingCurve -Path $path -ErrorAction Stop } |
            Should -Throw -ErrorId "ImageInputInvalid,$Cmdlet" -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.Exception.Message | Should -BeLike '*Loss property*'
        $path | Should -Not -Exist
    }

    It 'a value that is not a number: ImageInputInvalid naming it' {
        $err = { [pscustomobject]@{ Epoch = 1; Loss = 'high'; TrainAccuracy = 0.5 } | Export-MlpTrainingCurve -Path (Join-Path $TestDrive 'nan.png') -ErrorAction Stop } |
            Should -Throw -ErrorId "ImageInputInvalid,$Cmdlet" -PassThru
        $err.Exception.Message | Should -BeLike "*Loss = 'high'*"
    }
}
