BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $Cmdlet = 'MlpTools.Commands.SplitMlpDatasetCommand'
    $data = New-FlowerRows -Count 90 | Select-Object -First 87 | ConvertTo-MlpDataset -LabelProperty Species
}

Describe 'Split-MlpDataset' {
    It 'gives a training part and a test part of round(count × fraction) examples, together all of them' {
        $train, $test = Split-MlpDataset $data -TestFraction 0.2 -Seed 1
        $test.Count | Should -Be 17
        $train.Count | Should -Be 70
        $train.Split, $test.Split | Should -BeExactly 'Train', 'Test'
        $seen = @(0..($train.Count - 1) | ForEach-Object { ($train.GetFeatures($_) -join ',') }) + @(0..($test.Count - 1) | ForEach-Object { ($test.GetFeatures($_) -join ',') })
        $all = 0..86 | ForEach-Object { ($data.GetFeatures($_) -join ',') }
        ($seen | Sort-Object) | Should -Be ($all | Sort-Object)
    }

    It 'the same seed gives the same split, another seed another' {
        $a = (Split-MlpDataset $data -Seed 5)[1]; $b = (Split-MlpDataset $data -Seed 5)[1]; $c = (Split-MlpDataset $data -Seed 6)[1]
        $rows = { param($d) 0..($d.Count - 1) | ForEach-Object { $d.GetFeatures($_) -join ',' } }
        (& $rows $a) | Should -Be (& $rows $b)
        ((& $rows $a) -join ';') | Should -Not -Be ((& $rows $c) -join ';')
    }

    It '-Stratify keeps each class''s share in both parts' {
        # 87 rows: 29 of each species; 20% of 29 rounds to 6.
        $train, $test = Split-MlpDataset $data -TestFraction 0.2 -Seed 3 -Stratify
        $counts = 0..($test.Count - 1) | ForEach-Object { $test.GetClassName($_) } | Group-Object | Sort-Object Name
        $counts.Count | Should -Be 3
        $counts | ForEach-Object Count | Should -Be @(6, 6, 6)
        $train.Count | Should -Be 69
    }

    It 'refuses -Stratify for regression data and a fraction that leaves a part empty' {
        $prices = New-PriceRows -Count 10 | ConvertTo-MlpDataset -TargetProperty Price
        { Split-MlpDataset $prices -Stratify -ErrorAction Stop } | Should -Throw -ErrorId "SplitStratifyUnsupported,$Cmdlet"
        { Split-MlpDataset $prices -TestFraction 0.01 -ErrorAction Stop } | Should -Throw -ErrorId "SplitFractionInvalid,$Cmdlet"
    }
}
