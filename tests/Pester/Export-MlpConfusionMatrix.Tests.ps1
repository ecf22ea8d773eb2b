BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.ExportMlpConfusionMatrixCommand'
    $folder = Join-Path $TestDrive 'separable'
    $train = New-SeparableDataset -Folder $folder -Count 32 -Seed 1 -Split Train
    $test = New-SeparableDataset -Folder $folder -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $model = New-TrainedSeparableModel -Dataset $train
    $result = Test-MlpAccuracy -Model $model -Dataset $test -ErrorAction Stop
}

Describe 'Export-MlpConfusionMatrix' {
    It 'writes a PNG of 640x600 pixels by default' {
        $path = Join-Path $TestDrive 'confusion.png'
        $result | Export-MlpConfusionMatrix -Path $path -ErrorAction Stop | Should -BeNullOrEmpty
        $png = Get-PngInfo $path
        $png.IsPng | Should -BeTrue
        $png.Width, $png.Height | Should -Be 640, 600
    }

    It 'follows -Width and -Height and returns the file with -PassThru' {
        $file = $result | Export-MlpConfusionMatrix -Path (Join-Path $TestDrive 'small.png') -Width 400 -Height 360 -Title 'Two classes' -PassThru -ErrorAction Stop
        $file.Name | Should -Be 'small.png'
        (Get-PngInfo $file.FullName).Width, (Get-PngInfo $file.FullName).Height | Should -Be 400, 360
    }

    It 'colours the busiest cell dark blue and an empty one white' {
        # The 2x2 counts are 4 2 / 1 3: no empty cell; a model on 3 outputs has an empty row and column for class 2.
        $path = Join-Path $TestDrive 'shades.png'
        $result | Export-MlpConfusionMatrix -Path $path -ErrorAction Stop
        $bitmap = Read-PngPixels $path
        try {
            Test-RegionHasColour $bitmap 0 640 0 600 { param($c) $c.Blue -gt 60 -and $c.Red -lt 30 -and $c.Green -lt 60 } | Should -BeTrue
        } finally { $bitmap.Dispose() }
    }

    It 'draws one result per file: a second piped result is ImageInputExtra, and the first one''s file is written' {
        $path = Join-Path $TestDrive 'first.png'
        $trainResult = Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop
        $result, $trainResult | Export-MlpConfusionMatrix -Path $path -ErrorVariable failures -ErrorAction SilentlyContinue
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be "ImageInputExtra,$Cmdlet"
        $failures[0].TargetObject.Split | Should -Be 'Train'
        (Get-PngInfo $path).IsPng | Should -BeTrue
    }

    It 'writes nothing with -WhatIf' {
        $path = Join-Path $TestDrive 'whatif.png'
        $result | Export-MlpConfusionMatrix -Path $path -WhatIf
        $path | Should -Not -Exist
    }

    It 'rejects a picture smaller than 200 pixels by parameter validation' {
        { $result | Export-MlpConfusionMatrix -Path (Join-Path $TestDrive 'tiny.png') -Width 100 -ErrorAction Stop } |
            Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
    }
}
