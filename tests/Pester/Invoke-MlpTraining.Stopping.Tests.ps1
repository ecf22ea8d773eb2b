BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.InvokeMlpTrainingCommand'
    # 32 separable 4x4 images to train on.
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $recipe = @{ BatchSize = 8; LearningRate = 0.01 }

    $backgroundEpochs = 100000
    function Start-BackgroundTraining($Model, $Dataset, [hashtable]$Training, [int]$Records = 1) {
        # Invoke-MlpTraining of $backgroundEpochs epochs in a runspace of its own, as a script's second session would run it,
        # returned once -Records epoch records have arrived (or after 60 s, or if it ended).
        $worker = [powershell]::Create()
        $null = $worker.AddScript({
                param($Module, $Model, $Dataset, $Epochs, $Training)
                Import-Module $Module -ErrorAction Stop
                Invoke-MlpTraining -Model $Model -Dataset $Dataset -Epochs $Epochs -Seed 1 @Training
            }).AddArgument($env:MLPTOOLS_MODULE).AddArgument($Model).AddArgument($Dataset).AddArgument($backgroundEpochs).AddArgument($Training)
        $noInput = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $noInput.Complete()
        $received = [System.Management.Automation.PSDataCollection[psobject]]::new()
        $running = $worker.BeginInvoke($noInput, $received)
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        while ($received.Count -lt $Records -and -not $running.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 10 }
        [pscustomobject]@{ Worker = $worker; Received = $received; Running = $running }
    }
}

Describe 'Invoke-MlpTraining' {
    Context 'Stopping (Ctrl+C)' {
        BeforeAll {
            $model = New-TinyModel
            $background = Start-BackgroundTraining $model $train @{ BatchSize = 1 }
            $worker, $received = $background.Worker, $background.Received
            $firstRecordArrived = $received.Count -ge 1

            # While it trains, the model is busy for everyone else.
            $busyError = try { Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop; $null } catch { $_ }

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $stopping = $worker.BeginStop($null, $null)
            $stoppedInTime = $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30))
            $secondsToStop = $clock.Elapsed.TotalSeconds
            $finalState = $worker.InvocationStateInfo.State
        }
        AfterAll {
            if ($stoppedInTime) { $worker.Dispose() }
        }

        It 'the first epoch record arrives while training goes on' {
            $firstRecordArrived | Should -BeTrue
            $received[0].Epoch | Should -Be 1
        }

        It 'a second command on the busy model gets ModelInUse (InvalidOperation)' {
            $busyError | Should -Not -BeNullOrEmpty
            $busyError.FullyQualifiedErrorId | Should -BeExactly 'ModelInUse,MlpTools.Commands.TestMlpAccuracyCommand'
            $busyError.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'Stop ends the training promptly, as stopped' {
            $stoppedInTime | Should -BeTrue
            $secondsToStop | Should -BeLessThan 10
            $finalState | Should -Be 'Stopped'
        }

        It 'the model keeps the epochs it finished: at least one, far fewer than asked, one record for each written' {
            $model.EpochsTrained | Should -BeGreaterOrEqual 1
            $model.EpochsTrained | Should -BeLessThan $backgroundEpochs
            $received.Count | Should -BeLessOrEqual $model.EpochsTrained
            @($received).Epoch | Should -Be (1..$received.Count)
        }

        It 'the model is released and usable afterwards' {
            $result = Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop
            $result.Total | Should -Be 32
            $before = $model.EpochsTrained
            @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 @recipe -Seed 1 -ErrorAction Stop).Count | Should -Be 1
            $model.EpochsTrained | Should -Be ($before + 1)
        }
    }

    Context 'Stopping (Ctrl+C) a training whose batches are shared among threads' {
        It 'stops promptly, the model keeps its finished epochs and is usable, and libtorch''s thread count comes back' {
            $shared = New-SeparableDataset -Folder (Join-Path $TestDrive 'shared') -Count 256 -Seed 2
            $model = New-TinyModel
            $runtime = $model.GetType().Assembly.GetType('MlpTools.Core.Platform.TorchRuntime')
            $defaultBefore = $runtime::DefaultThreadCount
            $background = Start-BackgroundTraining $model $shared @{ BatchSize = 64; ThreadCount = 2 } -Records 3
            $worker, $received = $background.Worker, $background.Received
            $received.Count | Should -BeGreaterOrEqual 3

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $worker.BeginStop($null, $null).AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30)) | Should -BeTrue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            $worker.InvocationStateInfo.State | Should -Be 'Stopped'
            $worker.Dispose()

            $model.EpochsTrained | Should -BeGreaterOrEqual $received.Count
            (Test-MlpAccuracy -Model $model -Dataset $shared -ErrorAction Stop).Total | Should -Be 256
            $runtime::DefaultThreadCount | Should -Be $defaultBefore
        }
    }

    Context 'Disposing a model while it trains' {
        BeforeAll {
            $model = New-TinyModel
            $background = Start-BackgroundTraining $model $train @{ BatchSize = 1 }
            $worker, $received, $running = $background.Worker, $background.Received, $background.Running
            $model.Dispose()
            $recordsAtDispose = $received.Count
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while ($received.Count -le $recordsAtDispose + 1 -and -not $running.IsCompleted -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 10 }
            $recordsAfterDispose = $received.Count - $recordsAtDispose
            $stopping = $worker.BeginStop($null, $null)
            $stoppedInTime = $stopping.AsyncWaitHandle.WaitOne([timespan]::FromSeconds(30))
            $finalState = $worker.InvocationStateInfo.State
            $workerErrors = @($worker.Streams.Error)
        }
        AfterAll {
            if ($stoppedInTime) { $worker.Dispose() }
        }

        It 'the running training is not cut off: more epochs finish after Dispose' {
            $recordsAtDispose | Should -BeGreaterOrEqual 1
            $recordsAfterDispose | Should -BeGreaterOrEqual 2
            $workerErrors | Should -BeNullOrEmpty
        }

        It 'the training still stops as asked' {
            $stoppedInTime | Should -BeTrue
            $finalState | Should -Be 'Stopped'
        }

        It 'once the training has ended the model is gone: ModelDisposed (InvalidOperation)' {
            $err = { Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop } |
                Should -Throw -ErrorId 'ModelDisposed,MlpTools.Commands.TestMlpAccuracyCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            { Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -ErrorAction Stop } |
                Should -Throw -ErrorId "ModelDisposed,$Cmdlet"
        }
    }
}
