# Every example runs: the code blocks of each EXAMPLE in docs/*.md and the README's PowerShell blocks, each in a fresh
# runspace with the module imported, on small data. Test-only substitutions, so that ~125 examples take minutes:
#   - MLPTOOLS_DATA points at a slice of real MNIST (the first 2,000 training and 500 test images), so
#     Get-MnistDataset reads that instead of the full set (MLPTOOLS_DATA is the documented way to move the data folder);
#   - every '-Epochs <n>' becomes '-Epochs 1' and Invoke-MlpTraining defaults to one epoch ($PSDefaultParameterValues);
#     '-MinimumAccuracy <x>' becomes 0.5 and the README's 'Import-Module ./out/MlpTools' imports the module under test;
#   - $train and $test (the slice) and $model / $m (the notebook's model after one epoch) exist before the example runs,
#     as the pages assume from their first example;
#   - each example runs in an empty folder of its own.
# An example fails the test when it throws or writes an error. Examples that need the network, an installation from a
# gallery or files the page only names are skipped, each with its reason ($Skipped below).
BeforeDiscovery {
    $repository = Join-Path $PSScriptRoot '../..'

    # Fenced blocks of some markdown: @{ Language; Code }.
    function Get-CodeBlock([string]$Text) {
        $current = $null
        foreach ($line in $Text -split '\r?\n') {
            if ($line -match '^```(.*)$') {
                if ($null -eq $current) { $current = @{ Language = $Matches[1].Trim(); Lines = [System.Collections.Generic.List[string]]::new() } }
                else { @{ Language = $current.Language; Code = $current.Lines -join "`n" }; $current = $null }
                continue
            }
            if ($null -ne $current) { $current.Lines.Add($line) }
        }
    }

    # Why an example cannot run here: '<page> Example <n>:' (README: '<page> <block number>') -> reason. The first
    # eight need the network, a build, a gallery, a folder of the reader's machine or Pester; the rest need files or
    # objects the page only names, for which the test has no fixture yet.
    $Skipped = @{
        'README.md 1'                           = 'builds and tests the module (build.ps1 -Task Demo and Test)'
        'README.md 2'                           = 'installs from the PowerShell Gallery (network)'
        'Get-MnistDataset.md Example 2:'        = 'downloads MNIST (network)'
        'Get-MnistDataset.md Example 9:'        = 'downloads from a mirror (network)'
        'ConvertTo-MlpDataset.md Example 7:'    = 'reads rows from a web API (network)'
        'Get-MnistDataset.md Example 5:'        = 'points MLPTOOLS_DATA at /srv/datasets/mnist, a folder of the reader''s machine'
        'Get-MnistDataset.md Example 6:'        = 'reads Fashion-MNIST files, which are not on the test machine'
        'Test-MlpAccuracy.md Example 5:'        = 'the body of a Pester It block: runs only inside Invoke-Pester'
        'about_MlpTools.md Example 7:'          = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'about_MlpTools.md Example 8:'          = 'needs digits.mlp and a photo, a file of the reader''s that the page only names (no test fixture yet)'
        'ConvertTo-MlpDataset.md Example 1:'    = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'ConvertTo-MlpDataset.md Example 2:'    = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'ConvertTo-MlpDataset.md Example 3:'    = 'needs houses.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'ConvertTo-MlpDataset.md Example 5:'    = 'needs survey.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'ConvertTo-MlpDataset.md Example 6:'    = 'needs orders.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Export-Mlp.md Example 4:'              = 'uses $candidate, a model the page only names (no test fixture yet)'
        'Export-MlpDigitGrid.md Example 5:'     = 'needs predictions.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Export-MlpTrainingCurve.md Example 5:' = 'needs houses.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Get-MnistDataset.md Example 7:'        = 'needs scans/images.idx3.gz, a file of the reader''s that the page only names (no test fixture yet)'
        'Get-MnistDataset.md Example 8:'        = 'needs datasets/ (several MNIST folders), a file of the reader''s that the page only names (no test fixture yet)'
        'Import-Mlp.md Example 1:'              = 'needs digits.mlp, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-Mlp.md Example 2:'              = 'needs from-python.pt, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-Mlp.md Example 3:'              = 'needs models/, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-Mlp.md Example 4:'              = 'needs old.pt, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 1:'       = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 2:'       = 'needs mnist-png/ (MNIST as PNG files), a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 3:'       = 'needs leaves/ (photos), a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 4:'       = 'needs houses.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 5:'       = 'needs patients.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 6:'       = 'needs exports/, a file of the reader''s that the page only names (no test fixture yet)'
        'Import-MlpDataset.md Example 7:'       = 'needs new-flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Invoke-MlpPrediction.md Example 6:'    = 'uses $predictions, made in another example; a variable the page only names (no test fixture yet)'
        'Invoke-MlpPrediction.md Example 8:'    = 'needs new-flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Invoke-MlpPrediction.md Example 9:'    = 'uses $churn, a model the page only names (no test fixture yet)'
        'Invoke-MlpPrediction.md Example 10:'   = 'needs digits.mlp and a drawing, a file of the reader''s that the page only names (no test fixture yet)'
        'Invoke-MlpPrediction.md Example 11:'   = 'uses $priceModel, a model the page only names (no test fixture yet)'
        'Invoke-MlpPrediction.md Example 12:'   = 'uses $priceModel, a model the page only names (no test fixture yet)'
        'Invoke-MlpTraining.md Example 12:'     = 'needs houses.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Invoke-MlpTraining.md Example 13:'     = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'New-Mlp.md Example 9:'                 = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'New-Mlp.md Example 10:'                = 'needs houses.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'New-Mlp.md Example 11:'                = 'needs scans/images.idx3.gz, a file of the reader''s that the page only names (no test fixture yet)'
        'Split-MlpDataset.md Example 1:'        = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Split-MlpDataset.md Example 3:'        = 'needs houses.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'Split-MlpDataset.md Example 4:'        = 'uses $data, a dataset the page only names (no test fixture yet)'
        'Split-MlpDataset.md Example 5:'        = 'uses $data, a dataset the page only names (no test fixture yet)'
        'Test-MlpAccuracy.md Example 9:'        = 'uses $priceModel, a model the page only names (no test fixture yet)'
        'Test-MlpAccuracy.md Example 10:'       = 'needs flowers.csv, a file of the reader''s that the page only names (no test fixture yet)'
        'README.md 6'                           = 'needs houses.csv, leaves/ and the other tables it reads, a file of the reader''s that the page only names (no test fixture yet)'
    }

    $examples = [System.Collections.Generic.List[hashtable]]::new()
    foreach ($page in Get-ChildItem (Join-Path $repository 'docs') -Filter '*.md' | Sort-Object Name) {
        $text = Get-Content $page.FullName -Raw
        if ($text -notmatch '(?m)^## EXAMPLES\s*$') { continue }
        $section = (($text -split '(?m)^## EXAMPLES\s*$')[1] -split '(?m)^## ')[0]
        foreach ($example in $section -split '(?m)^### ' | Select-Object -Skip 1) {
            $title = ($example -split '\r?\n')[0].Trim()
            $code = @(Get-CodeBlock $example | Where-Object Language -In 'powershell', '' | ForEach-Object Code) -join "`n"
            if (-not $code) {
                # about_ topics indent their code by four spaces instead of fencing it: the indented lines before the text.
                $lines = @(($example -split '\r?\n' | Select-Object -Skip 1) | Where-Object { $_ } | ForEach-Object { $_ })
                $code = @($lines | ForEach-Object -Begin { $inCode = $true } -Process { if ($_ -notmatch '^    ') { $inCode = $false }; if ($inCode) { $_.Substring(4) } }) -join "`n"
            }
            $key = "$($page.Name) $(($title -split ':')[0]):"
            $examples.Add(@{ Page = $page.Name; Title = $title; Code = $code; Skip = $Skipped[$key] })
        }
    }
    $readmeBlocks = @(Get-CodeBlock (Get-Content (Join-Path $repository 'README.md') -Raw) | Where-Object Language -EQ 'powershell')
    for ($i = 0; $i -lt $readmeBlocks.Count; $i++) {
        $examples.Add(@{ Page = 'README.md'; Title = "block $($i + 1): $((($readmeBlocks[$i].Code -split "`n")[0]).Trim())"; Code = $readmeBlocks[$i].Code; Skip = $Skipped["README.md $($i + 1)"] })
    }
    $pages = @($examples | Where-Object Page -NE 'README.md' | Group-Object { $_.Page } | ForEach-Object { @{ Page = $_.Name; Titles = @($_.Group.Title) } })
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop

    # The MNIST slice: IDX files are a header and fixed-size records, so the first n records are a valid smaller file.
    $source = (Test-MlpEnvironment).DataPath
    $slice = New-Item -ItemType Directory (Join-Path $TestDrive 'mnist')
    foreach ($file in @{ Name = 'train-images-idx3-ubyte'; Header = 16; Record = 784; Count = 2000 },
        @{ Name = 'train-labels-idx1-ubyte'; Header = 8; Record = 1; Count = 2000 },
        @{ Name = 't10k-images-idx3-ubyte'; Header = 16; Record = 784; Count = 500 },
        @{ Name = 't10k-labels-idx1-ubyte'; Header = 8; Record = 1; Count = 500 }) {
        $bytes = [IO.File]::ReadAllBytes((Join-Path $source $file.Name))
        $part = $bytes[0..($file.Header + $file.Record * $file.Count - 1)]
        [byte[]]$count = [BitConverter]::GetBytes([uint32]$file.Count); [Array]::Reverse($count)   # big-endian
        [Array]::Copy($count, 0, $part, 4, 4)
        [IO.File]::WriteAllBytes((Join-Path $slice $file.Name), [byte[]]$part)
    }
    $savedDataPath = $env:MLPTOOLS_DATA
    $env:MLPTOOLS_DATA = $slice.FullName

    $preamble = {
        $PSDefaultParameterValues['Invoke-MlpTraining:Epochs'] = 1
        $train, $test = Get-MnistDataset -ErrorAction Stop
        $model = New-Mlp -Seed 1
        $null = Invoke-MlpTraining -Model $model -Dataset $train -Seed 1
        $m = $model
    }.ToString()

    function Invoke-Example([string]$Code) {
        $folder = New-Item -ItemType Directory (Join-Path $TestDrive ([guid]::NewGuid()))
        $state = [initialsessionstate]::CreateDefault2()
        $state.ImportPSModule($env:MLPTOOLS_MODULE)
        $runspace = [runspacefactory]::CreateRunspace($state)
        $runspace.Open()
        $shell = [powershell]::Create($runspace)
        try {
            $runspace.SessionStateProxy.Path.SetLocation($folder.FullName) | Out-Null
            # The environment is the process's: an example that moves the data folder must not move it for the next.
            $env:MLPTOOLS_DATA = $slice.FullName
            $small = [regex]::Replace($Code, '-Epochs\s+\d+', '-Epochs 1')
            # Quality gates are for the full recipe: one epoch on the slice reaches about 0.84, so they ask for 0.5 here.
            $small = [regex]::Replace($small, '-MinimumAccuracy\s+[\d.]+', '-MinimumAccuracy 0.5')
            # The README imports the development build by its relative path; here it is the module under test.
            $small = $small.Replace('Import-Module ./out/MlpTools', "Import-Module '$env:MLPTOOLS_MODULE'")
            $null = $shell.AddScript("$preamble`n$small").Invoke()
            @($shell.Streams.Error | ForEach-Object { "$_ ($($_.FullyQualifiedErrorId))" })
        }
        catch { "$($_.Exception.InnerException ?? $_.Exception)" }
        finally { $shell.Dispose(); $runspace.Dispose() }
    }
}

AfterAll {
    $env:MLPTOOLS_DATA = $savedDataPath
}

Describe 'Examples' {
    Context '<Page>' -ForEach $pages {
        It 'numbers its examples 1, 2, 3, ... without gaps or repeats' {
            $numbers = @($Titles | ForEach-Object { if ($_ -match '^Example (\d+):') { [int]$Matches[1] } else { 0 } })
            $numbers | Should -Be (1..$Titles.Count)
        }
    }

    Context '<Page> <Title>' -ForEach $examples {
        It 'runs without an error' {
            if ($Skip) { Set-ItResult -Skipped -Because $Skip; return }
            $Code | Should -Not -BeNullOrEmpty -Because 'every example has code'
            Invoke-Example $Code | Should -BeNullOrEmpty
        }
    }
}
