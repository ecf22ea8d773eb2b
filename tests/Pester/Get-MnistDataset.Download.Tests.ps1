BeforeDiscovery {
    # The full-disk tests mount a small tmpfs, which needs Linux and root (as CI runs); elsewhere they are skipped.
    $canMount = $IsLinux -and (id -u) -eq 0
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.GetMnistDatasetCommand'
    # The standard small fixture: three 3x5 images with labels 2, 0, 1 (so three classes).
    $TestPixels = [byte[]](1..45)
    $TestLabels = [byte[]](2, 0, 1)
}

Describe 'Get-MnistDataset' {
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
