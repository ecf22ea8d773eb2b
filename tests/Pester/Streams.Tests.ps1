# What the cmdlets say besides their output: -Verbose (what was read and written, with sizes; the recipe, seeds, thread
# count; each epoch's line; timings), -Debug, and progress records (read from a PowerShell instance's Progress stream).
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # The verbose (or, with -Debug, debug) messages of a command, as strings.
    function Get-Verbose([scriptblock]$Command) { @(& $Command 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message) }
    # $DebugPreference rather than -Debug, which makes a compiled cmdlet ask before each message in a host that cannot answer.
    function Get-Debug([scriptblock]$Command) { $DebugPreference = 'Continue'; @(& $Command 5>&1 | Where-Object { $_ -is [System.Management.Automation.DebugRecord] } | ForEach-Object Message) }

    # Runs $Script in a PowerShell instance of its own (the module imported, $Arguments as $args) and returns its
    # progress records; its errors fail the test.
    function Get-ProgressRecord([string]$Script, [object[]]$Arguments = @()) {
        $ps = [powershell]::Create()
        try {
            $null = $ps.AddScript("Import-Module '$env:MLPTOOLS_MODULE' -ErrorAction Stop; `$ProgressPreference = 'Continue'; $Script")
            foreach ($argument in $Arguments) { $null = $ps.AddArgument($argument) }
            $null = $ps.Invoke()
            $ps.Streams.Error | ForEach-Object { throw $_ }
            @($ps.Streams.Progress)
        } finally { $ps.Dispose() }
    }

    $folder = Join-Path $TestDrive 'data'
    $data = New-SeparableDataset -Folder $folder -Count 32 -Seed 1
    $model = New-TrainedSeparableModel -Dataset $data
    $modelFile = Join-Path $TestDrive 'model.mlp'
    Export-Mlp -Model $model -Path $modelFile -ErrorAction Stop
    $mnist = if ($env:MLPTOOLS_DATA) { $env:MLPTOOLS_DATA } else { Join-Path ([Environment]::GetFolderPath('LocalApplicationData')) 'MlpTools/mnist' }
}

Describe 'Verbose and debug messages' {
    It 'Get-MnistDataset names the files it reads with their sizes, and what it read' {
        $images = Join-Path $folder 'train-images-idx3-ubyte'
        $labels = Join-Path $folder 'train-labels-idx1-ubyte'
        $messages = Get-Verbose { Get-MnistDataset -Path $folder -Split Train -Name Separable -Verbose | Out-Null }
        $messages[0] | Should -BeExactly ("Reading Separable Train from {0} ({1:N0} bytes) and {2} ({3:N0} bytes)." -f
            $images, (Get-Item $images).Length, $labels, (Get-Item $labels).Length)
        $messages[1] | Should -Match '^Read 32 images of 4x4 pixels and their labels in \d+\.\d\d s\.$'
    }

    It 'New-Mlp gives the layers, the parameter count and the seed' {
        $messages = Get-Verbose { New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 7 -Name Small -Verbose | Out-Null }
        $messages | Should -BeExactly "Created 'Small': 16-8-2, ReLU, 154 parameters, KaimingNormal weights from seed 7, on Cpu."
    }

    It 'Invoke-MlpTraining gives the threads, the recipe with its seed, each epoch''s line, each checkpoint with its size and the time' {
        $checkpoint = Join-Path $TestDrive 'verbose.ckpt'
        $fresh = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name Fresh
        $messages = Get-Verbose { $script:records = Invoke-MlpTraining -Model $fresh -Dataset $data -Epochs 2 -BatchSize 8 -LearningRate 0.01 -Seed 3 -ThreadCount 1 -CheckpointPath $checkpoint -Verbose }
        $messages | Should -Contain 'libtorch runs on 1 intra-op thread(s) (-ThreadCount).'
        $messages | Should -Contain "Training 'Fresh' (16-8-2, ReLU, 154 parameters) on 'Separable' (32 examples): 2 epoch(s) of batches of 8, Adam at learning rate 0.01, shuffle seed 3."
        foreach ($record in $script:records) {
            @($messages | Where-Object { $_.StartsWith("$record (") }).Count | Should -Be 1 -Because "epoch $($record.Epoch)'s line is '$record'"
        }
        $size = '{0:N0}' -f (Get-Item $checkpoint).Length
        $messages | Should -Contain "Wrote checkpoint $checkpoint ($size bytes) after epoch 2."
        $messages[-1] | Should -Match "^Trained 'Fresh' in \d+\.\d\d s\.$"
    }

    It 'Invoke-MlpTraining -Debug gives every option' {
        $fresh = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
        $messages = Get-Debug { Invoke-MlpTraining -Model $fresh -Dataset $data -Epochs 1 -BatchSize 8 -Seed 3 | Out-Null }
        $messages -match '^Options: TrainingOptions \{ Epochs = 1, BatchSize = 8, .*Seed = 3' | Should -HaveCount 1
    }

    It 'Test-MlpAccuracy gives the data measured, the accuracy and the time' {
        $result = Test-MlpAccuracy -Model $model -Dataset $data
        $messages = Get-Verbose { Test-MlpAccuracy -Model $model -Dataset $data -ThreadCount 1 -Verbose | Out-Null }
        $messages | Should -Contain "Measuring 'Separable' (16-8-2) on 'Separable' (Train, 32 examples)."
        $messages[-1] | Should -Match ("^Accuracy {0} \({1} of 32 right\) in \d+\.\d\d s\.$" -f [regex]::Escape($result.Accuracy.ToString('F4')), $result.Correct)
    }

    It 'Test-MlpGradient gives threads and time, and with -Debug each layer''s error' {
        $messages = Get-Verbose { Test-MlpGradient -Model $model -Dataset $data -BatchSize 4 -ThreadCount 1 -Verbose | Out-Null }
        $messages | Should -Contain 'libtorch runs on 1 intra-op thread(s) (-ThreadCount).'
        $messages | Should -Contain "Checking the gradients of 'Separable' (16-8-2) on the first 4 example(s) of 'Separable', method Auto, weight decay 0, seed 0."
        $messages[-1] | Should -Match '^Checked 2 weight matrices in \d+\.\d\d s\.$'
        $debug = Get-Debug { Test-MlpGradient -Model $model -Dataset $data -BatchSize 4 | Out-Null }
        $debug | Should -HaveCount 2
        $debug[0] | Should -Match '^lin_1: 128 entries by Backpropagation, largest relative error '
    }

    It 'Export-Mlp and Import-Mlp name the file with its size' {
        $path = Join-Path $TestDrive 'verbose.mlp'
        $written = Get-Verbose { Export-Mlp -Model $model -Path $path -Verbose }
        $size = '{0:N0}' -f (Get-Item $path).Length
        $written[-1] | Should -Match ("^Wrote model 'Separable' \(16-8-2\) to {0} \({1} bytes, MlpTools\) in \d+\.\d\d s\.$" -f [regex]::Escape($path), $size)
        $read = Get-Verbose { Import-Mlp -Path $path -Verbose | Out-Null }
        $read[0] | Should -BeExactly "Reading $path ($size bytes)."
        $read[1] | Should -Match ("^Read model 'Separable' \(16-8-2, ReLU, classification, LibTorch\) from {0} in " -f [regex]::Escape($path))
    }

    It '-Debug never stops a script to ask: verbose messages go to the debug stream unless -Verbose is given too' {
        # PowerShell would ask "Continue with this operation?" after each verbose message of a compiled cmdlet under -Debug;
        # a console session (stdin empty, so any question is answered at once) shows whether one is asked.
        $script = "Import-Module '$env:MLPTOOLS_MODULE'; `$m = New-Mlp -InputSize 4 -HiddenSize 3 -OutputSize 2 -Seed 7 -Debug; 'made'"
        $output = '' | & (Join-Path $PSHOME 'pwsh') -NoProfile -Command $script 2>&1 | Out-String
        $output | Should -Not -Match 'Continue with this operation'
        $output | Should -Match "DEBUG: Created 'Mlp': 4-3-2"
        $output | Should -Match 'made'
    }

    It 'Import-Mlp -Debug says what a wildcard matched' {
        Get-Debug { Import-Mlp -Path (Join-Path $TestDrive 'mod*.mlp') | Out-Null } |
            Should -Contain ("-Path '{0}' matches 1 file(s)." -f (Join-Path $TestDrive 'mod*.mlp'))
    }

    It 'Import-MlpDataset and ConvertTo-MlpDataset say what they built' {
        $csv = Join-Path $TestDrive 'flowers.csv'
        New-FlowerRows -Count 30 | Export-Csv $csv
        $size = '{0:N0}' -f (Get-Item $csv).Length
        $messages = Get-Verbose { Import-MlpDataset -Path $csv -LabelColumn Species -Verbose | Out-Null }
        $messages[0] | Should -BeExactly "Reading $csv ($size bytes)."
        $messages[-1] | Should -Match "^Read dataset 'flowers': 30 examples of 5 features, 3 classes in \d+\.\d\d s\.$"
        Get-Verbose { New-FlowerRows -Count 30 | ConvertTo-MlpDataset -LabelProperty Species -Name Flowers -Verbose | Out-Null } |
            Should -BeExactly "Built dataset 'Flowers' from 30 object(s): 30 examples of 5 encoded features, 3 classes."
    }

    It 'Split-MlpDataset gives the sizes and the seed' {
        Get-Verbose { Split-MlpDataset $data -TestFraction 0.25 -Seed 4 -Stratify -Verbose | Out-Null } |
            Should -BeExactly "Split 'Separable' (32 examples) into 24 for training and 8 for testing, seed 4, stratified by class."
    }

    It 'Invoke-MlpPrediction says how many it predicted' {
        $messages = Get-Verbose { Invoke-MlpPrediction -Model $model -Dataset $data -First 5 -Verbose | Out-Null }
        $messages | Should -Contain "Predicting 5 example(s) of 'Separable' (Train) with 'Separable' (16-8-2)."
        $messages[-1] | Should -Match '^Predicted 5 example\(s\) in \d+\.\d\d s\.$'
    }

    It 'the picture exports name the file with its size' {
        $path = Join-Path $TestDrive 'verbose.png'
        $messages = Get-Verbose { Export-MlpDigitGrid -Dataset $data -Index 0, 1 -Path $path -Verbose }
        $messages[-1] | Should -Match ("^Wrote \d+x\d+ PNG \({0:N0} bytes\) to {1} in \d+\.\d\d s\.$" -f (Get-Item $path).Length, [regex]::Escape($path))
    }
}

Describe 'Progress' {
    It 'the time remaining is elapsed x (1 - done) / done, rounded up; unknown (-1) before 200 ms or 1 %, and at the end' {
        $estimate = [MlpTools.Commands.MlpCmdlet].GetMethod('SecondsRemaining', [System.Reflection.BindingFlags]'NonPublic, Static')
        $estimate.Invoke($null, @([timespan]::FromSeconds(2), 0.25)) | Should -Be 6
        $estimate.Invoke($null, @([timespan]::FromSeconds(10), 0.3)) | Should -Be 24
        $estimate.Invoke($null, @([timespan]::FromMilliseconds(100), 0.5)) | Should -Be -1
        $estimate.Invoke($null, @([timespan]::FromSeconds(5), 0.005)) | Should -Be -1
        $estimate.Invoke($null, @([timespan]::FromSeconds(5), 1.0)) | Should -Be -1
    }

    It 'training reports epoch, batch and loss, rising, with the time remaining, then completes' {
        $records = Get-ProgressRecord @'
$data = $args[0]
New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name Long |
    Invoke-MlpTraining -Dataset $data -Epochs 150 -BatchSize 1 -Seed 1 -ThreadCount 1 | Out-Null
'@ @(, $data)
        $training = @($records | Where-Object Activity -EQ 'Training Long')
        $training.Count | Should -BeGreaterThan 2
        $training[0].StatusDescription | Should -Match '^Epoch 1/150, batch 1/32, loss \d'
        $percents = $training.PercentComplete
        for ($i = 1; $i -lt $percents.Count; $i++) { $percents[$i] | Should -BeGreaterOrEqual $percents[$i - 1] }
        $training | Where-Object SecondsRemaining -GE 0 | Should -Not -BeNullOrEmpty
        $records[-1].RecordType | Should -Be 'Completed'
    }

    It '<Command> reports "<Activity>" and completes' -ForEach @(
        @{ Command = 'Get-MnistDataset'; Activity = 'Reading Separable Train'; Script = 'Get-MnistDataset -Path $args[0] -Split Train -Name Separable' }
        @{ Command = 'Test-MlpAccuracy'; Activity = 'Measuring Separable on Separable'; Script = 'Test-MlpAccuracy -Model (Import-Mlp $args[1]) -Dataset (Get-MnistDataset -Path $args[0] -Split Train -Name Separable)' }
        @{ Command = 'Test-MlpGradient'; Activity = 'Checking gradients of Separable'; Script = 'Test-MlpGradient -Model (Import-Mlp $args[1]) -Dataset (Get-MnistDataset -Path $args[0] -Split Train -Name Separable)' }
        @{ Command = 'Invoke-MlpPrediction'; Activity = 'Predicting with Separable'; Script = 'Invoke-MlpPrediction -Model (Import-Mlp $args[1]) -Dataset (Get-MnistDataset -Path $args[0] -Split Train)' }
        @{ Command = 'Import-Mlp'; Activity = 'Importing models'; Script = 'Import-Mlp $args[1]' }
        @{ Command = 'Export-Mlp'; Activity = 'Exporting Separable'; Script = 'Export-Mlp -Model (Import-Mlp $args[1]) -Path "$($args[1]).copy"' }
        @{ Command = 'Export-MlpDigitGrid'; Activity = 'Exporting grid.png'; Script = 'Export-MlpDigitGrid -Dataset (Get-MnistDataset -Path $args[0] -Split Train) -Index 0 -Path (Join-Path $args[0] grid.png)' }
    ) {
        $records = Get-ProgressRecord "$Script | Out-Null" @($folder, $modelFile)
        $own = @($records | Where-Object Activity -EQ $Activity)
        $own | Should -Not -BeNullOrEmpty
        $own | ForEach-Object { $_.PercentComplete | Should -BeIn (0..100) }
        $records[-1].RecordType | Should -Be 'Completed'
        $records[-1].Activity | Should -BeExactly $Command
    }

    It 'a download reports the file it fetches and completes' {
        $target = Join-Path $TestDrive 'download'
        $records = Get-ProgressRecord 'Get-MnistDataset -Split Test -Download -Mirror $args[0] -Path $args[1] | Out-Null' @($mnist, $target)
        $records | Where-Object Activity -EQ 'Downloading t10k-images-idx3-ubyte' | Should -Not -BeNullOrEmpty
        $records | Where-Object Activity -EQ 'Downloading t10k-labels-idx1-ubyte' | Should -Not -BeNullOrEmpty
        $records[-1].RecordType | Should -Be 'Completed'
    }
}
