<#
.SYNOPSIS
    Times the notebook's recipe (784-256-10 ReLU, Adam 1e-3, batch 256, 10 epochs on real MNIST) through the
    MlpTools cmdlets and through a plain TorchSharp program, in one run, and prints both with their ratios.
.DESCRIPTION
    Each side runs as its own process, timed whole (start, import, load, train, test once); each reports its
    own peak resident memory (Process.PeakWorkingSet64: VmHWM on Linux). Same data, same libtorch, same threads.
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

Write-Host "Running the plain TorchSharp program..."
$plain = Measure-Process $dotnet @($PlainProgram, '', "$Epochs")
Write-Host "Running the MlpTools cmdlets..."
$cmdlets = Measure-Process $pwsh @('-NoProfile', '-NonInteractive', '-Command', $cmdletScript)

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
Write-Host ('Whole-process time ratio (cmdlets / plain): {0:F2}' -f ($cmdlets.Seconds / $plain.Seconds))
Write-Host ('Training time ratio (cmdlets / plain):      {0:F2}' -f ($cmdlets.TrainSeconds / $plain.TrainSeconds))
Write-Host ('Peak memory ratio (cmdlets / plain):        {0:F2}' -f ($cmdlets.PeakMemoryMB / $plain.PeakMemoryMB))
Write-Host ('Training throughput: {0:F1} GFLOP/s (cmdlets), {1:F1} GFLOP/s (plain); the forward+backward work is {2:F1} GFLOP per epoch' -f `
    ($flopPerEpoch * $Epochs / $cmdlets.TrainSeconds / 1e9), ($flopPerEpoch * $Epochs / $plain.TrainSeconds / 1e9), ($flopPerEpoch / 1e9))
