# One rule for every path and every write, held over every cmdlet the module exports (as Help.Tests holds the help):
# - a -Path that names many inputs expands wildcards ([SupportsWildcards]) and has a -LiteralPath of its own (aliases
#   PSPath and LP, in its own parameter set); a -Path that names the one file or folder a command writes or reads is
#   taken as written, and -LiteralPath (and LP) is an alias of it; every other *Path parameter is taken as written;
# - every *Path parameter is listed below as one that names what its command reads or what it writes (a new one fails
#   the test until it is listed); a command that can write a file (a written path, or -Force) supports -WhatIf and -Confirm;
# - an export refuses an existing file without -Force (ModelFileExists) and leaves it as it was, replaces it with -Force,
#   and with -PassThru writes what Get-Item gives;
# - every command that computes with libtorch takes -ThreadCount.
BeforeDiscovery {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    $commands = @(Get-Command -Module MlpTools | Sort-Object Name)
    $pathParameters = @(foreach ($command in $commands) {
            foreach ($parameter in $command.Parameters.Values | Where-Object Name -Like '*Path') {
                @{ Command = $command.Name; Parameter = $parameter.Name }
            }
        })
    $withPath = @($commands | Where-Object { $_.Parameters.ContainsKey('Path') } | ForEach-Object { @{ Command = $_.Name } })
    # What each path parameter names: a file or folder the command writes (Get-MnistDataset -Download fills -Path), or one it reads.
    $writtenPaths = 'Export-Mlp -Path', 'Export-MlpConfusionMatrix -Path', 'Export-MlpDigitGrid -Path', 'Export-MlpSweepChart -Path',
    'Export-MlpTrainingCurve -Path', 'Get-MnistDataset -Path', 'Invoke-MlpSweep -BestModelPath', 'Invoke-MlpSweep -ResultPath',
    'Invoke-MlpTraining -CheckpointPath'
    $readPaths = 'Get-MnistDataset -ImagesPath', 'Get-MnistDataset -LabelsPath', 'Import-Mlp -Path', 'Import-Mlp -LiteralPath',
    'Import-MlpDataset -Path', 'Import-MlpDataset -LiteralPath', 'Invoke-MlpPrediction -Path', 'Invoke-MlpPrediction -LiteralPath'
    foreach ($case in $pathParameters) {
        $case.Written = "$($case.Command) -$($case.Parameter)" -in $writtenPaths
        $case.Read = "$($case.Command) -$($case.Parameter)" -in $readPaths
    }
    $writers = @($commands | Where-Object {
            $command = $_
            $command.Parameters.ContainsKey('Force') -or @($pathParameters | Where-Object { $_.Command -eq $command.Name -and $_.Written }).Count -gt 0
        } | ForEach-Object { @{ Command = $_.Name } })
    $exports = @(
        @{ Command = 'Export-Mlp'; Write = { param($Path, $Extra) $Fixture.Model | Export-Mlp -Path $Path @Extra } }
        @{ Command = 'Export-MlpConfusionMatrix'; Write = { param($Path, $Extra) $Fixture.Accuracy | Export-MlpConfusionMatrix -Path $Path @Extra } }
        @{ Command = 'Export-MlpDigitGrid'; Write = { param($Path, $Extra) Export-MlpDigitGrid -Dataset $Fixture.Data -Index 0, 1 -Path $Path @Extra } }
        @{ Command = 'Export-MlpTrainingCurve'; Write = { param($Path, $Extra) $Fixture.Records | Export-MlpTrainingCurve -Path $Path @Extra } }
        @{ Command = 'Export-MlpSweepChart'; Write = { param($Path, $Extra) $Fixture.Trials | Export-MlpSweepChart -Path $Path @Extra } }
    )
    $torchCommands = @('Invoke-MlpTraining', 'Test-MlpAccuracy', 'Invoke-MlpPrediction', 'Test-MlpGradient' | ForEach-Object { @{ Command = $_ } })
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    function Test-Wildcards([string]$Command, [string]$Parameter) {
        [bool]((Get-Command $Command).Parameters[$Parameter].Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    }

    $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'data') -Count 32 -Seed 1
    $model = New-TrainedSeparableModel -Dataset $data
    $Fixture = @{
        Data     = $data
        Model    = $model
        Accuracy = Test-MlpAccuracy -Model $model -Dataset $data -ErrorAction Stop
        Records  = @(New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 |
                Invoke-MlpTraining -Dataset $data -Epochs 2 -BatchSize 8 -Seed 1 -ErrorAction Stop)
        Trials   = @(1..3 | ForEach-Object { [pscustomobject]@{ Trial = $_; ValidationAccuracy = $_ / 4; Parameters = @{ Dropout = $_ / 10 } } })
    }
}

Describe 'Path parameters' {
    Context '<Command> -<Parameter>' -ForEach $pathParameters {
        It 'is listed as a path the command reads or one it writes, not both' {
            $Written -xor $Read | Should -BeTrue -Because 'a new path parameter goes in $writtenPaths or $readPaths at the top of this file'
        }

        It 'is a string or strings' {
            (Get-Command $Command).Parameters[$Parameter].ParameterType.Name | Should -BeIn 'String', 'String[]'
        }

        It 'expands wildcards only if it is a -Path with a -LiteralPath of its own' {
            $parameters = (Get-Command $Command).Parameters
            $ownLiteralPath = $Parameter -eq 'Path' -and $parameters.ContainsKey('LiteralPath') -and $parameters['LiteralPath'].Name -eq 'LiteralPath'
            Test-Wildcards $Command $Parameter | Should -Be $ownLiteralPath
        }
    }

    Context '<Command> -Path' -ForEach $withPath {
        It 'has a -LiteralPath: its own parameter, in a set apart from -Path, when -Path expands wildcards; else an alias of -Path' {
            $parameters = (Get-Command $Command).Parameters
            if (Test-Wildcards $Command 'Path') {
                $literal = $parameters['LiteralPath']
                $literal.Name | Should -BeExactly 'LiteralPath'
                $literal.Aliases | Should -Be 'PSPath', 'LP'
                $literal.ParameterSets.Keys | Where-Object { $_ -in $parameters['Path'].ParameterSets.Keys } | Should -BeNullOrEmpty
            } else {
                $parameters['Path'].Aliases | Should -Contain 'LiteralPath'
                $parameters['Path'].Aliases | Should -Contain 'LP'
            }
        }
    }
}

Describe 'Writes' {
    Context '<Command>' -ForEach $writers {
        It 'supports -WhatIf and -Confirm' {
            (Get-Command $Command).Parameters.Keys | Should -Contain 'WhatIf'
            (Get-Command $Command).Parameters.Keys | Should -Contain 'Confirm'
        }
    }

    Context '<Command>' -ForEach $exports {
        BeforeEach {
            $folder = Join-Path $TestDrive ([guid]::NewGuid())
            New-Item -ItemType Directory $folder | Out-Null
            $path = Join-Path $folder 'out.file'
        }

        It 'has -Force and -PassThru' {
            (Get-Command $Command).Parameters.Keys | Should -Contain 'Force'
            (Get-Command $Command).Parameters.Keys | Should -Contain 'PassThru'
        }

        It 'refuses an existing file without -Force (ModelFileExists, ResourceExists) and leaves it as it was' {
            Set-Content -LiteralPath $path 'keep me'
            $err = { & $Write $path @{ ErrorAction = 'Stop' } } | Should -Throw -ErrorId 'ModelFileExists,*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            Get-Content -LiteralPath $path | Should -BeExactly 'keep me'
            (Get-ChildItem -LiteralPath $folder -Force).Name | Should -BeExactly 'out.file'
        }

        It 'replaces it with -Force, even a read-only one' {
            Set-Content -LiteralPath $path 'replace me'
            (Get-Item -LiteralPath $path).Attributes = 'ReadOnly'
            & $Write $path @{ Force = $true; ErrorAction = 'Stop' }
            (Get-Item -LiteralPath $path).Length | Should -BeGreaterThan 100
            (Get-ChildItem -LiteralPath $folder -Force).Name | Should -BeExactly 'out.file'
        }

        It 'writes nothing with -WhatIf' {
            & $Write $path @{ WhatIf = $true; PassThru = $true; ErrorAction = 'Stop' } | Should -BeNullOrEmpty
            Get-ChildItem -LiteralPath $folder -Force | Should -BeNullOrEmpty
        }

        It 'takes -LiteralPath as written: a name with wildcard characters' {
            $literal = Join-Path $folder 'out[1]*.file'
            & $Write $literal @{ ErrorAction = 'Stop' }
            (Get-ChildItem -LiteralPath $folder).Name | Should -BeExactly 'out[1]*.file'
        }

        It '-PassThru writes what Get-Item gives: PSPath, Mode, Length and LastWriteTime filled' {
            $item = & $Write $path @{ PassThru = $true; ErrorAction = 'Stop' }
            $expected = Get-Item -LiteralPath $path
            @($item).Count | Should -Be 1
            $item | Should -BeOfType System.IO.FileInfo
            $item.PSPath | Should -BeExactly $expected.PSPath
            $item.PSProvider.Name | Should -BeExactly 'FileSystem'
            $item.Mode | Should -BeExactly $expected.Mode
            $item.Length | Should -Be $expected.Length
            $item.LastWriteTime | Should -Be $expected.LastWriteTime
            ($item | Out-String) | Should -Match ([regex]::Escape('out.file'))
        }
    }

    Context 'Invoke-MlpTraining -CheckpointPath' {
        It '-WhatIf trains nothing and writes no checkpoint' {
            $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
            $checkpoint = Join-Path $TestDrive 'whatif.ckpt'
            Invoke-MlpTraining -Model $model -Dataset $Fixture.Data -Epochs 1 -BatchSize 8 -Seed 1 -CheckpointPath $checkpoint -WhatIf |
                Should -BeNullOrEmpty
            $checkpoint | Should -Not -Exist
            $model.EpochsTrained | Should -Be 0
        }

        It 'takes the path as written: wildcard characters are not expanded' {
            $checkpoint = Join-Path $TestDrive 'run[1]*.ckpt'
            New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1 |
                Invoke-MlpTraining -Dataset $Fixture.Data -Epochs 1 -BatchSize 8 -Seed 1 -CheckpointPath $checkpoint -ErrorAction Stop | Out-Null
            Test-Path -LiteralPath $checkpoint | Should -BeTrue
        }
    }

    Context 'Invoke-MlpSweep -ResultPath and -BestModelPath' {
        BeforeAll {
            $sweep = @{ Dataset = $Fixture.Data; ValidationDataset = $Fixture.Data; Parameter = @{ LearningRate = 0.01 }; Epochs = 1; Seed = 1; ThreadCount = 1 }
        }

        It '-WhatIf runs no trial and writes neither file' {
            $results = Join-Path $TestDrive 'whatif.jsonl'; $best = Join-Path $TestDrive 'whatif.mlp'
            Invoke-MlpSweep @sweep -ResultPath $results -BestModelPath $best -WhatIf | Should -BeNullOrEmpty
            $results | Should -Not -Exist
            $best | Should -Not -Exist
        }

        It 'refuses an existing -BestModelPath without -Force (ModelFileExists) before running anything, and leaves it as it was' {
            $results = Join-Path $TestDrive 'refused.jsonl'; $best = Join-Path $TestDrive 'refused.mlp'
            Set-Content -LiteralPath $best 'keep me'
            $err = { Invoke-MlpSweep @sweep -ResultPath $results -BestModelPath $best -ErrorAction Stop } | Should -Throw -ErrorId 'ModelFileExists,*' -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            Get-Content -LiteralPath $best | Should -BeExactly 'keep me'
            $results | Should -Not -Exist
        }

        It 'replaces it with -Force by the best model' {
            $best = Join-Path $TestDrive 'replaced[1].mlp'
            Set-Content -LiteralPath $best 'replace me'
            $null = Invoke-MlpSweep @sweep -BestModelPath $best -Force -ErrorAction Stop
            $model = Import-Mlp -LiteralPath $best -ErrorAction Stop
            try { $model.InputSize | Should -Be 16 } finally { $model.Dispose() }
        }
    }
}

Describe 'Threads' {
    Context '<Command>' -ForEach $torchCommands {
        It 'takes -ThreadCount from 1 to 256' {
            $parameter = (Get-Command $Command).Parameters['ThreadCount']
            $parameter | Should -Not -BeNullOrEmpty
            $range = $parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateRangeAttribute] }
            $range.MinRange, $range.MaxRange | Should -Be 1, 256
        }
    }
}
