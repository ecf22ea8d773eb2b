# Bad input and interruptions (issue 7): each case asserts the error id and category and that the session goes on.
# Cases already covered elsewhere (malformed IDX files are in Get-MnistDataset.Errors.Tests.ps1) are not repeated here; docs/about_MlpTools_Errors.md lists every case and its test.
BeforeDiscovery {
    # The read-only folder is a read-only tmpfs: as root (CI) a chmod'ed folder is still writable.
    $canMount = $false
    if ($IsLinux -and (id -u) -eq 0) {
        $probe = Join-Path ([IO.Path]::GetTempPath()) "mlptools-mount-probe-$PID"
        New-Item -ItemType Directory $probe -Force | Out-Null
        mount -t tmpfs -o ro,size=64k tmpfs $probe 2>$null
        if ($LASTEXITCODE -eq 0) { $canMount = $true; umount $probe }
        Remove-Item $probe -Force
    }
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1

    function Get-Answers($Model) { @(Invoke-MlpPrediction -Model $Model -Dataset $train -ErrorAction Stop).Predicted -join '' }

    function Assert-SessionGoesOn {
        # After the failure, the module still reads data, builds and trains a model in this session.
        $model = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 -Seed 1 -ErrorAction Stop
        @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1 -ErrorAction Stop).Count | Should -Be 1
        $model.Dispose()
    }

    function Start-Worker([string]$Command, [hashtable]$Parameters) {
        # The command in a runspace of this process that imports the module first, so that Stop() is its Ctrl+C.
        $worker = [powershell]::Create()
        $null = $worker.AddCommand('Import-Module').AddParameter('Name', $env:MLPTOOLS_MODULE).AddStatement().AddCommand($Command).AddParameters($Parameters)
        $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $noInput.Complete()
        $received = [System.Management.Automation.PSDataCollection[psobject]]::new()
        @{ PowerShell = $worker; Received = $received; Running = $worker.BeginInvoke($noInput, $received) }
    }

    function Stop-Worker($Worker) {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $stopping = $Worker.PowerShell.BeginStop($null, $null)
        $inTime = $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30))
        @{ InTime = $inTime; Seconds = $clock.Elapsed.TotalSeconds; State = $Worker.PowerShell.InvocationStateInfo.State }
    }
}

Describe 'Faults' {
    Context 'Model sizes that would reach libtorch unchecked' {
        BeforeAll {
            $Cmdlet = 'MlpTools.Commands.NewMlpCommand'
        }

        It '<Arguments>: ModelTooLarge (InvalidArgument), before any memory is taken' -ForEach @(
            @{ Arguments = '-InputSize 2000000000 -HiddenSize 2000000000'; Splat = @{ InputSize = 2000000000; HiddenSize = 2000000000 } }
            @{ Arguments = '-InputSize 16 -HiddenSize 100000,100000 -OutputSize 2'; Splat = @{ InputSize = 16; HiddenSize = 100000, 100000; OutputSize = 2 } }
            @{ Arguments = '-OutputSize 2147483647'; Splat = @{ OutputSize = [int]::MaxValue } }
        ) {
            $err = { New-Mlp @Splat -ErrorAction Stop } | Should -Throw -ErrorId "ModelTooLarge,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match 'at most 1073741824'
            Assert-SessionGoesOn
        }

        It 'the errors are non-terminating: a script goes on to its next line' {
            $model = New-Mlp -HiddenSize 100000, 100000 -ErrorAction SilentlyContinue -ErrorVariable failures
            $model | Should -BeNullOrEmpty
            $failures[0].FullyQualifiedErrorId | Should -BeExactly "ModelTooLarge,$Cmdlet"
        }

        It 'rejects -Dropout <Dropout> by parameter validation (dropout must be in [0,1))' -ForEach @(
            @{ Dropout = 1 }, @{ Dropout = -0.1 }, @{ Dropout = 1.5 }
        ) {
            $err = { New-Mlp -Dropout $Dropout -ErrorAction Stop } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
        }

        It 'a model file whose manifest describes a huge network: ModelTooLarge, not an allocation in libtorch' {
            $path = Join-Path $TestDrive 'huge.mlp'
            Export-Mlp -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1) -Path $path -ErrorAction Stop
            $zip = [System.IO.Compression.ZipFile]::Open($path, 'Update')
            try {
                $entry = $zip.GetEntry('mlptools-model.json')
                $reader = [IO.StreamReader]::new($entry.Open()); $manifest = $reader.ReadToEnd() | ConvertFrom-Json -AsHashtable; $reader.Dispose()
                $manifest.architecture.hiddenSizes = @(100000, 100000)
                $entry.Delete()
                $writer = [IO.StreamWriter]::new($zip.CreateEntry('mlptools-model.json').Open()); $writer.Write(($manifest | ConvertTo-Json -Depth 20)); $writer.Dispose()
            } finally { $zip.Dispose() }
            $err = { Import-Mlp -Path $path -ErrorAction Stop } | Should -Throw -ErrorId 'ModelTooLarge,MlpTools.Commands.ImportMlpCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            Assert-SessionGoesOn
        }
    }

    Context 'Training inputs at their limits' {
        It 'a batch larger than the dataset (-BatchSize 1000000) trains in one batch' {
            $model = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 -Seed 1
            $record = Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -BatchSize 1000000 -Seed 1 -ErrorAction Stop
            [double]::IsFinite($record.Loss) | Should -BeTrue
            $model.EpochsTrained | Should -Be 1
        }

        It '-BatchSize 1000001 is rejected by parameter validation' {
            $err = { Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2) -Dataset $train -BatchSize 1000001 -ErrorAction Stop } |
                Should -Throw -ErrorId 'ParameterArgumentValidationError,MlpTools.Commands.InvokeMlpTrainingCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
        }

        It 'a prediction index at the ends of int (<Index>): DatasetIndexOutOfRange (InvalidArgument)' -ForEach @(
            @{ Index = [int]::MaxValue }, @{ Index = [int]::MinValue }
        ) {
            $model = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 -Seed 1
            $err = { Invoke-MlpPrediction -Model $model -Dataset $train -Index $Index -ErrorAction Stop } |
                Should -Throw -ErrorId 'DatasetIndexOutOfRange,MlpTools.Commands.InvokeMlpPredictionCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            @(Invoke-MlpPrediction -Model $model -Dataset $train -Index 0 -ErrorAction Stop).Count | Should -Be 1
        }
    }

    Context 'A read-only target folder on export' -Skip:(-not $canMount) {
        BeforeAll {
            $readOnly = Join-Path $TestDrive 'read-only'
            New-Item -ItemType Directory $readOnly | Out-Null
            mount -t tmpfs -o ro,size=64k tmpfs $readOnly
            $model = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 -Seed 1
            $err = $null
            try { Export-Mlp -Model $model -Path (Join-Path $readOnly 'model.mlp') -ErrorAction Stop } catch { $err = $_ }
        }
        AfterAll {
            umount $readOnly
        }

        It 'fails with FileWriteFailed (WriteError), naming the read-only file system' {
            $err.FullyQualifiedErrorId | Should -BeExactly 'FileWriteFailed,MlpTools.Commands.ExportMlpCommand'
            $err.CategoryInfo.Category | Should -Be 'WriteError'
            $err.Exception.Message | Should -Match 'Read-only file system'
        }

        It 'leaves nothing in the folder, and the model exports elsewhere' {
            @(Get-ChildItem $readOnly -Force) | Should -BeNullOrEmpty
            Export-Mlp -Model $model -Path (Join-Path $TestDrive 'writable.mlp') -ErrorAction Stop
            Get-Answers (Import-Mlp -Path (Join-Path $TestDrive 'writable.mlp')) | Should -Be (Get-Answers $model)
        }
    }

    Context 'Ctrl+C while loading: a download from a mirror that stalls' {
        BeforeAll {
            $silent = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
            $silent.Start()   # accepts connections (the kernel does) but never answers
            $target = Join-Path $TestDrive 'stalled'
            $worker = Start-Worker Get-MnistDataset @{ Split = 'Test'; Download = $true; Mirror = "http://127.0.0.1:$($silent.LocalEndpoint.Port)/"; Path = $target; TimeoutSec = 300 }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not $silent.Pending() -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 20 }
            $connected = $silent.Pending()
            Start-Sleep -Milliseconds 200
            $stop = Stop-Worker $worker
        }
        AfterAll {
            $silent.Stop()
            if ($stop.InTime) { $worker.PowerShell.Dispose() }
        }

        It 'the download had started (the mirror was asked)' {
            $connected | Should -BeTrue
        }

        It 'Stop ends it promptly, as stopped, long before -TimeoutSec' {
            $stop.InTime | Should -BeTrue
            $stop.Seconds | Should -BeLessThan 10
            $stop.State | Should -Be 'Stopped'
        }

        It 'leaves no file, partial or temporary, in the data folder' {
            Get-ChildItem -LiteralPath $target -Force -Recurse -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        }

        It 'the next command works' {
            (Get-MnistDataset -Path (Join-Path $TestDrive 'train') -Split Train -ErrorAction Stop).Count | Should -Be 32
        }
    }

    Context 'Ctrl+C during prediction' {
        BeforeAll {
            # 200000 blank 4x4 images: far more predictions than arrive before the stop.
            $manyFolder = Join-Path $TestDrive 'many'
            Write-MnistSplit -Folder $manyFolder -Split Test -Pixels ([byte[]]::new(200000 * 16)) -Labels ([byte[]]::new(200000)) -Height 4 -Width 4
            $many = Get-MnistDataset -Path $manyFolder -Split Test -ErrorAction Stop
            $model = New-TrainedSeparableModel -Dataset $train
            $answers = Get-Answers $model
            $worker = Start-Worker Invoke-MlpPrediction @{ Model = $model; Dataset = $many }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($worker.Received.Count -lt 1 -and -not $worker.Running.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 10 }
            $stop = Stop-Worker $worker
            $predicted = $worker.Received.Count
        }
        AfterAll {
            if ($stop.InTime) { $worker.PowerShell.Dispose() }
        }

        It 'Stop ends the prediction promptly, as stopped, part-way through' {
            $stop.InTime | Should -BeTrue
            $stop.Seconds | Should -BeLessThan 10
            $stop.State | Should -Be 'Stopped'
            $predicted | Should -BeGreaterOrEqual 1
            $predicted | Should -BeLessThan 200000
        }

        It 'the model is released (no ModelInUse) and predicts as before' {
            Get-Answers $model | Should -BeExactly $answers
            (Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop).Total | Should -Be 32
        }
    }

    Context 'Ctrl+C during export' {
        BeforeAll {
            # About 23 MB of weights, so that the stop can come while the file is being written.
            $model = New-Mlp -InputSize 784 -HiddenSize 2048, 2048 -OutputSize 10 -Seed 1
            $folder = Join-Path $TestDrive 'export-stopped'
            New-Item -ItemType Directory $folder | Out-Null
            $path = Join-Path $folder 'large.mlp'
            $worker = Start-Worker Export-Mlp @{ Model = $model; Path = $path }
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($worker.PowerShell.InvocationStateInfo.State -ne 'Running' -and $clock.Elapsed.TotalSeconds -lt 30) { Start-Sleep -Milliseconds 5 }
            Start-Sleep -Milliseconds 300   # past the module import, into the export
            $stop = Stop-Worker $worker
        }
        AfterAll {
            if ($stop.InTime) { $worker.PowerShell.Dispose() }
            $model.Dispose()
        }

        It 'the command ends within the time limit' {
            $stop.InTime | Should -BeTrue
            $stop.State | Should -BeIn 'Stopped', 'Completed'
        }

        It 'leaves either no file or the whole file, never a partial or temporary one' {
            $left = @(Get-ChildItem $folder -Force)
            $left.Count | Should -BeLessOrEqual 1
            if ($left.Count -eq 1) {
                $left[0].Name | Should -BeExactly 'large.mlp'
                (Import-Mlp -Path $path -ErrorAction Stop).Layers | Should -Be '784-2048-2048-10'
            }
        }

        It 'the model is released: the next export works' {
            Export-Mlp -Model $model -Path $path -Force -ErrorAction Stop
            (Import-Mlp -Path $path -ErrorAction Stop).Layers | Should -Be '784-2048-2048-10'
        }
    }
}
