<#
.SYNOPSIS
    Trains scikit-learn's MLPClassifier / MLPRegressor and MlpTools on the same rows with the same recipe, in one run,
    and prints their test figures and training times side by side.
.DESCRIPTION
    sklearn_side.py writes the datasets scikit-learn ships (iris, wine, breast cancer, digits; diabetes and the
    three-target linnerud for regression; nothing is downloaded) as train.csv and test.csv (20 % test, seed 1,
    stratified by class), and trains scikit-learn on those rows. This script then reads the same files with
    Import-MlpDataset and trains MlpTools on them.

    The recipe on both sides: the hidden layers of -HiddenSize with ReLU, Adam (beta 0.9/0.999, epsilon 1e-8) at
    -LearningRate, batches of -BatchSize (or the whole training part when it is smaller), each dataset's number of
    epochs (all of them run: no early stopping, no weight decay), a fresh shuffle each epoch, one run per -Seed.
    Features are standardised with the training rows' mean and standard deviation on both sides (scikit-learn:
    StandardScaler in a Pipeline; MlpTools does it itself), and so are regression targets (scikit-learn:
    TransformedTargetRegressor with a StandardScaler on y; MlpTools does it itself), with figures in the targets' own
    units. What still differs: the initial weights (scikit-learn: Glorot uniform weights and biases; MlpTools:
    kaiming normal weights, zero biases), a binary problem's output (one logistic unit against two softmax units),
    and the squared-error loss's factor 1/2 in scikit-learn (Adam makes that nearly irrelevant).

    Times are the fit alone (MLPClassifier.fit, Invoke-MlpTraining, which also measures the training set after every
    epoch), the mean over seeds, with -ThreadCount threads on each side; compare them within one run, the machine is
    shared.
.EXAMPLE
    dotnet pwsh tests/Benchmark/Sklearn/Compare-Sklearn.ps1 -ModulePath out/MlpTools/MlpTools.psd1
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$ModulePath,
    # Where the CSV files, sklearn.json and comparison.json go.
    [string]$WorkPath = (Join-Path $PSScriptRoot '../../../out/sklearn-bench'),
    # A Python with scikit-learn; by default the first of python3 and /usr/bin/python3 that has it.
    [string]$Python,
    [ValidateSet('iris', 'wine', 'breast_cancer', 'digits', 'diabetes', 'linnerud')]
    [string[]]$Dataset = @('iris', 'wine', 'breast_cancer', 'digits', 'diabetes', 'linnerud'),
    [int[]]$Seed = @(1, 2, 3),
    [int[]]$HiddenSize = @(100),
    [int]$BatchSize = 32,
    [double]$LearningRate = 1e-3,
    # Threads on each side (libtorch's -ThreadCount; OMP_NUM_THREADS and OPENBLAS_NUM_THREADS for numpy); 0 leaves both
    # at their defaults. One by default: on these small tables libtorch's thread pool costs more than it gives, and on a
    # busy machine its waiting threads made the same training 20 to 40 times slower from one run to the next.
    [ValidateRange(0, 256)]
    [int]$ThreadCount = 1,
    # MlpTools' weight initialisation (New-Mlp -Initialization); by default New-Mlp's own. XavierNormal is the nearer
    # to scikit-learn's Glorot uniform, which matters where training barely moves the weights (linnerud's 16 rows).
    [ValidateSet('KaimingNormal', 'XavierNormal')]
    [string]$Initialization
)
$ErrorActionPreference = 'Stop'
$invariant = [Globalization.CultureInfo]::InvariantCulture

function Find-PythonWithSklearn {
    # A pyenv or venv python3 may come first on PATH without scikit-learn, while Debian's python3-sklearn is in /usr/bin.
    foreach ($candidate in 'python3', '/usr/bin/python3') {
        if (-not (Get-Command $candidate -ErrorAction Ignore)) { continue }
        & $candidate -c 'import sklearn' 2>$null
        if ($LASTEXITCODE -eq 0) { return $candidate }
    }
    throw 'scikit-learn was not found for python3 or /usr/bin/python3. Install it (Debian, Ubuntu: apt-get install -y python3-sklearn), or give -Python <a python that has it>.'
}

function Format-Spread([double[]]$Values, [string]$Format) {
    # The mean over seeds, then the lowest and highest, so the seeds' noise is in view.
    $stats = $Values | Measure-Object -Average -Minimum -Maximum
    if ($Values.Count -eq 1) { return $stats.Average.ToString($Format, $invariant) }
    '{0} ({1}..{2})' -f $stats.Average.ToString($Format, $invariant), $stats.Minimum.ToString($Format, $invariant), $stats.Maximum.ToString($Format, $invariant)
}

function Get-Mean([double[]]$Values) { ($Values | Measure-Object -Average).Average }

function Import-Part($Set, [string]$Path) {
    $answers = if ($Set.task -eq 'classification') { @{ LabelColumn = $Set.label_column } } else { @{ TargetColumn = [string[]]$Set.target_columns } }
    Import-MlpDataset -Path $Path @answers
}

if (-not $Python) { $Python = Find-PythonWithSklearn }
# A relative path such as out/MlpTools/MlpTools.psd1 would be taken for a module name.
$ModulePath = (Resolve-Path $ModulePath).Path
New-Item -ItemType Directory $WorkPath -Force | Out-Null
$WorkPath = (Resolve-Path $WorkPath).Path
$threads = if ($ThreadCount -gt 0) { @{ ThreadCount = $ThreadCount } } else { @{} }
$initialisation = if ($Initialization) { @{ Initialization = $Initialization } } else { @{} }
$blasThreads = 'OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'
$savedEnvironment = @{}
foreach ($name in $blasThreads) { $savedEnvironment[$name] = [Environment]::GetEnvironmentVariable($name) }
Write-Host "scikit-learn side ($Python)..."
try {
    # Read by numpy's BLAS when it loads, so they are set before python starts (and restored after).
    if ($ThreadCount -gt 0) { foreach ($name in $blasThreads) { [Environment]::SetEnvironmentVariable($name, "$ThreadCount") } }
    & $Python (Join-Path $PSScriptRoot 'sklearn_side.py') --output $WorkPath --datasets @Dataset --seeds @Seed --hidden @HiddenSize `
        --batch-size $BatchSize --learning-rate $LearningRate.ToString('R', $invariant) | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "sklearn_side.py failed with exit code $LASTEXITCODE." }
}
finally {
    foreach ($name in $blasThreads) { [Environment]::SetEnvironmentVariable($name, $savedEnvironment[$name]) }
}
$sklearn = Get-Content (Join-Path $WorkPath 'sklearn.json') -Raw | ConvertFrom-Json

Import-Module $ModulePath
# One short untimed run first, so that loading libtorch and the first-call costs of .NET are not charged to one dataset.
$first = $sklearn.datasets[0]
$warmUp = Import-Part $first $first.train_csv
Invoke-MlpTraining -Model (New-Mlp -Dataset $warmUp -HiddenSize $HiddenSize -Seed 1) -Dataset $warmUp -Epochs 1 -Seed 1 @threads | Out-Null

$comparison = foreach ($set in $sklearn.datasets) {
    Write-Host "MlpTools side: $($set.name)..."
    $train = Import-Part $set $set.train_csv
    $test = Import-Part $set $set.test_csv
    $runs = foreach ($runSeed in $Seed) {
        $model = New-Mlp -Dataset $train -HiddenSize $HiddenSize -Seed $runSeed @initialisation
        $clock = [Diagnostics.Stopwatch]::StartNew()
        Invoke-MlpTraining -Model $model -Dataset $train -Epochs $set.epochs -BatchSize $set.batch_size -LearningRate $LearningRate `
            -Optimizer Adam -WeightDecay 0 -Seed $runSeed @threads | Out-Null
        $seconds = $clock.Elapsed.TotalSeconds
        $result = Test-MlpAccuracy -Model $model -Dataset $test @threads
        $run = [ordered]@{ seed = $runSeed; fit_seconds = $seconds }
        if ($set.task -eq 'classification') { $run.accuracy = $result.Accuracy }
        else { $run.rmse = $result.Rmse; $run.mae = $result.Mae; $run.r2 = $result.R2 }
        [pscustomobject]$run
        $model.Dispose()
    }
    $set | Add-Member -NotePropertyName mlptools -NotePropertyValue @($runs) -PassThru
}
$comparison | ConvertTo-Json -Depth 5 | Set-Content (Join-Path $WorkPath 'comparison.json')

# One row per dataset and figure: accuracy for classification, R² and RMSE for regression (test part, mean over seeds).
$rows = foreach ($set in $comparison) {
    $metrics = if ($set.task -eq 'classification') { @{ Label = 'Accuracy'; Key = 'accuracy'; Format = 'F4' } }
    else { @{ Label = 'R2'; Key = 'r2'; Format = 'F3' }, @{ Label = 'RMSE'; Key = 'rmse'; Format = 'F2' } }
    foreach ($metric in $metrics) {
        $label, $key, $format = $metric.Label, $metric.Key, $metric.Format
        $ours = [double[]]@($set.mlptools.$key)
        $theirs = [double[]]@($set.sklearn.$key)
        [pscustomobject]@{
            Dataset     = $set.name
            Task        = $set.task
            Rows        = '{0}/{1}' -f $set.train_rows, $set.test_rows
            Features    = $set.features
            Epochs      = $set.epochs
            Metric      = $label
            sklearn     = Format-Spread $theirs $format
            MlpTools    = Format-Spread $ours $format
            Difference  = ((Get-Mean $ours) - (Get-Mean $theirs)).ToString('+0.0000;-0.0000', $invariant)
            'sklearn s' = (Get-Mean ([double[]]@($set.sklearn.fit_seconds))).ToString('F2', $invariant)
            'MlpTools s' = (Get-Mean ([double[]]@($set.mlptools.fit_seconds))).ToString('F2', $invariant)
        }
    }
}
$recipe = $sklearn.recipe
Write-Host ("Recipe: hidden {0} ReLU, Adam lr {1}, batch {2}, epochs as listed, no weight decay, seeds {3}; test part 20 %, split seed {4}; threads per side: {5}; MlpTools initialisation: {6}; scikit-learn {7}, numpy {8}" -f `
    ($recipe.hidden -join '-'), $recipe.learning_rate.ToString($invariant), $recipe.batch_size, ($recipe.seeds -join ' '), $recipe.split_seed,
    ($ThreadCount -gt 0 ? $ThreadCount : 'defaults'), ($Initialization ? $Initialization : 'default'), $sklearn.sklearn_version, $sklearn.numpy_version)
Write-Host 'Figures: test part, mean over seeds (lowest..highest); Difference = MlpTools - sklearn (means); seconds = fit only, mean over seeds.'
# Named, since a table of more than ten properties would drop the rest.
Write-Host ($rows | Format-Table -AutoSize -Property Dataset, Task, Rows, Features, Epochs, Metric, sklearn, MlpTools, Difference, 'sklearn s', 'MlpTools s' | Out-String -Width 300)
