# Invoke-MlpTraining -CheckpointPath / -Resume: a run killed with SIGKILL and resumed in a new process ends with the
# weights of a run never interrupted. Child processes, so the kill is real.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.InvokeMlpTrainingCommand'
    $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    $dataFolder = Join-Path $TestDrive 'data'
    # 3000 images in batches of 1: about half a second an epoch here, long enough to be killed in the middle of one.
    $train = New-SeparableDataset -Folder $dataFolder -Count 3000 -Seed 1
    $epochs = 12

    # The same training in every process: only -CheckpointPath and -Resume differ.
    $trainScript = Join-Path $TestDrive 'train.ps1'
    Set-Content -LiteralPath $trainScript -Value @'
param([string]$Module, [string]$Data, [string]$Out, [int]$Epochs, [string]$Checkpoint, [switch]$Resume)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$train = Get-MnistDataset -Path $Data -Split Train -Name Separable
if ($Resume) {
    $model = Invoke-MlpTraining -Dataset $train -CheckpointPath $Checkpoint -Resume -PassThru | Select-Object -Last 1
} else {
    $model = New-Mlp -InputSize 16 -HiddenSize 32 -OutputSize 2 -Seed 1
    $checkpointing = if ($Checkpoint) { @{ CheckpointPath = $Checkpoint } } else { @{} }
    Invoke-MlpTraining -Model $model -Dataset $train -Epochs $Epochs -BatchSize 1 -LearningRate 0.001 -Seed 2 @checkpointing | Out-Null
}
Export-Mlp -Model $model -Path "$Out.safetensors" -Force
Export-Mlp -Model $model -Path "$Out.mlp" -Force
'@

    function Start-Training([string]$Out, [string]$Checkpoint, [switch]$Resume) {
        $arguments = @('-NoProfile', '-NonInteractive', '-File', $trainScript, '-Module', $env:MLPTOOLS_MODULE, '-Data', $dataFolder, '-Out', $Out, '-Epochs', $epochs)
        if ($Checkpoint) { $arguments += '-Checkpoint', $Checkpoint }
        if ($Resume) { $arguments += '-Resume' }
        Start-Process -FilePath $pwsh -ArgumentList $arguments -PassThru -RedirectStandardError "$Out.err" -RedirectStandardOutput "$Out.out"
    }

    function Wait-Training($Process, [string]$Out) {
        if (-not $Process.WaitForExit(300000)) { $Process.Kill(); throw "Training for $Out did not finish in 5 minutes." }
        if ($Process.ExitCode -ne 0) { throw "Training for $Out failed ($($Process.ExitCode)): $(Get-Content "$Out.err" -Raw)" }
    }

    function Get-Hash([string]$Path) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash }
}

Describe 'Checkpoints that survive a kill' {
    BeforeAll {
        # 1. The reference: one process, never interrupted, no checkpoints.
        $reference = Join-Path $TestDrive 'reference'
        Wait-Training (Start-Training $reference) $reference

        # 2. The same run with checkpoints, killed with SIGKILL part-way through an epoch once three epochs are saved.
        $checkpoint = Join-Path $TestDrive 'run.ckpt'
        $killed = Join-Path $TestDrive 'killed'
        $victim = Start-Training $killed $checkpoint
        $epochsAtKill = 0
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not $victim.HasExited -and $clock.Elapsed.TotalMinutes -lt 5) {
            if (Test-Path $checkpoint) {
                $epochsAtKill = (Import-Mlp -Path $checkpoint -ErrorAction Stop).EpochsTrained
                if ($epochsAtKill -ge 3) { break }
            }
            Start-Sleep -Milliseconds 50
        }
        Start-Sleep -Milliseconds 230   # into the next epoch
        $victim.Kill()                  # SIGKILL on Linux and macOS: no cleanup, no finally blocks
        $victim.WaitForExit()
        $afterKill = Import-Mlp -Path $checkpoint -ErrorAction Stop
        $strays = @(Get-ChildItem $TestDrive -Force -Filter '.run.ckpt.*.tmp')

        # 3. A new process resumes from the checkpoint.
        $resumed = Join-Path $TestDrive 'resumed'
        Wait-Training (Start-Training $resumed $checkpoint -Resume) $resumed
    }

    It 'the kill came part-way through the run' {
        $victim.ExitCode | Should -Not -Be 0
        Test-Path "$killed.mlp" | Should -BeFalse
        $afterKill.EpochsTrained | Should -BeGreaterOrEqual 3
        $afterKill.EpochsTrained | Should -BeLessThan $epochs
        Write-Host "Killed after $($afterKill.EpochsTrained) of $epochs epochs had been checkpointed ($($strays.Count) stray temporary file(s))."
    }

    It 'the checkpoint left by the kill is complete and readable (atomic replacement)' {
        $afterKill.History.Epochs.Epoch | Should -Be (1..$afterKill.EpochsTrained)
        $afterKill.History.Origin.Format | Should -BeExactly 'MlpTools'
    }

    It 'the resumed run ends with exactly the weights of the run never interrupted' {
        Get-Hash "$resumed.safetensors" | Should -BeExactly (Get-Hash "$reference.safetensors")
        # Not a comparison that cannot fail: the weights at the kill were different.
        Export-Mlp -Model $afterKill -Path (Join-Path $TestDrive 'at-kill.safetensors') -ErrorAction Stop
        Get-Hash (Join-Path $TestDrive 'at-kill.safetensors') | Should -Not -Be (Get-Hash "$reference.safetensors")
    }

    It 'and the same epoch records: every loss and accuracy equal' {
        $expected = Import-Mlp -Path "$reference.mlp"
        $actual = Import-Mlp -Path "$resumed.mlp"
        $actual.EpochsTrained | Should -Be $epochs
        $actual.History.Epochs.Epoch | Should -Be (1..$epochs)
        $actual.History.Epochs.Loss | Should -Be $expected.History.Epochs.Loss
        $actual.History.Epochs.TrainAccuracy | Should -Be $expected.History.Epochs.TrainAccuracy
        $actual.History.Runs.Count | Should -Be 1
    }
}

Describe 'Every training option survives a kill: <Case>' -ForEach @(
    @{ Case = 'early stopping'; Options = @{ EarlyStopping = $true; Patience = 6 }; Flipped = $true }
    @{ Case = 'Step schedule'; Options = @{ LearningRateSchedule = 'Step'; StepSize = 2; Gamma = 0.5 } }
    @{ Case = 'ReduceOnPlateau schedule'; Options = @{ LearningRateSchedule = 'ReduceOnPlateau'; SchedulePatience = 1; Gamma = 0.5 }; Flipped = $true }
    @{ Case = 'validation fraction, early stopping to the last epoch'; Options = @{ ValidationFraction = 0.2; EarlyStopping = $true; Patience = 50 } }
    @{ Case = 'dropout'; Options = @{}; Dropout = 0.3 }
    @{ Case = 'SGD with momentum'; Options = @{ Optimizer = 'SGD'; Momentum = 0.9; LearningRate = 0.01 } }
    @{ Case = 'AdamW with weight decay'; Options = @{ Optimizer = 'AdamW'; WeightDecay = 0.01 } }
) {
    BeforeAll {
        # 800 images in batches of 1: a fraction of a second an epoch, so each case takes seconds.
        $optionData = Join-Path $TestDrive 'option-data'
        if (-not (Test-Path $optionData)) {
            $null = New-SeparableDataset -Folder $optionData -Count 800 -Seed 3
            # Every label wrong: the validation loss rises from the first epoch, so early stopping and the plateau act early.
            $null = New-SeparableDataset -Folder $optionData -Count 40 -Seed 4 -MislabelIndex (0..39) -Split Test
        }
        $optionEpochs = 10
        $caseFolder = Join-Path $TestDrive ($Case -replace '\W', '-')
        $null = New-Item -ItemType Directory -Path $caseFolder -Force
        $optionScript = Join-Path $caseFolder 'train.ps1'
        # The recipe is written into the script, so that all three processes run exactly the same one.
        $recipe = ($Options.GetEnumerator() | ForEach-Object { "'$($_.Key)' = $(if ($_.Value -is [bool]) { '$true' } elseif ($_.Value -is [string]) { "'$($_.Value)'" } else { $_.Value })" }) -join '; '
        Set-Content -LiteralPath $optionScript -Value @"
param([string]`$Module, [string]`$Data, [string]`$Out, [string]`$Checkpoint, [switch]`$Resume)
`$ErrorActionPreference = 'Stop'
Import-Module `$Module
`$train = Get-MnistDataset -Path `$Data -Split Train -Name Separable
`$validation = $(if ($Flipped) { "@{ ValidationDataset = (Get-MnistDataset -Path `$Data -Split Test -Name Flipped) }" } else { '@{}' })
if (`$Resume) {
    `$model = Invoke-MlpTraining -Dataset `$train @validation -CheckpointPath `$Checkpoint -Resume -PassThru | Select-Object -Last 1
} else {
    `$model = New-Mlp -InputSize 16 -HiddenSize 32 -OutputSize 2 -Seed 1 -Dropout $([double]$Dropout)
    `$recipe = @{ $recipe }
    `$checkpointing = if (`$Checkpoint) { @{ CheckpointPath = `$Checkpoint } } else { @{} }
    Invoke-MlpTraining -Model `$model -Dataset `$train @validation -Epochs $optionEpochs -BatchSize 1 -Seed 2 @recipe @checkpointing | Out-Null
}
Export-Mlp -Model `$model -Path "`$Out.safetensors" -Force
Export-Mlp -Model `$model -Path "`$Out.mlp" -Force
"@
        function Start-OptionTraining([string]$Out, [string]$Checkpoint, [switch]$Resume) {
            $arguments = @('-NoProfile', '-NonInteractive', '-File', $optionScript, '-Module', $env:MLPTOOLS_MODULE, '-Data', $optionData, '-Out', $Out)
            if ($Checkpoint) { $arguments += '-Checkpoint', $Checkpoint }
            if ($Resume) { $arguments += '-Resume' }
            Start-Process -FilePath $pwsh -ArgumentList $arguments -PassThru -RedirectStandardError "$Out.err" -RedirectStandardOutput "$Out.out"
        }

        $reference = Join-Path $caseFolder 'reference'
        Wait-Training (Start-OptionTraining $reference) $reference

        # Killed with SIGKILL part-way through an epoch once two epochs are saved.
        $checkpoint = Join-Path $caseFolder 'run.ckpt'
        $victim = Start-OptionTraining (Join-Path $caseFolder 'killed') $checkpoint
        $clock = [Diagnostics.Stopwatch]::StartNew()
        while (-not $victim.HasExited -and $clock.Elapsed.TotalMinutes -lt 5) {
            if ((Test-Path $checkpoint) -and (Import-Mlp -Path $checkpoint -ErrorAction Stop).EpochsTrained -ge 2) { break }
            Start-Sleep -Milliseconds 20
        }
        Start-Sleep -Milliseconds 40
        $victim.Kill()
        $victim.WaitForExit()
        $afterKill = Import-Mlp -Path $checkpoint -ErrorAction Stop

        $resumed = Join-Path $caseFolder 'resumed'
        Wait-Training (Start-OptionTraining $resumed $checkpoint -Resume) $resumed
        $expected = Import-Mlp -Path "$reference.mlp"
        $actual = Import-Mlp -Path "$resumed.mlp"
    }

    It 'the kill came part-way through the run' {
        $victim.ExitCode | Should -Not -Be 0
        $afterKill.EpochsTrained | Should -BeGreaterOrEqual 2
        $afterKill.EpochsTrained | Should -BeLessThan $expected.EpochsTrained
    }

    It 'the resumed run ends with exactly the weights of the run never interrupted' {
        Get-Hash "$resumed.safetensors" | Should -BeExactly (Get-Hash "$reference.safetensors")
    }

    It 'and the same epoch records: loss, accuracies, learning rate, best epoch and stop reason' {
        $actual.History.Epochs.Count | Should -Be $expected.History.Epochs.Count
        foreach ($field in 'Epoch', 'Loss', 'TrainAccuracy', 'ValidationLoss', 'ValidationAccuracy', 'LearningRate', 'BestEpoch', 'StopReason') {
            $actual.History.Epochs.$field | Should -Be $expected.History.Epochs.$field -Because "$field of every epoch"
        }
        $actual.History.Runs.Count | Should -Be 1
    }

    It 'and the option acted: <Case>' {
        $records = $expected.History.Epochs
        switch ($Case) {
            'early stopping' {
                $records.Count | Should -BeLessThan $optionEpochs
                $records[-1].StopReason | Should -BeLike 'Early stopping: *'
            }
            'Step schedule' { $records.LearningRate | Should -Be (0.001, 0.001, 0.0005, 0.0005, 0.00025, 0.00025, 0.000125, 0.000125, 0.0000625, 0.0000625) }
            'ReduceOnPlateau schedule' { $records[-1].LearningRate | Should -BeLessThan 0.001 }
            'validation fraction, early stopping to the last epoch' {
                $records.Count | Should -Be $optionEpochs
                $records[-1].StopReason | Should -BeLike 'Early stopping reached the last epoch (10)*'
            }
            default { $records.Count | Should -Be $optionEpochs }
        }
    }
}

Describe 'Invoke-MlpTraining -CheckpointPath and -Resume' {
    BeforeAll {
        $small = New-SeparableDataset -Folder (Join-Path $TestDrive 'small') -Count 32 -Seed 1
        $other = New-SeparableDataset -Folder (Join-Path $TestDrive 'other') -Count 32 -Seed 5
        $path = Join-Path $TestDrive 'small.ckpt'
        $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
        $records = @(Invoke-MlpTraining -Model $model -Dataset $small -Epochs 3 -BatchSize 8 -LearningRate 0.01 -Seed 1 -CheckpointPath $path -ErrorAction Stop)
    }

    It 'writes the checkpoint, which Import-Mlp reads as the model after the last epoch' {
        $saved = Import-Mlp -Path $path -ErrorAction Stop
        $saved.EpochsTrained | Should -Be 3
        $saved.History.Epochs.Loss | Should -Be $records.Loss
    }

    It 'resuming a finished run trains no further and -PassThru gives the model' {
        $output = @(Invoke-MlpTraining -Dataset $small -CheckpointPath $path -Resume -PassThru -ErrorAction Stop)
        $output.Count | Should -Be 1
        $output[0].GetType().FullName | Should -BeExactly 'MlpTools.Core.Modeling.MlpModel'
        $output[0].EpochsTrained | Should -Be 3
    }

    It 'resuming without -PassThru writes the records of the epochs left and keeps the final model in the checkpoint, for Import-Mlp' {
        $uninterrupted = @(Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1) -Dataset $small -Epochs 4 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
        $cut = Join-Path $TestDrive 'cut-short.ckpt'
        # Select-Object -First stops the run after two epochs, as Ctrl+C would.
        $first = @(Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1) -Dataset $small -Epochs 4 -BatchSize 8 -LearningRate 0.01 -Seed 1 -CheckpointPath $cut -ErrorAction Stop | Select-Object -First 2)
        (Import-Mlp -Path $cut).EpochsTrained | Should -Be 2

        $rest = @(Invoke-MlpTraining -Dataset $small -CheckpointPath $cut -Resume -ErrorAction Stop)
        $rest.Epoch | Should -Be 3, 4
        @($first) + @($rest) | ForEach-Object Loss | Should -Be $uninterrupted.Loss
        $final = Import-Mlp -Path $cut -ErrorAction Stop
        $final.EpochsTrained | Should -Be 4
        $final.History.Epochs.Loss | Should -Be $uninterrupted.Loss
    }

    It 'a run in shared batches (-ThreadCount 2) cut short and resumed with the same thread count ends as the uninterrupted run' {
        $shared = New-SeparableDataset -Folder (Join-Path $TestDrive 'shared') -Count 256 -Seed 5
        $recipe = @{ Dataset = $shared; Epochs = 4; BatchSize = 64; LearningRate = 0.01; Seed = 1; ThreadCount = 2; ErrorAction = 'Stop' }
        $whole = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
        $uninterrupted = @(Invoke-MlpTraining -Model $whole @recipe)
        $cut = Join-Path $TestDrive 'shared.ckpt'
        $first = @(Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1) @recipe -CheckpointPath $cut | Select-Object -First 2)

        $resumed = @(Invoke-MlpTraining -Dataset $shared -CheckpointPath $cut -Resume -ThreadCount 2 -PassThru -ErrorAction Stop)[-1]
        @($first.Loss) + @($resumed.History.Epochs.Loss[2..3]) | Should -Be $uninterrupted.Loss
        $resumed | Invoke-MlpPrediction -Dataset $shared | ForEach-Object Confidence | Should -Be ($whole | Invoke-MlpPrediction -Dataset $shared | ForEach-Object Confidence)
    }

    It '-Resume takes the recipe from the checkpoint: -Epochs, -Model and friends are not accepted with it' {
        { Invoke-MlpTraining -Dataset $small -CheckpointPath $path -Resume -Epochs 5 -ErrorAction Stop } | Should -Throw -ErrorId "AmbiguousParameterSet,$Cmdlet"
        { Invoke-MlpTraining -Model $model -Dataset $small -CheckpointPath $path -Resume -ErrorAction Stop } | Should -Throw -ErrorId "AmbiguousParameterSet,$Cmdlet"
    }

    It '<Case>: <ErrorId> (<Category>)' -ForEach @(
        @{ Case = 'no checkpoint file'; ErrorId = 'CheckpointNotFound'; Category = 'ObjectNotFound'; Arguments = { @{ Dataset = $small; CheckpointPath = (Join-Path $TestDrive 'none.ckpt') } } }
        @{ Case = 'other training data'; ErrorId = 'CheckpointDatasetMismatch'; Category = 'InvalidArgument'; Arguments = { @{ Dataset = $other; CheckpointPath = $path } } }
        @{ Case = 'a validation set the run did not have'; ErrorId = 'CheckpointDatasetMismatch'; Category = 'InvalidArgument'; Arguments = { @{ Dataset = $small; ValidationDataset = $other; CheckpointPath = $path } } }
        @{ Case = 'a model file, not a checkpoint'; ErrorId = 'NotACheckpoint'; Category = 'InvalidArgument'; Arguments = {
                $file = Join-Path $TestDrive 'plain.mlp'; Export-Mlp -Model $model -Path $file -Force; @{ Dataset = $small; CheckpointPath = $file } } }
        @{ Case = 'a damaged checkpoint'; ErrorId = 'ModelFileCorrupt'; Category = 'InvalidData'; Arguments = {
                $bytes = [IO.File]::ReadAllBytes($path); $file = Join-Path $TestDrive 'cut.ckpt'
                [IO.File]::WriteAllBytes($file, $bytes[0..($bytes.Length - 100)]); @{ Dataset = $small; CheckpointPath = $file } } }
    ) {
        $splat = & $Arguments
        $err = { Invoke-MlpTraining @splat -Resume -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,$Cmdlet" -PassThru
        $err.CategoryInfo.Category | Should -Be $Category
    }
}
