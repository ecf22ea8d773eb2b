BeforeDiscovery {
    # The full-disk tests mount a small tmpfs, which needs Linux and root (as CI runs); elsewhere they are skipped.
    $canMount = $IsLinux -and (id -u) -eq 0
}

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

    Context 'Errors' {
        BeforeAll {
            $files = Join-Path $TestDrive 'bad-files'
            $null = New-Item -ItemType Directory $files
            Write-IdxFile -Path (Join-Path $files 'images') -Dimensions 3, 3, 5 -Data $TestPixels | Out-Null
            Write-IdxFile -Path (Join-Path $files 'labels') -Dimensions 3 -Data $TestLabels | Out-Null
            Write-IdxFile -Path (Join-Path $files 'two-labels') -Dimensions 2 -Data 0, 1 | Out-Null
            Write-IdxFile -Path (Join-Path $files 'four-labels') -Dimensions 4 -Data 0, 1, 2, 1 | Out-Null
            Write-IdxFile -Path (Join-Path $files 'wrong-type-images') -Dimensions 3, 3, 5 -Data $TestPixels -Magic 0, 0, 9, 3 | Out-Null
            Write-IdxFile -Path (Join-Path $files 'truncated-images') -Dimensions 3, 3, 5 -Data $TestPixels -TruncateTo 40 | Out-Null
            Write-IdxFile -Path (Join-Path $files 'truncated-header') -Dimensions 3, 3, 5 -Data $TestPixels -TruncateTo 9 | Out-Null
            Write-IdxFile -Path (Join-Path $files 'claims-four-images') -Dimensions 4, 3, 5 -Data $TestPixels | Out-Null
            Write-IdxFile -Path (Join-Path $files 'claims-four-images.gz') -Dimensions 4, 3, 5 -Data $TestPixels -Gzip | Out-Null
            Write-IdxFile -Path (Join-Path $files 'impossible-images') -Dimensions 100000, 1000, 1000 -Data $TestPixels | Out-Null
            # The gzip magic, then bytes that are not deflate data.
            [System.IO.File]::WriteAllBytes((Join-Path $files 'corrupt.gz'), [byte[]](0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9))
            $null = New-Item -ItemType Directory (Join-Path $files 'a-folder')
            # Magic 0x00000802 where 0x00000803 (images) or 0x00000801 (labels) belongs: the wrong number of dimensions.
            Write-IdxFile -Path (Join-Path $files 'images-two-dimensions') -Dimensions 3, 15 -Data $TestPixels | Out-Null
            Write-IdxFile -Path (Join-Path $files 'labels-two-dimensions') -Dimensions 3, 1 -Data $TestLabels | Out-Null
            # Headers that claim four billion items over a few bytes: refused before any allocation.
            Write-IdxFile -Path (Join-Path $files 'labels-billions') -Dimensions 4000000000 -Data $TestLabels | Out-Null
            Write-IdxFile -Path (Join-Path $files 'images-billions') -Dimensions 4000000000, 28, 28 -Data $TestPixels | Out-Null
            [System.IO.File]::WriteAllBytes((Join-Path $files 'empty'), [byte[]]@())
            [System.IO.File]::WriteAllBytes((Join-Path $files 'empty.gz'), [byte[]]@())
            [System.IO.File]::WriteAllBytes((Join-Path $files 'not-gzip.gz'), [Text.Encoding]::ASCII.GetBytes('plain text, not gzip at all'))
            # A gzip file cut short in its 8-byte trailer inflates to every byte; only the trailer tells.
            $gzip = [System.IO.File]::ReadAllBytes((Write-IdxFile -Path (Join-Path $files 'labels.gz') -Dimensions 3 -Data $TestLabels -Gzip))
            [System.IO.File]::WriteAllBytes((Join-Path $files 'labels-trailer-cut.gz'), $gzip[0..($gzip.Length - 6)])
            # A gzip file cut in half, in its compressed data (random pixels, so that there is data to cut).
            $random = [byte[]]::new(300 * 3 * 5)
            [Random]::new(1).NextBytes($random)
            $gzip = [System.IO.File]::ReadAllBytes((Write-IdxFile -Path (Join-Path $files 'images-300.gz') -Dimensions 300, 3, 5 -Data $random -Gzip))
            [System.IO.File]::WriteAllBytes((Join-Path $files 'images-300-half.gz'), $gzip[0..($gzip.Length / 2)])
            Write-IdxFile -Path (Join-Path $files 'labels-300') -Dimensions 300 -Data ([byte[]]::new(300)) | Out-Null
        }

        It 'a missing split: MnistFileNotFound (ObjectNotFound), naming the file and how to get the data' {
            $empty = Join-Path $TestDrive 'no-mnist-here'
            $null = New-Item -ItemType Directory $empty
            $err = { Get-MnistDataset -Path $empty -Split Test -ErrorAction Stop } |
                Should -Throw -ErrorId "MnistFileNotFound,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be $empty
            $err.Exception.Message | Should -BeLike "*'t10k-images-idx3-ubyte'*"
            $err.Exception.Message | Should -BeLike "*$empty*"
            $err.Exception.Message | Should -BeLike "*Get-MnistDataset -Download*"
            $err.Exception.Message | Should -BeLike '*MLPTOOLS_DATA*'
        }

        It 'an empty $env:MLPTOOLS_DATA folder: MnistFileNotFound naming that folder' {
            $empty = Join-Path $TestDrive 'empty-data-folder'
            $null = New-Item -ItemType Directory $empty
            $saved = $env:MLPTOOLS_DATA
            $env:MLPTOOLS_DATA = $empty
            try {
                $err = { Get-MnistDataset -ErrorAction Stop } | Should -Throw -ErrorId "MnistFileNotFound,$Cmdlet" -PassThru
            } finally {
                $env:MLPTOOLS_DATA = $saved
            }
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            $err.TargetObject | Should -Be $empty
            $err.Exception.Message | Should -BeLike "*'train-images-idx3-ubyte'*"
        }

        It '<Case>: <Id> (<Category>)' -ForEach @(
            @{ Case = 'missing -ImagesPath file'; Images = 'no-such-file'; Labels = 'labels'; Id = 'IdxFileNotFound'; Category = 'ObjectNotFound'; Culprit = 'no-such-file' }
            @{ Case = 'wrong magic number'; Images = 'wrong-type-images'; Labels = 'labels'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'wrong-type-images' }
            @{ Case = 'images and labels swapped'; Images = 'labels'; Labels = 'images'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'labels' }
            @{ Case = 'file cut short in its data'; Images = 'truncated-images'; Labels = 'labels'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'truncated-images' }
            @{ Case = 'file cut short in its header'; Images = 'truncated-header'; Labels = 'labels'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'truncated-header' }
            @{ Case = 'header claims more images than a raw file holds'; Images = 'claims-four-images'; Labels = 'labels'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'claims-four-images' }
            @{ Case = 'header claims more images than a gzip file holds'; Images = 'claims-four-images.gz'; Labels = 'four-labels'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'claims-four-images.gz' }
            @{ Case = 'a gzip file claiming more images than there are labels is refused before it is inflated'; Images = 'claims-four-images.gz'; Labels = 'labels'; Id = 'DatasetCountMismatch'; Category = 'InvalidData'; Culprit = 'claims-four-images.gz' }
            @{ Case = 'header claims an impossible size'; Images = 'impossible-images'; Labels = 'labels'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'impossible-images' }
            @{ Case = 'gzip magic but no gzip data'; Images = 'images'; Labels = 'corrupt.gz'; Id = 'IdxGzipInvalid'; Category = 'InvalidData'; Culprit = 'corrupt.gz' }
            @{ Case = 'images and labels counts differ'; Images = 'images'; Labels = 'two-labels'; Id = 'DatasetCountMismatch'; Category = 'InvalidData'; Culprit = 'images' }
            @{ Case = 'a directory instead of a file'; Images = 'a-folder'; Labels = 'labels'; Id = 'PathIsFolder'; Category = 'InvalidArgument'; Culprit = 'a-folder' }
            @{ Case = 'images with two dimensions'; Images = 'images-two-dimensions'; Labels = 'labels'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'images-two-dimensions' }
            @{ Case = 'labels with two dimensions'; Images = 'images'; Labels = 'labels-two-dimensions'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'labels-two-dimensions' }
            @{ Case = 'a labels header claiming four billion labels'; Images = 'images'; Labels = 'labels-billions'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'labels-billions' }
            @{ Case = 'an images header claiming four billion images'; Images = 'images-billions'; Labels = 'labels'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'images-billions' }
            @{ Case = 'an empty images file'; Images = 'empty'; Labels = 'labels'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'empty' }
            @{ Case = 'an empty labels file'; Images = 'images'; Labels = 'empty'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'empty' }
            @{ Case = 'an empty file named .gz'; Images = 'images'; Labels = 'empty.gz'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'empty.gz' }
            @{ Case = 'a .gz file that is not gzip'; Images = 'images'; Labels = 'not-gzip.gz'; Id = 'IdxHeaderInvalid'; Category = 'InvalidData'; Culprit = 'not-gzip.gz' }
            @{ Case = 'a gzip file cut short in its trailer'; Images = 'images'; Labels = 'labels-trailer-cut.gz'; Id = 'IdxGzipInvalid'; Category = 'InvalidData'; Culprit = 'labels-trailer-cut.gz' }
            @{ Case = 'a gzip file cut in half'; Images = 'images-300-half.gz'; Labels = 'labels-300'; Id = 'IdxFileTruncated'; Category = 'InvalidData'; Culprit = 'images-300-half.gz' }
        ) {
            $imagesPath = Join-Path $files $Images
            $labelsPath = Join-Path $files $Labels
            $err = { Get-MnistDataset -ImagesPath $imagesPath -LabelsPath $labelsPath -ErrorAction Stop } |
                Should -Throw -ErrorId "$Id,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be $Category
            $err.TargetObject | Should -Be (Join-Path $files $Culprit)
            $err.Exception.Message | Should -BeLike "*'$(Join-Path $files $Culprit)'*"
            # The session goes on: the good pair still reads.
            (Get-MnistDataset -ImagesPath (Join-Path $files 'images') -LabelsPath (Join-Path $files 'labels') -ErrorAction Stop).Count | Should -Be 3
        }

        It 'the whole gzip files the cut ones came from still read' {
            (Get-MnistDataset -ImagesPath (Join-Path $files 'images-300.gz') -LabelsPath (Join-Path $files 'labels-300') -ErrorAction Stop).Count | Should -Be 300
            (Get-MnistDataset -ImagesPath (Join-Path $files 'images') -LabelsPath (Join-Path $files 'labels.gz') -ErrorAction Stop).Count | Should -Be 3
        }

        It 'images of zero width: IdxHeaderInvalid (InvalidData)' {
            $zero = Join-Path $TestDrive 'zero-width'
            Write-IdxFile -Path (Join-Path $zero 'images') -Dimensions 3, 3, 0 | Out-Null
            Write-IdxFile -Path (Join-Path $zero 'labels') -Dimensions 3 -Data $TestLabels | Out-Null
            $err = { Get-MnistDataset -ImagesPath (Join-Path $zero 'images') -LabelsPath (Join-Path $zero 'labels') -ErrorAction Stop } |
                Should -Throw -ErrorId "IdxHeaderInvalid,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.Exception.Message | Should -BeLike '*3x0*'
        }

        It 'says how much a truncated file holds against what its header claims' {
            $err = { Get-MnistDataset -ImagesPath (Join-Path $files 'claims-four-images') -LabelsPath (Join-Path $files 'labels') -ErrorAction Stop } |
                Should -Throw -ErrorId "IdxFileTruncated,$Cmdlet" -PassThru
            $err.Exception.Message | Should -BeLike '*4x3x5 = 60 bytes*holds 45*'
        }

        It 'the errors are non-terminating: without -ErrorAction Stop the command writes the error and returns nothing' {
            $result = Get-MnistDataset -ImagesPath (Join-Path $files 'images') -LabelsPath (Join-Path $files 'two-labels') -ErrorAction SilentlyContinue -ErrorVariable errors
            $result | Should -BeNullOrEmpty
            $errors.Count | Should -Be 1
            $errors[0].FullyQualifiedErrorId | Should -BeExactly "DatasetCountMismatch,$Cmdlet"
        }

        It 'rejects -TimeoutSec <Value> by parameter validation' -ForEach @(@{ Value = 0 }, @{ Value = 3601 }) {
            { Get-MnistDataset -Download -TimeoutSec $Value -Path $files -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        }
    }

    Context 'Downloading' {
        BeforeAll {
            # The real t10k files from the data folder, gzipped as the mirrors serve them.
            $realTest = Get-MnistDataset -Split Test -ErrorAction Stop
            $www = Join-Path $TestDrive 'www'
            $good = (New-Item -ItemType Directory (Join-Path $www 'good')).FullName
            $bad = (New-Item -ItemType Directory (Join-Path $www 'bad')).FullName
            $null = New-Item -ItemType Directory (Join-Path $www 'empty')
            $realFiles = @{}
            foreach ($stem in 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte') {
                $plain = Join-Path $realTest.Source $stem
                if (Test-Path -LiteralPath $plain) {
                    Copy-ToGzip $plain (Join-Path $good "$stem.gz")
                } else {
                    Copy-Item -LiteralPath "$plain.gz" (Join-Path $good "$stem.gz")
                }
            }
            # Wrong bytes under both names a mirror is asked for: garbage as .gz, and the (genuine) labels file as the images file.
            [System.IO.File]::WriteAllBytes((Join-Path $bad 't10k-images-idx3-ubyte.gz'), [byte[]](1..100))
            Copy-Item (Join-Path $good 't10k-labels-idx1-ubyte.gz') (Join-Path $bad 't10k-images-idx3-ubyte')

            $server = Start-TestHttpServer -Root $www
            $goodMirror = [uri]::new($server.Uri, 'good/')
        }
        AfterAll {
            Stop-TestHttpServer $server
        }

        It 'downloads a split from a mirror, verifies it and returns the real test set' {
            $target = Join-Path $TestDrive 'dl'
            $test = Get-MnistDataset -Split Test -Download -Mirror $goodMirror -Path $target -TimeoutSec 30 -ErrorAction Stop
            $test.Count | Should -Be 10000
            $test.ImageHeight, $test.ImageWidth, $test.ClassCount | Should -Be 28, 28, 10
            $test.Source | Should -Be $target
            0..4 | ForEach-Object { $test.GetLabel($_) } | Should -Be 7, 2, 1, 0, 4
            # Stored uncompressed, and nothing else (no partial or temporary files) left behind.
            (Get-ChildItem -LiteralPath $target -Force).Name | Sort-Object | Should -Be 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'
            (Get-Item (Join-Path $target 't10k-images-idx3-ubyte')).Length | Should -Be (16 + 10000 * 28 * 28)
            # The SHA-256 MNIST publishes for the uncompressed t10k images.
            (Get-FileHash (Join-Path $target 't10k-images-idx3-ubyte') -Algorithm SHA256).Hash |
                Should -Be '0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7'
        }

        It 'does not fetch files that are already there, unless -Force' {
            $target = Join-Path $TestDrive 'dl-again'
            Get-MnistDataset -Split Test -Download -Mirror $goodMirror -Path $target -TimeoutSec 30 -ErrorAction Stop | Out-Null
            $before = $server.Requests.Count
            (Get-MnistDataset -Split Test -Download -Mirror $goodMirror -Path $target -TimeoutSec 30 -ErrorAction Stop).Count | Should -Be 10000
            $server.Requests.Count | Should -Be $before
            (Get-MnistDataset -Split Test -Download -Force -Mirror $goodMirror -Path $target -TimeoutSec 30 -ErrorAction Stop).Count | Should -Be 10000
            $server.Requests.Count | Should -Be ($before + 2)
        }

        It 'counts gzipped files in a torchvision-style folder as present: nothing fetched' {
            $target = Join-Path $TestDrive 'dl-present'
            Write-MnistSplit -Folder (Join-Path $target 'MNIST/raw') -Split Test -Pixels $TestPixels -Labels $TestLabels -Height 3 -Width 5 -Gzip
            $before = $server.Requests.Count
            $dataset = Get-MnistDataset -Split Test -Download -Mirror $goodMirror -Path $target -TimeoutSec 30 -ErrorAction Stop
            $server.Requests.Count | Should -Be $before
            $dataset.Count | Should -Be 3
            (Get-ChildItem -LiteralPath $target -File).Name | Should -BeNullOrEmpty
        }

        It 'takes a mirror without a scheme as a folder relative to the current location' {
            $target = Join-Path $TestDrive 'dl-from-folder'
            Push-Location $www
            try {
                $test = Get-MnistDataset -Split Test -Download -Mirror 'good' -Path $target -ErrorAction Stop
            } finally {
                Pop-Location
            }
            $test.Count | Should -Be 10000
            $test.GetLabel(0) | Should -Be 7
        }

        It 'a mirror that <Problem>: MnistDownloadFailed (ConnectionError) and no file left in the folder' -ForEach @(
            @{ Problem = 'answers 404'; Folder = 'empty/'; Reason = '*404*' }
            @{ Problem = 'serves wrong bytes'; Folder = 'bad/'; Reason = '*does not match the pinned*' }
        ) {
            $target = Join-Path $TestDrive "dl-fails-$($Folder.TrimEnd('/'))"
            $err = { Get-MnistDataset -Split Test -Download -Mirror ([uri]::new($server.Uri, $Folder)) -Path $target -TimeoutSec 30 -ErrorAction Stop } |
                Should -Throw -ErrorId "MnistDownloadFailed,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'ConnectionError'
            $err.TargetObject | Should -BeExactly 't10k-images-idx3-ubyte'
            $err.Exception.Message | Should -BeLike $Reason
            Get-ChildItem -LiteralPath $target -Force -Recurse -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'gives up on a mirror that never answers after -TimeoutSec' {
            $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $silent.Start()   # accepts connections (the kernel does) but never answers
            try {
                $clock = [System.Diagnostics.Stopwatch]::StartNew()
                $err = { Get-MnistDataset -Split Test -Download -Mirror "http://127.0.0.1:$($silent.LocalEndpoint.Port)/" -Path (Join-Path $TestDrive 'dl-silent') -TimeoutSec 1 -ErrorAction Stop } |
                    Should -Throw -ErrorId "MnistDownloadFailed,$Cmdlet" -PassThru
                $clock.Elapsed.TotalSeconds | Should -BeLessThan 15
            } finally {
                $silent.Stop()
            }
            $err.Exception.Message | Should -BeLike '*timed out*'
        }

        It 'a full disk <While>: FileWriteFailed (WriteError), not a network error; nothing left, and the next download works' -Skip:(-not $canMount) -ForEach @(
            # 12 KiB of tmpfs: a placeholder images file takes one page; the gzipped labels (4.5 KB) fit, inflated (10 KB) they do not.
            @{ While = 'while the download arrives'; Split = 'Test'; Placeholder = $null; File = 't10k-images-idx3-ubyte' }
            @{ While = 'while the download is inflated into place'; Split = 'Test'; Placeholder = 't10k-images-idx3-ubyte'; File = 't10k-labels-idx1-ubyte' }
        ) {
            $disk = Join-Path $TestDrive "full-$File"
            New-Item -ItemType Directory $disk | Out-Null
            mount -t tmpfs -o size=12k tmpfs $disk
            try {
                if ($Placeholder) { Set-Content -LiteralPath (Join-Path $disk $Placeholder) -Value 'x' -NoNewline }
                $before = $server.Requests.Count
                $err = { Get-MnistDataset -Split $Split -Download -Mirror $goodMirror -Path $disk -TimeoutSec 30 -ErrorAction Stop } |
                    Should -Throw -ErrorId "FileWriteFailed,$Cmdlet" -PassThru
                $err.CategoryInfo.Category | Should -Be 'WriteError'
                $err.TargetObject | Should -BeExactly (Join-Path $disk $File)
                $err.Exception.Message | Should -Match 'No space left on device'
                $server.Requests.Count | Should -Be ($before + 1) -Because 'no other mirror or file name can help a full disk'
                @(Get-ChildItem -LiteralPath $disk -Force).Name | Should -Be @($Placeholder | Where-Object { $_ })
            } finally {
                umount $disk
            }
            (Get-MnistDataset -Split Test -Download -Mirror $goodMirror -Path $disk -TimeoutSec 30 -ErrorAction Stop).Count | Should -Be 10000
        }

        It '-WhatIf downloads nothing, writes nothing and returns nothing' {
            $target = Join-Path $TestDrive 'dl-whatif'
            $before = $server.Requests.Count
            $result = Get-MnistDataset -Split Test -Download -Mirror $goodMirror -Path $target -WhatIf -ErrorAction Stop
            $result | Should -BeNullOrEmpty
            Test-Path -LiteralPath $target | Should -BeFalse
            $server.Requests.Count | Should -Be $before
        }
    }
}
