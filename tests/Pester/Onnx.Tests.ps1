# ONNX: every exported model scored by ONNX Runtime gives MlpTools' own answers, on MNIST, tables and regression.
BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $Export = 'MlpTools.Commands.ExportMlpCommand'
    $Training = 'MlpTools.Commands.InvokeMlpTrainingCommand'

    # The largest difference between two models' probabilities (or estimates), and how many predicted classes differ.
    function Compare-Predictions($Expected, $Actual) {
        $differentClasses = 0
        $largest = 0.0
        for ($i = 0; $i -lt $Expected.Count; $i++) {
            if ($Expected[$i].Predicted -ne $Actual[$i].Predicted) { $differentClasses++ }
            $e = if ($Expected[$i].Probabilities) { $Expected[$i].Probabilities } else { @($Expected[$i].Predicted) }
            $a = if ($Actual[$i].Probabilities) { $Actual[$i].Probabilities } else { @($Actual[$i].Predicted) }
            for ($c = 0; $c -lt $e.Count; $c++) { $largest = [math]::Max($largest, [math]::Abs($e[$c] - $a[$c])) }
        }
        @{ DifferentClasses = $differentClasses; LargestDifference = $largest; Count = $Actual.Count }
    }
}

Describe 'ONNX export scored by ONNX Runtime' {
    Context 'MNIST' {
        BeforeAll {
            $test = Get-MnistDataset -Split Test
            $mnist = New-Mlp -Seed 3
            $null = Invoke-MlpTraining -Model $mnist -Dataset (Get-MnistDataset -Split Train) -Epochs 1 -Seed 3
            $path = Join-Path $TestDrive 'digits.onnx'
            Export-Mlp -Model $mnist -Path $path
            $onnx = Import-Mlp $path
        }
        AfterAll { $onnx.Dispose(); $mnist.Dispose() }

        It 'imports as a model that runs on ONNX Runtime, with the architecture and classes it was exported with' {
            "$($onnx.Runtime)" | Should -BeExactly 'OnnxRuntime'
            "$($mnist.Runtime)" | Should -BeExactly 'LibTorch'
            $onnx.Layers | Should -BeExactly '784-256-10'
            "$($onnx.Activation)" | Should -BeExactly 'ReLU'
            $onnx.ClassNames | Should -BeExactly ('0'..'9')
            $onnx.EpochsTrained | Should -Be 1
            "$($onnx.History.Origin.Format)" | Should -BeExactly 'Onnx'
        }

        It 'predicts the same class for all 10,000 test images, probabilities within 1e-5' {
            $result = Compare-Predictions (Invoke-MlpPrediction -Model $mnist -Dataset $test) (Invoke-MlpPrediction -Model $onnx -Dataset $test)
            $result.Count | Should -Be 10000
            $result.DifferentClasses | Should -Be 0
            $result.LargestDifference | Should -BeLessThan 1e-5
        }

        It 'measures the same accuracy and confusion matrix' {
            $expected = Test-MlpAccuracy -Model $mnist -Dataset $test
            $actual = Test-MlpAccuracy -Model $onnx -Dataset $test
            $actual.Correct | Should -Be $expected.Correct
            $actual.Total | Should -Be 10000
            ($actual.PerClass.Correct -join ',') | Should -BeExactly ($expected.PerClass.Correct -join ',')
        }

        It 'records class names, architecture, preprocessing and version in the metadata' -Skip:(-not (Test-Path /usr/bin/python3)) {
            $script = "import onnx,json; m=onnx.load('$path'); onnx.checker.check_model(m, full_check=True); p={x.key:x.value for x in m.metadata_props}; " +
                "print(m.ir_version, m.opset_import[0].version, p['architecture'], p['preprocessing'], json.loads(p['class_names'])[9], p['mlptools_version'] != '')"
            $out = /usr/bin/python3 -c $script 2>&1
            if ($LASTEXITCODE -ne 0 -and "$out" -match "No module named 'onnx'") { Set-ItResult -Skipped -Because 'python3-onnx is not installed'; return }
            "$out" | Should -BeExactly '8 17 784-256-10 ReLU images 28x28 / 255; classes 0, 1, 2, 3, 4, ... (10) 9 True'
        }

        It 'refuses to train the imported model, saying to import the .mlp file' {
            $err = { Invoke-MlpTraining -Model $onnx -Dataset $test -Epochs 1 -ErrorAction Stop } | Should -Throw -ErrorId "ModelScoringOnly,$Training" -PassThru
            $err.Exception.Message | Should -Match '\.mlp'
            $err.CategoryInfo.Category | Should -Be 'InvalidOperation'
        }

        It 'refuses to export the imported model again' {
            { Export-Mlp -Model $onnx -Path (Join-Path $TestDrive 'again.mlp') -ErrorAction Stop } | Should -Throw -ErrorId "ModelScoringOnly,$Export"
            Join-Path $TestDrive 'again.mlp' | Should -Not -Exist
        }
    }

    Context 'Writing the file' {
        BeforeAll {
            $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'data') -Count 32 -Seed 1
            $model = New-TrainedSeparableModel -Dataset $data
        }

        It '-Format Onnx writes ONNX whatever the extension, and Import-Mlp finds it by its content' {
            $file = Join-Path $TestDrive 'model.bin'
            Export-Mlp -Model $model -Path $file -Format Onnx
            $imported = Import-Mlp $file
            "$($imported.Runtime)" | Should -BeExactly 'OnnxRuntime'
            (Compare-Predictions (Invoke-MlpPrediction -Model $model -Dataset $data) (Invoke-MlpPrediction -Model $imported -Dataset $data)).LargestDifference | Should -BeLessThan 1e-5
            $imported.Dispose()
        }

        It 'keeps an existing file without -Force (ModelFileExists) and replaces it with -Force' {
            $file = Join-Path $TestDrive 'exists.onnx'
            Set-Content $file 'old'
            { Export-Mlp -Model $model -Path $file -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileExists,$Export"
            Get-Content $file | Should -BeExactly 'old'
            Export-Mlp -Model $model -Path $file -Force
            (Get-Item $file).Length | Should -BeGreaterThan 100
            Get-ChildItem $TestDrive -Filter '*.tmp' -Force | Should -BeNullOrEmpty
        }
    }

    Context 'Table rows from a CSV file: standardisation and one-hot categories in the graph' {
        BeforeAll {
            $csv = Join-Path $TestDrive 'flowers.csv'
            New-FlowerRows -Count 90 | Export-Csv $csv
            $flowers = Import-MlpDataset $csv -LabelColumn Species
            $tableModel = New-Mlp -Dataset $flowers -HiddenSize 6, 5 -Activation Tanh -Seed 2
            $null = Invoke-MlpTraining -Model $tableModel -Dataset $flowers -Epochs 20 -BatchSize 8 -Seed 2 -LearningRate 0.01
            Export-Mlp -Model $tableModel -Path (Join-Path $TestDrive 'flowers.onnx')
            $tableOnnx = Import-Mlp (Join-Path $TestDrive 'flowers.onnx')
            $rows = Import-Csv $csv | Select-Object A, B, Color
        }

        It 'keeps the classes and columns' {
            $tableOnnx.ClassNames | Should -BeExactly @('setosa', 'versicolor', 'virginica')
            $tableOnnx.Preprocessing.Schema.Columns.Name | Should -BeExactly @('A', 'B', 'Color')
        }

        It 'predicts every CSV row as the libtorch model does' {
            $expected = @($rows | Invoke-MlpPrediction -Model $tableModel)
            $actual = @($rows | Invoke-MlpPrediction -Model $tableOnnx)
            $actual.Count | Should -Be 90
            for ($i = 0; $i -lt 90; $i++) {
                $actual[$i].Predicted | Should -BeExactly $expected[$i].Predicted
                foreach ($class in 'setosa', 'versicolor', 'virginica') {
                    [math]::Abs($actual[$i]."Probability_$class" - $expected[$i]."Probability_$class") | Should -BeLessThan 1e-5
                }
            }
        }

        It 'measures the dataset as the libtorch model does' {
            (Test-MlpAccuracy -Model $tableOnnx -Dataset $flowers).Correct | Should -Be (Test-MlpAccuracy -Model $tableModel -Dataset $flowers).Correct
        }
    }

    Context 'Regression' {
        BeforeAll {
            $prices = New-PriceRows -Count 200 | ConvertTo-MlpDataset -TargetProperty Price
            $regression = New-Mlp -Dataset $prices -HiddenSize 8 -Activation GELU -Seed 4
            $null = Invoke-MlpTraining -Model $regression -Dataset $prices -Epochs 30 -BatchSize 16 -Seed 4 -LearningRate 0.01
            Export-Mlp -Model $regression -Path (Join-Path $TestDrive 'prices.onnx')
            $regressionOnnx = Import-Mlp (Join-Path $TestDrive 'prices.onnx')
        }

        It 'estimates in the targets own units, as the libtorch model does' {
            $expected = @(Invoke-MlpPrediction -Model $regression -Dataset $prices)
            $actual = @(Invoke-MlpPrediction -Model $regressionOnnx -Dataset $prices)
            $actual.Count | Should -Be 200
            for ($i = 0; $i -lt 200; $i++) {
                # Prices are around 50: 1e-5 relative to them.
                [math]::Abs($actual[$i].Predicted - $expected[$i].Predicted) | Should -BeLessThan 5e-4
                $actual[$i].Actual | Should -Be $expected[$i].Actual
            }
        }

        It 'measures RMSE, MAE and R² as the libtorch model does' {
            $expected = Test-MlpAccuracy -Model $regression -Dataset $prices
            $actual = Test-MlpAccuracy -Model $regressionOnnx -Dataset $prices
            [math]::Abs($actual.Rmse - $expected.Rmse) | Should -BeLessThan 1e-4
            [math]::Abs($actual.R2 - $expected.R2) | Should -BeLessThan 1e-6
        }
    }

    Context 'ONNX Runtime in the module' {
        It 'Test-MlpEnvironment reports that it loads, and its version' {
            $report = Test-MlpEnvironment
            $report.OnnxRuntimeLoaded | Should -BeTrue
            $report.OnnxRuntimeVersion | Should -BeExactly '1.31.1'
            $report.OnnxRuntimeLoadError | Should -BeNullOrEmpty
        }

        It 'loads its native library from the module''s dependencies folder and nowhere else' -Skip:(-not $IsLinux) {
            $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'maps') -Count 4 -Seed 1
            $model = New-Mlp -InputSize 16 -HiddenSize 3 -OutputSize 2 -Seed 1
            Export-Mlp -Model $model -Path (Join-Path $TestDrive 'maps.onnx')
            $pwsh = Join-Path $PSHOME 'pwsh'
            $loaded = & $pwsh -NoProfile -NonInteractive -Command "
                Import-Module '$env:MLPTOOLS_MODULE'
                `$null = Import-Mlp '$(Join-Path $TestDrive 'maps.onnx')'
                Get-Content /proc/`$PID/maps | Where-Object { `$_ -match 'onnxruntime' } | ForEach-Object { (`$_ -split '\s+', 6)[5] } | Sort-Object -Unique"
            $loaded | Should -Contain (Join-Path (Split-Path $env:MLPTOOLS_MODULE) 'dependencies/libonnxruntime.so')
            @($loaded | Where-Object { $_ -like '*libonnxruntime.so*' }).Count | Should -Be 1
        }
    }
}
