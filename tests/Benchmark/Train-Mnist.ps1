<#
.SYNOPSIS
    The MlpTools side of Bench.ps1: the notebook's recipe on real MNIST through the cmdlets, with the per-epoch
    training-set accuracy Invoke-MlpTraining always reports, then the test accuracy. Prints key=value lines.
.DESCRIPTION
    start_seconds is the time from the process's start to the first line of this script (the runtime and pwsh's own
    start), import_seconds Import-Module, first_operation_seconds the first New-Mlp (libtorch's load and first
    tensors), first_epoch_seconds and other_epoch_seconds (the mean of the rest) the epochs' own times.
    With -Trainings 2, that many models train at once, each in a runspace of its own (-Sequential: one after the
    other in the same runspaces), and train_seconds is the time until the last one ends.
#>
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [int]$Epochs = 10,
    [int]$HiddenSize = 256,
    [int]$Depth = 1,
    [int]$ThreadCount = 0,
    [int]$Trainings = 1,
    [switch]$Sequential,
    # The job without per-epoch evaluation (as scikit-learn's MLPClassifier runs it).
    [switch]$SkipTrainEvaluation,
    # The test set evaluated after every epoch as well (as the lecture's notebook does with func_eval).
    [switch]$ValidateEachEpoch
)
$ErrorActionPreference = 'Stop'
$hidden = @($HiddenSize) * $Depth
$startSeconds = ([datetime]::Now - [Diagnostics.Process]::GetCurrentProcess().StartTime).TotalSeconds
$clock = [Diagnostics.Stopwatch]::StartNew()
Import-Module $ModulePath
$importSeconds = $clock.Elapsed.TotalSeconds
$clock.Restart()
$null = New-Mlp -HiddenSize $hidden -Seed 1
$firstOperationSeconds = $clock.Elapsed.TotalSeconds
$train = Get-MnistDataset -Split Train
$test = Get-MnistDataset -Split Test
# Invoke-MlpTraining's parameters beyond the recipe's.
$options = if ($ThreadCount -gt 0) { @{ ThreadCount = $ThreadCount } } else { @{} }
if ($SkipTrainEvaluation) { $options.SkipTrainEvaluation = $true }
if ($ValidateEachEpoch) { $options.ValidationDataset = $test }

$trainOne = {
    param($Module, $Train, $Hidden, $Epochs, $Options, $Seed)
    # In a runspace of its own the module is imported there; in this one, it already is and this does nothing.
    Import-Module $Module
    $model = New-Mlp -HiddenSize $Hidden -Seed $Seed
    $records = @(Invoke-MlpTraining -Model $model -Dataset $Train -Epochs $Epochs -Seed $Seed @Options)
    [pscustomobject]@{ Model = $model; Records = $records }
}
$clock.Restart()
if ($Trainings -eq 1) {
    $results = @(& $trainOne $ModulePath $train $hidden $Epochs $options 1)
}
else {
    # Runspaces of their own, as a user's ForEach-Object -Parallel or thread jobs would have them.
    $pool = [runspacefactory]::CreateRunspacePool(1, $Trainings)
    $pool.Open()
    $run = {
        param($Seed)
        $shell = [powershell]::Create().AddScript($trainOne.ToString()).AddArgument($ModulePath).AddArgument($train).AddArgument($hidden).AddArgument($Epochs).AddArgument($options).AddArgument($Seed)
        $shell.RunspacePool = $pool
        $shell
    }
    $finish = {
        param($Shell, $Output)
        if ($Shell.HadErrors) { throw $Shell.Streams.Error[0] }
        $Shell.Dispose()
        $Output
    }
    if ($Sequential) {
        $results = foreach ($seed in 1..$Trainings) { $shell = & $run $seed; & $finish $shell $shell.Invoke() }
    }
    else {
        $shells = foreach ($seed in 1..$Trainings) { $shell = & $run $seed; [pscustomobject]@{ Shell = $shell; Handle = $shell.BeginInvoke() } }
        $results = foreach ($started in $shells) { & $finish $started.Shell $started.Shell.EndInvoke($started.Handle) }
    }
    $pool.Dispose()
}
$trainSeconds = $clock.Elapsed.TotalSeconds
$records = $results[0].Records
'start_seconds=' + $startSeconds
'import_seconds=' + $importSeconds
'first_operation_seconds=' + $firstOperationSeconds
'train_seconds=' + $trainSeconds
'first_epoch_seconds=' + $records[0].Seconds
if ($records.Count -gt 1) { 'other_epoch_seconds=' + ($records[1..($records.Count - 1)] | Measure-Object Seconds -Average).Average }
'loss=' + $records[-1].Loss
'test_accuracy=' + (Test-MlpAccuracy -Model $results[0].Model -Dataset $test).Accuracy
'cpu_seconds=' + [Diagnostics.Process]::GetCurrentProcess().TotalProcessorTime.TotalSeconds
'peak_memory_bytes=' + [Diagnostics.Process]::GetCurrentProcess().PeakWorkingSet64
