<#
.SYNOPSIS
    Wall time of a 16-trial sweep of 2-epoch runs on MNIST, one trial at a time and two at a time (-ThrottleLimit 2),
    in one run, and the speed-up. Both use one libtorch thread per trial per core (cores / throttle), as the sweep
    sets by default; a third run, one at a time with one thread (-ThreadCount 1), tells the gain of running trials
    side by side from the cost of several libtorch threads per trial (on a busy machine the latter dominates).
.PARAMETER TrainCount
    Train on the first this many of the 54,000 training images left after the validation split (all by default);
    a smaller slice checks the script quickly on a busy machine.
.PARAMETER ChartPath
    Also draw the one-at-a-time sweep with Export-MlpSweepChart to this PNG (replaced if it exists).
.EXAMPLE
    dotnet pwsh tests/Benchmark/Sweep/Bench-Sweep.ps1 -Module ./out/MlpTools/MlpTools.psd1
.EXAMPLE
    dotnet pwsh tests/Benchmark/Sweep/Bench-Sweep.ps1 -TrainCount 6000 -Epochs 1 -ChartPath ./sweep.png
#>
param(
    [string]$Module = (Join-Path $PSScriptRoot '../../../out/MlpTools/MlpTools.psd1'),
    [ValidateRange(1, 1000)][int]$Epochs = 2,
    [ValidateRange(1, 54000)][int]$TrainCount = 54000,
    [string]$ChartPath
)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$train, $validation = Split-MlpDataset (Get-MnistDataset -Split Train) -TestFraction 0.1 -Seed 1 -Stratify
if ($TrainCount -lt $train.Count) { $train = $train.Subset([int[]](0..($TrainCount - 1)), $train.Split) }
# 16 trials: 2 x 2 x 2 x 2.
$space = @{ HiddenSize = @(128), @(256); Activation = 'ReLU', 'GELU'; Dropout = 0, 0.2; LearningRate = 1e-3, 3e-3 }
$cores = [Environment]::ProcessorCount
$sweeps = foreach ($run in @{ ThrottleLimit = 1; ThreadCount = $cores }, @{ ThrottleLimit = 2; ThreadCount = [Math]::Max(1, $cores / 2) }, @{ ThrottleLimit = 1; ThreadCount = 1 }) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $trials = @(Invoke-MlpSweep -Dataset $train -ValidationDataset $validation -Parameter $space -Epochs $Epochs -Seed 1 @run)
    $watch.Stop()
    [pscustomobject]@{
        ThrottleLimit   = $run.ThrottleLimit
        ThreadsPerTrial = $run.ThreadCount
        Trials          = $trials.Count
        TrainImages     = $train.Count
        WallSeconds     = [Math]::Round($watch.Elapsed.TotalSeconds, 1)
        BestAccuracy    = ($trials.ValidationAccuracy | Measure-Object -Maximum).Maximum
        Records         = $trials
    }
}
$sweeps | Format-Table ThrottleLimit, ThreadsPerTrial, Trials, TrainImages, WallSeconds, BestAccuracy -AutoSize | Out-Host
'Speed-up of -ThrottleLimit 2 over one at a time: {0:F2}x ({1} cores); over one at a time with one thread: {2:F2}x' -f
    ($sweeps[0].WallSeconds / $sweeps[1].WallSeconds), $cores, ($sweeps[2].WallSeconds / $sweeps[1].WallSeconds)
if ($ChartPath) {
    $sweeps[0].Records | Export-MlpSweepChart -Path $ChartPath -Force -Title "MNIST, $($sweeps[0].Trials) trials of $Epochs epoch(s) on $($train.Count) images"
}
