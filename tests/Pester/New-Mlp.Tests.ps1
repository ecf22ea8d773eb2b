BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.NewMlpCommand'
}

Describe 'New-Mlp' {
    Context 'Defaults: the notebook''s network' {
        BeforeAll {
            $model = New-Mlp -ErrorAction Stop
        }

        It 'is 784-256-10 with ReLU' {
            $model.Layers | Should -BeExactly '784-256-10'
            $model.InputSize | Should -Be 784
            $model.HiddenSizes | Should -Be 256
            $model.OutputSize | Should -Be 10
            $model.Activation | Should -BeExactly 'ReLU'
        }

        It 'has 784*256+256 + 256*10+10 = 203530 parameters' {
            $model.ParameterCount | Should -Be 203530
        }

        It 'is named Mlp and untrained' {
            $model.Name | Should -BeExactly 'Mlp'
            $model.EpochsTrained | Should -Be 0
        }

        It 'is a MlpTools.Core.Modeling.MlpModel' {
            $model.GetType().FullName | Should -BeExactly 'MlpTools.Core.Modeling.MlpModel'
        }
    }

    Context 'Shapes' {
        It '<Arguments> gives layers <Layers> and <Parameters> parameters' -ForEach @(
            @{ Arguments = '-HiddenSize 32,16'; Splat = @{ HiddenSize = 32, 16 }; Layers = '784-32-16-10'; Parameters = 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10 }
            @{ Arguments = '-InputSize 16 -HiddenSize 8 -OutputSize 2'; Splat = @{ InputSize = 16; HiddenSize = 8; OutputSize = 2 }; Layers = '16-8-2'; Parameters = 16 * 8 + 8 + 8 * 2 + 2 }
            @{ Arguments = '-InputSize 15 -HiddenSize 4,4,4 -OutputSize 3'; Splat = @{ InputSize = 15; HiddenSize = 4, 4, 4; OutputSize = 3 }; Layers = '15-4-4-4-3'; Parameters = 15 * 4 + 4 + 2 * (4 * 4 + 4) + 4 * 3 + 3 }
            @{ Arguments = '-HiddenSize @() (no hidden layer)'; Splat = @{ HiddenSize = @() }; Layers = '784-10'; Parameters = 784 * 10 + 10 }
        ) {
            $model = New-Mlp @Splat -ErrorAction Stop
            $model.Layers | Should -BeExactly $Layers
            $model.ParameterCount | Should -Be $Parameters
        }

        It 'records -Name' {
            (New-Mlp -InputSize 4 -HiddenSize 2 -OutputSize 2 -Name 'Tiny').Name | Should -BeExactly 'Tiny'
        }
    }

    Context 'Parameter validation' {
        It 'rejects <Arguments> by parameter validation' -ForEach @(
            @{ Arguments = '-InputSize 0'; Splat = @{ InputSize = 0 } }
            @{ Arguments = '-InputSize -1'; Splat = @{ InputSize = -1 } }
            @{ Arguments = '-OutputSize 0'; Splat = @{ OutputSize = 0 } }
            @{ Arguments = '-OutputSize -10'; Splat = @{ OutputSize = -10 } }
            @{ Arguments = '-HiddenSize 0'; Splat = @{ HiddenSize = 0 } }
            @{ Arguments = '-HiddenSize 32,-16'; Splat = @{ HiddenSize = 32, -16 } }
            @{ Arguments = '-HiddenSize $null'; Splat = @{ HiddenSize = $null } }
            @{ Arguments = '-Name ""'; Splat = @{ Name = '' } }
        ) {
            $err = { New-Mlp @Splat -ErrorAction Stop } | Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
        }

        It 'rejects an activation it does not know' {
            { New-Mlp -Activation Softsign -ErrorAction Stop } | Should -Throw -ErrorId "CannotConvertArgumentNoMessage,$Cmdlet"
        }
    }

    Context 'Seeds' {
        BeforeAll {
            $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'separable') -Count 16
            function Get-Answers($Model) {
                Invoke-MlpPrediction -Model $Model -Dataset $data -ErrorAction Stop | ForEach-Object { '{0}:{1:R}' -f $_.Predicted, $_.Confidence }
            }
        }

        It 'records -Seed on the model' {
            (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 42).Seed | Should -Be 42
        }

        It 'draws and records a seed when -Seed is omitted' {
            $first = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2
            $second = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2
            $first.Seed | Should -BeGreaterOrEqual 0
            $first.Seed | Should -Not -Be $second.Seed
            # The recorded seed reproduces the model.
            Get-Answers (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed $first.Seed) | Should -Be (Get-Answers $first)
        }

        It 'the same seed gives the same weights: identical predictions and confidences' {
            $one = Get-Answers (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 7)
            $two = Get-Answers (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 7)
            $one.Count | Should -Be 16
            $two | Should -Be $one
        }

        It 'a different seed gives different weights' {
            $seven = Get-Answers (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 7)
            $eight = Get-Answers (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 8)
            $eight | Should -Not -Be $seven
        }
    }
}
