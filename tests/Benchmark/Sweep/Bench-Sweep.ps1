<#
.SYNOPSIS
    Wall time of a 16-trial sweep of 2-epoch runs on MNIST, one trial at a time and two at a time (-ThrottleLimit 2),
    in one run, and the speed-up. Both use one libtorch thread per trial per core (cores / throttle), as the sweep
    sets by default.
.EXAMPLE
    dotnet pwsh tests/Benchmark/Sweep/Bench-Sweep.ps1 -Module ./out/MlpTools/MlpTools.psd1
#>
param(
    [string]$Module = (Join-Path $PSScriptRoot '../../../out/MlpTools/MlpTools.psd1'),
    [int]$Epochs = 2
)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$train, $validation = Split-MlpDataset (Get-MnistDataset -Split Train) -TestFraction 0.1 -Seed 1 -Stratify
# 16 trials: 2 x 2 x 2 x 2.
$space = @{ HiddenSize = @(128), @(256); Activation = 'ReLU', 'GELU'; Dropout = 0, 0.2; LearningRate = 1e-3, 3e-3 }
$results = foreach ($throttle in 1, 2) {
    $watch = [System.Diagnostics.Stopwatch]::StartNew()
    $trials = @(Invoke-MlpSweep -Dataset $train -ValidationDataset $validation -Parameter $space -Epochs $Epochs -Seed 1 -ThrottleLimit $throttle)
    $watch.Stop()
    [pscustomobject]@{
        ThrottleLimit   = $throttle
        ThreadsPerTrial = [Math]::Max(1, [Environment]::ProcessorCount / $throttle)
        Trials          = $trials.Count
        WallSeconds     = [Math]::Round($watch.Elapsed.TotalSeconds, 1)
        BestAccuracy    = ($trials.ValidationAccuracy | Measure-Object -Maximum).Maximum
    }
}
$results | Format-Table -AutoSize | Out-Host
'Speed-up of -ThrottleLimit 2 over one at a time: {0:F2}x ({1} cores)' -f ($results[0].WallSeconds / $results[1].WallSeconds), [Environment]::ProcessorCount
