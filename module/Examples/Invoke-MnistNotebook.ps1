<#
.SYNOPSIS
    The lecture notebook, end to end: train a 784-256-10 ReLU MLP on MNIST and show what it learned.
.DESCRIPTION
    Kaiming-normal weights, zero biases, Adam (learning rate 1e-3), cross-entropy, batches of 256 shuffled
    every epoch, 10 epochs. Prints one line per epoch in the notebook's format, the final test accuracy and
    a 5x5 sample of test predictions ("Pred:x, Label:y"). Writes the epoch records and the sample to
    -OutputPath as CSV, and the notebook's pictures as PNG: the sample as a grid of digits (grid.png), the
    training curves (curves.png) and the test set's confusion matrix (confusion.png).
.EXAMPLE
    ./Invoke-MnistNotebook.ps1 -OutputPath ./demo
#>
[CmdletBinding()]
param(
    # The module to use; the copy this script ships with by default.
    [string]$ModulePath = (Join-Path $PSScriptRoot '../MlpTools.psd1'),
    [Parameter(Mandatory)]
    [string]$OutputPath,
    [int]$Epochs = 10,
    [long]$Seed = 1
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath
New-Item -ItemType Directory $OutputPath -Force | Out-Null

$train = Get-MnistDataset -Split Train
$test = Get-MnistDataset -Split Test
$model = New-Mlp -Seed $Seed
Write-Host "Model $($model.Layers), $($model.Activation), $($model.ParameterCount) parameters. Training on $($train.Count) images, testing on $($test.Count)."

$epochsCsv = Join-Path $OutputPath 'epochs.csv'
$records = Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $test -Epochs $Epochs -Seed $Seed |
    ForEach-Object {
        Write-Host ('epoch:[{0}] loss:[{1:F3}] train_accr:[{2:F3}] test_accr:[{3:F3}].' -f $_.Epoch, $_.Loss, $_.TrainAccuracy, $_.ValidationAccuracy)
        $_
    }
$records | Export-Csv $epochsCsv
$curves = $records | Export-MlpTrainingCurve -Path (Join-Path $OutputPath 'curves.png') -Force -Title "$($model.Layers) $($model.Activation) MLP on MNIST" -PassThru

$accuracy = Test-MlpAccuracy -Model $model -Dataset $test
Write-Host ('Test accuracy: {0:F4} ({1} of {2})' -f $accuracy.Accuracy, $accuracy.Correct, $accuracy.Total)
$confusion = $accuracy | Export-MlpConfusionMatrix -Path (Join-Path $OutputPath 'confusion.png') -Force -PassThru
Write-Host 'Most frequent mistakes (actual -> predicted: images):'
$accuracy.ConfusionMatrix.Mistakes | Select-Object -First 5 | ForEach-Object { Write-Host ('  {0} -> {1}: {2}' -f $_.Actual, $_.Predicted, $_.Images) }

# The notebook draws 25 random test images; a seeded draw makes the sample repeatable.
$sample = Get-Random -InputObject (0..($test.Count - 1)) -Count 25 -SetSeed $Seed
$predictions = Invoke-MlpPrediction -Model $model -Dataset $test -Index $sample
$predictions | Export-Csv (Join-Path $OutputPath 'predictions.csv')
Write-Host 'Sample of test predictions:'
for ($row = 0; $row -lt 5; $row++) {
    Write-Host (($predictions[($row * 5)..($row * 5 + 4)] | ForEach-Object { 'Pred:{0}, Label:{1}' -f $_.Predicted, $_.Label }) -join ' | ')
}
$grid = $predictions | Export-MlpDigitGrid -Dataset $test -Path (Join-Path $OutputPath 'grid.png') -Force -PassThru
Write-Host "Wrote $epochsCsv and $(Join-Path $OutputPath 'predictions.csv')"
Write-Host "Pictures: $($grid.FullName) (the sample), $($curves.FullName) (training curves), $($confusion.FullName) (confusion matrix)"
