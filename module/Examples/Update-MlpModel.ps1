<#
.SYNOPSIS
    Scheduled retraining: trains a candidate model, compares it with the deployed one on held-out data, and replaces
    the deployed file only if the candidate is better.
.DESCRIPTION
    Meant to be run by a scheduler (cron, a systemd timer, the Windows Task Scheduler; see about_MlpTools_ModelFiles).
    Each run:

      1. reads the training split and the held-out split (the test split) from -DataPath;
      2. trains a candidate with the deployed model's architecture (or -HiddenSize when nothing is deployed yet),
         writing a checkpoint after every epoch; if a previous run was killed, it resumes from that checkpoint when
         the checkpoint is of the same recipe (layers, epochs, batch size, learning rate, and -Seed when given) and
         data, and otherwise warns and starts afresh;
      3. measures the candidate's and the deployed model's accuracy on the held-out split;
      4. if the candidate is strictly more accurate (or nothing is deployed), writes it over -DeployedPath atomically
         (the old file stays intact until the new one is complete);
      5. appends one JSON line to -HistoryPath: the time, the outcome (Promoted, Kept or Failed), both accuracies,
         the recipe, the data's fingerprint, and the error if any.

    Exit code 0 when the run completed (whether it promoted or kept), 1 when it failed, so a scheduler notices.
    -WhatIf reads the data and the deployed model, says what a run would do, and stops there: it trains nothing
    and writes nothing.
.EXAMPLE
    pwsh -NoProfile -File Update-MlpModel.ps1 -DeployedPath /srv/models/digits.mlp
.EXAMPLE
    ./Update-MlpModel.ps1 -DeployedPath ./digits.mlp -DataPath ./mnist -Epochs 3 -WhatIf
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    # The model file in service. Created by the first successful run.
    [Parameter(Mandatory)]
    [string]$DeployedPath,
    # Folder of the IDX files (train and test splits); the per-user MlpTools data folder by default.
    [string]$DataPath,
    # One JSON object a line, appended to on every run.
    [string]$HistoryPath = "$DeployedPath.history.jsonl",
    # Where the candidate's training is checkpointed; deleted when the run ends.
    [string]$CheckpointPath = "$DeployedPath.candidate.ckpt",
    [ValidateRange(1, 100000)][int]$Epochs = 10,
    # Used only when nothing is deployed yet; otherwise the deployed model's layers are kept.
    [int[]]$HiddenSize = @(256),
    [ValidateRange(1, 1000000)][int]$BatchSize = 256,
    [double]$LearningRate = 1e-3,
    # Seeds the candidate's weights and shuffling; a random one (recorded in the history) by default.
    [long]$Seed = (Get-Random -Minimum 0 -Maximum ([int]::MaxValue)),
    # The module to use; the copy this script ships with by default.
    [string]$ModulePath = (Join-Path $PSScriptRoot '../MlpTools.psd1')
)

$ErrorActionPreference = 'Stop'
$started = [DateTimeOffset]::UtcNow
$entry = [ordered]@{
    time = $started.ToString('o'); outcome = $null; deployedPath = $DeployedPath
    candidateAccuracy = $null; deployedAccuracy = $null; epochs = $Epochs; seed = $Seed
    batchSize = $BatchSize; learningRate = $LearningRate; resumed = $false
    trainData = $null; holdOutData = $null; layers = $null; seconds = $null; error = $null; errorId = $null
}
$exitCode = 0
try {
    Import-Module $ModulePath
    $dataArguments = if ($DataPath) { @{ Path = $DataPath } } else { @{} }
    $train = Get-MnistDataset @dataArguments -Split Train
    $holdOut = Get-MnistDataset @dataArguments -Split Test
    $entry.holdOutData = "$($holdOut.Count) images from $($holdOut.Source)"

    $deployed = if (Test-Path -LiteralPath $DeployedPath) { Import-Mlp -LiteralPath $DeployedPath }
    # The candidate has the deployed model's shape, so the two answer the same question.
    $shape = if ($deployed) { @{ InputSize = $deployed.InputSize; HiddenSize = @($deployed.HiddenSizes); OutputSize = $deployed.OutputSize } }
             else { @{ InputSize = $train.ImageSize; HiddenSize = $HiddenSize; OutputSize = $train.ClassCount } }

    $layers = '{0}-{1}-{2}' -f $shape.InputSize, ($shape.HiddenSize -join '-'), $shape.OutputSize
    if ($deployed) { $entry.deployedAccuracy = (Test-MlpAccuracy -Model $deployed -Dataset $holdOut).Accuracy }
    $deployedText = if ($null -eq $entry.deployedAccuracy) { 'none deployed' } else { 'deployed {0:P2}' -f $entry.deployedAccuracy }

    # -WhatIf stops here: it trains nothing and writes nothing (no checkpoint, no model, no history line).
    if (-not $PSCmdlet.ShouldProcess($DeployedPath, "Train a $layers candidate ($Epochs epochs, batch size $BatchSize, learning rate $LearningRate) " +
            "on $($train.Count) images, checkpointing to $CheckpointPath, and replace the deployed model if it beats $deployedText on $($holdOut.Count) held-out images")) {
        $entry.outcome = 'Skipped'
        return
    }

    $candidate = $null
    if (Test-Path -LiteralPath $CheckpointPath) {
        # A previous run was cut short: go on from its last epoch, but only if it is this recipe (a seed given with -Seed
        # included) on the same data; a checkpoint of another recipe is replaced, never resumed silently.
        $saved = Import-Mlp -LiteralPath $CheckpointPath
        $savedOptions = $saved.History.Runs[-1].Options
        $differences = @(
            if ($saved.Layers -ne $layers) { "layers $($saved.Layers), not $layers" }
            if ($savedOptions.Epochs -ne $Epochs) { "$($savedOptions.Epochs) epochs, not $Epochs" }
            if ($savedOptions.BatchSize -ne $BatchSize) { "batch size $($savedOptions.BatchSize), not $BatchSize" }
            if ($savedOptions.LearningRate -ne $LearningRate) { "learning rate $($savedOptions.LearningRate), not $LearningRate" }
            if ($PSBoundParameters.ContainsKey('Seed') -and $savedOptions.Seed -ne $Seed) { "seed $($savedOptions.Seed), not $Seed" }
        )
        $saved.Dispose()
        if ($differences) {
            Write-Warning "The checkpoint $CheckpointPath is of another recipe ($($differences -join '; ')); starting afresh."
        } else {
            try {
                $candidate = Invoke-MlpTraining -Dataset $train -CheckpointPath $CheckpointPath -Resume -PassThru | Select-Object -Last 1
                $entry.resumed = $true
                $entry.seed = $savedOptions.Seed
            } catch {
                if ($_.FullyQualifiedErrorId -notlike 'CheckpointDatasetMismatch,*') { throw }
                Write-Warning "The checkpoint $CheckpointPath is of other data; starting afresh."
            }
        }
    }
    if (-not $candidate) {
        $candidate = New-Mlp @shape -Seed $Seed -Name 'candidate'
        Invoke-MlpTraining -Model $candidate -Dataset $train -Epochs $Epochs -BatchSize $BatchSize -LearningRate $LearningRate -Seed $Seed `
            -CheckpointPath $CheckpointPath | Out-Null
    }
    $entry.layers = $candidate.Layers
    $entry.trainData = $candidate.History.Runs[-1].TrainData.Sha256
    $entry.candidateAccuracy = (Test-MlpAccuracy -Model $candidate -Dataset $holdOut).Accuracy

    if ($null -eq $entry.deployedAccuracy -or $entry.candidateAccuracy -gt $entry.deployedAccuracy) {
        if ($PSCmdlet.ShouldProcess($DeployedPath, ("Replace the deployed model ({0}) with the candidate ({1:P2})" -f $deployedText, $entry.candidateAccuracy))) {
            Export-Mlp -Model $candidate -Path $DeployedPath -Force
            $entry.outcome = 'Promoted'
        } else {
            $entry.outcome = 'WouldPromote'
        }
    } else {
        $entry.outcome = 'Kept'
    }
    Remove-Item -LiteralPath $CheckpointPath -ErrorAction Ignore
    Write-Host ("{0}: candidate {1:P2}, {2} on {3} held-out images." -f $entry.outcome, $entry.candidateAccuracy, $deployedText, $holdOut.Count)
} catch {
    $entry.outcome = 'Failed'
    $entry.error = $_.Exception.Message
    $entry.errorId = $_.FullyQualifiedErrorId
    Write-Error -ErrorRecord $_ -ErrorAction Continue
    $exitCode = 1
} finally {
    $entry.seconds = [Math]::Round(([DateTimeOffset]::UtcNow - $started).TotalSeconds, 3)
    # One line per run, appended, so the log is never rewritten; -WhatIf runs are not logged.
    if (-not $WhatIfPreference) {
        Add-Content -LiteralPath $HistoryPath -Value ($entry | ConvertTo-Json -Compress) -Encoding utf8NoBOM
    }
}
exit $exitCode
