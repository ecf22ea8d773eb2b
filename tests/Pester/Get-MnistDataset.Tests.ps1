BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.GetMnistDatasetCommand'
    # The standard small fixture: three 3x5 images with labels 2, 0, 1 (so three classes) ...
    $TestPixels = [byte[]](1..45)
    $TestLabels = [byte[]](2, 0, 1)
    # ... and a training split that differs in every respect: two images, labels 0 and 1.
    $TrainPixels = [byte[]](101..130)
    $TrainLabels = [byte[]](0, 1)

    function Get-Labels($Dataset) { 0..($Dataset.Count - 1) | ForEach-Object { $Dataset.GetLabel($_) } }
}

Describe 'Get-MnistDataset' {
    Context 'Reading IDX files' {
        BeforeAll {
            $raw = Join-Path $TestDrive 'raw-files'
            Write-MnistSplit -Folder $raw -Split Test -Pixels $TestPixels -Labels $TestLabels -Height 3 -Width 5
            $gz = Join-Path $TestDrive 'gz-files'
            Write-MnistSplit -Folder $gz -Split Test -Pixels $TestPixels -Labels $TestLabels -Height 3 -Width 5 -Gzip
            # A model that tells two datasets' pixels apart: identical predictions mean identical pixels.
            $probe = New-Mlp -InputSize 15 -HiddenSize 4 -OutputSize 3 -Seed 11
        }

        It 'the fixture writer lays out IDX byte for byte (magic, big-endian sizes, data)' {
            $images = ConvertTo-IdxBytes -Dimensions 2, 1, 2 -Data 10, 20, 30, 40
            $images | Should -Be 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 30, 40
            $labels = ConvertTo-IdxBytes -Dimensions 70000 -Data @()
            $labels | Should -Be 0, 0, 8, 1, 0, 1, 0x11, 0x70
        }

        It 'reads raw IDX files: sizes from the headers, ClassCount from the labels' {
            $dataset = Get-MnistDataset -Path $raw -Split Test -ErrorAction Stop
            $dataset.Count | Should -Be 3
            $dataset.ImageHeight | Should -Be 3
            $dataset.ImageWidth | Should -Be 5
            $dataset.ImageSize | Should -Be 15
            $dataset.ClassCount | Should -Be 3
            $dataset.Split | Should -BeExactly 'Test'
            $dataset.Name | Should -BeExactly 'MNIST'
            $dataset.Source | Should -Be $raw
            Get-Labels $dataset | Should -Be 2, 0, 1
        }

        It 'reads gzip-compressed IDX files to the same images and labels' {
            $fromRaw = Get-MnistDataset -Path $raw -Split Test -ErrorAction Stop
            $fromGz = Get-MnistDataset -Path $gz -Split Test -ErrorAction Stop
            $fromGz.Count, $fromGz.ImageHeight, $fromGz.ImageWidth, $fromGz.ClassCount | Should -Be 3, 3, 5, 3
            Get-Labels $fromGz | Should -Be 2, 0, 1
            $rawConfidence = (Invoke-MlpPrediction -Model $probe -Dataset $fromRaw).Confidence
            (Invoke-MlpPrediction -Model $probe -Dataset $fromGz).Confidence | Should -Be $rawConfidence
        }

        It 'reads a multi-member gzip file (cat a.gz b.gz, which gzip -t accepts) whole; a cut in its last trailer is IdxGzipInvalid' -Skip:(-not (Get-Command gzip -ErrorAction Ignore)) {
            $multi = Join-Path $TestDrive 'multi-member'
            New-Item -ItemType Directory $multi | Out-Null
            Copy-Item (Join-Path $raw 't10k-labels-idx1-ubyte') $multi
            $bytes = [IO.File]::ReadAllBytes((Join-Path $raw 't10k-images-idx3-ubyte'))
            # Three members, split inside the header and inside the pixels, each compressed by gzip itself.
            $parts = @($bytes[0..5]), @($bytes[6..29]), @($bytes[30..($bytes.Length - 1)])
            $members = foreach ($i in 0..2) {
                $part = Join-Path $TestDrive "part$i"
                [IO.File]::WriteAllBytes($part, [byte[]]$parts[$i])
                gzip -f $part
                [IO.File]::ReadAllBytes("$part.gz")
            }
            $images = Join-Path $multi 't10k-images-idx3-ubyte.gz'
            [IO.File]::WriteAllBytes($images, [byte[]]$members)
            gzip -t $images
            $LASTEXITCODE | Should -Be 0 -Because 'gzip itself accepts the file'
            $dataset = Get-MnistDataset -Path $multi -Split Test -ErrorAction Stop
            $dataset.Count, $dataset.ImageHeight, $dataset.ImageWidth | Should -Be 3, 3, 5
            (Invoke-MlpPrediction -Model $probe -Dataset $dataset).Confidence | Should -Be (Invoke-MlpPrediction -Model $probe -Dataset (Get-MnistDataset -Path $raw -Split Test)).Confidence
            $all = [IO.File]::ReadAllBytes($images)
            [IO.File]::WriteAllBytes($images, [byte[]]$all[0..($all.Length - 3)])
            { Get-MnistDataset -Path $multi -Split Test -ErrorAction Stop } | Should -Throw -ErrorId "IdxGzipInvalid,$Cmdlet"
        }

        It 'the pixel comparison above can tell different pixels apart' {
            $other = Join-Path $TestDrive 'other-pixels'
            Write-MnistSplit -Folder $other -Split Test -Pixels ([byte[]](45..1)) -Labels $TestLabels -Height 3 -Width 5
            $rawConfidence = (Invoke-MlpPrediction -Model $probe -Dataset (Get-MnistDataset -Path $raw -Split Test)).Confidence
            (Invoke-MlpPrediction -Model $probe -Dataset (Get-MnistDataset -Path $other -Split Test)).Confidence | Should -Not -Be $rawConfidence
        }

        It 'finds the files in a torchvision-style <Layout> folder below -Path' -ForEach @(
            @{ Layout = 'MNIST/raw' }
            @{ Layout = 'raw' }
        ) {
            $root = Join-Path $TestDrive "torchvision-$($Layout -replace '/', '-')"
            Write-MnistSplit -Folder (Join-Path $root $Layout) -Split Test -Pixels $TestPixels -Labels $TestLabels -Height 3 -Width 5 -Gzip
            $dataset = Get-MnistDataset -Path $root -Split Test -ErrorAction Stop
            $dataset.Count | Should -Be 3
            $dataset.Source | Should -Be (Join-Path $root $Layout)
            Get-Labels $dataset | Should -Be 2, 0, 1
        }

        It 'reads any pair of files given with -ImagesPath and -LabelsPath, raw and gzipped mixed' {
            $folder = Join-Path $TestDrive 'custom-pair'
            Write-IdxFile -Path (Join-Path $folder 'letters.idx3') -Dimensions 3, 3, 5 -Data $TestPixels | Out-Null
            Write-IdxFile -Path (Join-Path $folder 'letters.idx1.gz') -Dimensions 3 -Data $TestLabels -Gzip | Out-Null
            $dataset = Get-MnistDataset -ImagesPath (Join-Path $folder 'letters.idx3') -LabelsPath (Join-Path $folder 'letters.idx1.gz') -Name 'Letters' -ErrorAction Stop
            $dataset.Name | Should -BeExactly 'Letters'
            $dataset.Split | Should -BeExactly 'Custom'
            $dataset.Source | Should -Be $folder
            $dataset.Count, $dataset.ImageHeight, $dataset.ImageWidth, $dataset.ClassCount | Should -Be 3, 3, 5, 3
        }

        It 'counts classes as the largest label plus one, not the distinct labels' {
            $folder = Join-Path $TestDrive 'sparse-labels'
            Write-MnistSplit -Folder $folder -Split Test -Pixels $TestPixels -Labels ([byte[]](0, 5, 0)) -Height 3 -Width 5
            (Get-MnistDataset -Path $folder -Split Test).ClassCount | Should -Be 6
        }

        It 'names the dataset with -Name' {
            (Get-MnistDataset -Path $raw -Split Test -Name 'Digits').Name | Should -BeExactly 'Digits'
        }
    }

    Context 'Which splits, from which folder' {
        BeforeAll {
            $both = Join-Path $TestDrive 'both-splits'
            Write-MnistSplit -Folder $both -Split Train -Pixels $TrainPixels -Labels $TrainLabels -Height 3 -Width 5
            Write-MnistSplit -Folder $both -Split Test -Pixels $TestPixels -Labels $TestLabels -Height 3 -Width 5 -Gzip
            $savedData = $env:MLPTOOLS_DATA
        }
        AfterAll {
            $env:MLPTOOLS_DATA = $savedData
        }

        It 'returns both splits, Train then Test, when -Split is omitted' {
            $datasets = @(Get-MnistDataset -Path $both -ErrorAction Stop)
            $datasets.Count | Should -Be 2
            $datasets.Split | Should -Be 'Train', 'Test'
            $datasets[0].Count | Should -Be 2
            $datasets[1].Count | Should -Be 3
            Get-Labels $datasets[0] | Should -Be 0, 1
        }

        It 'returns only the split asked for' {
            $datasets = @(Get-MnistDataset -Path $both -Split Test -ErrorAction Stop)
            $datasets.Count | Should -Be 1
            $datasets[0].Split | Should -BeExactly 'Test'
        }

        It 'reads the folder named by $env:MLPTOOLS_DATA when -Path is omitted' {
            $env:MLPTOOLS_DATA = $both
            try {
                $train, $test = Get-MnistDataset -ErrorAction Stop
            } finally {
                $env:MLPTOOLS_DATA = $savedData
            }
            $train.Split, $train.Count, $train.Source | Should -Be 'Train', 2, $both
            $test.Split, $test.Count, $test.Source | Should -Be 'Test', 3, $both
        }

        It 'resolves a relative -Path against the current PowerShell location, not the process directory' {
            Push-Location $TestDrive
            try {
                [System.IO.Directory]::GetCurrentDirectory() | Should -Not -Be (Get-Location).ProviderPath
                $dataset = Get-MnistDataset -Path 'both-splits' -Split Test -ErrorAction Stop
                $pair = Get-MnistDataset -ImagesPath 'both-splits/t10k-images-idx3-ubyte.gz' -LabelsPath './both-splits/t10k-labels-idx1-ubyte.gz' -ErrorAction Stop
            } finally {
                Pop-Location
            }
            $dataset.Count | Should -Be 3
            $dataset.Source | Should -Be $both
            $pair.Count | Should -Be 3
        }

        It 'takes the folder from the pipeline (FullName of Get-Item)' {
            $dataset = Get-Item $both | Get-MnistDataset -Split Train -ErrorAction Stop
            $dataset.Count | Should -Be 2
            $dataset.Source | Should -Be $both
        }
    }
}
