<#
.SYNOPSIS
    The notebook's job (784-256-10 ReLU, Adam 1e-3, batch 256, 10 epochs on real MNIST, the training-set accuracy
    after every epoch, the test accuracy at the end) through the MlpTools cmdlets, a plain TorchSharp program,
    scikit-learn's MLPClassifier and the notebook on PyTorch, in one run, alternated; with the machine's floor, under
    load, at other sizes, and the fixed costs.
.DESCRIPTION
    Every job runs as a process of its own and reports its own figures (key=value lines); the sides run -Rounds times,
    alternated, and medians are compared, so that a burst of someone else's work during one run does not decide a
    ratio. Sections:
    1. The job with 1 and with 2 threads on every side (-ThreadCount for the cmdlets, OMP_NUM_THREADS for the plain
       program, torch.set_num_threads for PyTorch, OPENBLAS_NUM_THREADS and OMP_NUM_THREADS for scikit-learn, which
       has no per-epoch evaluation, and against which the cmdlets also run with -SkipTrainEvaluation): wall and CPU
       time, test accuracy, the share of the floor each reaches (its own work in FLOP over the sgemm rate for that
       many threads), and the ratios the targets are stated in. Once, with one thread: the lecture's notebook as written
       (torchvision's MNIST through DataLoaders, the training and test accuracy after every epoch; needs torchvision),
       against the cmdlets evaluating the same two sets every epoch. PyTorch and scikit-learn compute through Debian's
       libblas.so.3, which must be an optimised BLAS (OpenBLAS) for a fair comparison; the script says which one it is.
    2. Fixed costs of the cmdlets: process start to the script's first line, Import-Module, the first New-Mlp (libtorch's
       load), the first epoch against the others.
    3. Under load: the job (3 epochs) alone, next to a busy loop, and next to a second training (the plain program);
       with MlpTools' default (each batch shared among the cores, each share on one libtorch thread), with -ThreadCount
       1, then on libtorch's threads on every core (OMP_NUM_THREADS) with MlpTools' spin count (GOMP_SPINCOUNT=1000),
       libgomp's own (300000), 10000 and OMP_WAIT_POLICY=passive;
       two trainings in parallel runspaces against the same two one after the other.
    4. Scaling: hidden widths 256, 1024, 4096 (one layer) and depths 3 and 6 (width 256), 2 epochs: time and peak memory
       of the cmdlets, the plain program and PyTorch (all with the machine's threads).
    5. Peak memory after 2 and 12 epochs (must stay flat), prediction speed through libtorch and ONNX Runtime.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    [Parameter(Mandatory)][string]$PlainProgram,
    [string]$Python = '/usr/bin/python3',
    [string]$DataPath = (Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'MlpTools/mnist'),
    [int]$Epochs = 10,
    [int]$Rounds = 3,
    [int[]]$Threads = @(1, 2),
    [int]$LoadEpochs = 3,
    [int]$ScalingEpochs = 2,
    # Hidden width x depth.
    [string[]]$Sizes = @('256x1', '1024x1', '4096x1', '256x3', '256x6'),
    # Peak memory after the shorter and the longer of these must be the same.
    [int[]]$MemoryEpochs = @(2, 12),
    [ValidateSet('Main', 'NotebookAsWritten', 'Load', 'Scaling', 'Memory')]
    [string[]]$Section = @('Main', 'NotebookAsWritten', 'Load', 'Scaling', 'Memory')
)
$ErrorActionPreference = 'Stop'
$here = $PSScriptRoot
$pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
$dotnet = (Get-Command dotnet).Source
$trainScript = Join-Path $here 'Train-Mnist.ps1'
$notebook = Join-Path $here 'notebook.py'
$sklearn = Join-Path $here 'sklearn_mnist.py'
$ThreadVariables = 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS', 'GOMP_SPINCOUNT', 'OMP_WAIT_POLICY'

# Sets an environment variable for the jobs started next, or removes it for $null. (Not
# [Environment]::SetEnvironmentVariable: PowerShell passes $null to it as '', which a child then sees as set and empty.)
function Set-JobVariable([string]$Name, [string]$Value) {
    if ($Value) { Set-Item "env:$Name" $Value } else { Remove-Item "env:$Name" -ErrorAction Ignore }
}

# Runs one job to its end; its key=value lines become properties, with the whole process's wall time as Seconds.
function Measure-Job([string]$Side, [string]$FilePath, [string[]]$Arguments, [hashtable]$Environment = @{}) {
    $saved = @{}
    foreach ($name in $ThreadVariables) { $saved[$name] = [Environment]::GetEnvironmentVariable($name); Set-JobVariable $name $Environment[$name] }
    try {
        $clock = [Diagnostics.Stopwatch]::StartNew()
        $output = & $FilePath @Arguments 2>&1
        $seconds = $clock.Elapsed.TotalSeconds
    }
    finally {
        foreach ($name in $ThreadVariables) { Set-JobVariable $name $saved[$name] }
    }
    if ($LASTEXITCODE -ne 0) { throw "$Side failed: $output" }
    $job = [ordered]@{ Side = $Side; Seconds = $seconds }
    foreach ($line in $output) { if ("$line" -match '^(\w+)=(.+)$') { $job[$Matches[1]] = $Matches[2] -as [double] ?? $Matches[2] } }
    [pscustomobject]$job
}

function Get-Median([double[]]$Values) {
    $sorted = $Values | Sort-Object
    $middle = [int][Math]::Floor($sorted.Count / 2)
    $sorted.Count % 2 ? $sorted[$middle] : ($sorted[$middle - 1] + $sorted[$middle]) / 2
}

# Runs each job -Rounds times, alternated; returns one summary per job: medians of every numeric figure.
function Measure-Alternated([object[]]$Jobs, [int]$Times = $Rounds) {
    $runs = @{}
    foreach ($round in 1..$Times) {
        foreach ($job in $Jobs) {
            Write-Host "  $($job.Side) ($round of $Times)..."
            $runs[$job.Side] += @(Measure-Job $job.Side $job.FilePath $job.Arguments $job.Environment)
        }
    }
    foreach ($job in $Jobs) {
        $all = $runs[$job.Side]
        $summary = [ordered]@{ Side = $job.Side; Runs = $all }
        foreach ($name in $all[0].PSObject.Properties.Name) {
            if ($all[0].$name -is [double]) { $summary[$name] = Get-Median ($all | ForEach-Object $name) }
        }
        [pscustomobject]$summary
    }
}

# FLOP of one epoch of a 784-hidden...-10 MLP on 60,000 images, 2 per multiply-add: forward, the weights' gradients,
# and the inputs' gradients of every layer but the first (the images need none). Evaluation is the forward pass.
function Get-EpochFlop([int]$Hidden = 256, [int]$Depth = 1) {
    $sizes = @(784) + @($Hidden) * $Depth + @(10)
    $forward = 0.0
    for ($i = 0; $i -lt $sizes.Count - 1; $i++) { $forward += 2.0 * $sizes[$i] * $sizes[$i + 1] }
    [pscustomobject]@{ Train = 60000 * (3 * $forward - 2.0 * 784 * $Hidden); Evaluate = 60000 * $forward }
}

function Get-Jobs([int]$ThreadCount, [int]$JobEpochs = $Epochs, [int]$Hidden = 256, [int]$Depth = 1, [switch]$WithSklearn) {
    $threadEnvironment = @{ OMP_NUM_THREADS = "$ThreadCount"; OPENBLAS_NUM_THREADS = "$ThreadCount"; MKL_NUM_THREADS = "$ThreadCount" }
    $cmdlets = @('-NoProfile', '-NonInteractive', '-File', $trainScript, '-ModulePath', $ModulePath, '-Epochs', $JobEpochs, '-HiddenSize', $Hidden, '-Depth', $Depth, '-ThreadCount', $ThreadCount)
    [pscustomobject]@{ Side = 'MlpTools cmdlets'; FilePath = $pwsh; Environment = @{}; Arguments = $cmdlets }
    [pscustomobject]@{ Side = 'Plain TorchSharp'; FilePath = $dotnet; Environment = $threadEnvironment
        Arguments = @($PlainProgram, $DataPath, $JobEpochs, $Hidden, $Depth) }
    # PyTorch's own threads are set by --threads; its BLAS (OpenBLAS's pthreads) by the environment, as scikit-learn's.
    [pscustomobject]@{ Side = 'PyTorch notebook, preloaded'; FilePath = $Python; Environment = $threadEnvironment
        Arguments = @($notebook, '--data', $DataPath, '--epochs', $JobEpochs, '--hidden', $Hidden, '--depth', $Depth, '--threads', $ThreadCount) }
    if ($WithSklearn) {
        [pscustomobject]@{ Side = 'MlpTools cmdlets, -SkipTrainEvaluation'; FilePath = $pwsh; Environment = @{}; Arguments = $cmdlets + '-SkipTrainEvaluation' }
        [pscustomobject]@{ Side = 'scikit-learn (no per-epoch evaluation)'; FilePath = $Python; Environment = $threadEnvironment
            Arguments = @($sklearn, '--data', $DataPath, '--epochs', $JobEpochs, '--hidden', $Hidden, '--depth', $Depth) }
    }
}

function Format-Seconds($Value) { '{0:F2}' -f $Value }

if ($Section | Where-Object { $_ -in 'Main', 'NotebookAsWritten', 'Scaling' }) {
    & $Python -c 'import torch, sklearn' 2>$null
    if ($LASTEXITCODE -ne 0) {
        throw "PyTorch and scikit-learn were not found for $Python. Install them (Debian, Ubuntu: apt-get install -y python3-torch python3-sklearn libopenblas0-pthread), or give -Python <a python that has both>."
    }
}

if ($IsLinux -and (Test-Path /etc/alternatives)) {
    $blas = Get-ChildItem /etc/alternatives -Filter 'libblas.so.3*' | Select-Object -First 1
    if ($blas) {
        $library = (Resolve-Path ([IO.Path]::GetFullPath($blas.ResolvedTarget ?? $blas.FullName))).Path
        Write-Host "BLAS behind PyTorch and scikit-learn (Debian's libblas.so.3): $library"
        if ($library -notmatch 'openblas|mkl|blis') {
            Write-Warning 'That is the generic reference BLAS, many times slower than an optimised one, so PyTorch and scikit-learn would be measured at a handicap. Install OpenBLAS (apt-get install -y libopenblas0-pthread) and run again.'
        }
    }
}

$sgemm = @{}
foreach ($count in @($Threads) + [Environment]::ProcessorCount | Sort-Object -Unique) {
    $sgemm[$count] = (Measure-Job 'sgemm' $dotnet @($PlainProgram, '--sgemm', $count)).sgemm_gflops
    Write-Host ('sgemm 2048x2048 float32, {0} thread(s): {1:F1} GFLOP/s' -f $count, $sgemm[$count])
}
$flop = Get-EpochFlop

if ('Main' -in $Section) {
    foreach ($count in $Threads) {
        Write-Host "The notebook's job, $Epochs epochs, $count thread(s) on every side, $Rounds rounds alternated:"
        $results = Measure-Alternated (Get-Jobs $count -WithSklearn)
        $floorPerFlop = 1 / ($sgemm[$count] * 1e9)
        $results | Format-Table -AutoSize Side, @{ n = 'Wall (s)'; e = { Format-Seconds $_.Seconds } }, @{ n = 'Train (s)'; e = { Format-Seconds $_.train_seconds } },
            @{ n = 'CPU (s)'; e = { Format-Seconds $_.cpu_seconds } }, @{ n = 'CPU/wall'; e = { '{0:F2}' -f ($_.cpu_seconds / $_.Seconds) } },
            @{ n = 'Test acc'; e = { '{0:F4}' -f $_.test_accuracy } }, @{ n = 'Peak RSS (MB)'; e = { '{0:F0}' -f ($_.peak_memory_bytes / 1MB) } },
            @{ n = 'Floor share'; e = {
                    $work = $Epochs * ($flop.Train + ($_.Side -like 'scikit*' -or $_.Side -like '*-SkipTrainEvaluation' ? 0 : $flop.Evaluate))
                    '{0:P0}' -f ($work * $floorPerFlop / $_.train_seconds) } },
            @{ n = 'All wall (s)'; e = { ($_.Runs | ForEach-Object { Format-Seconds $_.Seconds }) -join ' ' } } | Out-String -Width 400 | Write-Host
        $by = @{}; $results | ForEach-Object { $by[$_.Side] = $_ }
        $cmdlets = $by['MlpTools cmdlets'].Seconds
        $sklearnSeconds = $by['scikit-learn (no per-epoch evaluation)'].Seconds
        Write-Host ('  Ratios of whole-process time (other / cmdlets): plain TorchSharp {0:F2}; PyTorch preloaded {1:F2}; scikit-learn {2:F2} against the cmdlets still evaluating every epoch, {3:F2} against the same job without per-epoch evaluation (-SkipTrainEvaluation; target at least 1.5)' -f `
            ($by['Plain TorchSharp'].Seconds / $cmdlets), ($by['PyTorch notebook, preloaded'].Seconds / $cmdlets), ($sklearnSeconds / $cmdlets), ($sklearnSeconds / $by['MlpTools cmdlets, -SkipTrainEvaluation'].Seconds))
        $cmdletsRun = $by['MlpTools cmdlets']
        Write-Host ('  Cmdlets fixed costs: start {0:F2} s, Import-Module {1:F2} s, first New-Mlp {2:F2} s, first epoch {3:F2} s against {4:F2} s for the others' -f `
            $cmdletsRun.start_seconds, $cmdletsRun.import_seconds, $cmdletsRun.first_operation_seconds, $cmdletsRun.first_epoch_seconds, $cmdletsRun.other_epoch_seconds)
        Write-Host ('  Floor at {0} thread(s): {1:F0} GFLOP/s; an epoch is {2:F1} GFLOP of training and {3:F1} of evaluation; the job''s floor is {4:F1} s' -f `
            $count, $sgemm[$count], ($flop.Train / 1e9), ($flop.Evaluate / 1e9), ($Epochs * ($flop.Train + $flop.Evaluate) * $floorPerFlop))
    }
}

if ('NotebookAsWritten' -in $Section) {
    & $Python -c 'import torchvision' 2>$null
    if ($LASTEXITCODE -ne 0) {
        throw "torchvision was not found for $Python; the notebook as written loads MNIST through it. Install it (Debian, Ubuntu: apt-get install -y python3-torchvision), or leave out -Section NotebookAsWritten."
    }
    Write-Host "The lecture's notebook as written (torchvision's ToTensor behind DataLoaders, func_eval on the training and test sets every epoch), PyTorch on 1 thread, once, between two runs of the cmdlets evaluating the same sets every epoch (-ValidationDataset):"
    $withTest = @{}
    $asWrittenJobs = foreach ($count in $Threads) {
        [pscustomobject]@{ Side = "MlpTools cmdlets, $count thread(s), test set every epoch"; FilePath = $pwsh; Environment = @{}
            Arguments = @('-NoProfile', '-NonInteractive', '-File', $trainScript, '-ModulePath', $ModulePath, '-Epochs', $Epochs, '-ThreadCount', $count, '-ValidateEachEpoch') }
    }
    foreach ($job in $asWrittenJobs) { $withTest[$job.Side] = @(Measure-Job $job.Side $job.FilePath $job.Arguments) }
    $asWritten = Measure-Job 'PyTorch notebook as written' $Python @($notebook, '--data', $DataPath, '--epochs', $Epochs, '--threads', 1, '--loader', 'notebook') @{ OMP_NUM_THREADS = '1'; OPENBLAS_NUM_THREADS = '1' }
    foreach ($job in $asWrittenJobs) { $withTest[$job.Side] += Measure-Job $job.Side $job.FilePath $job.Arguments }
    Write-Host ('  Notebook as written: {0:F1} s, CPU {1:F1} s (its DataLoader workers included), test accuracy {2:F4}' -f $asWritten.Seconds, $asWritten.cpu_seconds, $asWritten.test_accuracy)
    foreach ($job in $asWrittenJobs) {
        $runs = $withTest[$job.Side]
        $seconds = ($runs | Measure-Object Seconds -Average).Average
        Write-Host ('  {0}: {1} s (test accuracy {2:F4}); the notebook takes {3:F1}x as long (target at least 15)' -f $job.Side, (($runs | ForEach-Object { Format-Seconds $_.Seconds }) -join ' '), $runs[-1].test_accuracy, ($asWritten.Seconds / $seconds))
    }
}

if ('Load' -in $Section) {
    Write-Host "Under load: the cmdlets' job ($LoadEpochs epochs) alone and next to another CPU-bound process, $Rounds rounds alternated:"
    $job = @('-NoProfile', '-NonInteractive', '-File', $trainScript, '-ModulePath', $ModulePath, '-Epochs', $LoadEpochs)
    # MlpTools' default (batches shared among the cores) first, one thread, then libtorch's threads on every core
    # (OMP_NUM_THREADS makes the cmdlets leave the threads to libtorch) with each OpenMP setting.
    $cores = [Environment]::ProcessorCount
    $onLibTorch = "libtorch's $cores threads (OMP_NUM_THREADS)"
    $policies = [ordered]@{ 'MlpTools default' = @{}; '-ThreadCount 1' = @{}; "$onLibTorch, MlpTools' GOMP_SPINCOUNT=1000" = @{ OMP_NUM_THREADS = "$cores" }
        "$onLibTorch, libgomp's GOMP_SPINCOUNT=300000" = @{ OMP_NUM_THREADS = "$cores"; GOMP_SPINCOUNT = '300000' }
        "$onLibTorch, GOMP_SPINCOUNT=10000" = @{ OMP_NUM_THREADS = "$cores"; GOMP_SPINCOUNT = '10000' }
        "$onLibTorch, OMP_WAIT_POLICY=passive" = @{ OMP_NUM_THREADS = "$cores"; OMP_WAIT_POLICY = 'passive' } }
    # Program and its arguments as one string (Start-Process joins an array of arguments without quoting them).
    $neighbours = [ordered]@{ 'alone' = $null; 'busy loop' = @('sh', '-c "while :; do :; done"'); 'second training' = @($dotnet, "`"$PlainProgram`" `"$DataPath`" 1000") }
    $loadRuns = @{}
    foreach ($round in 1..$Rounds) {
        foreach ($neighbour in $neighbours.Keys) {
            $other = $neighbours[$neighbour] ? (Start-Process -FilePath $neighbours[$neighbour][0] -ArgumentList $neighbours[$neighbour][1] -PassThru -RedirectStandardOutput ($IsWindows ? 'NUL' : '/dev/null')) : $null
            try {
                if ($other) { Start-Sleep -Seconds 2 }
                foreach ($policy in $policies.Keys) {
                    $arguments = $policy -eq '-ThreadCount 1' ? $job + @('-ThreadCount', 1) : $job
                    Write-Host "  $policy, $neighbour ($round of $Rounds)..."
                    $loadRuns["$policy|$neighbour"] += @((Measure-Job $policy $pwsh $arguments $policies[$policy]).train_seconds)
                }
            }
            finally {
                if ($other) { $other.Kill($true); $other.WaitForExit() }
            }
        }
    }
    $policies.Keys | ForEach-Object {
        $alone = Get-Median $loadRuns["$_|alone"]
        [pscustomobject]@{ Setting = $_; 'Alone (s)' = Format-Seconds $alone
            'Busy loop (s)' = '{0:F2} ({1:F2}x)' -f ($busy = Get-Median $loadRuns["$_|busy loop"]), ($busy / $alone)
            'Second training (s)' = '{0:F2} ({1:F2}x)' -f ($second = Get-Median $loadRuns["$_|second training"]), ($second / $alone) }
    } | Format-Table -AutoSize | Out-String -Width 400 | Write-Host
    Write-Host '  (target: at most 2.5x the time alone with the MlpTools default; two jobs on 2 cores cannot do better than about 2x)'
    $parallel = Measure-Alternated @(
        [pscustomobject]@{ Side = 'two trainings in parallel runspaces'; FilePath = $pwsh; Environment = @{}; Arguments = $job + @('-Trainings', 2) }
        [pscustomobject]@{ Side = 'the same two one after the other'; FilePath = $pwsh; Environment = @{}; Arguments = $job + @('-Trainings', 2, '-Sequential') })
    Write-Host ('  Two trainings in parallel runspaces: {0:F2} s; one after the other: {1:F2} s (ratio {2:F2}, target at most 1.00)' -f `
        $parallel[0].train_seconds, $parallel[1].train_seconds, ($parallel[0].train_seconds / $parallel[1].train_seconds))
}

if ('Scaling' -in $Section) {
    $cores = [Environment]::ProcessorCount
    Write-Host "Scaling: $ScalingEpochs epochs (with per-epoch evaluation), $cores threads on every side, $Rounds rounds alternated:"
    $scaling = foreach ($size in $Sizes | ForEach-Object { $width, $depth = $_ -split 'x'; @{ Hidden = [int]$width; Depth = [int]$depth } }) {
        Write-Host "  width $($size.Hidden), depth $($size.Depth):"
        $results = Measure-Alternated (Get-Jobs $cores -JobEpochs $ScalingEpochs -Hidden $size.Hidden -Depth $size.Depth)
        $cmdlets = $results | Where-Object Side -EQ 'MlpTools cmdlets'
        $fastest = $results | Where-Object Side -NE 'MlpTools cmdlets' | Sort-Object train_seconds | Select-Object -First 1
        [pscustomobject]@{ Width = $size.Hidden; Depth = $size.Depth
            'Cmdlets train (s)' = Format-Seconds $cmdlets.train_seconds
            'Plain (s)' = Format-Seconds ($results | Where-Object Side -EQ 'Plain TorchSharp').train_seconds
            'PyTorch (s)' = Format-Seconds ($results | Where-Object Side -Like 'PyTorch*').train_seconds
            'Cmdlets / fastest other (target at most 1.1)' = '{0:F2}' -f ($cmdlets.train_seconds / $fastest.train_seconds)
            'Peak RSS MB (cmdlets, plain, PyTorch)' = ($results | ForEach-Object { '{0:F0}' -f ($_.peak_memory_bytes / 1MB) }) -join ', ' }
    }
    $scaling | Format-Table -AutoSize | Out-String -Width 400 | Write-Host
}

if ('Memory' -in $Section) {
    $shortEpochs, $longEpochs = $MemoryEpochs
    Write-Host "Peak memory over $shortEpochs and $longEpochs epochs, and prediction:"
    $memoryScript = Join-Path $here 'Measure-Memory.ps1'
    # Peak RSS varies by a few percent between runs of the same command, so each length runs twice, the lower peak kept.
    $lengthRuns = foreach ($lengthEpochs in $shortEpochs, $longEpochs, $shortEpochs, $longEpochs) {
        Measure-Job "$lengthEpochs epochs" $pwsh @('-NoProfile', '-NonInteractive', '-File', $memoryScript, '-ModulePath', $ModulePath, '-Epochs', $lengthEpochs)
    }
    $short = $lengthRuns | Where-Object Side -EQ "$shortEpochs epochs" | Sort-Object peak_memory_bytes | Select-Object -First 1
    $long = $lengthRuns | Where-Object Side -EQ "$longEpochs epochs" | Sort-Object peak_memory_bytes | Select-Object -First 1
    Write-Host ('  Peak RSS, {0} epochs: {1:F0} MB; {2} epochs: {3:F0} MB; ratio: {4:F3} (target at most 1.05)' -f `
        $shortEpochs, ($short.peak_memory_bytes / 1MB), $longEpochs, ($long.peak_memory_bytes / 1MB), ($long.peak_memory_bytes / $short.peak_memory_bytes))
    Write-Host ('  Prediction of {0} test images inside the cmdlet: {1:F3} s (target at most 0.25 s); ONNX Runtime {2:F3} s; through | Measure-Object {3:F3} s, {4:N0} objects/s (target at least 20,000)' -f `
        $short.predict_count, $short.predict_inside_seconds, $short.predict_onnx_inside_seconds, $short.predict_pipeline_seconds, ($short.predict_count / $short.predict_pipeline_seconds))
}
