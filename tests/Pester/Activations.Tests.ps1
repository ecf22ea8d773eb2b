BeforeDiscovery {
    $Cases = @(
        @{ Activation = 'ReLU'; Alpha = 1.0; Slope = 0.01; Kinked = $true }
        @{ Activation = 'Sigmoid'; Alpha = 1.0; Slope = 0.01; Kinked = $false }
        @{ Activation = 'Tanh'; Alpha = 1.0; Slope = 0.01; Kinked = $false }
        @{ Activation = 'ELU'; Alpha = 1.0; Slope = 0.01; Kinked = $true }  # C¹ but not C² at 0: a central difference there is off by h/4
        @{ Activation = 'ELU'; Alpha = 0.5; Slope = 0.01; Kinked = $true }
        @{ Activation = 'LeakyReLU'; Alpha = 1.0; Slope = 0.01; Kinked = $true }
        @{ Activation = 'LeakyReLU'; Alpha = 1.0; Slope = 0.2; Kinked = $true }
        @{ Activation = 'GELU'; Alpha = 1.0; Slope = 0.01; Kinked = $false }
        @{ Activation = 'Swish'; Alpha = 1.0; Slope = 0.01; Kinked = $false }
        @{ Activation = 'Mish'; Alpha = 1.0; Slope = 0.01; Kinked = $false }
    )
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Xs = [double[]](-3, -1, -0.5, 0, 0.5, 1, 3)
    $Names = 'ReLU', 'Sigmoid', 'Tanh', 'ELU', 'LeakyReLU', 'GELU', 'Swish', 'Mish'

    # The lecture's formulas, written out independently of the module.
    function Get-LectureValue([string]$Activation, [double]$X, [double]$Alpha = 1, [double]$Slope = 0.01) {
        switch ($Activation) {
            'ReLU' { [math]::Max($X, 0) }
            'Sigmoid' { 1 / (1 + [math]::Exp(-$X)) }
            'Tanh' { (1 - [math]::Exp(-2 * $X)) / (1 + [math]::Exp(-2 * $X)) }
            'ELU' { if ($X -gt 0) { $X } else { $Alpha * ([math]::Exp($X) - 1) } }
            'LeakyReLU' { if ($X -gt 0) { $X } else { $Slope * $X } }
            'GELU' { 0.5 * $X * (1 + [math]::Tanh([math]::Sqrt(2 / [math]::PI) * ($X + 0.044715 * $X * $X * $X))) }
            'Swish' { $X / (1 + [math]::Exp(-$X)) }
            'Mish' { $X * [math]::Tanh([math]::Log(1 + [math]::Exp($X))) }
            default { throw "No lecture formula for $Activation" }
        }
    }

    # Central difference of the lecture's formula; h = 1e-5 keeps truncation and rounding both near 1e-10.
    function Get-LectureSlope([string]$Activation, [double]$X, [double]$Alpha = 1, [double]$Slope = 0.01) {
        $h = 1e-5
        ((Get-LectureValue $Activation ($X + $h) $Alpha $Slope) - (Get-LectureValue $Activation ($X - $h) $Alpha $Slope)) / (2 * $h)
    }

}

Describe 'Invoke-MlpActivation' {
    It '<Activation> (alpha <Alpha>, slope <Slope>) has the value of the lecture''s formula at -3..3' -ForEach $Cases {
        $got = @(Invoke-MlpActivation -Activation $Activation -InputObject $Xs -Alpha $Alpha -NegativeSlope $Slope -ErrorAction Stop)
        $got.Count | Should -Be $Xs.Count
        for ($i = 0; $i -lt $Xs.Count; $i++) {
            $got[$i].Activation | Should -Be $Activation
            $got[$i].X | Should -Be $Xs[$i]
            $expected = Get-LectureValue $Activation $Xs[$i] $Alpha $Slope
            [math]::Abs($got[$i].Value - $expected) | Should -BeLessThan 1e-9 -Because "$Activation($($Xs[$i])) should be $expected, not $($got[$i].Value)"
        }
    }

    It '<Activation> (alpha <Alpha>, slope <Slope>) has the derivative of the lecture''s formula (central difference)' -ForEach $Cases {
        $got = @(Invoke-MlpActivation $Activation $Xs -Alpha $Alpha -NegativeSlope $Slope -ErrorAction Stop)
        for ($i = 0; $i -lt $Xs.Count; $i++) {
            $x = $Xs[$i]
            if ($Kinked -and $x -eq 0) {
                # At the kink (or, for ELU, where the second derivative jumps) only the one-sided slopes are reliable: the derivative must lie between them.
                $left = Get-LectureSlope $Activation -1e-3 $Alpha $Slope
                $right = Get-LectureSlope $Activation 1e-3 $Alpha $Slope
                $got[$i].Derivative | Should -BeGreaterOrEqual ([math]::Min($left, $right) - 1e-3)
                $got[$i].Derivative | Should -BeLessOrEqual ([math]::Max($left, $right) + 1e-3)
                continue
            }
            $expected = Get-LectureSlope $Activation $x $Alpha $Slope
            [math]::Abs($got[$i].Derivative - $expected) | Should -BeLessThan 1e-7 -Because "$Activation'($x) should be $expected, not $($got[$i].Derivative)"
        }
    }

    It 'sigmoid'' = sigmoid(1 - sigmoid), as the lecture states' {
        foreach ($point in Invoke-MlpActivation Sigmoid $Xs) {
            $s = Get-LectureValue Sigmoid $point.X
            [math]::Abs($point.Derivative - $s * (1 - $s)) | Should -BeLessThan 1e-12
        }
    }

    It 'tanh'' = 1 - tanh², as the lecture states' {
        foreach ($point in Invoke-MlpActivation Tanh $Xs) {
            $t = Get-LectureValue Tanh $point.X
            [math]::Abs($point.Derivative - (1 - $t * $t)) | Should -BeLessThan 1e-12
        }
    }

    It 'GELU is the tanh approximation, not the exact x·Φ(x)' {
        # Exact GELU(1) = 0.841344746...; the lecture's tanh form gives 0.841191990...
        (Invoke-MlpActivation GELU 1).Value | Should -BeLessThan 0.8413
    }

    It 'ELU''s α and leaky ReLU''s slope change only the negative side' {
        $elu = Invoke-MlpActivation ELU -3, 2 -Alpha 0.5
        $elu[0].Value | Should -BeLessThan -0.47
        $elu[0].Value | Should -BeGreaterThan -0.5
        $elu[1].Value | Should -Be 2
        $leaky = Invoke-MlpActivation LeakyReLU -3, 2 -NegativeSlope 0.2
        [math]::Abs($leaky[0].Value - -0.6) | Should -BeLessThan 1e-12
        $leaky[0].Derivative | Should -Be 0.2
        $leaky[1].Derivative | Should -Be 1
    }

    It 'takes points from the pipeline' {
        $piped = @($Xs | Invoke-MlpActivation Tanh -ErrorAction Stop)
        $piped.X | Should -Be $Xs
        $piped.Value | Should -Be (Invoke-MlpActivation Tanh $Xs).Value
    }

    It 'refuses an unknown activation and out-of-range parameters' {
        { Invoke-MlpActivation -Activation Softsign -InputObject 1 -ErrorAction Stop } | Should -Throw -ErrorId 'CannotConvertArgumentNoMessage,MlpTools.Commands.InvokeMlpActivationCommand'
        { Invoke-MlpActivation LeakyReLU 1 -NegativeSlope 1.5 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MlpTools.Commands.InvokeMlpActivationCommand'
        { Invoke-MlpActivation ELU 1 -Alpha -1 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MlpTools.Commands.InvokeMlpActivationCommand'
    }

    It 'tab completion of New-Mlp -Activation offers all eight activations' {
        $line = 'New-Mlp -Activation '
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        foreach ($name in $Names) { $offered | Should -Contain $name }
        $line = 'Invoke-MlpActivation -Activation '
        $offered = (TabExpansion2 -inputScript $line -cursorColumn $line.Length).CompletionMatches.CompletionText
        foreach ($name in $Names) { $offered | Should -Contain $name }
    }
}

Describe 'New-Mlp architecture' {
    BeforeAll {
        $separable = New-SeparableDataset -Folder (Join-Path $TestDrive 'separable') -Count 32 -Seed 1
    }

    It 'builds any depth: -HiddenSize 512,256,128 gives 784-512-256-128-10' {
        $model = New-Mlp -HiddenSize 512, 256, 128 -Seed 1 -ErrorAction Stop
        $model.Layers | Should -BeExactly '784-512-256-128-10'
        $model.HiddenSizes | Should -Be 512, 256, 128
        $model.ParameterCount | Should -Be (784 * 512 + 512 + 512 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10)
    }

    It '-HiddenSize @() is the linear softmax model 784-10, and it trains' {
        $model = New-Mlp -HiddenSize @() -Seed 1 -ErrorAction Stop
        $model.Layers | Should -BeExactly '784-10'
        $model.ParameterCount | Should -Be (784 * 10 + 10)
        $linear = New-Mlp -InputSize 16 -HiddenSize @() -OutputSize 2 -Seed 1 -ErrorAction Stop
        $linear.Layers | Should -BeExactly '16-2'
        $records = @(Invoke-MlpTraining -Model $linear -Dataset $separable -Epochs 5 -BatchSize 8 -LearningRate 0.05 -Seed 1 -ErrorAction Stop)
        $records[-1].Loss | Should -BeLessThan ($records[0].Loss / 2)
        $records[-1].TrainAccuracy | Should -Be 1
    }

    It 'records the activation and its parameters: <Activation>' -ForEach @(
        @{ Activation = 'Sigmoid'; Alpha = 1.0; Slope = 0.01; Text = 'Sigmoid' }
        @{ Activation = 'ELU'; Alpha = 0.5; Slope = 0.01; Text = 'ELU(α=0.5)' }
        @{ Activation = 'LeakyReLU'; Alpha = 1.0; Slope = 0.2; Text = 'LeakyReLU(0.2)' }
    ) {
        $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Activation $Activation -Alpha $Alpha -NegativeSlope $Slope -Seed 1
        $model.Activation | Should -Be $Activation
        $model.Architecture.Activation.Alpha | Should -Be $Alpha
        $model.Architecture.Activation.NegativeSlope | Should -Be $Slope
        $model.Architecture.Activation.ToString() | Should -BeExactly $Text
    }

    It 'every activation trains a separable set to accuracy 1: <_>' -ForEach 'ReLU', 'Sigmoid', 'Tanh', 'ELU', 'LeakyReLU', 'GELU', 'Swish', 'Mish' {
        $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Activation $_ -Seed 1
        $last = Invoke-MlpTraining -Model $model -Dataset $separable -Epochs 8 -BatchSize 8 -LearningRate 0.03 -Seed 1 -ErrorAction Stop | Select-Object -Last 1
        $last.TrainAccuracy | Should -Be 1
    }

    It 'defaults to KaimingNormal and records -Initialization XavierNormal' {
        (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1).Initialization | Should -Be 'KaimingNormal'
        (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Initialization XavierNormal).Initialization | Should -Be 'XavierNormal'
    }

    It 'XavierNormal draws N(0, 2/(fan_in+fan_out)) where KaimingNormal draws N(0, 2/fan_in): logits shrink by √(fan_in/(fan_in+fan_out))' {
        # Same seed, same standard normals, different scale. Zero biases and a positively homogeneous ReLU make the
        # 2-class logit difference scale by the product of the layers' ratios; read it back from softmax: d = ln(p/(1-p)).
        foreach ($hidden in @(@(), @(8))) {
            $kaiming = New-Mlp -InputSize 16 -HiddenSize $hidden -OutputSize 2 -Seed 5
            $xavier = New-Mlp -InputSize 16 -HiddenSize $hidden -OutputSize 2 -Seed 5 -Initialization XavierNormal
            $widths = @(16) + $hidden + @(2)
            $ratio = 1.0
            for ($l = 0; $l -lt $widths.Count - 1; $l++) { $ratio *= [math]::Sqrt($widths[$l] / ($widths[$l] + $widths[$l + 1])) }
            $pk = @(Invoke-MlpPrediction -Model $kaiming -Dataset $separable -First 8)
            $px = @(Invoke-MlpPrediction -Model $xavier -Dataset $separable -First 8)
            for ($i = 0; $i -lt 8; $i++) {
                $pk[$i].Predicted | Should -Be $px[$i].Predicted
                $dk = [math]::Log($pk[$i].Confidence / (1 - $pk[$i].Confidence))
                $dx = [math]::Log($px[$i].Confidence / (1 - $px[$i].Confidence))
                if ($dk -lt 0.05) { continue }  # too close to a tie for float32 confidences to resolve the ratio
                ($dx / $dk) | Should -BeGreaterThan ($ratio - 1e-3)
                ($dx / $dk) | Should -BeLessThan ($ratio + 1e-3)
            }
        }
    }

    It 'XavierNormal and KaimingNormal with the same seed give different initial MNIST predictions' {
        $mnist = (Get-MnistDataset -Split Test -ErrorAction Stop).Subset([int[]](0..19), 'Test')
        $kaiming = @(Invoke-MlpPrediction -Model (New-Mlp -HiddenSize 32 -Seed 7) -Dataset $mnist)
        $xavier = @(Invoke-MlpPrediction -Model (New-Mlp -HiddenSize 32 -Seed 7 -Initialization XavierNormal) -Dataset $mnist)
        $again = @(Invoke-MlpPrediction -Model (New-Mlp -HiddenSize 32 -Seed 7 -Initialization XavierNormal) -Dataset $mnist)
        $again.Confidence | Should -Be $xavier.Confidence
        for ($i = 0; $i -lt 20; $i++) { $xavier[$i].Confidence | Should -Not -Be $kaiming[$i].Confidence }
    }

    It 'refuses -Dropout <_> (outside [0, 1))' -ForEach 1, 1.5, -0.1 {
        { New-Mlp -Dropout $_ -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MlpTools.Commands.NewMlpCommand'
    }

    It 'accepts -Dropout 0 and 0.5 and records it' {
        (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Dropout 0).Dropout | Should -Be 0
        (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Dropout 0.5).Dropout | Should -Be 0.5
    }

    It 'refuses a zero-width hidden layer anywhere in the list' {
        { New-Mlp -HiddenSize 8, 0, 4 -ErrorAction Stop } | Should -Throw -ErrorId 'ParameterArgumentValidationError,MlpTools.Commands.NewMlpCommand'
    }
}

Describe 'Vanishing gradients, seen with -TrackGradient' {
    BeforeAll {
        $mnist = (Get-MnistDataset -Split Test -ErrorAction Stop).Subset([int[]](0..499), 'Test')
        $deep = , 32 * 9
        $sigmoid = Invoke-MlpTraining -Model (New-Mlp -HiddenSize $deep -Activation Sigmoid -Seed 1) -Dataset $mnist -Epochs 1 -BatchSize 64 -Seed 1 -TrackGradient -ErrorAction Stop
        $relu = Invoke-MlpTraining -Model (New-Mlp -HiddenSize $deep -Activation ReLU -Seed 1) -Dataset $mnist -Epochs 1 -BatchSize 64 -Seed 1 -TrackGradient -ErrorAction Stop
    }

    It 'records one GradientNorm_lin_N per weight matrix, input side first' {
        foreach ($record in $sigmoid, $relu) {
            $names = $record.PSObject.Properties.Name -like 'GradientNorm_lin_*'
            $names | Should -Be (1..10 | ForEach-Object { "GradientNorm_lin_$_" })
            for ($l = 1; $l -le 10; $l++) {
                $record."GradientNorm_lin_$l" | Should -Be $record.GradientNorms[$l - 1]
                $record."GradientNorm_lin_$l" | Should -BeGreaterThan 0
            }
        }
    }

    It 'a 10-layer sigmoid network starves its first layer (ratio below 0.01); ReLU with kaiming does not (ratio above 0.1)' {
        # Measured: sigmoid ~1e-4, ReLU ~5.
        ($sigmoid.GradientNorm_lin_1 / $sigmoid.GradientNorm_lin_10) | Should -BeLessThan 0.01
        ($relu.GradientNorm_lin_1 / $relu.GradientNorm_lin_10) | Should -BeGreaterThan 0.1
    }

    It 'in the sigmoid network the norm shrinks layer by layer towards the input' {
        for ($l = 1; $l -lt 10; $l++) {
            $sigmoid."GradientNorm_lin_$l" | Should -BeLessThan $sigmoid."GradientNorm_lin_$($l + 1)"
        }
    }
}
