# MlpTools' files against real PyTorch (Debian's python3-torch, which .ci/run installs) on the real MNIST test set.
# Outside CI, a machine without python3-torch skips this file; in CI a missing torch fails it.
BeforeDiscovery {
    # Looked for, not imported: importing torch takes seconds.
    $hasTorch = (Test-Path '/usr/bin/python3') -and (Test-Path '/usr/lib/python3/dist-packages/torch/__init__.py')
    $skip = -not $hasTorch -and -not $env:CI
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    $python = '/usr/bin/python3'
    $script = Join-Path $PSScriptRoot 'PyTorch/torch_exchange.py'

    function Invoke-Torch {
        $output = & $python $script @args 2>&1
        if ($LASTEXITCODE -ne 0) { throw "torch_exchange.py $args failed ($LASTEXITCODE): $output" }
    }

    function Compare-WithTorch {
        <#
        .SYNOPSIS
            PyTorch's predictions (from a JSON file torch_exchange.py wrote) next to the model's on the same images:
            how many classes agree, and the largest difference in confidence.
        #>
        param($Model, [string]$TorchPredictions)
        $torch = Get-Content $TorchPredictions -Raw | ConvertFrom-Json
        $ours = @(Invoke-MlpPrediction -Model $Model -Dataset $test -ErrorAction Stop)
        $agree = 0; $largest = 0.0
        for ($i = 0; $i -lt $ours.Count; $i++) {
            if ($ours[$i].Predicted -eq $torch.predicted[$i]) { $agree++ }
            $largest = [Math]::Max($largest, [Math]::Abs($ours[$i].Confidence - $torch.confidence[$i]))
        }
        [pscustomobject]@{ Count = $ours.Count; TorchCount = $torch.predicted.Count; Agree = $agree; LargestConfidenceDifference = $largest; Torch = $torch.torch }
    }
}

Describe 'Exchanging models with PyTorch' -Skip:$skip {
    BeforeAll {
        $train, $test = Get-MnistDataset -ErrorAction Stop
        $model = New-Mlp -Seed 1 -Name 'notebook'
        Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -Seed 1 -ErrorAction Stop | Out-Null
        $accuracy = (Test-MlpAccuracy -Model $model -Dataset $test).Accuracy
        $work = Join-Path $TestDrive 'torch'
        New-Item -ItemType Directory $work | Out-Null
        $deep = New-Mlp -HiddenSize 64, 32 -Seed 3
        Export-Mlp -Model $model -Path (Join-Path $work 'notebook.pt') -Format PyTorch -ErrorAction Stop
        Export-Mlp -Model $model -Path (Join-Path $work 'notebook.safetensors') -ErrorAction Stop
        Export-Mlp -Model $deep -Path (Join-Path $work 'deep.pt') -ErrorAction Stop

        # Everything PyTorch does, in one run of Python: read MlpTools' files and predict; change the weights a little
        # (seeded noise) and save them as torch.save and SafeTensors files, with PyTorch's predictions for those; and
        # save a hostile pickle.
        Push-Location $work
        try {
            Invoke-Torch predict notebook.pt pytorch $test.Source notebook-pt.json `
                + predict notebook.safetensors safetensors $test.Source notebook-st.json `
                + perturb notebook.pt pytorch from-torch.pt 7 + predict from-torch.pt pytorch $test.Source from-torch.json `
                + perturb notebook.pt safetensors from-torch.safetensors 8 + predict from-torch.safetensors safetensors $test.Source from-torch-st.json `
                + predict deep.pt pytorch $test.Source deep.json `
                + perturb deep.pt pytorch deep-back.pt 9 + predict deep-back.pt pytorch $test.Source deep-back.json `
                + unsafe hostile.pt (Join-Path $work 'code-ran') `
                + unusual from-torch.pt shared.pt transposed.pt + predict shared.pt pytorch $test.Source shared.json + predict transposed.pt pytorch $test.Source transposed.json
        } finally { Pop-Location }
    }

    It 'torch.load(weights_only=True) reads Export-Mlp -Format PyTorch into the notebook''s class with strict=True, and PyTorch predicts the same class for all 10,000 test images' {
        $file = Join-Path $work 'notebook.pt'
        $result = Compare-WithTorch $model (Join-Path $work 'notebook-pt.json')
        Write-Host ("PyTorch {0} on Export-Mlp -Format PyTorch ({1} bytes): {2} of {3} test predictions agree, largest confidence difference {4:E2}; MlpTools' accuracy {5:P2}." -f
            $result.Torch, (Get-Item $file).Length, $result.Agree, $result.Count, $result.LargestConfidenceDifference, $accuracy)
        $result.Count, $result.TorchCount, $result.Agree | Should -Be 10000, 10000, 10000
        $result.LargestConfidenceDifference | Should -BeLessThan 1e-5
        $accuracy | Should -BeGreaterThan 0.9
    }

    It 'PyTorch reads Export-Mlp -Format SafeTensors and predicts the same class for all 10,000 test images' {
        $file = Join-Path $work 'notebook.safetensors'
        $result = Compare-WithTorch $model (Join-Path $work 'notebook-st.json')
        Write-Host ("PyTorch on Export-Mlp -Format SafeTensors ({0} bytes): {1} of {2} agree, largest confidence difference {3:E2}." -f
            (Get-Item $file).Length, $result.Agree, $result.Count, $result.LargestConfidenceDifference)
        $result.Agree | Should -Be 10000
        $result.LargestConfidenceDifference | Should -BeLessThan 1e-5
    }

    It 'Import-Mlp reads a state_dict that torch.save wrote, and predicts what PyTorch predicts for all 10,000 test images' {
        # PyTorch changed every weight a little (seeded noise) and saved model.state_dict() of the notebook's class.
        $saved = Join-Path $work 'from-torch.pt'
        $imported = Import-Mlp -Path $saved -Activation ReLU -ErrorAction Stop
        $imported.Layers | Should -BeExactly '784-256-10'
        $imported.Name | Should -BeExactly 'from-torch'
        $result = Compare-WithTorch $imported (Join-Path $work 'from-torch.json')
        Write-Host ("Import-Mlp of torch.save's file: {0} of {1} agree with PyTorch, largest confidence difference {2:E2}." -f $result.Agree, $result.Count, $result.LargestConfidenceDifference)
        $result.Agree | Should -Be 10000
        $result.LargestConfidenceDifference | Should -BeLessThan 1e-5
        # The noise is real: the imported model is not the exported one.
        $mine = Invoke-MlpPrediction -Model $model -Dataset $test -First 200 | ForEach-Object Confidence
        $theirs = Invoke-MlpPrediction -Model $imported -Dataset $test -First 200 | ForEach-Object Confidence
        $theirs | Should -Not -Be $mine
    }

    It 'Import-Mlp reads a SafeTensors file written on the PyTorch side' {
        $saved = Join-Path $work 'from-torch.safetensors'
        $result = Compare-WithTorch (Import-Mlp -Path $saved -Activation ReLU -ErrorAction Stop) (Join-Path $work 'from-torch-st.json')
        $result.Agree | Should -Be 10000
        $result.LargestConfidenceDifference | Should -BeLessThan 1e-5
    }

    It 'a deeper network goes both ways as lin_1, lin_2, lin_3' {
        (Compare-WithTorch $deep (Join-Path $work 'deep.json')).Agree | Should -Be 10000
        $back = Join-Path $work 'deep-back.pt'
        $imported = Import-Mlp -Path $back -Activation ReLU -ErrorAction Stop
        $imported.Layers | Should -BeExactly '784-64-32-10'
        (Compare-WithTorch $imported (Join-Path $work 'deep-back.json')).Agree | Should -Be 10000
    }

    It 'a torch.save file whose pickle would run os.system is refused (ModelFileUnsafe) and runs nothing' {
        $file = Join-Path $work 'hostile.pt'
        $marker = Join-Path $work 'code-ran'
        Test-Path $file | Should -BeTrue
        $err = { Import-Mlp -Path $file -ErrorAction Stop } | Should -Throw -ErrorId 'ModelFileUnsafe,MlpTools.Commands.ImportMlpCommand' -PassThru
        $err.Exception.Message | Should -Match "'posix\.system'"
        Test-Path $marker | Should -BeFalse
    }

    It 'valid but unusual torch.save files load with torch''s values: <Name>' -ForEach @(
        @{ Name = 'every tensor a view of one storage (vector_to_parameters)'; File = 'shared.pt'; Json = 'shared.json' }
        @{ Name = 'transposed, non-contiguous weights'; File = 'transposed.pt'; Json = 'transposed.json' }
    ) {
        $imported = Import-Mlp -Path (Join-Path $work $File) -Activation ReLU -ErrorAction Stop
        $result = Compare-WithTorch $imported (Join-Path $work $Json)
        $result.Agree | Should -Be 10000
        $result.LargestConfidenceDifference | Should -BeLessThan 1e-5
        # The same weights as the plain file they were made from.
        $plain = Import-Mlp -Path (Join-Path $work 'from-torch.pt') -Activation ReLU -ErrorAction Stop
        Invoke-MlpPrediction -Model $imported -Dataset $test -First 100 | ForEach-Object Confidence |
            Should -Be (Invoke-MlpPrediction -Model $plain -Dataset $test -First 100 | ForEach-Object Confidence)
    }

    It 'Import-Mlp of several files goes on past one it refuses: the others are still imported' {
        $files = 'hostile.pt', 'shared.pt', 'missing.pt', 'transposed.pt' | ForEach-Object { Join-Path $work $_ }
        $models = @(Import-Mlp -Path $files -Activation ReLU -ErrorVariable failures -ErrorAction SilentlyContinue)
        $models.Name | Should -Be 'shared', 'transposed'
        @($failures).FullyQualifiedErrorId | Should -Be "ModelFileUnsafe,MlpTools.Commands.ImportMlpCommand", "ModelFileNotFound,MlpTools.Commands.ImportMlpCommand"
    }
}
