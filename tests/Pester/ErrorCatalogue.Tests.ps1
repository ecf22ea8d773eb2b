BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
}

# Faults that had two ids, or an id of another concern, before the catalogue of error ids (ErrorIds in the engine;
# ErrorCatalogueTests in xunit holds it against about_MlpTools_Errors).
Describe 'One error id per fault' {
    BeforeAll {
        $rows = @(New-FlowerRows -Count 30)
        $table = $rows | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Stop
        $model = New-Mlp -Dataset $table -HiddenSize 4 -Seed 1
    }

    It 'an index outside a table dataset (<Index>): DatasetIndexOutOfRange (InvalidArgument), as for images, and no prediction' -ForEach @(
        @{ Index = 30 }
        @{ Index = -1 }
    ) {
        $predictions = [System.Collections.Generic.List[object]]::new()
        $err = { Invoke-MlpPrediction -Model $model -Dataset $table -Index 0, $Index -ErrorAction Stop | ForEach-Object { $predictions.Add($_) } } |
            Should -Throw -ErrorId 'DatasetIndexOutOfRange,MlpTools.Commands.InvokeMlpPredictionCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'InvalidArgument'
        $err.TargetObject | Should -Be $Index
        $err.Exception.Message | Should -BeLike '*rows 0 to 29*'
        $predictions.Count | Should -Be 0
    }

    It 'no objects piped to ConvertTo-MlpDataset: DataEmpty (InvalidData), as for an empty CSV file' {
        $fromPipeline = { @() | ConvertTo-MlpDataset -LabelProperty Species -ErrorAction Stop } |
            Should -Throw -ErrorId 'DataEmpty,MlpTools.Commands.ConvertToMlpDatasetCommand' -PassThru
        $csv = Join-Path $TestDrive 'header-only.csv'
        Set-Content -LiteralPath $csv -Value 'A,B,Species'
        $fromFile = { Import-MlpDataset -Path $csv -LabelColumn Species -ErrorAction Stop } |
            Should -Throw -ErrorId 'DataEmpty,MlpTools.Commands.ImportMlpDatasetCommand' -PassThru
        $fromPipeline.CategoryInfo.Category | Should -Be 'InvalidData'
        $fromFile.CategoryInfo.Category | Should -Be 'InvalidData'
    }
}
