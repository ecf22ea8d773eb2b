BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.ExportMlpDigitGridCommand'
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    # Ten 4x4 images showing patterns 0,1,0,1,...; images 0, 3 and 5 carry the other label, so the model gets them wrong.
    $test = New-SeparableDataset -Folder (Join-Path $TestDrive 'test') -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $model = New-TrainedSeparableModel -Dataset $train
    $predictions = @(Invoke-MlpPrediction -Model $model -Dataset $test -ErrorAction Stop)

    # At -Scale 32 a 4x4 image is 160 pixels, so a tile is 172 wide and 192 high (title strip 20, padding 6).
    $tileWidth = 140; $tileHeight = 160
    $isRed = { param($c) $c.Red -gt 150 -and $c.Green -lt 110 -and $c.Blue -lt 110 }
    $isDark = { param($c) $c.Red -lt 100 -and $c.Green -lt 100 -and $c.Blue -lt 100 }
    function Get-TitleColour($Bitmap, [int]$Tile) {
        $left = ($Tile % 5) * $tileWidth; $top = [math]::Floor($Tile / 5) * $tileHeight + 6
        [pscustomobject]@{
            Red  = Test-RegionHasColour $Bitmap $left ($left + $tileWidth) $top ($top + 20) $isRed
            Dark = Test-RegionHasColour $Bitmap $left ($left + $tileWidth) $top ($top + 20) $isDark
        }
    }
}

Describe 'Export-MlpDigitGrid' {
    Context 'The picture' {
        It 'writes a PNG of 5 columns: 10 tiles of 4x4 at scale 4 make 140x96 pixels' {
            $path = Join-Path $TestDrive 'grid.png'
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $path -ErrorAction Stop | Should -BeNullOrEmpty
            $png = Get-PngInfo $path
            $png.IsPng | Should -BeTrue
            $png.Width, $png.Height | Should -Be 140, 96
        }

        It 'follows -Columns and -Scale: <Columns> columns at scale <Scale> is <Width>x<Height>' -ForEach @(
            @{ Columns = 2; Scale = 1; Width = 2 * 16; Height = 5 * 36 }
            @{ Columns = 10; Scale = 8; Width = 10 * 44; Height = 64 }
            @{ Columns = 20; Scale = 2; Width = 10 * 20; Height = 40 }
        ) {
            $path = Join-Path $TestDrive "grid-$Columns-$Scale.png"
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $path -Columns $Columns -Scale $Scale -ErrorAction Stop
            $png = Get-PngInfo $path
            $png.Width, $png.Height | Should -Be $Width, $Height
        }

        It 'titles the wrong predictions (images 0, 3, 5) in red and the right ones in black' {
            $path = Join-Path $TestDrive 'grid-large.png'
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $path -Scale 32 -ErrorAction Stop
            (Get-PngInfo $path).Width, (Get-PngInfo $path).Height | Should -Be (5 * $tileWidth), (2 * $tileHeight)
            $bitmap = Read-PngPixels $path
            try {
                $titles = 0..9 | ForEach-Object { Get-TitleColour $bitmap $_ }
                $titles.Red | Should -Be @($predictions | ForEach-Object { -not $_.Correct })
                $titles.Red | Should -Be $true, $false, $false, $true, $false, $true, $false, $false, $false, $false
                $titles.Dark | Should -Be @($predictions.Correct)
            } finally { $bitmap.Dispose() }
        }

        It 'takes its titles from the objects: changing one prediction changes only that tile''s title' {
            $original = Join-Path $TestDrive 'original.png'
            $changed = Join-Path $TestDrive 'changed.png'
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $original -Scale 32 -ErrorAction Stop
            # Tile 7 (label 1, predicted 1, right) claims a prediction of 0 instead.
            $predictions | Select-Object Index, Label, @{ n = 'Predicted'; e = { if ($_.Index -eq 7) { 0 } else { $_.Predicted } } } |
                Export-MlpDigitGrid -Dataset $test -Path $changed -Scale 32 -ErrorAction Stop
            $a = Read-PngPixels $original; $b = Read-PngPixels $changed
            try {
                # Whether the two pictures differ in rows $top..$bottom of a tile, $inset pixels in from its sides.
                $differs = { param($tile, $top, $bottom, $inset = 0)
                    $left = ($tile % 5) * $tileWidth; $row = [math]::Floor($tile / 5) * $tileHeight
                    for ($y = $row + $top; $y -lt $row + $bottom; $y += 1) { for ($x = $left + $inset; $x -lt $left + $tileWidth - $inset; $x += 1) {
                            if ($a.GetPixel($x, $y) -ne $b.GetPixel($x, $y)) { return $true } } }
                    $false }
                & $differs 7 6 26 | Should -BeTrue -Because 'the title of tile 7 now says Pred:0'
                & $differs 7 26 (26 + 128) 6 | Should -BeFalse -Because 'the image itself is the same'
                & $differs 7 26 (26 + 128) | Should -BeTrue -Because 'a wrong prediction is framed in red'
                @(0..9 | Where-Object { $_ -ne 7 } | Where-Object { & $differs $_ 0 $tileHeight }) | Should -BeNullOrEmpty
                (Get-TitleColour $b 7).Red | Should -BeTrue
                & $isRed $b.GetPixel(2 * $tileWidth + 5, $tileHeight + 90) | Should -BeTrue -Because 'the frame is just left of the image'
                & $isRed $a.GetPixel(2 * $tileWidth + 5, $tileHeight + 90) | Should -BeFalse
            } finally { $a.Dispose(); $b.Dispose() }
        }

        It 'draws the same picture from predictions read back from CSV' {
            $csv = Join-Path $TestDrive 'predictions.csv'
            $predictions | Export-Csv $csv
            $fromObjects = Join-Path $TestDrive 'objects.png'; $fromCsv = Join-Path $TestDrive 'csv.png'
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $fromObjects -ErrorAction Stop
            Import-Csv $csv | Export-MlpDigitGrid -Dataset $test -Path $fromCsv -ErrorAction Stop
            (Get-FileHash $fromCsv).Hash | Should -Be (Get-FileHash $fromObjects).Hash
        }

        It 'draws images by -Index with their labels only, in black' {
            $path = Join-Path $TestDrive 'index.png'
            Export-MlpDigitGrid -Dataset $test -Index 0, 3, 5 -Path $path -Scale 32 -ErrorAction Stop
            $png = Get-PngInfo $path
            $png.Width, $png.Height | Should -Be (3 * $tileWidth), $tileHeight
            $bitmap = Read-PngPixels $path
            try { (0..2 | ForEach-Object { Get-TitleColour $bitmap $_ }).Red | Should -Be $false, $false, $false }
            finally { $bitmap.Dispose() }
        }
    }

    Context 'Writing the file' {
        It 'resolves a relative -Path against the current location and returns the file with -PassThru' {
            Push-Location $TestDrive
            try {
                $file = $predictions | Export-MlpDigitGrid -Dataset $test -Path 'relative.png' -PassThru -ErrorAction Stop
                $file.GetType().FullName | Should -Be 'System.IO.FileInfo'
                $file.FullName | Should -Be (Join-Path $TestDrive 'relative.png')
                $file.Length | Should -Be (Get-PngInfo $file.FullName).Length
            } finally { Pop-Location }
        }

        It 'writes nothing with -WhatIf' {
            $path = Join-Path $TestDrive 'whatif.png'
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $path -WhatIf -PassThru | Should -BeNullOrEmpty
            $path | Should -Not -Exist
        }

        It 'refuses an existing file without -Force; with it, replaces the file whole and leaves no temporary file behind' {
            $folder = New-Item -ItemType Directory (Join-Path $TestDrive 'replace')
            $path = Join-Path $folder 'grid.png'
            Set-Content $path 'not a picture'
            { $predictions | Export-MlpDigitGrid -Dataset $test -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelFileExists,$Cmdlet"
            Get-Content $path | Should -BeExactly 'not a picture'
            $predictions | Export-MlpDigitGrid -Dataset $test -Path $path -Force -Confirm:$false -ErrorAction Stop
            (Get-PngInfo $path).IsPng | Should -BeTrue
            (Get-ChildItem $folder -Force).Name | Should -Be 'grid.png'
        }
    }

    Context 'Errors' {
        It 'predictions made on another dataset: PredictionDatasetMismatch (InvalidArgument), nothing written' {
            $path = Join-Path $TestDrive 'mismatch.png'
            $err = { $predictions | Export-MlpDigitGrid -Dataset $train -Path $path -ErrorAction Stop } |
                Should -Throw -ErrorId "PredictionDatasetMismatch,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -BeLike '*image 0*label 1*labelled 0*'
            $path | Should -Not -Exist
        }

        It 'an -Index outside the dataset: DatasetIndexOutOfRange' {
            { Export-MlpDigitGrid -Dataset $test -Index 2, 10 -Path (Join-Path $TestDrive 'out.png') -ErrorAction Stop } |
                Should -Throw -ErrorId "DatasetIndexOutOfRange,$Cmdlet"
        }

        It 'an object without Index or Label: ImageInputInvalid, naming what it has' {
            $err = { [pscustomobject]@{ Digit = 3 } | Export-MlpDigitGrid -Dataset $test -Path (Join-Path $TestDrive 'bad.png') -ErrorAction Stop } |
                Should -Throw -ErrorId "ImageInputInvalid,$Cmdlet" -PassThru
            $err.Exception.Message | Should -BeLike '*Index property*Digit*'
        }

        It 'a folder that does not exist: FolderNotFound (ObjectNotFound)' {
            $err = { $predictions | Export-MlpDigitGrid -Dataset $test -Path (Join-Path $TestDrive 'no/such/grid.png') -ErrorAction Stop } |
                Should -Throw -ErrorId "FolderNotFound,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'rejects <Arguments> by parameter validation' -ForEach @(
            @{ Arguments = '-Columns 0'; Splat = @{ Columns = 0 } }
            @{ Arguments = '-Scale 33'; Splat = @{ Scale = 33 } }
        ) {
            { $predictions | Export-MlpDigitGrid -Dataset $test -Path (Join-Path $TestDrive 'v.png') @Splat -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        }
    }
}
