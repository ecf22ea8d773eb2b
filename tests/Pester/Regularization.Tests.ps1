BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.InvokeMlpTrainingCommand'
    # 32 separable 4x4 images (2 classes); the same images with every label flipped, so that as the model learns the
    # training set its loss on the flipped set can only rise; and 10 other images of which 3 (0, 3, 5) are mislabelled,
    # whose loss first falls (7 right) and then rises (the 3 wrong ones grow more confidently wrong).
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $data = New-SeparableData -Count 32 -Seed 1
    $flippedLabels = [byte[]]@($data.Labels | ForEach-Object { 1 - $_ })
    Write-MnistSplit -Folder (Join-Path $TestDrive 'flipped') -Split Test -Pixels $data.Pixels -Labels $flippedLabels -Height 4 -Width 4
    $flipped = Get-MnistDataset -Path (Join-Path $TestDrive 'flipped') -Split Test -Name Flipped -ErrorAction Stop
    $mislabelled = New-SeparableDataset -Folder (Join-Path $TestDrive 'mislabelled') -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test -Name Mislabelled

    function Invoke-Tiny {
        # Trains with the tiny recipe; extra parameters are passed through.
        param([Parameter(Mandatory)]$Model, [hashtable]$With = @{})
        $recipe = @{ Dataset = $train; Epochs = 4; BatchSize = 8; LearningRate = 0.01; Seed = 3; ErrorAction = 'Stop' }
        foreach ($key in $With.Keys) { $recipe[$key] = $With[$key] }
        @(Invoke-MlpTraining -Model $Model @recipe)
    }

    function Get-WeightNormTerm {
        <#
        .SYNOPSIS
            Per weight matrix: a = ‖g‖², b = g·W and c = ‖W‖² at the model's current weights (g = ∂L/∂W over -Dataset),
            read off Test-MlpGradient's GradientNorm = ‖g + λW‖ at λ = 0, Λ and 2Λ: ‖g + λW‖² = a + 2bλ + cλ².
            An independent view of the weights, which no cmdlet exposes.
        #>
        param([Parameter(Mandatory)]$Model, $Dataset = $train, [double]$Lambda = 100)
        $size = $Dataset.Count
        $at0 = @(Test-MlpGradient -Model $Model -Dataset $Dataset -BatchSize $size -WeightDecay 0 -ErrorAction Stop)
        $at1 = @(Test-MlpGradient -Model $Model -Dataset $Dataset -BatchSize $size -WeightDecay $Lambda -ErrorAction Stop)
        $at2 = @(Test-MlpGradient -Model $Model -Dataset $Dataset -BatchSize $size -WeightDecay (2 * $Lambda) -ErrorAction Stop)
        for ($l = 0; $l -lt $at0.Count; $l++) {
            $n0 = [math]::Pow($at0[$l].GradientNorm, 2)
            $n1 = [math]::Pow($at1[$l].GradientNorm, 2)
            $n2 = [math]::Pow($at2[$l].GradientNorm, 2)
            $c = ($n2 - 2 * $n1 + $n0) / (2 * $Lambda * $Lambda)
            [pscustomobject]@{ A = $n0; B = ($n1 - $n0 - $c * $Lambda * $Lambda) / (2 * $Lambda); C = $c }
        }
    }

    function Get-SquaredWeightSum($Model) { (Get-WeightNormTerm $Model | Measure-Object -Property C -Sum).Sum }

    function Get-MeanCrossEntropy($Model, $Dataset) {
        # From 2-class predictions: the probability of the label is the confidence, or 1 - it when the prediction is wrong.
        $sum = 0.0
        foreach ($p in Invoke-MlpPrediction -Model $Model -Dataset $Dataset -ErrorAction Stop) {
            $sum -= [math]::Log($(if ($p.Correct) { $p.Confidence } else { 1 - $p.Confidence }))
        }
        $sum / $Dataset.Count
    }
}

Describe 'Dropout' {
    It 'is active in training: the same seeds give the same losses, dropout 0.5 different ones from dropout 0' {
        $first = Invoke-Tiny (New-TinyModel -Dropout 0.5)
        $second = Invoke-Tiny (New-TinyModel -Dropout 0.5)
        $none = Invoke-Tiny (New-TinyModel -Dropout 0)
        $first.Loss | Should -Be $second.Loss
        for ($e = 0; $e -lt 4; $e++) { $first[$e].Loss | Should -Not -Be $none[$e].Loss }
    }

    It 'draws its masks from the training seed: another -Seed gives other losses' {
        $seed3 = Invoke-Tiny (New-TinyModel -Dropout 0.5) -With @{ Epochs = 1; BatchSize = 32 }
        $seed4 = Invoke-Tiny (New-TinyModel -Dropout 0.5) -With @{ Epochs = 1; BatchSize = 32; Seed = 4 }
        $plain3 = Invoke-Tiny (New-TinyModel) -With @{ Epochs = 1; BatchSize = 32 }
        $plain4 = Invoke-Tiny (New-TinyModel) -With @{ Epochs = 1; BatchSize = 32; Seed = 4 }
        # One full batch: without dropout the shuffle cannot change the mean loss of the single step...
        [math]::Abs($plain3.Loss - $plain4.Loss) | Should -BeLessThan 1e-6
        # ...with dropout the masks can.
        [math]::Abs($seed3.Loss - $seed4.Loss) | Should -BeGreaterThan 1e-4
    }

    It 'is off in evaluation: an untrained dropout model predicts exactly what the same model without dropout does' {
        $with = @(Invoke-MlpPrediction -Model (New-TinyModel -Seed 9 -Dropout 0.5) -Dataset $train)
        $without = @(Invoke-MlpPrediction -Model (New-TinyModel -Seed 9) -Dataset $train)
        $with.Confidence | Should -Be $without.Confidence
        $with.Predicted | Should -Be $without.Predicted
    }

    It 'is off for accuracy and prediction after training: repeated calls agree, and TrainAccuracy is the evaluation''s' {
        $model = New-TinyModel -Dropout 0.5
        $records = Invoke-Tiny $model -With @{ Epochs = 3 }
        $a = Test-MlpAccuracy -Model $model -Dataset $mislabelled
        $b = Test-MlpAccuracy -Model $model -Dataset $mislabelled
        $a.Correct | Should -Be $b.Correct
        $a.PerClass.Correct | Should -Be $b.PerClass.Correct
        $p = @(Invoke-MlpPrediction -Model $model -Dataset $train)
        $q = @(Invoke-MlpPrediction -Model $model -Dataset $train)
        $p.Confidence | Should -Be $q.Confidence
        $p.Predicted | Should -Be $q.Predicted
        (Test-MlpAccuracy -Model $model -Dataset $train).Accuracy | Should -Be $records[-1].TrainAccuracy
    }
}

Describe 'Weight decay (the lecture''s J = L + λ/2·Σ‖W‖²)' {
    It 'WeightPenalty is 0 with λ = 0 and the record carries λ and the optimizer' {
        $records = Invoke-Tiny (New-TinyModel)
        $records.WeightPenalty | Should -Be (0, 0, 0, 0)
        $records.WeightDecay | Should -Be (0, 0, 0, 0)
        $records.Optimizer | Should -Be ('Adam', 'Adam', 'Adam', 'Adam')
    }

    It 'WeightPenalty is λ/2·Σ‖W‖² of the weights at the end of the epoch, Σ‖W‖² measured independently' {
        foreach ($optimizer in 'Adam', 'AdamW', 'SGD') {
            $model = New-TinyModel
            $records = Invoke-Tiny $model -With @{ Optimizer = $optimizer; WeightDecay = 0.01; Epochs = 2 }
            $records.WeightDecay | Should -Be (0.01, 0.01)
            $records.Optimizer | Should -Be ($optimizer, $optimizer)
            $expected = 0.01 / 2 * (Get-SquaredWeightSum $model)
            [math]::Abs($records[-1].WeightPenalty - $expected) / $expected | Should -BeLessThan 1e-5 -Because "$optimizer's penalty should be $expected"
        }
    }

    It 'SGD descends the gradient of J, λW included: one full-batch step lands where the lecture''s formula says' {
        # W' = W - η(g + λW) for every weight matrix, so Σ‖W'‖² = Σ (c - 2η(b + λc) + η²‖g + λW‖²).
        $model = New-TinyModel
        $terms = Get-WeightNormTerm $model
        $eta = 0.1; $lambda = 0.5
        $next = 0.0
        foreach ($t in $terms) { $next += $t.C - 2 * $eta * ($t.B + $lambda * $t.C) + $eta * $eta * ($t.A + 2 * $lambda * $t.B + $lambda * $lambda * $t.C) }
        $record = Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -BatchSize 32 -Optimizer SGD -LearningRate $eta -WeightDecay $lambda -Seed 1 -ErrorAction Stop
        $expected = $lambda / 2 * $next
        [math]::Abs($record.WeightPenalty - $expected) / $expected | Should -BeLessThan 1e-5 -Because "the penalty after the step should be $expected"
        # Had the λW term been left out of the step, the weights would have shrunk by far less.
        $withoutDecay = 0.0
        foreach ($t in $terms) { $withoutDecay += $t.C - 2 * $eta * $t.B + $eta * $eta * $t.A }
        [math]::Abs($record.WeightPenalty - $lambda / 2 * $withoutDecay) / $expected | Should -BeGreaterThan 0.01
    }

    It 'λ = 0.1 keeps the weights smaller than λ = 1e-9 after the same training, with <_>' -ForEach 'Adam', 'AdamW', 'SGD' {
        $with = @{ Optimizer = $_; Epochs = 6 }
        if ($_ -eq 'SGD') { $with.Momentum = 0.9 }
        $tiny = Invoke-Tiny (New-TinyModel) -With ($with + @{ WeightDecay = 1e-9 })
        $strong = Invoke-Tiny (New-TinyModel) -With ($with + @{ WeightDecay = 0.1 })
        $strong[-1].WeightPenalty / 0.1 | Should -BeLessThan ($tiny[-1].WeightPenalty / 1e-9)
    }

    It 'AdamW decays outside the gradient: same λ, different losses from Adam; with λ = 0 it is Adam' {
        $adam = Invoke-Tiny (New-TinyModel) -With @{ Optimizer = 'Adam'; WeightDecay = 0.5 }
        $adamW = Invoke-Tiny (New-TinyModel) -With @{ Optimizer = 'AdamW'; WeightDecay = 0.5 }
        $adam[-1].Loss | Should -Not -Be $adamW[-1].Loss
        $adam[-1].WeightPenalty | Should -Not -Be $adamW[-1].WeightPenalty
        (Invoke-Tiny (New-TinyModel) -With @{ Optimizer = 'AdamW' }).Loss | Should -Be (Invoke-Tiny (New-TinyModel) -With @{ Optimizer = 'Adam' }).Loss
    }

    It 'SGD with momentum trains (loss falls, accuracy 1) and momentum changes the run' {
        $momentum = Invoke-Tiny (New-TinyModel) -With @{ Optimizer = 'SGD'; Momentum = 0.9; LearningRate = 0.05; Epochs = 6 }
        $momentum.Optimizer | Should -Be (@('SGD') * 6)
        $momentum[-1].Loss | Should -BeLessThan ($momentum[0].Loss / 2)
        $momentum[-1].TrainAccuracy | Should -Be 1
        $plain = Invoke-Tiny (New-TinyModel) -With @{ Optimizer = 'SGD'; LearningRate = 0.05; Epochs = 6 }
        $plain[-1].Loss | Should -Not -Be $momentum[-1].Loss
    }
}

Describe 'Learning-rate schedules' {
    It 'Step with -StepSize 2 -Gamma 0.5 gives 1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4' {
        $records = Invoke-Tiny (New-TinyModel) -With @{ LearningRate = 1e-3; Epochs = 5; LearningRateSchedule = 'Step'; StepSize = 2; Gamma = 0.5 }
        $records.LearningRate | Should -Be (1e-3, 1e-3, 5e-4, 5e-4, 2.5e-4)
    }

    It 'None keeps the learning rate' {
        (Invoke-Tiny (New-TinyModel) -With @{ LearningRate = 0.02 }).LearningRate | Should -Be (0.02, 0.02, 0.02, 0.02)
    }

    It 'the optimizer really steps with the scheduled rate: a rate cut to 1e-6 of itself freezes full-batch SGD' {
        # One batch an epoch: each record's loss is the loss at the weights the previous epoch's step produced.
        $step = @{ Optimizer = 'SGD'; LearningRate = 0.5; BatchSize = 32 }
        $frozen = Invoke-Tiny (New-TinyModel) -With ($step + @{ LearningRateSchedule = 'Step'; StepSize = 1; Gamma = 1e-6 })
        $free = Invoke-Tiny (New-TinyModel) -With $step
        $frozen[1].Loss | Should -Be $free[1].Loss
        [math]::Abs($frozen[3].Loss - $frozen[1].Loss) | Should -BeLessThan 1e-5
        $free[3].Loss | Should -BeLessThan ($free[1].Loss - 0.05)
    }

    It 'ReduceOnPlateau keeps the rate while the monitored loss improves' {
        $records = Invoke-Tiny (New-TinyModel) -With @{ Epochs = 6; LearningRateSchedule = 'ReduceOnPlateau'; SchedulePatience = 1; Gamma = 0.5 }
        for ($e = 1; $e -lt 6; $e++) { $records[$e].Loss | Should -BeLessThan $records[$e - 1].Loss -Because 'the premise: the training loss improves every epoch' }
        $records.LearningRate | Should -Be (@(0.01) * 6)
    }

    It 'ReduceOnPlateau cuts the rate by Gamma after SchedulePatience epochs without an improvement of MinDelta' {
        # No loss can beat the first epoch's by 1e6: epochs 2 and 3 do not improve, so epoch 4 runs at 0.01·γ; 4 and 5 again, so 6 at 0.01·γ².
        $records = Invoke-Tiny (New-TinyModel) -With @{ Epochs = 6; LearningRateSchedule = 'ReduceOnPlateau'; SchedulePatience = 2; Gamma = 0.5; MinDelta = 1e6 }
        $records.LearningRate | Should -Be (0.01, 0.01, 0.01, 0.005, 0.005, 0.0025)
    }

    It 'ReduceOnPlateau watches the validation loss when there is one' {
        # The training loss falls, the flipped set's loss rises from the first epoch on: with patience 1 every later epoch halves the rate.
        $records = Invoke-Tiny (New-TinyModel) -With @{ ValidationDataset = $flipped; LearningRateSchedule = 'ReduceOnPlateau'; SchedulePatience = 1; Gamma = 0.5 }
        for ($e = 1; $e -lt 4; $e++) {
            $records[$e].ValidationLoss | Should -BeGreaterThan $records[$e - 1].ValidationLoss -Because 'the premise: the flipped set gets worse'
            $records[$e].Loss | Should -BeLessThan $records[$e - 1].Loss
        }
        $records.LearningRate | Should -Be (0.01, 0.01, 0.005, 0.0025)
    }
}

Describe 'Early stopping and validation' {
    It 'without validation data is refused: EarlyStoppingNeedsValidation, and nothing is trained' {
        $model = New-TinyModel
        { Invoke-MlpTraining -Model $model -Dataset $train -EarlyStopping -Epochs 2 -ErrorAction Stop } | Should -Throw -ErrorId "EarlyStoppingNeedsValidation,$Cmdlet"
        $null = Invoke-MlpTraining -Model $model -Dataset $train -EarlyStopping -Epochs 2 -ErrorVariable failure -ErrorAction SilentlyContinue
        $failure[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $failure[0].Exception.Message | Should -Match 'ValidationDataset'
        $model.EpochsTrained | Should -Be 0
    }

    It '-ValidationFraction together with -ValidationDataset is refused: ValidationSourceAmbiguous' {
        $model = New-TinyModel
        { Invoke-MlpTraining -Model $model -Dataset $train -ValidationDataset $mislabelled -ValidationFraction 0.25 -Epochs 1 -ErrorAction Stop } |
            Should -Throw -ErrorId "ValidationSourceAmbiguous,$Cmdlet"
        $model.EpochsTrained | Should -Be 0
    }

    It 'a validation fraction that leaves no image on one side is refused: ValidationFractionInvalid' {
        { Invoke-MlpTraining -Model (New-TinyModel) -Dataset $train -ValidationFraction 0.01 -Epochs 1 -ErrorAction Stop } |
            Should -Throw -ErrorId "ValidationFractionInvalid,$Cmdlet"
    }

    It '-ValidationFraction 0.25 holds out 8 of the 32 images: validation accuracies in eighths, training ones in 24ths' {
        $records = Invoke-Tiny (New-TinyModel) -With @{ ValidationFraction = 0.25; Epochs = 2; LearningRate = 0.001 }
        foreach ($record in $records) {
            $record.ValidationLoss | Should -BeGreaterThan 0
            ($record.ValidationAccuracy * 8) | Should -Be ([math]::Round($record.ValidationAccuracy * 8))
            $correct = $record.TrainAccuracy * 24
            [math]::Abs($correct - [math]::Round($correct)) | Should -BeLessThan 1e-9
        }
    }

    Context 'validation loss rising from the start (the flipped set)' {
        BeforeAll {
            $model = New-TinyModel
            $records = Invoke-Tiny $model -With @{ ValidationDataset = $flipped; Epochs = 30; EarlyStopping = $true; Patience = 3 }
        }

        It 'stops after Patience epochs without improvement, long before -Epochs' {
            $records.Count | Should -Be 4
            $model.EpochsTrained | Should -Be 4
            for ($e = 1; $e -lt 4; $e++) { $records[$e].ValidationLoss | Should -BeGreaterThan $records[$e - 1].ValidationLoss }
        }

        It 'the last record says why and which epoch is kept; earlier ones have no StopReason' {
            $records[-1].StopReason | Should -Match 'Early stopping'
            $records[-1].StopReason | Should -Match 'epoch 1\b'
            $records[0..2].StopReason | Should -Be ($null, $null, $null)
            $records.BestEpoch | Should -Be (1, 1, 1, 1)
        }

        It 'keeps the weights of the best epoch: the flipped set''s loss is back at epoch 1''s' {
            $loss = Get-MeanCrossEntropy $model $flipped
            [math]::Abs($loss - $records[0].ValidationLoss) | Should -BeLessThan 1e-5
            [math]::Abs($loss - $records[-1].ValidationLoss) | Should -BeGreaterThan 0.1
        }
    }

    Context 'validation loss falling, then rising (3 of 10 mislabelled)' {
        BeforeAll {
            $model = New-TinyModel
            $records = Invoke-Tiny $model -With @{ ValidationDataset = $mislabelled; Epochs = 40; LearningRate = 0.003; EarlyStopping = $true; Patience = 2 }
            $best = $records[-1].BestEpoch
            $kept = $records | Where-Object Epoch -EQ $best
        }

        It 'stops early with the best epoch in the middle of the run' {
            $records.Count | Should -BeLessThan 40
            $best | Should -BeGreaterThan 1
            $best | Should -Be ($records.Count - 2)
            $records[-1].StopReason | Should -Match "epoch $best\b"
            $kept.ValidationLoss | Should -Be ($records.ValidationLoss | Measure-Object -Minimum).Minimum
        }

        It 'the model ends with the best epoch''s weights: its validation loss and accuracy are that epoch''s' {
            [math]::Abs((Get-MeanCrossEntropy $model $mislabelled) - $kept.ValidationLoss) | Should -BeLessThan 1e-6
            [math]::Abs((Get-MeanCrossEntropy $model $mislabelled) - $records[-1].ValidationLoss) | Should -BeGreaterThan 1e-4
            (Test-MlpAccuracy -Model $model -Dataset $mislabelled).Accuracy | Should -Be $kept.ValidationAccuracy
        }

        It 'the same model trained for exactly BestEpoch epochs predicts identically' {
            $replay = New-TinyModel
            $null = Invoke-Tiny $replay -With @{ ValidationDataset = $mislabelled; Epochs = $best; LearningRate = 0.003 }
            (Invoke-MlpPrediction -Model $replay -Dataset $mislabelled).Confidence | Should -Be (Invoke-MlpPrediction -Model $model -Dataset $mislabelled).Confidence
        }
    }

    It 'Export-Csv keeps ValidationLoss, BestEpoch, StopReason, LearningRate, WeightPenalty and GradientNorm_lin_N' {
        $csv = Join-Path $TestDrive 'run.csv'
        $records = Invoke-Tiny (New-TinyModel -Hidden 8, 4) -With @{ ValidationDataset = $flipped; Epochs = 30; EarlyStopping = $true; Patience = 2; WeightDecay = 0.01; TrackGradient = $true }
        $records | Export-Csv -Path $csv -NoTypeInformation
        $rows = @(Import-Csv -Path $csv)
        $columns = $rows[0].PSObject.Properties.Name
        foreach ($column in 'ValidationLoss', 'BestEpoch', 'StopReason', 'LearningRate', 'WeightPenalty', 'GradientNorm_lin_1', 'GradientNorm_lin_2', 'GradientNorm_lin_3') {
            $columns | Should -Contain $column
        }
        $columns | Should -Not -Contain 'GradientNorm_lin_4'
        $rows.Count | Should -Be $records.Count
        for ($i = 0; $i -lt $rows.Count; $i++) {
            [double]$rows[$i].ValidationLoss | Should -Be $records[$i].ValidationLoss
            [double]$rows[$i].WeightPenalty | Should -Be $records[$i].WeightPenalty
            [double]$rows[$i].GradientNorm_lin_3 | Should -Be $records[$i].GradientNorm_lin_3
            [int]$rows[$i].BestEpoch | Should -Be $records[$i].BestEpoch
        }
        $rows[-1].StopReason | Should -BeExactly $records[-1].StopReason
        $rows[0].StopReason | Should -BeExactly ''
    }

    It 'without -TrackGradient there are no GradientNorm_lin_N properties' {
        $record = Invoke-Tiny (New-TinyModel) -With @{ Epochs = 1 }
        $record.GradientNorms | Should -BeNullOrEmpty
        $record.PSObject.Properties.Name -like 'GradientNorm_lin_*' | Should -BeNullOrEmpty
    }
}

Describe 'Divergence' {
    BeforeAll {
        $model = New-TinyModel
        $records = @(Invoke-MlpTraining -Model $model -Dataset $train -Optimizer SGD -LearningRate 1000 -WeightDecay 1000 -Epochs 5 -BatchSize 8 -Seed 1 -ErrorVariable failure -ErrorAction SilentlyContinue)
    }

    It 'stops with TrainingDiverged (InvalidOperation), naming the epoch and the batch and suggesting a smaller rate' {
        $failure.Count | Should -Be 1
        $failure[0].FullyQualifiedErrorId | Should -BeExactly "TrainingDiverged,$Cmdlet"
        $failure[0].CategoryInfo.Category | Should -Be 'InvalidOperation'
        $failure[0].Exception.Message | Should -Match 'epoch \d+, batch \d+ of 4'
        $failure[0].Exception.Message | Should -Match 'smaller learning rate than 1000'
        $records.Count | Should -BeLessThan 5
        $failure[0].Exception.Message | Should -Match "epoch $($records.Count + 1), batch"
    }

    It '-ErrorAction Stop makes it terminating' {
        { Invoke-MlpTraining -Model (New-TinyModel) -Dataset $train -Optimizer SGD -LearningRate 1000 -WeightDecay 1000 -Epochs 5 -BatchSize 8 -Seed 1 -ErrorAction Stop } |
            Should -Throw -ErrorId "TrainingDiverged,$Cmdlet"
    }

    It 'the model keeps finite weights: accuracy works and every confidence is a finite number' {
        $accuracy = Test-MlpAccuracy -Model $model -Dataset $train -ErrorAction Stop
        $accuracy.Total | Should -Be 32
        $predictions = @(Invoke-MlpPrediction -Model $model -Dataset $train -ErrorAction Stop)
        $predictions.Count | Should -Be 32
        foreach ($p in $predictions) {
            [double]::IsFinite($p.Confidence) | Should -BeTrue
            $p.Confidence | Should -BeGreaterOrEqual 0.5
            $p.Confidence | Should -BeLessOrEqual 1
        }
        foreach ($term in Get-WeightNormTerm $model) { [double]::IsFinite($term.C) | Should -BeTrue }
    }

    It 'a blow-up in the last step of a run is caught too (or at least leaves finite weights)' {
        # The per-batch guard checks each loss before its step, so the last step of a run meets no further batch. Full-batch
        # SGD with η = λ = 1000 grows the weights about 1e6-fold a step; the 4th step overflows. Before the end-of-epoch
        # check this gave 4 records, no error, WeightPenalty = Infinity on the last one, and NaN confidences afterwards.
        $victim = New-TinyModel
        $run = @(Invoke-MlpTraining -Model $victim -Dataset $train -Optimizer SGD -LearningRate 1000 -WeightDecay 1000 -Epochs 4 -BatchSize 32 -Seed 1 -ErrorVariable lastStep -ErrorAction SilentlyContinue)
        $confidences = @(Invoke-MlpPrediction -Model $victim -Dataset $train -First 4).Confidence
        foreach ($c in $confidences) { [double]::IsFinite($c) | Should -BeTrue -Because "the model must not be left with non-finite weights ($($run.Count) records, $($lastStep.Count) errors)" }
        foreach ($record in $run) { [double]::IsFinite($record.WeightPenalty) | Should -BeTrue -Because "epoch $($record.Epoch) reported WeightPenalty $($record.WeightPenalty)" }
    }

    It 'the model can train on afterwards with a sane rate' {
        $more = @(Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -BatchSize 8 -LearningRate 1e-3 -Seed 1 -ErrorAction Stop)
        [double]::IsFinite($more[0].Loss) | Should -BeTrue
    }
}
