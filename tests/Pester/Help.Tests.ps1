# Help cannot drift from the code: every public parameter is documented, every documented one exists with the
# metadata the code gives it, and Get-Help shows the MAML that build.ps1 made from docs/.
BeforeDiscovery {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    $docs = Join-Path $PSScriptRoot '../../docs'
    $common = [System.Management.Automation.PSCmdlet]::CommonParameters + [System.Management.Automation.PSCmdlet]::OptionalCommonParameters |
        Where-Object { $_ -notin 'WhatIf', 'Confirm' }
    $cmdlets = @(Get-Command -Module MlpTools | Sort-Object Name | ForEach-Object { @{ Name = $_.Name } })
    $parameters = @(foreach ($command in Get-Command -Module MlpTools | Sort-Object Name) {
            foreach ($parameter in $command.Parameters.Values | Where-Object Name -notin $common) {
                @{ Command = $command.Name; Parameter = $parameter.Name }
            }
        })
    $docFiles = @(Get-ChildItem $docs -Filter '*.md' | Where-Object Name -notlike 'about_*' | ForEach-Object { @{ File = $_.Name; Name = $_.BaseName } })
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    $docs = Join-Path $PSScriptRoot '../../docs'
    $moduleDir = Split-Path $env:MLPTOOLS_MODULE

    # The documented parameters of a page: name -> @{ Type; Sets; Required; Position; Pipeline }, from the yaml blocks.
    function Get-DocumentedParameter([string]$Name) {
        $text = Get-Content (Join-Path $docs "$Name.md") -Raw
        $section = ($text -split '(?m)^## PARAMETERS\s*$')[1] -split '(?m)^## ' | Select-Object -First 1
        $result = @{}
        foreach ($block in $section -split '(?m)^### -' | Select-Object -Skip 1) {
            $parameterName = ($block -split '\r?\n')[0].Trim()
            $yaml = @{}
            foreach ($line in ([regex]::Match($block, '(?s)```yaml\r?\n(.*?)```').Groups[1].Value -split '\r?\n')) {
                if ($line -match '^([^:]+):\s*(.*)$') { $yaml[$Matches[1]] = $Matches[2].Trim() }
            }
            $result[$parameterName] = $yaml
        }
        $result
    }

    # How the code describes a parameter, in the words of the yaml block.
    function Get-CodeParameter([string]$Command, [string]$Parameter) {
        $metadata = (Get-Command $Command).Parameters[$Parameter]
        $type = $metadata.ParameterType
        if ([Nullable]::GetUnderlyingType($type)) { $type = [Nullable]::GetUnderlyingType($type) }
        $attributes = @($metadata.Attributes | Where-Object { $_ -is [System.Management.Automation.ParameterAttribute] })
        $sets = @($metadata.ParameterSets.Keys | ForEach-Object { if ($_ -eq '__AllParameterSets') { '(All)' } else { $_ } })
        $position = @($attributes | Where-Object Position -ge 0 | ForEach-Object Position | Select-Object -Unique)
        $pipeline = @(
            if ($attributes | Where-Object ValueFromPipeline) { 'ByValue' }
            if ($attributes | Where-Object ValueFromPipelineByPropertyName) { 'ByPropertyName' })
        @{
            Type     = $type.Name
            Sets     = ($sets | Sort-Object) -join ', '
            Required = [bool]($attributes.Count -and -not ($attributes | Where-Object { -not $_.Mandatory }))
            Position = if ($position.Count) { "$position" } else { 'Named' }
            Pipeline = if ($pipeline) { "True ($($pipeline -join ', '))" } else { 'False' }
        }
    }
}

Describe 'Help' {
    Context '<Name>' -ForEach $cmdlets {
        BeforeAll {
            $help = Get-Help $Name -Full
            $page = Get-Content (Join-Path $docs "$Name.md") -Raw
        }

        It 'has a page in docs/' {
            Join-Path $docs "$Name.md" | Should -Exist
        }

        It 'shows the page''s synopsis, not the generated syntax' {
            $synopsis = ([regex]::Match($page, '(?s)## SYNOPSIS\r?\n(.*?)\r?\n\r?\n').Groups[1].Value -replace '\r?\n', ' ').Replace('`', '').Replace('**', '')
            $help.Synopsis | Should -BeExactly $synopsis
        }

        It 'has a description, inputs, outputs and notes' {
            ($help.description.Text -join ' ') | Should -Not -BeNullOrEmpty
            $help.inputTypes.inputType.type.name | Should -Not -BeNullOrEmpty
            $help.returnValues.returnValue.type.name | Should -Not -BeNullOrEmpty
            ($help.alertSet.alert.Text -join ' ') | Should -Not -BeNullOrEmpty
        }

        It 'documents every output type it declares' {
            $declared = (Get-Command $Name).OutputType.Name
            $documented = $help.returnValues.returnValue.type.name
            $declared | ForEach-Object { $_ | Should -BeIn $documented }
        }

        It 'has at least two examples, the notebook walkthrough among them, each with code and remarks' {
            $examples = @($help.examples.example)
            $examples.Count | Should -BeGreaterOrEqual 2
            $examples.title | Where-Object { $_ -match 'The lecture notebook, end to end' } | Should -Not -BeNullOrEmpty
            $examples | ForEach-Object {
                $_.code | Should -Not -BeNullOrEmpty
                ($_.remarks.Text -join '') | Should -Not -BeNullOrEmpty -Because "$($_.title) needs an explanation"
            }
            ($examples | Where-Object title -Match 'The lecture notebook').code | Should -Match 'New-Mlp'
        }

        It 'documents only parameters that exist' {
            $code = (Get-Command $Name).Parameters.Keys
            (Get-DocumentedParameter $Name).Keys | Where-Object { $_ -ne 'CommonParameters' } | ForEach-Object { $_ | Should -BeIn $code }
        }
    }

    Context '<Command> -<Parameter>' -ForEach $parameters {
        It 'has help text' {
            $text = (Get-Help $Command -Parameter $Parameter).description.Text -join ' '
            $text | Should -Not -BeNullOrEmpty
            $text.Length | Should -BeGreaterThan 20
        }

        It 'is documented with the type, sets, position, requirement and pipeline input it has' {
            $documented = (Get-DocumentedParameter $Command)[$Parameter]
            $documented | Should -Not -BeNullOrEmpty -Because "docs/$Command.md must have a '### -$Parameter' section"
            $code = Get-CodeParameter $Command $Parameter
            $documented['Type'] | Should -Be $code.Type
            (($documented['Parameter Sets'] -split ',\s*' | Sort-Object) -join ', ') | Should -Be $code.Sets
            $documented['Position'] | Should -Be $code.Position
            [bool]::Parse($documented['Required']) | Should -Be $code.Required
            $documented['Accept pipeline input'] | Should -Be $code.Pipeline
        }
    }

    Context 'docs/<File>' -ForEach $docFiles {
        It 'is the page of an exported cmdlet' {
            $Name | Should -BeIn (Get-Command -Module MlpTools).Name
        }
    }

    Context 'Files' {
        It 'sit next to the cmdlets'' assembly, where PowerShell looks for them' {
            (Get-Command Invoke-MlpTraining).HelpFile | Should -Be 'MlpTools.dll-Help.xml'
            Join-Path $moduleDir 'en-US/MlpTools.dll-Help.xml' | Should -Exist
            Join-Path $moduleDir 'en-US/about_MlpTools.help.txt' | Should -Exist
            [xml](Get-Content (Join-Path $moduleDir 'en-US/MlpTools.dll-Help.xml') -Raw) | Should -Not -BeNullOrEmpty
        }

        It 'Get-Help Invoke-MlpTraining -Full and -Examples print the page' {
            $full = Get-Help Invoke-MlpTraining -Full | Out-String -Width 200
            $full | Should -Match 'Trains a model in place'
            $full | Should -Match '-LearningRate <Double>'
            $full | Should -Match 'Example 1: The lecture notebook, end to end'
            $full | Should -Match 'TorchNativeLoadFailed'
            $examples = Get-Help Invoke-MlpTraining -Examples | Out-String -Width 200
            $examples | Should -Match 'epoch:\[1\] loss:\[0\.380\]'
            $examples | Should -Not -MatchExactly 'PARAMETERS' -Because 'the section heading must not show; the word may, in an example'
        }

        It 'Get-Help about_MlpTools prints the topic' {
            $about = Get-Help about_MlpTools | Out-String
            $about | Should -Match 'SHORT DESCRIPTION'
            $about | Should -Match 'Backpropagation'
            (Get-Command -Module MlpTools).Name | ForEach-Object { $about | Should -Match $_ }
        }
    }
}
