# Export-MlpSweepChart: the picture of a sweep from Invoke-MlpSweep's records or its result file's lines. Where the
# marks land is held by xunit SweepChartTests; -Force, -WhatIf, -PassThru and -LiteralPath by Conventions.Tests.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.ExportMlpSweepChartCommand'
    # Six made-up trials over two parameters: the chart has three panels, two to a row.
    $trials = @(foreach ($i in 1..6) {
            [pscustomobject]@{
                Trial              = $i
                ValidationAccuracy = 0.5 + $i / 20
                ValidationLoss     = 1 - $i / 10
                Parameters         = @{ Activation = ('ReLU', 'GELU')[$i % 2]; LearningRate = (0.01, 0.03, 0.1)[$i % 3] }
            }
        })
}

Describe 'Export-MlpSweepChart' {
    It 'writes a PNG 1000 wide and 380 high per row of charts by default; -Title adds a heading' {
        $path = Join-Path $TestDrive 'default.png'
        $trials | Export-MlpSweepChart -Path $path -ErrorAction Stop | Should -BeNullOrEmpty
        $png = Get-PngInfo $path
        $png.IsPng | Should -BeTrue
        $png.Width, $png.Height | Should -Be 1000, 760
        $titled = Join-Path $TestDrive 'titled.png'
        $trials | Export-MlpSweepChart -Path $titled -Title 'Six trials' -ErrorAction Stop
        (Get-PngInfo $titled).Height | Should -Be 792
    }

    It 'follows -Width and -Height' {
        $path = Join-Path $TestDrive 'small.png'
        $trials | Export-MlpSweepChart -Path $path -Width 640 -Height 300 -ErrorAction Stop
        (Get-PngInfo $path).Width, (Get-PngInfo $path).Height | Should -Be 640, 300
    }

    It 'draws the same picture from the records of a sweep and from the lines of its result file' {
        $rows = New-CircleRows -Count 60
        $train = $rows[0..39] | ConvertTo-MlpDataset -LabelProperty Class -Name circle
        $validation = $rows[40..59] | ConvertTo-MlpDataset -LabelProperty Class -Name circle
        $results = Join-Path $TestDrive 'sweep.jsonl'
        $records = @(Invoke-MlpSweep -Dataset $train -ValidationDataset $validation -Epochs 1 -Seed 1 -ThreadCount 1 -ResultPath $results -ErrorAction Stop `
                -Parameter @{ HiddenSize = @(4), @(8, 4); LearningRate = 0.01, 0.1 })
        $fromRecords = Join-Path $TestDrive 'records.png'; $fromFile = Join-Path $TestDrive 'file.png'
        $records | Export-MlpSweepChart -Path $fromRecords -ErrorAction Stop
        Get-Content $results | Select-Object -Skip 1 | ConvertFrom-Json | Export-MlpSweepChart -Path $fromFile -ErrorAction Stop
        (Get-PngInfo $fromRecords).Height | Should -Be 760 -Because 'three panels: the trials, HiddenSize and LearningRate'
        (Get-FileHash $fromFile).Hash | Should -Be (Get-FileHash $fromRecords).Hash
    }

    It 'refuses <Case> with ImageInputInvalid (InvalidArgument) and draws the others' -ForEach @(
        @{ Case = 'an object without Trial'; Bad = [pscustomobject]@{ ValidationAccuracy = 0.9 } }
        @{ Case = 'an object without a score'; Bad = [pscustomobject]@{ Trial = 7; ValidationLoss = 0.3 } }
        @{ Case = 'a score that is not a number'; Bad = [pscustomobject]@{ Trial = 7; ValidationAccuracy = 'high' } }
    ) {
        $path = Join-Path $TestDrive "bad-$([guid]::NewGuid()).png"
        $trials[0], $Bad, $trials[1] | Export-MlpSweepChart -Path $path -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -BeExactly "ImageInputInvalid,$Cmdlet"
        $failures[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $path | Should -Exist
    }

    It 'writes nothing when every input was refused' {
        $path = Join-Path $TestDrive 'none.png'
        [pscustomobject]@{ Name = 'x' } | Export-MlpSweepChart -Path $path -ErrorAction SilentlyContinue -ErrorVariable failures
        $failures.Count | Should -Be 1
        $path | Should -Not -Exist
    }
}
