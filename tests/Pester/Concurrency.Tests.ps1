# Runspaces at the same time (issue 7): models trained side by side give exactly the results of one after the other,
# a model shared between runspaces is refused while busy, and the module keeps working next to other versions of its
# dependencies. Removing and re-importing in one session is in Module.Tests.ps1; a stopped training in Invoke-MlpTraining.Stopping.Tests.ps1.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $module = $env:MLPTOOLS_MODULE
    $train = New-SeparableDataset -Folder (Join-Path $TestDrive 'train') -Count 32 -Seed 1
    # Two different recipes: dropout (a seeded mask generator) in one, SGD with momentum in the other.
    $recipes = @(
        @{ Name = 'A'; Hidden = 8; ModelSeed = 1; Dropout = 0.25; TrainSeed = 11; Optimizer = 'Adam'; Momentum = 0 }
        @{ Name = 'B'; Hidden = 6; ModelSeed = 2; Dropout = 0; TrainSeed = 22; Optimizer = 'SGD'; Momentum = 0.9 }
    )
    # As text: ForEach-Object -Parallel refuses script blocks in $using: variables.
    $trainRecipe = {
        param($Recipe, $Dataset, $Barrier)
        $model = New-Mlp -InputSize 16 -HiddenSize $Recipe.Hidden -OutputSize 2 -Seed $Recipe.ModelSeed -Dropout $Recipe.Dropout -ErrorAction Stop
        # Both runspaces start training at the same moment, so that they really overlap.
        if ($Barrier -and -not $Barrier.SignalAndWait([timespan]::FromSeconds(60))) { throw 'The other runspace never arrived.' }
        $started = [datetime]::UtcNow
        # -Momentum only where it does something: Invoke-MlpTraining refuses it with Adam.
        $momentum = if ($Recipe.Momentum) { @{ Momentum = $Recipe.Momentum } } else { @{} }
        $records = @(Invoke-MlpTraining -Model $model -Dataset $Dataset -Epochs 40 -BatchSize 1 -LearningRate 0.01 -Optimizer $Recipe.Optimizer `
                @momentum -Seed $Recipe.TrainSeed -ErrorAction Stop)
        [pscustomobject]@{
            Name = $Recipe.Name
            Losses = @($records.Loss)
            Confidences = @((Invoke-MlpPrediction -Model $model -Dataset $Dataset -ErrorAction Stop).Confidence)
            Threads = (Test-MlpEnvironment).TorchThreads
            Started = $started
            Ended = [datetime]::UtcNow
        }
        $model.Dispose()
    }.ToString()

    function Assert-SameAsSequential($Results) {
        $Results.Count | Should -Be 2
        foreach ($expected in $sequential) {
            $actual = $Results | Where-Object Name -EQ $expected.Name
            $actual.Losses | Should -Be $expected.Losses -Because "recipe $($expected.Name) gives exactly the losses of a run alone"
            $actual.Confidences | Should -Be $expected.Confidences -Because "recipe $($expected.Name) ends with exactly the same weights"
            $actual.Threads | Should -Be $threadsBefore
        }
        # They did run at the same time: each started before the other ended.
        $Results[0].Started | Should -BeLessThan $Results[1].Ended
        $Results[1].Started | Should -BeLessThan $Results[0].Ended
    }

    $threadsBefore = (Test-MlpEnvironment).TorchThreads
    $sequential = foreach ($recipe in $recipes) { & ([scriptblock]::Create($trainRecipe)) $recipe $train $null }
}

Describe 'Concurrency' {
    Context 'Two models trained at the same time in separate runspaces' {
        It 'the sequential runs differ from each other (so the comparison below means something)' {
            $sequential[0].Losses | Should -Not -Be $sequential[1].Losses
            $sequential[0].Losses.Count | Should -Be 40
        }

        It 'ForEach-Object -Parallel: exactly the epoch losses and weights of one after the other' {
            $barrier = [System.Threading.Barrier]::new(2)
            $results = @($recipes | ForEach-Object -ThrottleLimit 2 -Parallel {
                    Import-Module $using:module -ErrorAction Stop
                    & ([scriptblock]::Create($using:trainRecipe)) $_ $using:train $using:barrier
                })
            Assert-SameAsSequential $results
        }

        It 'Start-ThreadJob: exactly the epoch losses and weights of one after the other' {
            $barrier = [System.Threading.Barrier]::new(2)
            $jobs = foreach ($recipe in $recipes) {
                Start-ThreadJob -ThrottleLimit 2 -ArgumentList $module, $trainRecipe, $recipe, $train, $barrier -ScriptBlock {
                    param($Module, $Text, $Recipe, $Dataset, $Barrier)
                    Import-Module $Module -ErrorAction Stop
                    & ([scriptblock]::Create($Text)) $Recipe $Dataset $Barrier
                }
            }
            $results = @($jobs | Receive-Job -Wait -AutoRemoveJob -ErrorAction Stop)
            Assert-SameAsSequential $results
        }

        It 'the process-wide torch thread count is what it was before' {
            (Test-MlpEnvironment).TorchThreads | Should -Be $threadsBefore
        }

        It 'a seed in this runspace still gives the same weights after the others trained (no shared random state)' {
            $again = & ([scriptblock]::Create($trainRecipe)) $recipes[0] $train $null
            $again.Losses | Should -Be $sequential[0].Losses
        }
    }

    Context 'One model used from two runspaces at once' {
        BeforeAll {
            $shared = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
            $exportPath = Join-Path $TestDrive 'busy.mlp'
            $epochs = 300
            $outcome = @(1, 2 | ForEach-Object -ThrottleLimit 2 -Parallel {
                    Import-Module $using:module -ErrorAction Stop
                    $model = $using:shared
                    $dataset = $using:train
                    if ($_ -eq 1) {
                        $records = @(Invoke-MlpTraining -Model $model -Dataset $dataset -Epochs $using:epochs -BatchSize 1 -Seed 1 -ErrorAction Stop)
                        return [pscustomobject]@{ Role = 'trainer'; Records = $records.Count }
                    }
                    # Wait for the first epoch, so that the training holds the model, then try everything else on it.
                    $clock = [System.Diagnostics.Stopwatch]::StartNew()
                    while ($model.EpochsTrained -lt 1 -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 5 }
                    $tries = [ordered]@{
                        'Test-MlpAccuracy' = { Test-MlpAccuracy -Model $model -Dataset $dataset -ErrorAction Stop }
                        'Invoke-MlpPrediction' = { Invoke-MlpPrediction -Model $model -Dataset $dataset -First 1 -ErrorAction Stop }
                        'Export-Mlp' = { Export-Mlp -Model $model -Path $using:exportPath -ErrorAction Stop }
                        'Invoke-MlpTraining' = { Invoke-MlpTraining -Model $model -Dataset $dataset -Epochs 1 -ErrorAction Stop }
                    }
                    $errors = foreach ($name in $tries.Keys) {
                        try { & $tries[$name]; [pscustomobject]@{ Command = $name; Id = 'none'; Category = '' } }
                        catch { [pscustomobject]@{ Command = $name; Id = $_.FullyQualifiedErrorId; Category = "$($_.CategoryInfo.Category)" } }
                    }
                    [pscustomobject]@{ Role = 'other'; StillTraining = $model.EpochsTrained -lt $using:epochs; Errors = $errors }
                })
            $trainer = $outcome | Where-Object Role -EQ 'trainer'
            $other = $outcome | Where-Object Role -EQ 'other'
        }

        It 'the training runs to its end, undisturbed' {
            $trainer.Records | Should -Be $epochs
            $shared.EpochsTrained | Should -Be $epochs
        }

        It 'the other runspace tried while the training still ran' {
            $other.StillTraining | Should -BeTrue
        }

        It '<_> from the other runspace: ModelInUse (InvalidOperation)' -ForEach 'Test-MlpAccuracy', 'Invoke-MlpPrediction', 'Export-Mlp', 'Invoke-MlpTraining' {
            $try = $other.Errors | Where-Object Command -EQ $_
            $try.Id | Should -BeLike 'ModelInUse,MlpTools.Commands.*'
            $try.Category | Should -Be 'InvalidOperation'
        }

        It 'the refused export wrote nothing, and the model is usable afterwards' {
            Test-Path $exportPath | Should -BeFalse
            (Test-MlpAccuracy -Model $shared -Dataset $train -ErrorAction Stop).Accuracy | Should -Be 1
        }
    }

    Context 'A model disposed in another runspace' {
        It 'is refused here with ModelDisposed (InvalidOperation), and the session goes on' {
            $gone = New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 -Seed 1
            1 | ForEach-Object -Parallel { ($using:gone).Dispose() }
            $err = { Invoke-MlpPrediction -Model $gone -Dataset $train -ErrorAction Stop } |
                Should -Throw -ErrorId 'ModelDisposed,MlpTools.Commands.InvokeMlpPredictionCommand' -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
            { Export-Mlp -Model $gone -Path (Join-Path $TestDrive 'gone.mlp') -ErrorAction Stop } |
                Should -Throw -ErrorId 'ModelDisposed,MlpTools.Commands.ExportMlpCommand'
            (New-Mlp -InputSize 16 -HiddenSize 4 -OutputSize 2 | Test-MlpAccuracy -Dataset $train -ErrorAction Stop).Total | Should -Be 32
        }
    }

    Context 'Module loading in a fresh pwsh' {
        BeforeAll {
            $pwsh = Join-Path $PSHOME 'pwsh'
            $data = Join-Path $TestDrive 'train'
            function Invoke-ChildPwsh([scriptblock]$Script, [object[]]$Arguments) {
                # A fresh process, so that what it loads cannot touch this session; the last line it prints is JSON.
                $file = Join-Path $TestDrive "child-$([guid]::NewGuid()).ps1"
                Set-Content -LiteralPath $file -Value $Script.ToString()
                $output = & $pwsh -NoProfile -NonInteractive -File $file @Arguments 2>&1
                $LASTEXITCODE | Should -Be 0 -Because ($output -join "`n")
                @($output)[-1] | ConvertFrom-Json
            }
        }

        It 'imported twice, then again with -Force: one module, and it trains' {
            $script = {
                param($Module, $Data)
                $ErrorActionPreference = 'Stop'
                Import-Module $Module
                Import-Module $Module
                $once = @(Get-Module MlpTools).Count
                Import-Module $Module -Force
                $dataset = Get-MnistDataset -Path $Data -Split Train
                $records = @(New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 | Invoke-MlpTraining -Dataset $dataset -Epochs 3 -BatchSize 8 -Seed 1)
                @{ Once = $once; After = @(Get-Module MlpTools).Count; Epochs = $records.Count } | ConvertTo-Json -Compress
            }
            $result = Invoke-ChildPwsh $script $module, $data
            $result.Once | Should -Be 1
            $result.After | Should -Be 1
            $result.Epochs | Should -Be 3
        }

        It 'next to another SkiaSharp and another Google.Protobuf already in the default context, it draws and trains with its own' {
            $fakeProtobuf = Join-Path $TestDrive 'Google.Protobuf.dll'   # a throwaway assembly of that name, version 0.0.0.0
            $otherSkia = Get-ChildItem (Join-Path $HOME '.nuget/packages/skiasharp/2.88.6/lib/net6.0/SkiaSharp.dll') -ErrorAction SilentlyContinue
            if (-not $otherSkia) { Set-ItResult -Skipped -Because 'SkiaSharp 2.88.6 is not in the NuGet cache'; return }
            $script = {
                param($Module, $Data, $OtherSkia, $FakeProtobuf, $Png)
                $ErrorActionPreference = 'Stop'
                Add-Type -TypeDefinition 'namespace Google.Protobuf { public static class Throwaway { } }' -OutputAssembly $FakeProtobuf -OutputType Library
                $protobuf = [System.Reflection.Assembly]::LoadFrom($FakeProtobuf)
                $skia = [System.Reflection.Assembly]::LoadFrom($OtherSkia)
                Import-Module $Module
                $dataset = Get-MnistDataset -Path $Data -Split Train
                $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
                $records = @(Invoke-MlpTraining -Model $model -Dataset $dataset -Epochs 3 -BatchSize 8 -Seed 1)
                Export-MlpDigitGrid -Dataset $dataset -Index 0, 1, 2 -Path $Png
                $engine = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SkiaSharp' -and $_ -ne $skia }
                @{
                    Epochs = $records.Count
                    DefaultSkia = $skia.GetName().Version.ToString()
                    DefaultSkiaContext = [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($skia).Name
                    EngineSkia = @($engine).ForEach({ $_.GetName().Version.ToString() })
                    EngineSkiaContext = @($engine).ForEach({ [System.Runtime.Loader.AssemblyLoadContext]::GetLoadContext($_).Name })
                    DefaultProtobuf = $protobuf.GetName().Version.ToString()
                } | ConvertTo-Json -Compress
            }
            $png = Join-Path $TestDrive 'grid.png'
            $result = Invoke-ChildPwsh $script $module, $data, $otherSkia.FullName, $fakeProtobuf, $png
            $result.Epochs | Should -Be 3
            $result.DefaultSkia | Should -Be '2.88.0.0'
            $result.DefaultSkiaContext | Should -Be 'Default'
            $result.EngineSkia | Should -Be '3.119.0.0'
            $result.EngineSkiaContext | Should -Be 'MlpTools.Engine'
            $result.DefaultProtobuf | Should -Be '0.0.0.0'
            (Get-PngInfo $png).IsPng | Should -BeTrue
        }
    }
}
