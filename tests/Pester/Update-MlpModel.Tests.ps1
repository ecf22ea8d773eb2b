# module/Examples/Update-MlpModel.ps1, the scheduled-retraining script, run as a scheduler runs it: a new process each time.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    $script = Join-Path (Split-Path $env:MLPTOOLS_MODULE) 'Examples/Update-MlpModel.ps1'
    $data = Join-Path $TestDrive 'data'
    # Training split: 32 separable images. Held-out split: 10, three of them mislabelled, so a model that has learned
    # the patterns scores exactly 0.7 on it.
    $train = New-SeparableDataset -Folder $data -Count 32 -Seed 1
    $holdOut = New-SeparableDataset -Folder $data -Count 10 -Seed 2 -MislabelIndex 0, 3, 5 -Split Test
    $deployed = Join-Path $TestDrive 'deployed/digits.mlp'
    New-Item -ItemType Directory (Split-Path $deployed) | Out-Null
    $history = "$deployed.history.jsonl"
    $recipe = @('-DataPath', $data, '-Epochs', 8, '-HiddenSize', 8, '-BatchSize', 8, '-LearningRate', 0.01, '-Seed', 1)

    function Invoke-Update {
        $output = & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $deployed -ModulePath $env:MLPTOOLS_MODULE @args 2>&1
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = ($output | Out-String) }
    }
    function Get-History { @(Get-Content -LiteralPath $history | ForEach-Object { $_ | ConvertFrom-Json }) }
    function Get-Hash { (Get-FileHash -LiteralPath $deployed -Algorithm SHA256).Hash }
}

Describe 'Update-MlpModel.ps1' {
    Context 'An untrained model is deployed' {
        BeforeAll {
            $untrained = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4 -Name 'untrained'
            $untrainedAccuracy = (Test-MlpAccuracy -Model $untrained -Dataset $holdOut).Accuracy
            Export-Mlp -Model $untrained -Path $deployed
            $first = Invoke-Update @recipe
            $afterFirst = Get-Hash
            $second = Invoke-Update @recipe
        }

        It 'the first run promotes the better candidate: exit 0, the deployed file replaced, one Promoted line' {
            $untrainedAccuracy | Should -BeLessThan 0.7 -Because 'the fixture needs a worse deployed model'
            $first.ExitCode | Should -Be 0 -Because $first.Output
            $promoted = Import-Mlp -Path $deployed
            $promoted.Name | Should -BeExactly 'candidate'
            $promoted.EpochsTrained | Should -Be 8
            (Test-MlpAccuracy -Model $promoted -Dataset $holdOut).Accuracy | Should -Be 0.7
            $entry = (Get-History)[0]
            $entry.outcome | Should -BeExactly 'Promoted'
            $entry.candidateAccuracy | Should -Be 0.7
            $entry.deployedAccuracy | Should -Be $untrainedAccuracy
            $entry.seed | Should -Be 1
            $entry.layers | Should -BeExactly '16-8-2'
            $entry.trainData | Should -BeExactly $promoted.History.Runs[0].TrainData.Sha256
        }

        It 'the second run''s candidate is no better (the same seed gives the same 0.7), so it keeps the deployed model' {
            $second.ExitCode | Should -Be 0 -Because $second.Output
            Get-Hash | Should -BeExactly $afterFirst
            $entries = Get-History
            $entries.Count | Should -Be 2
            $entries[1].outcome | Should -BeExactly 'Kept'
            $entries[1].candidateAccuracy, $entries[1].deployedAccuracy | Should -Be 0.7, 0.7
        }

        It 'cleans up its checkpoint after each run' {
            Test-Path "$deployed.candidate.ckpt" | Should -BeFalse
        }
    }

    Context 'Failures' {
        It 'exits 1 and logs a Failed line with the error id when the data is missing; the deployed file is untouched' {
            # (Pester's TestDrive drops what a Context made when it ends: this Context deploys its own model.)
            Export-Mlp -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4) -Path $deployed -Force
            $before = Get-Hash
            $run = Invoke-Update -DataPath (Join-Path $TestDrive 'no-data') -Epochs 1
            $run.ExitCode | Should -Be 1
            Get-Hash | Should -BeExactly $before
            $entries = Get-History
            $entries.Count | Should -Be 1
            $entries[-1].outcome | Should -BeExactly 'Failed'
            $entries[-1].errorId | Should -BeLike 'MnistFileNotFound,*'
        }

        It 'exits 1 when the deployed file is damaged, rather than replace what it cannot read' {
            $damaged = Join-Path $TestDrive 'damaged/digits.mlp'
            New-Item -ItemType Directory (Split-Path $damaged) | Out-Null
            Set-Content -LiteralPath $damaged -Value 'not a model'
            $output = & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $damaged -ModulePath $env:MLPTOOLS_MODULE @recipe 2>&1
            $LASTEXITCODE | Should -Be 1
            Get-Content -LiteralPath $damaged -Raw | Should -BeExactly "not a model$([Environment]::NewLine)"
            (Get-Content -LiteralPath "$damaged.history.jsonl" | ConvertFrom-Json).errorId | Should -BeLike 'ModelFileUnrecognized,*'
        }
    }

    Context '-WhatIf' {
        It 'with a model deployed: says what it would do, with the deployed accuracy, and trains and writes nothing' {
            $folder = Join-Path $TestDrive 'whatif-deployed'
            New-Item -ItemType Directory $folder | Out-Null
            $target = Join-Path $folder 'digits.mlp'
            $untrained = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4
            Export-Mlp -Model $untrained -Path $target
            $accuracy = (Test-MlpAccuracy -Model $untrained -Dataset $holdOut).Accuracy
            $before = (Get-FileHash -LiteralPath $target).Hash
            $output = & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $target -ModulePath $env:MLPTOOLS_MODULE @recipe -WhatIf 2>&1 | Out-String
            $LASTEXITCODE | Should -Be 0 -Because $output
            $output | Should -Match ([regex]::Escape(('Train a 16-8-2 candidate (8 epochs, batch size 8, learning rate 0.01) on 32 images, checkpointing to ' +
                "$target.candidate.ckpt, and replace the deployed model if it beats deployed {0:P2} on 10 held-out images") -f $accuracy) -replace '\\ ', '\s+')
            (Get-ChildItem -LiteralPath $folder -Force).Name | Should -BeExactly 'digits.mlp'
            (Get-FileHash -LiteralPath $target).Hash | Should -BeExactly $before
        }

        It 'with nothing deployed: says so, and leaves the folder empty; the next real run trains afresh' {
            $folder = Join-Path $TestDrive 'whatif-empty'
            New-Item -ItemType Directory $folder | Out-Null
            $target = Join-Path $folder 'digits.mlp'
            $output = & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $target -ModulePath $env:MLPTOOLS_MODULE @recipe -WhatIf 2>&1 | Out-String
            $LASTEXITCODE | Should -Be 0 -Because $output
            $output | Should -Match 'beats\s+none\s+deployed'
            @(Get-ChildItem -LiteralPath $folder -Force).Count | Should -Be 0
            & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $target -ModulePath $env:MLPTOOLS_MODULE @recipe *> $null
            $LASTEXITCODE | Should -Be 0
            $entry = Get-Content -LiteralPath "$target.history.jsonl" | ConvertFrom-Json
            $entry.outcome, $entry.resumed | Should -Be 'Promoted', $false
        }
    }

    Context 'A checkpoint that is not of this run''s recipe' {
        BeforeAll {
            # A checkpoint as a killed run of the test recipe leaves it: 3 of 8 epochs done.
            function New-KilledRun([string]$Folder) {
                New-Item -ItemType Directory (Join-Path $TestDrive $Folder) | Out-Null
                $target = Join-Path $TestDrive "$Folder/digits.mlp"
                $partial = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name 'candidate'
                Invoke-MlpTraining -Model $partial -Dataset $train -Epochs 8 -BatchSize 8 -LearningRate 0.01 -Seed 1 -CheckpointPath "$target.candidate.ckpt" |
                    Select-Object -First 3 | Out-Null
                $target
            }
        }

        It 'other <Change>: warns, does not resume, trains the new recipe from the start' -ForEach @(
            @{ Change = 'epochs'; Name = '-Epochs'; Value = 6; Epochs = 6; Warning = '8 epochs, not 6' }
            @{ Change = 'seed, given with -Seed'; Name = '-Seed'; Value = 2; Epochs = 8; Warning = 'seed 1, not 2' }
        ) {
            $target = New-KilledRun "recipe$Name"
            $changed = $recipe.Clone()
            $changed[[array]::IndexOf($changed, $Name) + 1] = $Value
            $output = & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $target -ModulePath $env:MLPTOOLS_MODULE @changed 2>&1 3>&1 | Out-String
            $LASTEXITCODE | Should -Be 0 -Because $output
            $output | Should -Match ([regex]::Escape($Warning))
            $entry = Get-Content -LiteralPath "$target.history.jsonl" | ConvertFrom-Json
            $entry.outcome, $entry.resumed | Should -Be 'Promoted', $false
            $promoted = Import-Mlp -Path $target
            $promoted.EpochsTrained | Should -Be $Epochs
            $promoted.History.Runs.Count | Should -Be 1
            $promoted.History.Runs[0].Options.Seed | Should -Be $changed[[array]::IndexOf($changed, '-Seed') + 1]
            Test-Path "$target.candidate.ckpt" | Should -BeFalse
        }

        It 'a model file where the checkpoint goes: exit 1, and the file is left as it was' {
            $folder = Join-Path $TestDrive 'model-at-checkpoint'
            New-Item -ItemType Directory $folder | Out-Null
            $target = Join-Path $folder 'digits.mlp'
            Export-Mlp -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 9) -Path "$target.candidate.ckpt"
            $before = (Get-FileHash -LiteralPath "$target.candidate.ckpt").Hash
            & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $target -ModulePath $env:MLPTOOLS_MODULE @recipe *> $null
            $LASTEXITCODE | Should -Be 1
            (Get-FileHash -LiteralPath "$target.candidate.ckpt").Hash | Should -BeExactly $before
            (Get-Content -LiteralPath "$target.history.jsonl" | ConvertFrom-Json).errorId | Should -BeLike 'CheckpointPathOccupied,*'
            Test-Path $target | Should -BeFalse
        }
    }

    Context 'A run killed part-way' {
        It 'resumes the candidate from its checkpoint at the next run' {
            # A checkpoint as a killed run leaves it: 3 of 8 epochs done.
            $killed = Join-Path $TestDrive 'killed/digits.mlp'
            New-Item -ItemType Directory (Split-Path $killed) | Out-Null
            $partial = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name 'candidate'
            Invoke-MlpTraining -Model $partial -Dataset $train -Epochs 8 -BatchSize 8 -LearningRate 0.01 -Seed 1 -CheckpointPath "$killed.candidate.ckpt" |
                Select-Object -First 3 | Out-Null
            & $pwsh -NoProfile -NonInteractive -File $script -DeployedPath $killed -ModulePath $env:MLPTOOLS_MODULE @recipe *> $null
            $LASTEXITCODE | Should -Be 0
            $entry = Get-Content -LiteralPath "$killed.history.jsonl" | ConvertFrom-Json
            $entry.outcome, $entry.resumed | Should -Be 'Promoted', $true
            # The resumed candidate is the one an uninterrupted run makes.
            $uninterrupted = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 -Name 'candidate'
            $expected = Invoke-MlpTraining -Model $uninterrupted -Dataset $train -Epochs 8 -BatchSize 8 -LearningRate 0.01 -Seed 1
            $fromResume = Import-Mlp -Path $killed
            $fromResume.EpochsTrained | Should -Be 8
            $fromResume.History.Epochs.Loss | Should -Be $expected.Loss
            Test-Path "$killed.candidate.ckpt" | Should -BeFalse
        }
    }
}
