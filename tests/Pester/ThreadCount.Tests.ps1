# -ThreadCount on the cmdlets that compute with libtorch: its range, that libtorch's process-wide setting is
# restored when the command ends (normally, with an error, or stopped by a downstream Select-Object), and that
# giving the current count changes nothing in the results.
BeforeDiscovery {
    $computeCmdlets = @(
        @{ Name = 'Invoke-MlpTraining'; Type = 'InvokeMlpTrainingCommand' }
        @{ Name = 'Invoke-MlpPrediction'; Type = 'InvokeMlpPredictionCommand' }
        @{ Name = 'Test-MlpAccuracy'; Type = 'TestMlpAccuracyCommand' }
    )
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    $test = New-SeparableDataset -Folder (Join-Path $TestDrive 'test') -Count 10 -Seed 2 -Split Test
    $model = New-TrainedSeparableModel -Dataset $train
    # Enough rows for two shares of a batch of 64.
    $rows128 = New-SeparableDataset -Folder (Join-Path $TestDrive 'rows128') -Count 128 -Seed 4
    # libtorch's current intra-op thread count, read through the engine (the same figure Test-MlpEnvironment reports).
    $runtime = $model.GetType().Assembly.GetType('MlpTools.Core.Platform.TorchRuntime')
    function Get-TorchThreadCount { $runtime::ThreadCount }
    $initial = Get-TorchThreadCount
    # A count different from the current one, so that a missing restore shows.
    $other = if ($initial -eq 1) { 2 } else { 1 }
}

Describe '-ThreadCount' {
    Context '<Name>' -ForEach $computeCmdlets {
        It 'is an optional Int32 from 1 to 256' {
            $parameter = (Get-Command $Name).Parameters['ThreadCount']
            $parameter | Should -Not -BeNullOrEmpty
            $range = $parameter.Attributes | Where-Object { $_ -is [ValidateRange] }
            $range.MinRange | Should -Be 1
            $range.MaxRange | Should -Be 256
        }

        It 'refuses <_>' -ForEach 0, -1, 257 {
            $threads = $_
            $command = @{ Model = $model; Dataset = $test; ThreadCount = $threads; ErrorAction = 'Stop' }
            { & $Name @command } | Should -Throw -ErrorId "ParameterArgumentValidationError,MlpTools.Commands.$Type"
            Get-TorchThreadCount | Should -Be $initial
        }
    }

    Context 'The process-wide setting' {
        BeforeAll {
            # The defaults below are those of a process started without OMP_NUM_THREADS, which makes libtorch choose.
            $givenOmpThreads = $env:OMP_NUM_THREADS
            Remove-Item env:OMP_NUM_THREADS -ErrorAction Ignore
        }
        AfterAll {
            if ($givenOmpThreads) { $env:OMP_NUM_THREADS = $givenOmpThreads }
        }

        It 'is the given count while the command runs and the previous one afterwards' {
            $during = Invoke-MlpPrediction -Model $model -Dataset $test -First 1 -ThreadCount $other | ForEach-Object { Get-TorchThreadCount }
            $during | Should -Be $other
            Get-TorchThreadCount | Should -Be $initial
        }

        It 'training narrow layers without -ThreadCount shares each batch among the cores (one share per 32 rows at most), each on one libtorch thread, says so, and restores the setting' {
            # 128 rows in batches of 64: two shares where there are two cores or more.
            $expected = [Math]::Min(2, [Environment]::ProcessorCount)
            $copy = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3
            $during = Invoke-MlpTraining -Model $copy -Dataset $rows128 -Epochs 2 -BatchSize 64 -Seed 1 -Verbose 4>&1 -ErrorAction Stop |
                ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message } else { Get-TorchThreadCount } }
            @($during | Where-Object { $_ -is [int] }) | Should -Be @(1, 1)
            $said = if ($expected -gt 1) { "Training shares each batch's rows among $expected threads, each computing on one libtorch thread (training's default for layers this narrow: one per core)." }
            else { "libtorch runs on 1 intra-op thread(s) (training's default for layers this narrow: one per core)." }
            $during | Should -Contain $said
            Get-TorchThreadCount | Should -Be $initial
        }

        It 'training narrow layers in batches too small to share says why it computes on one thread' -Skip:([Environment]::ProcessorCount -lt 2) {
            $said = Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3) -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1 -Verbose 4>&1 -ErrorAction Stop |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
            $said | Should -Contain 'Training computes on 1 thread: batches of 8 are shared among threads only in parts of 32 rows or more.'
        }

        It 'training narrow layers with dropout without -ThreadCount computes on one fewer than the cores, on libtorch''s threads' {
            $expected = [Math]::Max(1, [Environment]::ProcessorCount - 1)
            $dropped = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Dropout 0.2 -Seed 3
            $during = Invoke-MlpTraining -Model $dropped -Dataset $rows128 -Epochs 1 -BatchSize 64 -Seed 1 -Verbose 4>&1 -ErrorAction Stop |
                ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message } else { Get-TorchThreadCount } }
            @($during | Where-Object { $_ -is [int] }) | Should -Be @($expected)
            $during | Should -Contain "libtorch runs on $expected intra-op thread(s) (training's default for narrow layers with dropout: one fewer than the cores)."
        }

        It '-ThreadCount 2 on narrow layers shares batches of 64 between two threads, and trains batches of 8 on one, saying why' {
            $shared = Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3) -Dataset $rows128 -Epochs 1 -BatchSize 64 -Seed 1 -ThreadCount 2 -Verbose 4>&1 -ErrorAction Stop |
                Where-Object { $_ -is [System.Management.Automation.VerboseRecord] } | ForEach-Object Message
            $shared | Should -Contain "Training shares each batch's rows among 2 threads, each computing on one libtorch thread (-ThreadCount)."
            $small = Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3) -Dataset $rows128 -Epochs 1 -BatchSize 8 -Seed 1 -ThreadCount 2 -Verbose 4>&1 -ErrorAction Stop |
                ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $_.Message } else { Get-TorchThreadCount } }
            $small | Should -Contain 'Training computes on 1 thread: batches of 8 are shared among threads only in parts of 32 rows or more.'
            @($small | Where-Object { $_ -is [int] }) | Should -Be @(1)
            Get-TorchThreadCount | Should -Be $initial
        }

        It 'shared batches give the same losses run after run, close to one thread''s' {
            $run = { param($Threads) Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3) -Dataset $rows128 -Epochs 3 -BatchSize 64 -Seed 1 -ThreadCount $Threads -ErrorAction Stop | ForEach-Object Loss }
            $first = & $run 2
            $second = & $run 2
            $alone = & $run 1
            $second | Should -Be $first
            foreach ($epoch in 0..2) { [Math]::Abs($first[$epoch] - $alone[$epoch]) / $alone[$epoch] | Should -BeLessThan 1e-5 }
        }

        It 'training a hidden layer of 1024 units or more without -ThreadCount keeps libtorch''s setting' {
            $wide = New-Mlp -InputSize 16 -HiddenSize 4, 1024 -OutputSize 2 -Seed 3
            $during = Invoke-MlpTraining -Model $wide -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1 -ErrorAction Stop | ForEach-Object { Get-TorchThreadCount }
            $during | Should -Be $initial
        }

        It 'training without -ThreadCount keeps libtorch''s setting when OMP_NUM_THREADS chooses' {
            $copy = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3
            $env:OMP_NUM_THREADS = "$initial"
            try {
                $during = Invoke-MlpTraining -Model $copy -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1 -ErrorAction Stop | ForEach-Object { Get-TorchThreadCount }
            }
            finally {
                Remove-Item env:OMP_NUM_THREADS
            }
            $during | Should -Be $initial
        }

        It 'is restored after training and after measuring accuracy' {
            $copy = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3
            Invoke-MlpTraining -Model $copy -Dataset $train -Epochs 1 -BatchSize 8 -Seed 1 -ThreadCount $other -ErrorAction Stop | Out-Null
            Get-TorchThreadCount | Should -Be $initial
            Test-MlpAccuracy -Model $model -Dataset $test -ThreadCount $other -ErrorAction Stop | Out-Null
            Get-TorchThreadCount | Should -Be $initial
        }

        It 'is restored when the command fails' {
            { Invoke-MlpPrediction -Model $model -Dataset $test -Index 99 -ThreadCount $other -ErrorAction Stop } | Should -Throw -ErrorId 'DatasetIndexOutOfRange,MlpTools.Commands.InvokeMlpPredictionCommand'
            Get-TorchThreadCount | Should -Be $initial
        }

        It 'is restored when a downstream command stops the pipeline early' {
            @(Invoke-MlpPrediction -Model $model -Dataset $test -ThreadCount $other | Select-Object -First 1).Count | Should -Be 1
            Get-TorchThreadCount | Should -Be $initial
        }
    }

    Context 'Overlapping runspaces' {
        BeforeAll {
            # libtorch keeps a count per thread and a default for threads it has not met yet (a new runspace's).
            function Get-TorchDefaultThreadCount { $runtime::DefaultThreadCount }
            $default = Get-TorchDefaultThreadCount
            # Two counts unlike each other and unlike the default.
            $first, $second = @(1, 2, 3 | Where-Object { $_ -ne $default })[0, 1]
            $models = 1, 2 | ForEach-Object { New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed $_ }
            # A prediction with -ThreadCount in a runspace of its own, held inside its command until released; it
            # returns the count its thread computes with just before it ends.
            function Start-HeldPrediction($Model, [int]$Threads) {
                $started = [System.Threading.ManualResetEventSlim]::new($false)
                $release = [System.Threading.ManualResetEventSlim]::new($false)
                $runspace = [powershell]::Create()
                $null = $runspace.AddScript({
                        param($Module, $Runtime, $Model, $Data, $Threads, $Started, $Release)
                        Import-Module $Module
                        Invoke-MlpPrediction -Model $Model -Dataset $Data -ThreadCount $Threads -ErrorAction Stop | Select-Object -First 1 |
                            ForEach-Object { $Started.Set(); $null = $Release.Wait(60000); $Runtime::ThreadCount }
                    }).AddArgument($env:MLPTOOLS_MODULE).AddArgument($runtime).AddArgument($Model).AddArgument($test).AddArgument($Threads).
                    AddArgument($started).AddArgument($release)
                $held = [pscustomobject]@{ Runspace = $runspace; Pending = $runspace.BeginInvoke(); Release = $release }
                if (-not $started.Wait(60000)) { throw "The prediction with -ThreadCount $Threads did not start: $($runspace.Streams.Error)" }
                $held
            }
            function Stop-HeldPrediction($Held) {
                $Held.Release.Set()
                $countAtEnd = $Held.Runspace.EndInvoke($Held.Pending)
                $Held.Runspace.Streams.Error | Should -BeNullOrEmpty
                $Held.Runspace.Dispose()
                $countAtEnd
            }
        }

        It 'each command computes with its own count to its end, and the default comes back when the last ends (<Order>)' -ForEach @(
            @{ Order = 'the first to start ends first'; FirstEndsFirst = $true }
            @{ Order = 'the last to start ends first'; FirstEndsFirst = $false }
        ) {
            $a = Start-HeldPrediction $models[0] $first
            Get-TorchDefaultThreadCount | Should -Be $first
            # B's runspace thread meets libtorch while A's count is the default.
            $b = Start-HeldPrediction $models[1] $second
            Get-TorchDefaultThreadCount | Should -Be $second
            $ends = if ($FirstEndsFirst) { @{ A = Stop-HeldPrediction $a; B = Stop-HeldPrediction $b } } else { @{ B = Stop-HeldPrediction $b; A = Stop-HeldPrediction $a } }
            $ends.A | Should -Be $first
            $ends.B | Should -Be $second
            Get-TorchDefaultThreadCount | Should -Be $default
            Get-TorchThreadCount | Should -Be $initial
        }
    }

    Context 'Results' {
        It 'trains to the same weights as without it, for the same thread count' {
            $without = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4
            $with = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4
            $a = Invoke-MlpTraining -Model $without -Dataset $train -Epochs 3 -BatchSize 8 -Seed 1 -ErrorAction Stop
            $b = Invoke-MlpTraining -Model $with -Dataset $train -Epochs 3 -BatchSize 8 -Seed 1 -ThreadCount $initial -ErrorAction Stop
            $b.Loss | Should -Be $a.Loss
            (Invoke-MlpPrediction -Model $with -Dataset $test).Confidence | Should -Be (Invoke-MlpPrediction -Model $without -Dataset $test).Confidence
        }

        # Training flushes denormal floats to zero while a batch computes; [double]::Epsilon is a denormal, which a
        # thread left flushing would read as 0.
        It 'leaves the caller''s arithmetic as it was, between epochs and after (-ThreadCount <_>)' -ForEach 1, 2 {
            $fresh = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4
            $between = Invoke-MlpTraining -Model $fresh -Dataset $rows128 -Epochs 2 -BatchSize 64 -Seed 1 -ThreadCount $_ -ErrorAction Stop |
                ForEach-Object { [double]::Epsilon * 4 }
            $between | Should -HaveCount 2
            $between | Should -Not -Contain 0
            [double]::Epsilon * 4 | Should -BeGreaterThan 0
        }

        It 'leaves the caller''s arithmetic as it was after a batch that diverges (-ThreadCount <_>)' -ForEach 1, 2 {
            $fresh = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 4
            { Invoke-MlpTraining -Model $fresh -Dataset $rows128 -Epochs 5 -BatchSize 64 -Optimizer SGD -LearningRate 1000 -WeightDecay 1000 -Seed 1 -ThreadCount $_ -ErrorAction Stop } |
                Should -Throw -ErrorId 'TrainingDiverged,MlpTools.Commands.InvokeMlpTrainingCommand'
            [double]::Epsilon * 4 | Should -BeGreaterThan 0
        }

        It 'predicts and measures the same as without it, for the same thread count' {
            (Invoke-MlpPrediction -Model $model -Dataset $test -ThreadCount $initial).Confidence | Should -Be (Invoke-MlpPrediction -Model $model -Dataset $test).Confidence
            (Test-MlpAccuracy -Model $model -Dataset $test -ThreadCount $initial).Accuracy | Should -Be (Test-MlpAccuracy -Model $model -Dataset $test).Accuracy
        }
    }
}
