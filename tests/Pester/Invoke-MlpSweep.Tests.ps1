# Invoke-MlpSweep on this machine: the trials a grid and a seeded random sweep run, the same results one at a time and
# two at a time, the result file (resume, a torn last line, a file of another sweep), bad input, and the best model.
# Remote sessions are in Invoke-MlpSweep.Remote.Tests.ps1.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    # Two classes of a 2-D table: inside or outside a circle; 150 rows to train on, 50 to score.
    $rows = New-CircleRows -Count 200
    $train = $rows[0..149] | ConvertTo-MlpDataset -LabelProperty Class -Name circle
    $validation = $rows[150..199] | ConvertTo-MlpDataset -LabelProperty Class -Name circle
    $space = @{ HiddenSize = @(8), @(16, 8); Activation = 'ReLU', 'GELU'; LearningRate = 0.01, 0.03 }
    $sweep = @{ Dataset = $train; ValidationDataset = $validation; Epochs = 2; Seed = 3; ThreadCount = 1; ErrorAction = 'Stop' }
    function Get-Scores($Results) { @($Results | Sort-Object Key | ForEach-Object { '{0} {1:R} {2:R}' -f $_.Key, $_.ValidationAccuracy, $_.ValidationLoss }) }
    $sequential = @(Invoke-MlpSweep @sweep -Parameter $space)
}

Describe 'Invoke-MlpSweep' {
    Context 'The trials it runs' {
        It 'runs every combination of a grid once, and writes a record per trial with its parameters and scores' {
            $sequential.Count | Should -Be 8
            @($sequential.Key | Select-Object -Unique).Count | Should -Be 8
            @($sequential | Where-Object { "$($_.HiddenSize)" -eq '16 8' -and $_.Activation -eq 'GELU' -and $_.LearningRate -eq 0.03 }).Count | Should -Be 1
            $sequential | ForEach-Object {
                $_.ValidationAccuracy | Should -BeGreaterOrEqual 0
                $_.ValidationAccuracy | Should -BeLessOrEqual 1
                $_.EpochsRun | Should -Be 2
                $_.BestEpoch | Should -BeIn 1, 2
                $_.Location | Should -Be 'local'
                $_.Seed | Should -Be 3
                $_.Seconds | Should -BeGreaterThan 0
            }
            # Accuracy of 50 rows is a multiple of 1/50.
            $sequential | ForEach-Object { ($_.ValidationAccuracy * 50) | Should -BeLike ([math]::Round($_.ValidationAccuracy * 50)) }
        }

        It 'gives exactly the same results two at a time (-ThrottleLimit 2) as one at a time' {
            $parallel = @(Invoke-MlpSweep @sweep -Parameter $space -ThrottleLimit 2)
            Get-Scores $parallel | Should -Be (Get-Scores $sequential)
            # The trials differ, so the comparison means something.
            @($sequential.ValidationLoss | Select-Object -Unique).Count | Should -BeGreaterThan 1
        }

        It 'draws the same random trials for the same seed, others for another, within the ranges' {
            $random = @{ Parameter = @{ Activation = 'ReLU', 'Tanh' }; Range = @{ LearningRate = 1e-3, 1e-1; BatchSize = 16, 64 }; LogScale = 'LearningRate'; Count = 5 }
            $first = @(Invoke-MlpSweep @sweep @random)
            $again = @(Invoke-MlpSweep @sweep @random)
            $other = @(Invoke-MlpSweep @sweep @random -Seed 4)
            $first.Count | Should -Be 5
            Get-Scores $again | Should -Be (Get-Scores $first)
            ($other.Key -join ',') | Should -Not -Be ($first.Key -join ',')
            $first | ForEach-Object {
                $_.LearningRate | Should -BeGreaterOrEqual 1e-3
                $_.LearningRate | Should -BeLessOrEqual 1e-1
                $_.BatchSize | Should -BeOfType [long]
                $_.BatchSize | Should -BeGreaterOrEqual 16
            }
        }

        It 'runs trials with early stopping, which report the epoch whose weights they keep' {
            $stopped = @(Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.5; Patience = 1 } -Epochs 30 -EarlyStopping)
            $stopped.Count | Should -Be 1
            $stopped[0].EpochsRun | Should -BeLessThan 30
            $stopped[0].BestEpoch | Should -BeLessThan $stopped[0].EpochsRun
        }
    }

    Context 'The result file' {
        It 'appends each trial, and -Resume runs only the trials not in it' {
            $path = Join-Path $TestDrive 'resume.jsonl'
            $half = @{ HiddenSize = @(8), @(16, 8); Activation = 'ReLU', 'GELU'; LearningRate = 0.01, 0.03 }
            $all = @(Invoke-MlpSweep @sweep -Parameter $half -ResultPath $path)
            $lines = Get-Content $path
            $lines.Count | Should -Be 9
            # Keep the header and three trials, as if the sweep had been killed after the third.
            Set-Content -Path $path -Value $lines[0..3]
            $resumed = @(Invoke-MlpSweep @sweep -Parameter $half -ResultPath $path -Resume)
            $resumed.Count | Should -Be 8
            @($resumed | Where-Object FromResultFile).Key | Should -Be @(($lines[1..3] | ConvertFrom-Json).key)
            Get-Scores $resumed | Should -Be (Get-Scores $all)
            (Get-Content $path).Count | Should -Be 9
        }

        It 'cuts a torn last line (a kill mid-write) and runs that trial again' {
            $path = Join-Path $TestDrive 'torn.jsonl'
            $small = @{ LearningRate = 0.01, 0.03 }
            $null = Invoke-MlpSweep @sweep -Parameter $small -ResultPath $path
            $lines = Get-Content $path
            [System.IO.File]::WriteAllText($path, ($lines[0..1] -join "`n") + "`n" + $lines[2].Substring(0, 20))
            $resumed = @(Invoke-MlpSweep @sweep -Parameter $small -ResultPath $path -Resume)
            @($resumed | Where-Object { -not $_.FromResultFile }).Key | Should -Be ($lines[2] | ConvertFrom-Json).key
            $after = Get-Content $path
            $after.Count | Should -Be 3
            $after | Select-Object -Skip 1 | ForEach-Object { { $_ | ConvertFrom-Json } | Should -Not -Throw }
        }

        It 'refuses the file of another sweep, and a file it did not write, leaving them unchanged' {
            $path = Join-Path $TestDrive 'other.jsonl'
            $null = Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.01 } -ResultPath $path
            $before = Get-FileHash $path
            { Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.02 } -ResultPath $path -Resume } | Should -Throw -ErrorId 'SweepResultFileMismatch,MlpTools.Commands.InvokeMlpSweepCommand'
            { Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.01 } -Epochs 3 -ResultPath $path -Resume } | Should -Throw -ErrorId 'SweepResultFileMismatch,MlpTools.Commands.InvokeMlpSweepCommand'
            { Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.01 } -ResultPath $path } | Should -Throw -ErrorId 'SweepResultFileExists,MlpTools.Commands.InvokeMlpSweepCommand'
            (Get-FileHash $path).Hash | Should -Be $before.Hash
            $notes = Join-Path $TestDrive 'notes.jsonl'
            Set-Content $notes '{"name":"not a sweep"}'
            { Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.01 } -ResultPath $notes -Resume } | Should -Throw -ErrorId 'SweepResultFileDamaged,MlpTools.Commands.InvokeMlpSweepCommand'
            Get-Content $notes | Should -Be '{"name":"not a sweep"}'
        }
    }

    Context 'Bad input' {
        It 'refuses <Case> with <Id>' -ForEach @(
            @{ Case = 'an unknown parameter name'; Id = 'SweepParameterUnknown'; Arguments = @{ Parameter = @{ LearnRate = 0.01 } } }
            @{ Case = 'a parameter the sweep sets itself'; Id = 'SweepParameterUnknown'; Arguments = @{ Parameter = @{ ThreadCount = 1, 2 } } }
            @{ Case = 'a value of the wrong type'; Id = 'SweepParameterValueInvalid'; Arguments = @{ Parameter = @{ Activation = 'Sigmoidish' } } }
            @{ Case = 'a number where sizes go'; Id = 'SweepParameterValueInvalid'; Arguments = @{ Parameter = @{ HiddenSize = 'wide' } } }
            @{ Case = 'a value out of the parameter''s range'; Id = 'SweepParameterValueInvalid'; Arguments = @{ Parameter = @{ Dropout = 0.5, 1.5 } } }
            @{ Case = 'an empty space'; Id = 'SweepSpaceEmpty'; Arguments = @{ Parameter = @{} } }
            @{ Case = 'a parameter with no values'; Id = 'SweepSpaceEmpty'; Arguments = @{ Parameter = @{ Dropout = @() } } }
            @{ Case = 'a range without -Count'; Id = 'SweepRangeNeedsCount'; Arguments = @{ Range = @{ LearningRate = 1e-3, 1e-2 } } }
            @{ Case = 'a range of one number'; Id = 'SweepRangeInvalid'; Arguments = @{ Range = @{ LearningRate = 1e-3 }; Count = 2 } }
            @{ Case = 'a range of text'; Id = 'SweepRangeInvalid'; Arguments = @{ Range = @{ Activation = 'ReLU', 'GELU' }; Count = 2 } }
            @{ Case = 'a log scale from 0'; Id = 'SweepRangeInvalid'; Arguments = @{ Range = @{ WeightDecay = 0, 1e-2 }; LogScale = 'WeightDecay'; Count = 2 } }
            @{ Case = 'a log scale of no range'; Id = 'SweepRangeInvalid'; Arguments = @{ Parameter = @{ LearningRate = 0.01 }; LogScale = 'LearningRate' } }
            @{ Case = 'a parameter given twice'; Id = 'SweepParameterDuplicate'; Arguments = @{ Parameter = @{ LearningRate = 0.01 }; Range = @{ learningrate = 1e-3, 1e-2 }; Count = 2 } }
            @{ Case = '-Resume without -ResultPath'; Id = 'SweepResumeWithoutResultPath'; Arguments = @{ Parameter = @{ LearningRate = 0.01 }; Resume = $true } }
        ) {
            { Invoke-MlpSweep @sweep @Arguments } | Should -Throw -ErrorId "$Id,MlpTools.Commands.InvokeMlpSweepCommand"
        }

        It 'reports a failed trial with SweepTrialFailed and runs the others' {
            # BatchSize 1 with -ValidationFraction 0.999999 leaves no row to train on: that trial fails in Invoke-MlpTraining.
            $results = @(Invoke-MlpSweep @sweep -Parameter @{ ValidationFraction = 0, 0.999999 } -ErrorAction SilentlyContinue -ErrorVariable failures)
            $results.Count | Should -Be 1
            $results[0].ValidationFraction | Should -Be 0
            $failures.Count | Should -Be 1
            $failures[0].FullyQualifiedErrorId | Should -BeLike 'SweepTrialFailed,*'
            $failures[0].Exception.Message | Should -Match 'ValidationFraction=0.999999'
        }
    }

    Context '-BestModelPath' {
        It 'exports the best trial''s model, retrained, which scores what the trial scored' {
            $path = Join-Path $TestDrive 'best.mlp'
            $results = @(Invoke-MlpSweep @sweep -Parameter $space -BestModelPath $path -InformationVariable told)
            $best = $results | Sort-Object @{ Expression = 'ValidationAccuracy'; Descending = $true }, ValidationLoss, Trial | Select-Object -First 1
            $path | Should -Exist
            $model = Import-Mlp -Path $path
            try {
                (Test-MlpAccuracy -Model $model -Dataset $validation).Accuracy | Should -Be $best.ValidationAccuracy
                "$($model.HiddenSizes)" | Should -Be "$($best.HiddenSize)"
            }
            finally { $model.Dispose() }
            "$told" | Should -Match "trial $($best.Trial):.*retrained"
        }
    }
}
