BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $Cmdlet = 'MlpTools.Commands.ImportMlpDatasetCommand'
    $ImageFiles = [MlpDataset].Assembly.GetType('MlpTools.Core.Data.Images.ImageFiles')

    function Write-BarImage([string]$Path, [int]$Side, [switch]$Vertical, [int]$Offset) {
        # A bright bar on black: a column for 'vertical', a row for 'horizontal', at a position that varies with -Offset.
        $pixels = [byte[]]::new($Side * $Side)
        foreach ($i in 0..($Side - 1)) {
            $at = if ($Vertical) { $i * $Side + $Offset } else { $Offset * $Side + $i }
            $pixels[$at] = 255
        }
        $ImageFiles::WritePng($Path, $pixels, $Side, $Side)
    }
}

Describe 'Import-MlpDataset' {
    Context 'CSV files' {
        BeforeAll {
            $rows = @(New-FlowerRows -Count 60)
            $csv = Join-Path $TestDrive 'flowers.csv'
            $rows | Export-Csv -LiteralPath $csv
            $data = Import-MlpDataset -Path $csv -LabelColumn Species -ErrorAction Stop
        }

        It 'reads the header, the label as class names and the other columns as features, named after the file' {
            $data.Name | Should -BeExactly 'flowers'
            $data.Count | Should -Be 60
            $data.ClassNames | Should -BeExactly @('setosa', 'versicolor', 'virginica')
            $data.FeatureNames | Should -BeExactly @('A', 'B', 'Color=blue', 'Color=green', 'Color=red')
            $data.Source | Should -BeExactly $csv
        }

        It 'gives the same features as the same rows through ConvertTo-MlpDataset' {
            $objects = $rows | ConvertTo-MlpDataset -LabelProperty Species
            foreach ($i in 0, 17, 59) { $data.GetFeatures($i) | Should -Be $objects.GetFeatures($i) }
        }

        It 'takes another delimiter, quoted fields and a BOM' {
            $semicolon = Join-Path $TestDrive 'semicolon.csv'
            $text = "Name;Size;Kind`r`n""a;b"";1.5;x`r`n""c """"d"""""";2;y`r`n""e"";3;x`r`n"
            [IO.File]::WriteAllText($semicolon, $text, [Text.UTF8Encoding]::new($true))
            $d = Import-MlpDataset -LiteralPath $semicolon -Delimiter ';' -LabelColumn Kind -FeatureColumn Size
            $d.Count | Should -Be 3
            $d.FeatureNames | Should -BeExactly @('Size')
            $d.ClassNames | Should -BeExactly @('x', 'y')
            $d.GetFeatures(1) | Should -Be @(2)
        }

        It '-TargetColumn reads a regression dataset' {
            $prices = Join-Path $TestDrive 'prices.csv'
            New-PriceRows -Count 30 | Export-Csv -LiteralPath $prices
            $d = Import-MlpDataset $prices -TargetColumn Price
            "$($d.Task)" | Should -BeExactly 'Regression'
            $d.GetTargets(29) | Should -Be @([float](New-PriceRows -Count 30)[29].Price)
        }

        It 'a ragged row names its line' {
            $ragged = Join-Path $TestDrive 'ragged.csv'
            Set-Content -LiteralPath $ragged -Value 'A,B,L', '1,2,x', '3,y', '5,6,x'
            $err = { Import-MlpDataset $ragged -LabelColumn L -ErrorAction Stop } | Should -Throw -ErrorId "CsvRowRagged,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match 'line 3'
        }

        It 'a missing file is DatasetPathNotFound, and a wildcard matching nothing says so' {
            { Import-MlpDataset (Join-Path $TestDrive 'none.csv') -LabelColumn L -ErrorAction Stop } | Should -Throw -ErrorId "DatasetPathNotFound,$Cmdlet"
            { Import-MlpDataset (Join-Path $TestDrive 'none*.csv') -LabelColumn L -ErrorAction Stop } | Should -Throw -ErrorId "DatasetPathNotFound,$Cmdlet"
        }

        It 'one bad file does not stop the others' {
            $good = Join-Path $TestDrive 'good.csv'
            Set-Content -LiteralPath $good -Value 'A,L', '1,x', '2,y'
            $results = @(Import-MlpDataset -LiteralPath (Join-Path $TestDrive 'absent.csv'), $good -LabelColumn L -ErrorVariable failures -ErrorAction SilentlyContinue)
            $results.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "DatasetPathNotFound,$Cmdlet"
        }
    }

    Context 'Image folders, one subfolder a class' {
        BeforeAll {
            $folder = Join-Path $TestDrive 'bars'
            foreach ($kind in 'horizontal', 'vertical') {
                New-Item -ItemType Directory (Join-Path $folder $kind) -Force | Out-Null
                foreach ($offset in 1..6) { Write-BarImage (Join-Path $folder "$kind/$offset.png") -Side 8 -Vertical:($kind -eq 'vertical') -Offset $offset }
            }
            Set-Content -LiteralPath (Join-Path $folder 'horizontal/notes.txt') -Value 'not an image'
            $images = Import-MlpDataset -Path $folder -ImageSize 8 -WarningVariable warnings -WarningAction SilentlyContinue -ErrorAction Stop
        }

        It 'names the classes after the subfolders and reads every image at -ImageSize' {
            $images.ClassNames | Should -BeExactly @('horizontal', 'vertical')
            $images.Count | Should -Be 12
            $images.IsImage | Should -BeTrue
            $images.ImageHeight, $images.ImageWidth | Should -Be 8, 8
            $images.GetLabel(0), $images.GetLabel(11) | Should -Be 0, 1
        }

        It 'keeps the pixels of an image already at that size' {
            # horizontal/1.png: row 1 bright.
            $pixels = $images.GetPixels(0)
            $pixels[8..15] | Should -Be (@(255) * 8)
            ($pixels | Measure-Object -Sum).Sum | Should -Be (255 * 8)
        }

        It 'warns about files that are not images' {
            $warnings.Message | Should -Match 'notes.txt'
        }

        It 'trains a model that tells the bars apart and predicts image files' {
            $model = New-Mlp -Dataset $images -HiddenSize 16 -Seed 1
            Invoke-MlpTraining -Model $model -Dataset $images -Epochs 30 -BatchSize 4 -Seed 1 -LearningRate 0.01 | Out-Null
            (Test-MlpAccuracy -Model $model -Dataset $images).Accuracy | Should -Be 1
            $file = Join-Path $TestDrive 'new-vertical.png'
            Write-BarImage $file -Side 16 -Vertical -Offset 9
            (Invoke-MlpPrediction -Model $model -LiteralPath $file).Predicted | Should -BeExactly 'vertical'
        }

        It 'refuses a folder with only one class' {
            $one = Join-Path $TestDrive 'one'
            New-Item -ItemType Directory (Join-Path $one 'only') -Force | Out-Null
            Write-BarImage (Join-Path $one 'only/a.png') -Side 8 -Offset 2
            { Import-MlpDataset $one -ErrorAction Stop } | Should -Throw -ErrorId "ImageFolderSingleClass,$Cmdlet"
        }

        It 'a damaged image stops the read with its name' {
            $broken = Join-Path $TestDrive 'broken'
            Copy-Item $folder $broken -Recurse
            Set-Content -LiteralPath (Join-Path $broken 'vertical/3.png') -Value 'not a png'
            $err = { Import-MlpDataset $broken -ImageSize 8 -ErrorAction Stop -WarningAction SilentlyContinue } | Should -Throw -ErrorId "ImageFileInvalid,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match '3\.png'
        }
    }
}
