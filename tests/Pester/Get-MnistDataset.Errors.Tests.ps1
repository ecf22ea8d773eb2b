BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.GetMnistDatasetCommand'
    # The standard small fixture: three 3x5 images with labels 2, 0, 1 (so three classes).
    $TestPixels = [byte[]](1..45)
    $TestLabels = [byte[]](2, 0, 1)
}

Describe 'Get-MnistDataset' {
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
}
