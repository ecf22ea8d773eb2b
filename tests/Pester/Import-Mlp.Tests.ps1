BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    Add-Type -AssemblyName System.IO.Compression

    $Cmdlet = 'MlpTools.Commands.ImportMlpCommand'
    $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'data') -Count 32 -Seed 1
    $validation = New-SeparableDataset -Folder (Join-Path $TestDrive 'validation') -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name 'Separable'
    $records = @(Invoke-MlpTraining -Model $model -Dataset $data -ValidationDataset $validation -Epochs 10 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop)
    $files = Join-Path $TestDrive 'files'
    New-Item -ItemType Directory $files | Out-Null
    $modelFile = Join-Path $files 'separable.mlp'
    Export-Mlp -Model $model -Path $modelFile -ErrorAction Stop

    function Get-Answers($Model) {
        Invoke-MlpPrediction -Model $Model -Dataset $data -ErrorAction Stop | ForEach-Object { '{0}:{1:R}' -f $_.Predicted, $_.Confidence }
    }

    function Write-Bytes([string]$Name, [byte[]]$Bytes) {
        $path = Join-Path $TestDrive $Name
        [System.IO.File]::WriteAllBytes($path, $Bytes)
        $path
    }

    function Edit-Manifest([string]$Path, [scriptblock]$Edit) {
        # Rewrites mlptools-model.json inside a copy of the model file, as a newer or damaged writer might have.
        $zip = [System.IO.Compression.ZipFile]::Open($Path, 'Update')
        try {
            $entry = $zip.GetEntry('mlptools-model.json')
            $reader = [System.IO.StreamReader]::new($entry.Open())
            $manifest = $reader.ReadToEnd() | ConvertFrom-Json -AsHashtable
            $reader.Dispose()
            & $Edit $manifest
            $entry.Delete()
            $writer = [System.IO.StreamWriter]::new($zip.CreateEntry('mlptools-model.json').Open())
            $writer.Write(($manifest | ConvertTo-Json -Depth 20))
            $writer.Dispose()
        } finally { $zip.Dispose() }
    }
}

Describe 'Import-Mlp' {
    Context 'An MlpTools file' {
        BeforeAll {
            $imported = Import-Mlp -Path $modelFile -ErrorAction Stop
        }

        It 'is the same model: architecture, seed, epochs and every prediction to the last bit' {
            $imported.GetType().FullName | Should -BeExactly 'MlpTools.Core.Modeling.MlpModel'
            $imported.Name, $imported.Layers, $imported.Activation, $imported.Seed, $imported.EpochsTrained | Should -Be 'Separable', '16-8-2', 'ReLU', 1, 10
            Get-Answers $imported | Should -Be (Get-Answers $model)
        }

        It 'remembers its training: one run of 10 epochs, the recipe, the data''s fingerprint and every record' {
            $imported.History.Runs.Count | Should -Be 1
            $run = $imported.History.Runs[0]
            $run.Options.Epochs, $run.Options.BatchSize, $run.Options.LearningRate, $run.Options.Seed | Should -Be 10, 8, 0.01, 1
            $run.TrainData.Count, $run.TrainData.Name | Should -Be 32, 'Separable'
            $run.TrainData.Sha256 | Should -Match '^[0-9a-f]{64}$'
            $run.ValidationData.Count | Should -Be 10
            $imported.History.Epochs.Loss | Should -Be $records.Loss
            $imported.History.LastEpoch.ValidationAccuracy | Should -Be 0.7
        }

        It 'says where it came from and what wrote it' {
            $origin = $imported.History.Origin
            $origin.Path | Should -BeExactly $modelFile
            $origin.Format | Should -BeExactly 'MlpTools'
            $origin.FormatVersion | Should -Be 1
            $origin.MlpToolsVersion | Should -BeLike "$((Get-Module MlpTools).Version)*"
            $origin.TorchSharpVersion | Should -BeExactly '0.107.0'
            $origin.FileSha256 | Should -BeExactly (Get-FileHash $modelFile -Algorithm SHA256).Hash.ToLowerInvariant()
        }

        It 'trains on from where it was' {
            $more = @(Invoke-MlpTraining -Model $imported -Dataset $data -Epochs 2 -BatchSize 8 -LearningRate 0.01 -Seed 2 -ErrorAction Stop)
            $more.Epoch | Should -Be 11, 12
            $imported.History.Runs.Count | Should -Be 2
        }

        It '-Name renames the imported model' {
            (Import-Mlp -Path $modelFile -Name 'Renamed' -ErrorAction Stop).Name | Should -BeExactly 'Renamed'
        }
    }

    Context 'Paths' {
        BeforeAll {
            Copy-Item $modelFile (Join-Path $files 'second.mlp')
            Copy-Item $modelFile (Join-Path $files '[odd] name.mlp')
        }

        It 'expands wildcards in -Path' {
            $models = @(Import-Mlp -Path (Join-Path $files '*.mlp') -ErrorAction Stop)
            $models.Count | Should -Be 3
            $models.History.Origin.Path | Sort-Object | Should -Be (Get-ChildItem $files -Filter *.mlp).FullName
        }

        It 'takes files from Get-ChildItem through the pipeline, as -LiteralPath' {
            $models = @(Get-ChildItem -LiteralPath $files -Filter '*.mlp' | Import-Mlp -ErrorAction Stop)
            $models.Count | Should -Be 3
        }

        It '-LiteralPath takes brackets literally' {
            (Import-Mlp -LiteralPath (Join-Path $files '[odd] name.mlp') -ErrorAction Stop).Layers | Should -BeExactly '16-8-2'
        }

        It 'a path relative to the current location' {
            Push-Location $files
            try { (Import-Mlp second.mlp -ErrorAction Stop).Layers | Should -BeExactly '16-8-2' } finally { Pop-Location }
        }

        It 'one unreadable file is an error while the others are still imported' {
            $bad = Write-Bytes 'bad.mlp' ([byte[]]@(1, 2, 3))
            $models = @(Import-Mlp -Path $modelFile, $bad, (Join-Path $files 'second.mlp') -ErrorVariable problems -ErrorAction SilentlyContinue)
            $models.Count | Should -Be 2
            $problems.Count | Should -Be 1
            $problems[0].FullyQualifiedErrorId | Should -BeExactly "ModelFileUnrecognized,$Cmdlet"
        }
    }

    Context 'Files it cannot read' {
        It 'a missing file: ModelFileNotFound (ObjectNotFound)' {
            $err = { Import-Mlp -Path (Join-Path $TestDrive 'none.mlp') -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileNotFound,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
            { Import-Mlp -Path (Join-Path $TestDrive 'none*.mlp') -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileNotFound,$Cmdlet"
        }

        It '<Case>: <ErrorId> (InvalidData)' -ForEach @(
            @{ Case = 'an empty file'; ErrorId = 'ModelFileEmpty'; Make = { Write-Bytes 'empty.mlp' ([byte[]]@()) } }
            @{ Case = 'a text file'; ErrorId = 'ModelFileUnrecognized'; Make = { Write-Bytes 'text.mlp' ([Text.Encoding]::ASCII.GetBytes('epoch,loss')) } }
            @{ Case = 'a PNG'; ErrorId = 'ModelFileUnrecognized'; Make = { Write-Bytes 'image.mlp' ([byte[]]@(0x89, 0x50, 0x4E, 0x47, 13, 10, 26, 10, 0, 0, 0, 13)) } }
            @{ Case = 'an IDX file'; ErrorId = 'ModelFileUnrecognized'; Make = { Get-ChildItem (Join-Path $TestDrive 'data') -Filter 'train-images*' | Select-Object -ExpandProperty FullName } }
            @{ Case = 'the first half of a model file'; ErrorId = 'ModelFileCorrupt'; Make = {
                    $bytes = [IO.File]::ReadAllBytes($modelFile); Write-Bytes 'half.mlp' $bytes[0..($bytes.Length / 2)] } }
            @{ Case = 'a model file missing its last byte'; ErrorId = 'ModelFileCorrupt'; Make = {
                    $bytes = [IO.File]::ReadAllBytes($modelFile); Write-Bytes 'short.mlp' $bytes[0..($bytes.Length - 2)] } }
            @{ Case = 'a model file with damaged weights'; ErrorId = 'ModelFileCorrupt'; Make = {
                    $bytes = [IO.File]::ReadAllBytes($modelFile); $bytes[$bytes.Length - 300] = $bytes[$bytes.Length - 300] -bxor 0xFF; Write-Bytes 'flipped.mlp' $bytes } }
            @{ Case = 'a manifest that is not JSON'; ErrorId = 'ModelFileCorrupt'; Make = {
                    $copy = Join-Path $TestDrive 'notjson.mlp'; Copy-Item $modelFile $copy -Force
                    $zip = [System.IO.Compression.ZipFile]::Open($copy, 'Update'); $zip.GetEntry('mlptools-model.json').Delete()
                    $w = [IO.StreamWriter]::new($zip.CreateEntry('mlptools-model.json').Open()); $w.Write('{"format": "MlpTools.Model", "formatV'); $w.Dispose(); $zip.Dispose(); $copy } }
        ) {
            $path = & $Make
            $err = { Import-Mlp -Path $path -ErrorAction Stop } | Should -Throw -ErrorId "$ErrorId,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
            $err.TargetObject | Should -BeExactly $path
        }

        It 'a file from a newer format version says so, and which MlpTools wrote it' {
            $newer = Join-Path $TestDrive 'newer.mlp'
            Copy-Item $modelFile $newer
            Edit-Manifest $newer { param($m) $m.formatVersion = 2; $m.producer.mlpTools = '2.0.0'; $m.architecture = @{ layers = 'described differently' } }
            $err = { Import-Mlp -Path $newer -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileVersionUnsupported,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match 'format version 2, written by MlpTools 2\.0\.0'
            $err.Exception.Message | Should -Match 'Update MlpTools'
        }

        It 'a network described with a field this version does not know is refused, not misread' {
            $newer = Join-Path $TestDrive 'layernorm.mlp'
            Copy-Item $modelFile $newer
            Edit-Manifest $newer { param($m) $m.architecture.layerNorm = $true }
            { Import-Mlp -Path $newer -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileVersionUnsupported,$Cmdlet"
        }

        It 'a pickle that names Python code (os.system) is refused: ModelFileUnsafe' {
            # torch.save's zip layout around a pickle calling posix.system('touch <marker>').
            $marker = Join-Path $TestDrive 'code-ran'
            $command = [Text.Encoding]::ASCII.GetBytes("touch $marker")
            $pickle = [byte[]](@(0x80, 2) + [Text.Encoding]::ASCII.GetBytes("cposix`nsystem`n") + @(0x58) + [BitConverter]::GetBytes([int]$command.Length) + $command + @(0x85, 0x52, 0x2E))
            $path = Join-Path $TestDrive 'hostile.pt'
            $zip = [System.IO.Compression.ZipFile]::Open($path, 'Create')
            $stream = $zip.CreateEntry('archive/data.pkl').Open(); $stream.Write($pickle, 0, $pickle.Length); $stream.Dispose(); $zip.Dispose()

            $err = { Import-Mlp -Path $path -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileUnsafe,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match "'posix\.system'"
            Test-Path $marker | Should -BeFalse
        }

        It 'an explicit -Format that does not match the content: ModelFileUnrecognized naming the right one' {
            $err = { Import-Mlp -Path $modelFile -Format PyTorch -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileUnrecognized,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match "-Format MlpTools"
        }

        It 'a state_dict with other layer names: ModelStateDictInvalid' {
            $path = Join-Path $TestDrive 'renamed.safetensors'
            Export-Mlp -Model $model -Path $path -ErrorAction Stop
            $bytes = [IO.File]::ReadAllBytes($path)
            $text = [Text.Encoding]::Latin1.GetString($bytes).Replace('lin_1.', 'fc1.w.')
            [IO.File]::WriteAllBytes($path, [Text.Encoding]::Latin1.GetBytes($text))
            $err = { Import-Mlp -Path $path -ErrorAction Stop } | Should -Throw -ErrorId "ModelStateDictInvalid,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match 'lin_1\.weight, lin_1\.bias'
        }
    }

    Context 'Files that do or do not say their activation' {
        BeforeAll {
            $gelu = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Activation GELU -Dropout 0.25 -Seed 4 -Name 'gelu'
            Invoke-MlpTraining -Model $gelu -Dataset $data -Epochs 3 -BatchSize 8 -LearningRate 0.01 -Seed 1 -ErrorAction Stop | Out-Null
            $geluSafeTensors = Join-Path $TestDrive 'gelu.safetensors'
            $geluTorch = Join-Path $TestDrive 'gelu.pt'
            Export-Mlp -Model $gelu -Path $geluSafeTensors -ErrorAction Stop
            Export-Mlp -Model $gelu -Path $geluTorch -ErrorAction Stop
        }

        It 'a SafeTensors file from Export-Mlp records its architecture: a GELU model comes back as GELU, predicting the same' {
            $imported = Import-Mlp -Path $geluSafeTensors -ErrorAction Stop
            $imported.Activation | Should -Be 'GELU'
            $imported.Dropout | Should -Be 0.25
            Get-Answers $imported | Should -Be (Get-Answers $gelu)
        }

        It 'a torch.save file does not say: without -Activation it is refused (ModelActivationRequired, naming the parameter), not guessed' {
            $err = { Import-Mlp -Path $geluTorch -ErrorAction Stop } | Should -Throw -ErrorId "ModelActivationRequired,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $err.Exception.Message | Should -Match '-Activation'
            Get-Answers (Import-Mlp -Path $geluTorch -Activation GELU -ErrorAction Stop) | Should -Be (Get-Answers (Import-Mlp -Path $geluSafeTensors -ErrorAction Stop))
        }

        It '-Activation takes precedence over what a file records' {
            (Import-Mlp -Path $geluSafeTensors -Activation Tanh -ErrorAction Stop).Activation | Should -Be 'Tanh'
        }
    }

    Context 'Several files, some of them bad' {
        It 'a file it refuses does not stop the others: each bad one is a non-terminating error, each good one a model' {
            $flipped = Join-Path $TestDrive 'flipped-data.pt'
            Export-Mlp -Model $model -Path $flipped -ErrorAction Stop
            $bytes = [IO.File]::ReadAllBytes($flipped)
            $at = [Text.Encoding]::Latin1.GetString($bytes).IndexOf('model/data/0') + 'model/data/0'.Length + 100
            $bytes[$at] = $bytes[$at] -bxor 0x10
            [IO.File]::WriteAllBytes($flipped, $bytes)
            $good = Join-Path $TestDrive 'good.pt'
            Export-Mlp -Model $model -Path $good -ErrorAction Stop

            $models = @(Import-Mlp -Path $flipped, $good -ErrorVariable failures -ErrorAction SilentlyContinue)

            $models.Count | Should -Be 0 -Because 'without -Activation no torch.save file is imported'
            @($failures).FullyQualifiedErrorId | Should -Be "ModelActivationRequired,$Cmdlet", "ModelActivationRequired,$Cmdlet"
            $models = @(Import-Mlp -Path $flipped, (Join-Path $TestDrive 'none.pt'), $good -Activation ReLU -ErrorVariable failures -ErrorAction SilentlyContinue)
            $models.Name | Should -Be 'good'
            @($failures).FullyQualifiedErrorId | Should -Be "ModelFileCorrupt,$Cmdlet", "ModelFileNotFound,$Cmdlet"
            $failures[0].Exception.Message | Should -Match 'CRC-32'
            Get-Answers $models[0] | Should -Be (Get-Answers $model)
        }
    }
}
