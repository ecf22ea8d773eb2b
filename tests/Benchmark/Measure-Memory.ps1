<#
.SYNOPSIS
    For Bench.ps1: peak memory after training for -Epochs with a validation set, an accuracy test and prediction
    (it must not grow with the number of epochs), and the time to predict the whole test set, through libtorch and,
    for the same model exported as ONNX, through ONNX Runtime. Prints key=value lines.
.DESCRIPTION
    Prediction is timed twice each, best kept: '$null = Invoke-MlpPrediction' is the cmdlet's own cost (engine,
    objects, WriteObject into a collecting pipeline); the Measure-Object pipeline is what a user sees downstream.
#>
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [int]$Epochs = 2
)
$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
$train = Get-MnistDataset -Split Train
$test = Get-MnistDataset -Split Test
$model = New-Mlp -Seed 1
Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $test -Epochs $Epochs -Seed 1 | Out-Null
Test-MlpAccuracy -Model $model -Dataset $test | Out-Null
Invoke-MlpPrediction -Model $model -Dataset $test -First 1000 | Out-Null
$clock = [Diagnostics.Stopwatch]::new()
$inside = $piped = [double]::MaxValue
foreach ($run in 1..2) {
    $clock.Restart(); $null = Invoke-MlpPrediction -Model $model -Dataset $test; $inside = [Math]::Min($inside, $clock.Elapsed.TotalSeconds)
    $clock.Restart(); $count = ($test | Invoke-MlpPrediction -Model $model | Measure-Object).Count; $piped = [Math]::Min($piped, $clock.Elapsed.TotalSeconds)
}
'predict_inside_seconds=' + $inside
$onnxFile = Join-Path ([IO.Path]::GetTempPath()) "mlptools-bench-$PID.onnx"
Export-Mlp -Model $model -Path $onnxFile -Force
$onnx = Import-Mlp $onnxFile
Remove-Item $onnxFile
$null = Invoke-MlpPrediction -Model $onnx -Dataset $test -First 1000
$onnxInside = [double]::MaxValue
foreach ($run in 1..2) {
    $clock.Restart(); $null = Invoke-MlpPrediction -Model $onnx -Dataset $test; $onnxInside = [Math]::Min($onnxInside, $clock.Elapsed.TotalSeconds)
}
'predict_onnx_inside_seconds=' + $onnxInside
'predict_pipeline_seconds=' + $piped
'predict_count=' + $count
'peak_memory_bytes=' + [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
