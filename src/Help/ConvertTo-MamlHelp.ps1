<#
.SYNOPSIS
    Turns the PlatyPS markdown in docs/ into the help files PowerShell reads: MAML for the cmdlets and a text file
    for each about_ topic.
.DESCRIPTION
    PlatyPS itself cannot be installed here, so this reads the subset of its markdown schema 2.0 that docs/ uses:
    SYNOPSIS, SYNTAX (parameter-set names), DESCRIPTION, EXAMPLES (a code block, an optional Output block, remarks),
    PARAMETERS (text and the yaml block), INPUTS, OUTPUTS, NOTES and RELATED LINKS, and the front matter's 'online
    version' (the first related link, which Get-Help -Online opens). Every cmdlet page goes into one
    MAML file (named in each page's 'external help file' front matter); about_X.md becomes about_X.help.txt.
    Markdown emphasis and code marks are dropped from prose, which Get-Help prints as plain text.
.EXAMPLE
    ./ConvertTo-MamlHelp.ps1 -DocsPath ./docs -OutputPath ./out/MlpTools/en-US
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$DocsPath,
    [Parameter(Mandatory)][string]$OutputPath
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$MamlNs = 'http://schemas.microsoft.com/maml/2004/10'
$CommandNs = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$DevNs = 'http://schemas.microsoft.com/maml/dev/2004/10'

# A page as an ordered list of sections: @{ Title; Lines; Subsections = @(@{ Title; Lines }) }.
function Read-MarkdownPage([string]$Path) {
    $lines = (Get-Content -LiteralPath $Path -Raw) -split '\r?\n'
    $frontMatter = @{}
    $start = 0
    if ($lines[0] -eq '---') {
        $end = [Array]::IndexOf($lines, '---', 1)
        foreach ($line in $lines[1..($end - 1)]) {
            if ($line -match '^([^:]+):\s*(.*)$') { $frontMatter[$Matches[1].Trim()] = $Matches[2].Trim() }
        }
        $start = $end + 1
    }
    $page = [ordered]@{ Name = $null; FrontMatter = $frontMatter; Sections = [System.Collections.Generic.List[object]]::new() }
    $section = $null; $subsection = $null; $inFence = $false
    foreach ($line in $lines[$start..($lines.Count - 1)]) {
        if ($line -match '^```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^# (.+)$' -and -not $page.Name) { $page.Name = $Matches[1].Trim(); continue }
        if (-not $inFence -and $line -match '^## (.+)$') {
            $section = @{ Title = $Matches[1].Trim(); Lines = [System.Collections.Generic.List[string]]::new(); Subsections = [System.Collections.Generic.List[object]]::new() }
            $page.Sections.Add($section); $subsection = $null; continue
        }
        if (-not $inFence -and $line -match '^### (.+)$' -and $section) {
            $subsection = @{ Title = $Matches[1].Trim(); Lines = [System.Collections.Generic.List[string]]::new() }
            $section.Subsections.Add($subsection); continue
        }
        if ($subsection) { $subsection.Lines.Add($line) } elseif ($section) { $section.Lines.Add($line) }
    }
    $page
}

function Get-Section($Page, [string]$Title) { $Page.Sections | Where-Object { $_.Title -eq $Title } | Select-Object -First 1 }

# Fenced code blocks of some lines: @{ Language; Text }, and the prose lines outside them.
function Split-Fences([string[]]$Lines) {
    $blocks = [System.Collections.Generic.List[object]]::new()
    $prose = [System.Collections.Generic.List[string]]::new()
    $current = $null
    foreach ($line in $Lines) {
        if ($line -match '^```(.*)$') {
            if ($null -eq $current) { $current = @{ Language = $Matches[1].Trim(); Lines = [System.Collections.Generic.List[string]]::new() } }
            else { $blocks.Add(@{ Language = $current.Language; Text = ($current.Lines -join "`n") }); $current = $null }
            continue
        }
        if ($null -ne $current) { $current.Lines.Add($line) } else { $prose.Add($line) }
    }
    @{ Blocks = $blocks; Prose = $prose }
}

function ConvertTo-PlainText([string]$Text) {
    $Text = [regex]::Replace($Text, '\[([^\]]+)\]\([^)]*\)', '$1')   # [text](link) -> text
    $Text.Replace('**', '').Replace('`', '')
}

# Prose as paragraphs: blank lines separate them, list items start their own, wrapped lines are joined.
function ConvertTo-Paragraphs([string[]]$Lines) {
    $paragraphs = [System.Collections.Generic.List[string]]::new()
    $current = $null
    foreach ($line in $Lines) {
        if ($line.Trim() -eq '') {
            if ($current) { $paragraphs.Add($current) }
            $current = $null; continue
        }
        if ($line -match '^\s*([-*]|\d+\.)\s' -and $current) { $paragraphs.Add($current); $current = $null }
        $current = if ($current) { "$current $($line.Trim())" } else { $line.Trim() }
    }
    if ($current) { $paragraphs.Add($current) }
    @($paragraphs | ForEach-Object { ConvertTo-PlainText $_ })
}

function Add-Element($Parent, [string]$Namespace, [string]$Name, [string]$Text) {
    $prefix = @{ $MamlNs = 'maml'; $CommandNs = 'command'; $DevNs = 'dev' }[$Namespace]
    $element = $Parent.OwnerDocument.CreateElement($prefix, $Name, $Namespace)
    if ($PSBoundParameters.ContainsKey('Text')) { $element.InnerText = $Text }
    $Parent.AppendChild($element)
}

# <maml:description> (or another element, e.g. <dev:remarks>) holding one <maml:para> per paragraph.
function Add-Description($Parent, [string[]]$Paragraphs, [string]$Namespace = $MamlNs, [string]$Name = 'description') {
    $description = Add-Element $Parent $Namespace $Name
    foreach ($paragraph in $Paragraphs) { Add-Element $description $MamlNs 'para' $paragraph | Out-Null }
    $description
}

# The yaml block under a parameter: Type, Parameter Sets, Aliases, Required, Position, Default value, ...
function Read-ParameterBlock($Subsection) {
    $split = Split-Fences $Subsection.Lines
    $yaml = @{}
    foreach ($line in (($split.Blocks | Where-Object Language -eq 'yaml' | Select-Object -First 1).Text -split "`n")) {
        if ($line -match '^([^:]+):\s*(.*)$') { $yaml[$Matches[1].Trim()] = $Matches[2].Trim() }
    }
    [pscustomobject]@{
        Name         = $Subsection.Title.TrimStart('-')
        Description  = ConvertTo-Paragraphs $split.Prose
        Type         = $yaml['Type']
        Sets         = @($yaml['Parameter Sets'] -split ',\s*' | Where-Object { $_ })
        Aliases      = $yaml['Aliases']
        Required     = $yaml['Required'] -eq 'True'
        Position     = if ($yaml['Position']) { $yaml['Position'] } else { 'Named' }
        Default      = $yaml['Default value']
        Pipeline     = if ($yaml['Accept pipeline input']) { $yaml['Accept pipeline input'] } else { 'False' }
        Wildcards    = $yaml['Accept wildcard characters'] -eq 'True'
    }
}

function Add-Parameter($Parent, $Parameter) {
    $element = Add-Element $Parent $CommandNs 'parameter'
    $element.SetAttribute('required', $Parameter.Required.ToString().ToLowerInvariant())
    $element.SetAttribute('variableLength', ($Parameter.Type -like '*[[]]').ToString().ToLowerInvariant())
    $element.SetAttribute('globbing', $Parameter.Wildcards.ToString().ToLowerInvariant())
    $element.SetAttribute('pipelineInput', $Parameter.Pipeline)
    $element.SetAttribute('position', $Parameter.Position.ToLowerInvariant())
    $element.SetAttribute('aliases', $(if ($Parameter.Aliases) { $Parameter.Aliases } else { 'none' }))
    Add-Element $element $MamlNs 'name' $Parameter.Name | Out-Null
    Add-Description $element $Parameter.Description | Out-Null
    if ($Parameter.Type -ne 'SwitchParameter') {
        $value = Add-Element $element $CommandNs 'parameterValue' $Parameter.Type
        $value.SetAttribute('required', 'true')
        $value.SetAttribute('variableLength', ($Parameter.Type -like '*[[]]').ToString().ToLowerInvariant())
    }
    $type = Add-Element $element $DevNs 'type'
    Add-Element $type $MamlNs 'name' $Parameter.Type | Out-Null
    Add-Element $element $DevNs 'defaultValue' $(if ($Parameter.Default) { $Parameter.Default } else { 'None' }) | Out-Null
}

function Add-TypeList($Parent, [string]$ListName, [string]$ItemName, $Section) {
    $list = Add-Element $Parent $CommandNs $ListName
    foreach ($subsection in @($Section.Subsections)) {
        $item = Add-Element $list $CommandNs $ItemName
        $type = Add-Element $item $DevNs 'type'
        Add-Element $type $MamlNs 'name' $subsection.Title | Out-Null
        Add-Description $item (ConvertTo-Paragraphs $subsection.Lines) | Out-Null
    }
}

function Add-Command($Root, $Page) {
    $name = $Page.Name
    $verb, $noun = $name -split '-', 2
    $commandElement = Add-Element $Root $CommandNs 'command'
    $details = Add-Element $commandElement $CommandNs 'details'
    Add-Element $details $CommandNs 'name' $name | Out-Null
    Add-Element $details $CommandNs 'verb' $verb | Out-Null
    Add-Element $details $CommandNs 'noun' $noun | Out-Null
    Add-Description $details (ConvertTo-Paragraphs (Get-Section $Page 'SYNOPSIS').Lines) | Out-Null
    Add-Description $commandElement (ConvertTo-Paragraphs (Get-Section $Page 'DESCRIPTION').Lines) | Out-Null

    $parameters = @((Get-Section $Page 'PARAMETERS').Subsections | Where-Object Title -ne 'CommonParameters' | ForEach-Object { Read-ParameterBlock $_ })
    # One syntax item per parameter set named under SYNTAX ('### Name' or '### Name (Default)'), or one for all.
    $sets = @((Get-Section $Page 'SYNTAX').Subsections | ForEach-Object { ($_.Title -replace '\s*\(Default\)$', '').Trim() })
    if ($sets.Count -eq 0) { $sets = @('(All)') }
    $syntax = Add-Element $commandElement $CommandNs 'syntax'
    foreach ($set in $sets) {
        $item = Add-Element $syntax $CommandNs 'syntaxItem'
        Add-Element $item $MamlNs 'name' $name | Out-Null
        $inSet = $parameters | Where-Object { $set -eq '(All)' -or $_.Sets -contains '(All)' -or $_.Sets -contains $set }
        # Positional parameters first, by position; then the rest in the page's (alphabetical) order.
        $ordered = @($inSet | Where-Object Position -ne 'Named' | Sort-Object { [int]$_.Position }) + @($inSet | Where-Object Position -eq 'Named')
        foreach ($parameter in $ordered) { Add-Parameter $item $parameter }
    }
    $parameterList = Add-Element $commandElement $CommandNs 'parameters'
    foreach ($parameter in $parameters) { Add-Parameter $parameterList $parameter }

    Add-TypeList $commandElement 'inputTypes' 'inputType' (Get-Section $Page 'INPUTS')
    Add-TypeList $commandElement 'returnValues' 'returnValue' (Get-Section $Page 'OUTPUTS')

    $alertSet = Add-Element $commandElement $MamlNs 'alertSet'
    foreach ($paragraph in ConvertTo-Paragraphs (Get-Section $Page 'NOTES').Lines) {
        $alert = Add-Element $alertSet $MamlNs 'alert'
        Add-Element $alert $MamlNs 'para' $paragraph | Out-Null
    }

    $examples = Add-Element $commandElement $CommandNs 'examples'
    foreach ($example in (Get-Section $Page 'EXAMPLES').Subsections) {
        $split = Split-Fences $example.Lines
        $element = Add-Element $examples $CommandNs 'example'
        Add-Element $element $MamlNs 'title' "-------------------------- $($example.Title) --------------------------" | Out-Null
        Add-Element $element $DevNs 'code' (($split.Blocks | Where-Object Language -ne 'Output' | ForEach-Object Text) -join "`n`n") | Out-Null
        # The sample output (kept line for line), then the explanation.
        $remarks = @($split.Blocks | Where-Object Language -eq 'Output' | ForEach-Object Text) + @(ConvertTo-Paragraphs $split.Prose)
        Add-Description $element $remarks $DevNs 'remarks' | Out-Null
    }

    $links = Add-Element $commandElement $CommandNs 'relatedLinks'
    # The page's 'online version' first: Get-Help -Online opens the first related link that has a URI.
    if ($Page.FrontMatter['online version']) {
        $link = Add-Element $links $MamlNs 'navigationLink'
        Add-Element $link $MamlNs 'linkText' 'Online Version:' | Out-Null
        Add-Element $link $MamlNs 'uri' $Page.FrontMatter['online version'] | Out-Null
    }
    foreach ($line in (Get-Section $Page 'RELATED LINKS').Lines) {
        if ($line -match '^\[([^\]]+)\]\(([^)]*)\)') {
            $link = Add-Element $links $MamlNs 'navigationLink'
            Add-Element $link $MamlNs 'linkText' $Matches[1] | Out-Null
            Add-Element $link $MamlNs 'uri' $(if ($Matches[2] -match '^https?://') { $Matches[2] } else { '' }) | Out-Null
        }
    }
}

# about_X.md -> the plain-text layout of PowerShell's own about topics: headings flush left, text indented by 4.
function ConvertTo-AboutText($Page) {
    $out = [System.Collections.Generic.List[string]]::new()
    $out.Add('TOPIC'); $out.Add("    $($Page.Name)"); $out.Add('')
    foreach ($section in $Page.Sections) {
        $out.Add($section.Title)
        foreach ($line in $section.Lines) { if ($line -notmatch '^```') { $out.Add($(if ($line) { "    $(ConvertTo-PlainText $line)" } else { '' })) } }
        foreach ($subsection in $section.Subsections) {
            $out.Add("  $($subsection.Title)")
            foreach ($line in $subsection.Lines) { if ($line -notmatch '^```') { $out.Add($(if ($line) { "    $(ConvertTo-PlainText $line)" } else { '' })) } }
        }
    }
    # No runs of blank lines.
    (($out -join "`n") -replace "`n{3,}", "`n`n").TrimEnd() + "`n"
}

New-Item -ItemType Directory -Path $OutputPath -Force | Out-Null
$helpFiles = @{}
foreach ($file in Get-ChildItem -LiteralPath $DocsPath -Filter '*.md' | Sort-Object Name) {
    $page = Read-MarkdownPage $file.FullName
    if ($page.Name -like 'about_*') {
        $target = Join-Path $OutputPath "$($page.Name).help.txt"
        [System.IO.File]::WriteAllText($target, (ConvertTo-AboutText $page), [System.Text.UTF8Encoding]::new($false))
        continue
    }
    $helpFile = $page.FrontMatter['external help file']
    if (-not $helpFile) { throw "$($file.Name) has no 'external help file' in its front matter." }
    if (-not $helpFiles.ContainsKey($helpFile)) {
        $document = [System.Xml.XmlDocument]::new()
        $document.AppendChild($document.CreateXmlDeclaration('1.0', 'utf-8', $null)) | Out-Null
        $root = $document.CreateElement('helpItems', 'http://msh')
        $root.SetAttribute('schema', 'maml')
        $document.AppendChild($root) | Out-Null
        $helpFiles[$helpFile] = $document
    }
    Add-Command $helpFiles[$helpFile].DocumentElement $page
}
foreach ($name in $helpFiles.Keys) {
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; Encoding = [System.Text.UTF8Encoding]::new($false) }
    $writer = [System.Xml.XmlWriter]::Create((Join-Path $OutputPath $name), $settings)
    try { $helpFiles[$name].Save($writer) } finally { $writer.Dispose() }
}
Get-ChildItem -LiteralPath $OutputPath | ForEach-Object { Write-Verbose "Wrote $($_.FullName)" }
