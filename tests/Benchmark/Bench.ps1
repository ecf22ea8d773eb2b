<#
.SYNOPSIS
    Times the notebook's recipe (784-256-10 ReLU, Adam 1e-3, batch 256, 10 epochs on real MNIST) through the
    MlpTools cmdlets and through a plain TorchSharp program, in one run, and prints both with their ratios.
.DESCRIPTION
    Each side runs as its own process, twice, alternated, timed whole (start, import, load, train, test once); each reports its
    own peak resident memory (Process.PeakWorkingSet64: VmHWM on Linux). Same data, same libtorch, same threads.
    Then, each in a fresh process: the machine's sgemm rate (the compute floor), Import-Module plus the first
    tensor operation, training with 1 and with 2 threads, and peak memory after 2 and after 12 epochs (with a
    validation set, an accuracy test and a prediction pass), where prediction speed is also timed, through libtorch and,
    for the same model exported as ONNX, through ONNX Runtime.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$PlainProgram,
    [int]$Epochs = 10
)
$ErrorActionPreference = 'Stop'

function Measure-Process([string]$FilePath, [string[]]$Arguments) {
    $clock = [Diagnostics.Stopwatch]::StartNew()
    $output = & $FilePath @Arguments 2>&1
    $seconds = $clock.Elapsed.TotalSeconds
    if ($LASTEXITCODE -ne 0) { throw "$FilePath failed: $output" }
    $values = @{}
    foreach ($line in $output) { if ("$line" -match '^(\w+)=(.+)$') { $values[$Matches[1]] = $Matches[2] } }
    [pscustomobject]@{
        Seconds      = $seconds
        TrainSeconds = [double]$values['train_seconds']
        PeakMemoryMB = [double]$values['peak_memory_bytes'] / 1MB
        TestAccuracy = [double]$values['test_accuracy']
        Threads      = $values['threads']
        Values       = $values
    }
}

$cmdletScript = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$train = Get-MnistDataset -Split Train
`$test = Get-MnistDataset -Split Test
`$model = New-Mlp -Seed 1
`$clock = [Diagnostics.Stopwatch]::StartNew()
Invoke-MlpTraining -Model `$model -Dataset `$train -Epochs $Epochs -Seed 1 | Out-Null
'train_seconds=' + `$clock.Elapsed.TotalSeconds
'test_accuracy=' + (Test-MlpAccuracy -Model `$model -Dataset `$test).Accuracy
'peak_memory_bytes=' + [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
"@
$pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
$dotnet = (Get-Command dotnet).Source

# Peak memory must not grow with the length of training: the same commands for 2 and for 12 epochs, validation,
# accuracy and prediction included. The short run also times prediction of the whole test set, twice each, best kept:
# '$null = Invoke-MlpPrediction' is the cmdlet's own cost (engine, objects, WriteObject into a collecting pipeline),
# the Measure-Object pipeline is what a user sees downstream.
function Get-LengthScript([int]$LengthEpochs) { @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$train = Get-MnistDataset -Split Train
`$test = Get-MnistDataset -Split Test
`$model = New-Mlp -Seed 1
Invoke-MlpTraining -Model `$model -Dataset `$train -ValidationDataset `$test -Epochs $LengthEpochs -Seed 1 | Out-Null
Test-MlpAccuracy -Model `$model -Dataset `$test | Out-Null
Invoke-MlpPrediction -Model `$model -Dataset `$test -First 1000 | Out-Null
`$clock = [Diagnostics.Stopwatch]::new()
`$inside = `$piped = [double]::MaxValue
foreach (`$run in 1..2) {
    `$clock.Restart(); `$null = Invoke-MlpPrediction -Model `$model -Dataset `$test; `$inside = [Math]::Min(`$inside, `$clock.Elapsed.TotalSeconds)
    `$clock.Restart(); `$count = (`$test | Invoke-MlpPrediction -Model `$model | Measure-Object).Count; `$piped = [Math]::Min(`$piped, `$clock.Elapsed.TotalSeconds)
}
'predict_inside_seconds=' + `$inside
# The same model exported as ONNX and scored by ONNX Runtime, timed the same way in the same process.
`$onnxFile = Join-Path ([IO.Path]::GetTempPath()) "mlptools-bench-`$PID.onnx"
Export-Mlp -Model `$model -Path `$onnxFile -Force
`$onnx = Import-Mlp `$onnxFile
Remove-Item `$onnxFile
`$null = Invoke-MlpPrediction -Model `$onnx -Dataset `$test -First 1000
`$onnxInside = [double]::MaxValue
foreach (`$run in 1..2) {
    `$clock.Restart(); `$null = Invoke-MlpPrediction -Model `$onnx -Dataset `$test; `$onnxInside = [Math]::Min(`$onnxInside, `$clock.Elapsed.TotalSeconds)
}
'predict_onnx_inside_seconds=' + `$onnxInside
'predict_pipeline_seconds=' + `$piped
'predict_count=' + `$count
'peak_memory_bytes=' + [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
"@ }

# Import-Module plus the first tensor operation, in a fresh process (pwsh's own start-up is not counted).
$importScript = @"
`$clock = [Diagnostics.Stopwatch]::StartNew()
Import-Module '$ModulePath'
`$model = New-Mlp -Seed 1
'import_seconds=' + `$clock.Elapsed.TotalSeconds
"@

# Training time with 1 and with 2 libtorch threads (-ThreadCount), 3 epochs each, in one process, alternated.
$threadScript = @"
`$ErrorActionPreference = 'Stop'
Import-Module '$ModulePath'
`$train = Get-MnistDataset -Split Train
`$best = @{ 1 = [double]::MaxValue; 2 = [double]::MaxValue }
foreach (`$threads in 1, 2, 1, 2) {
    `$model = New-Mlp -Seed 1
    `$clock = [Diagnostics.Stopwatch]::StartNew()
    Invoke-MlpTraining -Model `$model -Dataset `$train -Epochs 3 -Seed 1 -ThreadCount `$threads | Out-Null
    `$best[`$threads] = [Math]::Min(`$best[`$threads], `$clock.Elapsed.TotalSeconds)
}
'train_1_thread_seconds=' + `$best[1]
'train_2_threads_seconds=' + `$best[2]
"@

# The machine is shared: each side runs twice, alternated, and the faster run of each is compared, so that a
# burst of someone else's work during one run does not decide the ratio.
$plainRuns = @(); $cmdletRuns = @()
foreach ($round in 1, 2) {
    Write-Host "Running the plain TorchSharp program ($round of 2)..."
    $plainRuns += Measure-Process $dotnet @($PlainProgram, '', "$Epochs")
    Write-Host "Running the MlpTools cmdlets ($round of 2)..."
    $cmdletRuns += Measure-Process $pwsh @('-NoProfile', '-NonInteractive', '-Command', $cmdletScript)
}
$plain = $plainRuns | Sort-Object Seconds | Select-Object -First 1
$cmdlets = $cmdletRuns | Sort-Object Seconds | Select-Object -First 1

Write-Host "Measuring sgemm, import, threads, and memory over 2 and 12 epochs..."
$sgemm = Measure-Process $dotnet @($PlainProgram, '--sgemm')
$import = Measure-Process $pwsh @('-NoProfile', '-NonInteractive', '-Command', $importScript)
$threadRuns = Measure-Process $pwsh @('-NoProfile', '-NonInteractive', '-Command', $threadScript)
# Peak RSS varies by a few percent from run to run of the same command (when the .NET garbage collector happens to
# run, how glibc's arenas fill), so each length runs twice, alternated, and the lower peak of each is compared.
$lengthRuns = foreach ($lengthEpochs in 2, 12, 2, 12) {
    $run = Measure-Process $pwsh @('-NoProfile', '-NonInteractive', '-Command', (Get-LengthScript $lengthEpochs))
    $run | Add-Member -NotePropertyName Epochs -NotePropertyValue $lengthEpochs -PassThru
}
$short = $lengthRuns | Where-Object Epochs -EQ 2 | Sort-Object PeakMemoryMB | Select-Object -First 1
$long = $lengthRuns | Where-Object Epochs -EQ 12 | Sort-Object PeakMemoryMB | Select-Object -First 1

# One epoch of 784-256-10 on 60,000 images, 2 FLOP per multiply-add: the forward pass through both layers,
# the weight gradients of both, and the input gradient of the second only (the first layer's input needs none).
$flopPerEpoch = 2 * (2 * 784 * 256 + 3 * 256 * 10) * 60000
$results = @(
    [pscustomobject]@{ Side = 'Plain TorchSharp'; WholeSeconds = $plain.Seconds; TrainSeconds = $plain.TrainSeconds; PeakMemoryMB = $plain.PeakMemoryMB; TestAccuracy = $plain.TestAccuracy }
    [pscustomobject]@{ Side = 'MlpTools cmdlets'; WholeSeconds = $cmdlets.Seconds; TrainSeconds = $cmdlets.TrainSeconds; PeakMemoryMB = $cmdlets.PeakMemoryMB; TestAccuracy = $cmdlets.TestAccuracy }
)
$results | Format-Table @{ n = 'Side'; e = 'Side' }, @{ n = 'Whole (s)'; e = { '{0:F2}' -f $_.WholeSeconds } }, @{ n = 'Train (s)'; e = { '{0:F2}' -f $_.TrainSeconds } },
    @{ n = 'Peak RSS (MB)'; e = { '{0:F0}' -f $_.PeakMemoryMB } }, @{ n = 'Test accuracy'; e = { '{0:F4}' -f $_.TestAccuracy } } | Out-Host
Write-Host ('Threads (libtorch): {0}' -f $plain.Threads)
Write-Host ('Whole-process times (s), plain: {0}; cmdlets: {1} (the faster of each is compared)' -f `
    (($plainRuns | ForEach-Object { '{0:F2}' -f $_.Seconds }) -join ', '), (($cmdletRuns | ForEach-Object { '{0:F2}' -f $_.Seconds }) -join ', '))
Write-Host ('Whole-process time ratio (cmdlets / plain): {0:F2} (target at most 1.10)' -f ($cmdlets.Seconds / $plain.Seconds))
Write-Host ('Training time ratio (cmdlets / plain):      {0:F2}' -f ($cmdlets.TrainSeconds / $plain.TrainSeconds))
Write-Host ('Peak memory ratio (cmdlets / plain):        {0:F2} (target at most 1.10)' -f ($cmdlets.PeakMemoryMB / $plain.PeakMemoryMB))
Write-Host ('Training throughput: {0:F1} GFLOP/s (cmdlets), {1:F1} GFLOP/s (plain); the forward+backward work is {2:F1} GFLOP per epoch' -f `
    ($flopPerEpoch * $Epochs / $cmdlets.TrainSeconds / 1e9), ($flopPerEpoch * $Epochs / $plain.TrainSeconds / 1e9), ($flopPerEpoch / 1e9))
$sgemmGflops = [double]$sgemm.Values['sgemm_gflops']
$floorSecondsPerEpoch = $flopPerEpoch / ($sgemmGflops * 1e9)
Write-Host ('sgemm (2048x2048 float32, {0} threads): {1:F1} GFLOP/s; compute floor {2:F3} s per epoch' -f $sgemm.Values['threads'], $sgemmGflops, $floorSecondsPerEpoch)
Write-Host ('Training throughput as a share of the floor: {0:P0} (cmdlets), {1:P0} (plain)' -f `
    ($floorSecondsPerEpoch * $Epochs / $cmdlets.TrainSeconds), ($floorSecondsPerEpoch * $Epochs / $plain.TrainSeconds))
Write-Host ('Training 3 epochs with -ThreadCount 1: {0:F2} s; with 2: {1:F2} s (ratio 2/1: {2:F2})' -f `
    [double]$threadRuns.Values['train_1_thread_seconds'], [double]$threadRuns.Values['train_2_threads_seconds'],
    ([double]$threadRuns.Values['train_2_threads_seconds'] / [double]$threadRuns.Values['train_1_thread_seconds']))
Write-Host ('Import-Module + New-Mlp in a fresh pwsh: {0:F2} s (target at most 1.5 s)' -f [double]$import.Values['import_seconds'])
Write-Host ('Peak RSS, 2 epochs: {0:F0} MB; 12 epochs: {1:F0} MB (lower of two runs each; all runs: {2}); ratio 12/2: {3:F3} (target at most 1.05)' -f `
    $short.PeakMemoryMB, $long.PeakMemoryMB, (($lengthRuns | ForEach-Object { '{0} epochs {1:F0} MB' -f $_.Epochs, $_.PeakMemoryMB }) -join ', '), ($long.PeakMemoryMB / $short.PeakMemoryMB))
$count = [int]$short.Values['predict_count']
Write-Host ('Prediction of {0} test images, inside the cmdlet ($null = Invoke-MlpPrediction): {1:F3} s (target at most 0.25 s)' -f $count, [double]$short.Values['predict_inside_seconds'])
Write-Host ('Prediction of the {0} test images, same model, same process: ONNX Runtime {1:F3} s, libtorch {2:F3} s (ratio ONNX/libtorch {3:F2})' -f `
    $count, [double]$short.Values['predict_onnx_inside_seconds'], [double]$short.Values['predict_inside_seconds'],
    ([double]$short.Values['predict_onnx_inside_seconds'] / [double]$short.Values['predict_inside_seconds']))
Write-Host ('Prediction through the pipeline (| Measure-Object): {0:F3} s, {1:N0} objects/s (target at least 20,000)' -f `
    [double]$short.Values['predict_pipeline_seconds'], ($count / [double]$short.Values['predict_pipeline_seconds']))
