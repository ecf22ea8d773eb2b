BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $Cmdlet = 'MlpTools.Commands.ConvertToMlpDatasetCommand'
}

Describe 'ConvertTo-MlpDataset' {
    Context 'Objects with a label' {
        BeforeAll {
            $rows = @(New-FlowerRows -Count 90)
            $data = $rows | ConvertTo-MlpDataset -LabelProperty Species -Name Flowers -ErrorAction Stop
        }

        It 'gives one dataset of every row, a [MlpDataset]' {
            $data | Should -BeOfType ([MlpDataset])
            $data.Count | Should -Be 90
            $data.Name | Should -BeExactly 'Flowers'
            "$($data.Task)" | Should -BeExactly 'Classification'
            $data.IsImage | Should -BeFalse
        }

        It 'keeps the label values as class names in ordinal order' {
            $data.ClassNames | Should -BeExactly @('setosa', 'versicolor', 'virginica')
            0..5 | ForEach-Object { $data.GetClassName($_) } | Should -BeExactly ($rows[0..5].Species)
        }

        It 'makes every other property a feature, one-hot encoding the strings' {
            $data.FeatureNames | Should -BeExactly @('A', 'B', 'Color=blue', 'Color=green', 'Color=red')
            $data.FeatureCount | Should -Be 5
            # Row 4: A = 2 + 48/100, B = -1 + 12/100 (rounded as written), Color green.
            $data.GetFeatures(4) | Should -Be @([float]$rows[4].A, [float]$rows[4].B, 0, 1, 0)
        }

        It 'takes only the properties named by -FeatureProperty' {
            $subset = $rows | ConvertTo-MlpDataset -LabelProperty Species -FeatureProperty B, A
            $subset.FeatureNames | Should -BeExactly @('B', 'A')
            $subset.GetFeatures(7) | Should -Be @([float]$rows[7].B, [float]$rows[7].A)
        }

        It 'one-hot encodes numbers named by -CategoricalProperty' {
            $coded = 0..5 | ForEach-Object { [pscustomobject]@{ Code = $_ % 3 + 10; Y = $_ % 2 } } |
                ConvertTo-MlpDataset -LabelProperty Y -CategoricalProperty Code
            $coded.FeatureNames | Should -BeExactly @('Code=10', 'Code=11', 'Code=12')
            $coded.GetFeatures(2) | Should -Be @(0, 0, 1)
        }

        It 'parses numeric text with the invariant culture, whatever the session''s culture' {
            $culture = [cultureinfo]::CurrentCulture
            try {
                [cultureinfo]::CurrentCulture = 'de-DE'
                $text = [pscustomobject]@{ X = '1.5'; L = 'a' }, [pscustomobject]@{ X = '2.25'; L = 'b' } | ConvertTo-MlpDataset -LabelProperty L
            } finally { [cultureinfo]::CurrentCulture = $culture }
            $text.GetFeatures(1) | Should -Be @(2.25)
        }

        It 'takes numbers, text and booleans from ordinary .NET objects' {
            $mixed = 0..3 | ForEach-Object { [pscustomobject]@{ Size = [long]($_ * 1000); Ratio = [decimal]0.5 * $_; Ok = ($_ % 2 -eq 0); Kind = "k$($_ % 2)" } } |
                ConvertTo-MlpDataset -LabelProperty Kind
            $mixed.FeatureNames | Should -BeExactly @('Size', 'Ratio', 'Ok=False', 'Ok=True')
            $mixed.GetFeatures(3) | Should -Be @(3000, 1.5, 1, 0)
        }
    }

    Context 'Objects with numeric targets' {
        It '-TargetProperty gives a regression dataset' {
            $prices = @(New-PriceRows -Count 20) | ConvertTo-MlpDataset -TargetProperty Price
            "$($prices.Task)" | Should -BeExactly 'Regression'
            $prices.TargetNames | Should -BeExactly @('Price')
            $prices.FeatureNames | Should -BeExactly @('X1', 'X2')
            $prices.GetTargets(3) | Should -Be @([float](New-PriceRows -Count 4)[3].Price)
        }

        It 'takes several targets' {
            $two = New-PriceRows -Count 10 | Select-Object X1, X2, Price, @{ n = 'Half'; e = { $_.Price / 2 } } | ConvertTo-MlpDataset -TargetProperty Price, Half
            $two.TargetNames | Should -BeExactly @('Price', 'Half')
            $two.GetTargets(1)[1] | Should -Be ($two.GetTargets(1)[0] / 2)
        }
    }

    Context 'Bad input: a clear error and no dataset' {
        It 'a non-numeric value in a numeric column names the row and the column' {
            $bad = @(New-FlowerRows -Count 6); $bad[4].A = 'n/a'
            $err = { $bad | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Stop } | Should -Throw -ErrorId "DataValueNotNumeric,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match "'A'"
            $err.Exception.Message | Should -Match '\b5\b'
            $err.CategoryInfo.Category | Should -Be 'InvalidData'
        }

        It 'an empty value is an error by default, and -MissingValue DropRow or Fill deal with it' {
            $gap = @(New-FlowerRows -Count 6); $gap[2].B = ''
            { $gap | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Stop } | Should -Throw -ErrorId "DataValueMissing,$Cmdlet"
            ($gap | ConvertTo-MlpDataset -LabelProperty Species -MissingValue DropRow).Count | Should -Be 5
            $filled = $gap | ConvertTo-MlpDataset -LabelProperty Species -MissingValue Fill
            $present = $gap | Where-Object { "$($_.B)" -ne '' } | ForEach-Object { [double]$_.B }
            $filled.GetFeatures(2)[1] | Should -Be ([float](($present | Measure-Object -Average).Average))
        }

        It 'a label property that does not exist names the properties there are' {
            $err = { New-FlowerRows -Count 3 | ConvertTo-MlpDataset -LabelProperty Kind -ErrorAction Stop } | Should -Throw -ErrorId "LabelColumnNotFound,$Cmdlet" -PassThru
            $err.Exception.Message | Should -Match 'Species'
        }

        It 'a label with a single class is refused' {
            { New-FlowerRows -Count 9 | Where-Object Species -EQ 'setosa' | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Stop } |
                Should -Throw -ErrorId "LabelSingleClass,$Cmdlet"
        }

        It 'a regression target that is not numeric is refused' {
            { New-FlowerRows -Count 6 | ConvertTo-MlpDataset -TargetProperty Species -ErrorAction Stop } | Should -Throw -ErrorId "TargetNotNumeric,$Cmdlet"
        }

        It 'no input at all is DataEmpty' {
            { @() | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Stop } | Should -Throw -ErrorId "DataEmpty,$Cmdlet"
        }

        It 'stops at the first bad row even with -ErrorAction Continue, so nothing half-built comes out' {
            $bad = @(New-FlowerRows -Count 6); $bad[1].A = 'x'
            $out = $null
            try { $out = $bad | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Continue 2>$null } catch { }
            $out | Should -BeNullOrEmpty
        }
    }
}
