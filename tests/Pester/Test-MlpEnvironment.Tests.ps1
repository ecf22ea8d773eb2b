BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $moduleDir = Split-Path $env:MLPTOOLS_MODULE
}

Describe 'Test-MlpEnvironment' {
    BeforeAll {
        # A data folder with only the test split (3 images of 2x2), so the report has something to find and something to miss.
        $data = Join-Path $TestDrive 'data'
        Write-MnistSplit -Folder $data -Split Test -Pixels ([byte[]]::new(12)) -Labels ([byte[]](0, 1, 2)) -Height 2 -Width 2 -Gzip
        $saved = $env:MLPTOOLS_DATA
        $env:MLPTOOLS_DATA = $data
        try { $report = Test-MlpEnvironment -ErrorAction Stop } finally { $env:MLPTOOLS_DATA = $saved }
    }

    It 'writes one EnvironmentReport' {
        @($report).Count | Should -Be 1
        $report.GetType().FullName | Should -Be 'MlpTools.Core.Diagnostics.EnvironmentReport'
    }

    It 'reports the module, PowerShell, TorchSharp and libtorch versions' {
        $report.ModuleVersion | Should -Be (Import-PowerShellDataFile $env:MLPTOOLS_MODULE).ModuleVersion
        $report.PowerShellVersion | Should -Be $PSVersionTable.PSVersion.ToString()
        $report.TorchSharpVersion | Should -Be '0.107.0'
        $report.LibTorchVersion | Should -BeLike '2.10.0*'
        $report.SkiaSharpVersion | Should -BeLike '3.119*'
        $report.OperatingSystem | Should -Be ([System.Runtime.InteropServices.RuntimeInformation]::OSDescription)
    }

    It 'says the native libraries load, from the module''s dependencies folder, with the fix where the build applied it' {
        $report.Ready | Should -BeTrue
        $report.NativeLibraryLoaded | Should -BeTrue
        $report.NativeLoadError | Should -BeNullOrEmpty
        $report.ImagingAvailable | Should -BeTrue
        Split-Path $report.NativeLibraryPath | Should -Be (Join-Path $moduleDir 'dependencies')
        $report.CompatibilityFixApplied | Should -Be (Test-Path (Join-Path $moduleDir 'dependencies/libmlptools_glibcxx_shim.so'))
    }

    It 'reports libtorch''s threads and the processor count' {
        $report.TorchThreads | Should -BeGreaterThan 0
        $report.ProcessorCount | Should -Be ([Environment]::ProcessorCount)
    }

    It 'names the data folder and what it holds: the test split, 3 images of 2x2; the training split missing' {
        $report.DataPath | Should -Be $data
        $report.DataPathSource | Should -Be 'MLPTOOLS_DATA'
        $report.Datasets.Split | Should -Be 'Train', 'Test'
        $report.Datasets.Present | Should -Be $false, $true
        $report.Datasets[1].Count, $report.Datasets[1].ImageHeight, $report.Datasets[1].ImageWidth | Should -Be 3, 2, 2
        $report.Datasets[1].ImagesFile | Should -Be (Join-Path $data 't10k-images-idx3-ubyte.gz')
        $report.Datasets[0].Problem | Should -Be 'missing train-images-idx3-ubyte and train-labels-idx1-ubyte'
        $report.Problems | Should -HaveCount 1
        $report.Problems[0] | Should -BeLike '*Train*Get-MnistDataset -Download*'
    }

    It 'prints as a list that starts with Ready and lists the datasets' {
        $lines = ($report | Out-String -Width 200) -split "`n" | ForEach-Object TrimEnd | Where-Object { $_ }
        $lines[0] | Should -Match '^Ready\s+: True$'
        $lines | Should -Contain ('Datasets                : Train: missing train-images-idx3-ubyte and train-labels-idx1-ubyte')
        $lines | Should -Contain ('                          Test: 3 images of 2x2')
    }
}
