# Every example runs: the code blocks of each EXAMPLE in docs/*.md and the README's PowerShell blocks, each in a fresh
# runspace with the module imported, on small data. Test-only substitutions, so that ~160 examples take minutes:
#   - MLPTOOLS_DATA points at a slice of real MNIST (the first 2,000 training and 500 test images), so
#     Get-MnistDataset reads that instead of the full set (MLPTOOLS_DATA is the documented way to move the data folder);
#   - every '-Epochs <n>' becomes '-Epochs 1' and Invoke-MlpTraining defaults to one epoch ($PSDefaultParameterValues),
#     except in examples that read a CSV file: their tables of a few hundred rows train for the epochs the page gives;
#     '-MinimumAccuracy <x>' becomes 0.5 and the README's 'Import-Module ./out/MlpTools' imports the module under test;
#   - $train and $test (the slice) and $model / $m (the notebook's model after one epoch) exist before the example runs,
#     as the pages assume from their first example;
#   - each example runs in an empty folder of its own, into which the fixtures its code names are copied (flowers.csv,
#     houses.csv, leaves/, digits.mlp, ... made once by ExampleFixtures.ps1; a file the example writes before it reads
#     it is left out); paths under /srv/ are folders in it;
#   - the variables a page uses without making them ($priceModel, $data, $space, ...) are made before an example that
#     names them ($variableSetup), and $Context says where an example's page made $model or $test from other data.
# An example fails the test when it throws or writes an error ($ExpectedErrors lists those that show one). Examples
# that need the network, other machines or Pester itself are skipped, each with its reason ($Skipped below).
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

    # Why an example cannot run here: '<page> Example <n>:' (README: '<page> <block number>') -> reason.
    $Skipped = @{
        'README.md 1'                        = 'builds and tests the module (build.ps1 -Task Demo and Test)'
        'README.md 2'                        = 'installs from the PowerShell Gallery (network)'
        'Get-MnistDataset.md Example 2:'     = 'downloads MNIST (network)'
        'ConvertTo-MlpDataset.md Example 7:' = 'reads rows from a web API (network)'
        'Invoke-MlpSweep.md Example 3:'      = 'runs trials on two other machines over SSH (the remoting tests run sweeps over SSH to this machine)'
        'README.md 8'                        = 'runs trials on two other machines over SSH (the remoting tests run sweeps over SSH to this machine)'
        'Test-MlpAccuracy.md Example 5:'     = 'the body of a Pester It block: runs only inside Invoke-Pester'
    }

    # Examples that show an error: '<page> Example <n>:' -> the ids of the errors they write, in order.
    $ExpectedErrors = @{
        'ConvertTo-MlpDataset.md Example 5:' = @('DataValueMissing')         # an empty value stops the cmdlet by default
        'Import-Mlp.md Example 4:'           = @('ModelFileUnrecognized')    # a pre-1.6 torch.save pickle
    }

    # What an example's page made before it, where that is not the MNIST $model / $test of the preamble.
    $Context = @{
        'Import-MlpDataset.md Example 7:'    = '$model = $flowerModel'       # "the columns the model was trained on": flowers
        'Invoke-MlpPrediction.md Example 8:' = '$model = $flowerModel'
        'Invoke-MlpPrediction.md Example 11:' = '$test = $priceTest'
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
            $examples.Add(@{ Page = $page.Name; Title = $title; Code = $code; Skip = $Skipped[$key]; Errors = @($ExpectedErrors[$key] | Where-Object { $_ }); Context = $Context[$key] })
        }
    }
    $readmeBlocks = @(Get-CodeBlock (Get-Content (Join-Path $repository 'README.md') -Raw) | Where-Object Language -EQ 'powershell')
    for ($i = 0; $i -lt $readmeBlocks.Count; $i++) {
        $examples.Add(@{ Page = 'README.md'; Title = "block $($i + 1): $((($readmeBlocks[$i].Code -split "`n")[0]).Trim())"; Code = $readmeBlocks[$i].Code; Skip = $Skipped["README.md $($i + 1)"]; Errors = @(); Context = $null })
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
    }

    # The reader's files the pages name, made once; an example's folder gets those its code names.
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    . (Join-Path $PSScriptRoot 'ExampleFixtures.ps1')
    $fixtures = Join-Path $TestDrive 'fixtures'
    $train, $test = Get-MnistDataset -ErrorAction Stop
    $model = New-Mlp -Seed 1
    $null = Invoke-MlpTraining -Model $model -Dataset $train -Epochs 1 -Seed 1
    New-ExampleFixture -Folder $fixtures -Train $train -Test $test -Model $model -DataPath $source -SlicePath $slice.FullName
    $model.Dispose()
    $fixtureNames = @(Get-ChildItem $fixtures | ForEach-Object Name)
    $variableSetup = Get-ExampleVariableSetup $fixtures

    # The test-only substitutions of the header, and the fixtures and variables an example needs.
    function Get-ExampleScript([string]$Code, [string]$Context, [string]$Folder) {
        # Paths on a server (/srv/models, /srv/datasets) are folders in the example's own.
        $small = $Code.Replace(' /srv/', " $Folder/srv/").Replace("'/srv/", "'$Folder/srv/")
        # A table of a few hundred rows trains for the epochs the page gives in a second or two; MNIST for one epoch.
        if ($small -notmatch '\.csv\b') { $small = [regex]::Replace($small, '-Epochs\s+\d+', '-Epochs 1') }
        # Quality gates are for the full recipe: one epoch on the slice reaches about 0.84, so they ask for 0.5 here.
        $small = [regex]::Replace($small, '-MinimumAccuracy\s+[\d.]+', '-MinimumAccuracy 0.5')
        # The README imports the development build by its relative path; here it is the module under test.
        $small = $small.Replace('Import-Module ./out/MlpTools', "Import-Module '$env:MLPTOOLS_MODULE'")
        foreach ($name in $fixtureNames) {
            $escaped = [regex]::Escape($name)
            $first = @($small -split '\n' | Where-Object { $_ -match "(?<![\w-])$escaped(?![\w.-])" })[0]
            # A file the example writes itself (Export-Mlp, a new sweep's result file) is not there yet, as in a
            # reader's folder; one it reads first is.
            $writes = $first -match "(Export-Mlp\w*\b.*-Path|-ResultPath)\s+['`"]?(\./)?$escaped(['`"\s]|$)" -and $first -notmatch '-Resume\b'
            if ($first -and -not $writes) { Copy-Item -Recurse (Join-Path $fixtures $name) $Folder }
        }
        $setup = foreach ($variable in $variableSetup.Keys) {
            $named = "$Context`n$small" -match "\`$$variable\b"
            $assigned = $small -match "(?m)^\s*(\`$\w+\s*,\s*)*\`$$variable(\s*,\s*\`$\w+)*\s*=(?!=)"
            if ($named -and -not $assigned) { $variableSetup[$variable] }
        }
        @($preamble.ToString()) + @($setup | Select-Object -Unique) + @($Context, $small) -join "`n"
    }

    function Invoke-Example([string]$Code, [string]$Context) {
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
            $null = $shell.AddScript((Get-ExampleScript $Code $Context $folder.FullName)).Invoke()
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
            $expected = @($Errors | ForEach-Object { "* ($_,*" })
            $written = @(Invoke-Example $Code $Context)
            $written.Count | Should -Be $expected.Count -Because "the example writes $($expected.Count) error(s): $($written -join '; ')"
            for ($i = 0; $i -lt $expected.Count; $i++) { $written[$i] | Should -BeLike $expected[$i] }
        }
    }
}
