# Online and updatable help: every page names its online version (Get-Help -Online opens it), and the help that
# build.ps1 packs (src/Help/New-UpdatableHelp.ps1) installs with Update-Help -SourcePath. Save-Help and Update-Help
# without -SourcePath download from the HelpInfoUri: not tested, these machines reach no web site.
BeforeDiscovery {
    $pages = @(Get-ChildItem (Join-Path $PSScriptRoot '../../docs') -Filter '*.md' | ForEach-Object { @{ File = $_.Name; Name = $_.BaseName } })
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    $repository = Join-Path $PSScriptRoot '../..'
    $moduleDir = Split-Path $env:MLPTOOLS_MODULE
    $manifest = Import-PowerShellDataFile $env:MLPTOOLS_MODULE
    $prefix = "MlpTools_$($manifest.GUID)"
}

Describe 'Online help' {
    Context 'docs/<File>' -ForEach $pages {
        It 'names its online version: the page itself in the project''s repository' {
            $frontMatter = ((Get-Content (Join-Path $repository "docs/$File") -Raw) -split '(?m)^---\s*$')[1]
            $frontMatter | Should -Match "(?m)^online version: https://github\.com/MlpTools/MlpTools/blob/main/docs/$([regex]::Escape($File))\s*$"
        }
    }

    It 'Get-Help shows the online version as the first related link, the one Get-Help -Online opens' {
        foreach ($command in Get-Command -Module MlpTools) {
            $first = @((Get-Help $command.Name).relatedLinks.navigationLink)[0]
            $first.linkText | Should -BeExactly 'Online Version:'
            $first.uri | Should -BeExactly "https://github.com/MlpTools/MlpTools/blob/main/docs/$($command.Name).md"
        }
    }
}

Describe 'Updatable help' {
    BeforeAll {
        $source = Join-Path $TestDrive 'updatable-help'
        & (Join-Path $repository 'src/Help/New-UpdatableHelp.ps1') -HelpPath (Join-Path $moduleDir 'en-US') -ManifestPath $env:MLPTOOLS_MODULE -OutputPath $source
    }

    It 'the manifest says where Update-Help finds the help' {
        $manifest.HelpInfoUri | Should -BeExactly 'https://github.com/MlpTools/MlpTools/releases/latest/download/'
    }

    It 'is a HelpInfo.xml with the module''s version, a .zip (Linux, macOS) and a .cab (Windows) of the en-US help' {
        (Get-ChildItem $source).Name | Sort-Object | Should -BeExactly @(
            "${prefix}_en-US_HelpContent.cab"
            "${prefix}_en-US_HelpContent.zip"
            "${prefix}_HelpInfo.xml")
        $info = [xml](Get-Content (Join-Path $source "${prefix}_HelpInfo.xml") -Raw)
        $info.HelpInfo.HelpContentURI | Should -BeExactly $manifest.HelpInfoUri
        $info.HelpInfo.SupportedUICultures.UICulture.UICultureName | Should -BeExactly 'en-US'
        $info.HelpInfo.SupportedUICultures.UICulture.UICultureVersion | Should -BeExactly "$($manifest.ModuleVersion).0"
    }

    It 'the .cab holds every help file, byte for byte (a stored cabinet: header, one folder, the files, 32 KiB blocks)' {
        $cab = [IO.File]::ReadAllBytes((Join-Path $source "${prefix}_en-US_HelpContent.cab"))
        [Text.Encoding]::ASCII.GetString($cab, 0, 4) | Should -BeExactly 'MSCF'
        [BitConverter]::ToUInt32($cab, 8) | Should -Be $cab.Length
        $files = @(Get-ChildItem (Join-Path $moduleDir 'en-US') -File | Sort-Object Name)
        [BitConverter]::ToUInt16($cab, 28) | Should -Be $files.Count
        # Walk the file entries, then read the stored data blocks back and compare each file.
        $dataStart = [BitConverter]::ToUInt32($cab, 36); $blocks = [BitConverter]::ToUInt16($cab, 40)
        $position = 44; $entries = foreach ($i in 1..$files.Count) {
            $size = [BitConverter]::ToUInt32($cab, $position); $offset = [BitConverter]::ToUInt32($cab, $position + 4)
            $end = [Array]::IndexOf($cab, [byte]0, $position + 16)
            [pscustomobject]@{ Name = [Text.Encoding]::ASCII.GetString($cab, $position + 16, $end - $position - 16); Size = $size; Offset = $offset }
            $position = $end + 1
        }
        $position | Should -Be $dataStart
        $data = [IO.MemoryStream]::new()
        foreach ($block in 1..$blocks) {
            $length = [BitConverter]::ToUInt16($cab, $position + 4)
            $data.Write($cab, $position + 8, $length); $position += 8 + $length
        }
        $position | Should -Be $cab.Length
        $bytes = $data.ToArray()
        $entries.Name | Should -BeExactly $files.Name
        foreach ($entry in $entries) {
            $expected = [IO.File]::ReadAllBytes((Join-Path $moduleDir "en-US/$($entry.Name)"))
            [Convert]::ToHexString($bytes, $entry.Offset, $entry.Size) | Should -BeExactly ([Convert]::ToHexString($expected))
        }
    }

    It 'Update-Help -Module MlpTools -SourcePath installs it next to the module' {
        # A copy of the module's small files (no natives: Update-Help reads only the manifest) in a private module
        # path, updated in a child process so the built module and the user's help folder stay untouched.
        $modules = Join-Path $TestDrive 'modules'
        $copy = New-Item -ItemType Directory (Join-Path $modules 'MlpTools')
        Copy-Item (Join-Path $moduleDir '*') $copy -Include '*.psd1', '*.psm1', '*.ps1xml', 'MlpTools.dll'
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $output = & $pwsh -NoProfile -NonInteractive -Command "
            `$ErrorActionPreference = 'Stop'
            `$env:PSModulePath = '$modules'
            Update-Help -Module MlpTools -SourcePath '$source' -UICulture en-US -Scope AllUsers -Force -Verbose 4>&1" 2>&1
        $LASTEXITCODE | Should -Be 0 -Because ($output | Out-String)
        ($output | Out-String) | Should -Match 'MlpTools: Updated .*MlpTools\.dll-Help\.xml\. Culture en-US Version 0\.1\.0\.0'
        foreach ($file in Get-ChildItem (Join-Path $moduleDir 'en-US') -File) {
            (Get-FileHash (Join-Path $copy "en-US/$($file.Name)")).Hash | Should -Be (Get-FileHash $file.FullName).Hash
        }
        Join-Path $copy "${prefix}_HelpInfo.xml" | Should -Exist
    }
}
