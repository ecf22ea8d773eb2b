<#
.SYNOPSIS
    Packs the module's compiled help (the en-US folder) as updatable help: the HelpInfo.xml and the help content that
    Update-Help and Save-Help look for at the manifest's HelpInfoUri (or in Update-Help -SourcePath).
.DESCRIPTION
    Writes, for a module named M with GUID G:
      M_G_HelpInfo.xml            the cultures and help version offered (the module's version) and where the content is
      M_G_en-US_HelpContent.zip   what PowerShell on Linux and macOS unpacks
      M_G_en-US_HelpContent.cab   what PowerShell on Windows unpacks (a cabinet of stored, uncompressed files)
    PowerShell's names (UpdatableHelpModuleInfo): .zip on Unix, .cab on Windows. No cabinet tool is needed: the .cab
    is written here, uncompressed, which Windows' cabinet reader accepts like any other.
.EXAMPLE
    ./New-UpdatableHelp.ps1 -HelpPath ./out/MlpTools/en-US -ManifestPath ./MlpTools.psd1 -OutputPath ./out/updatable-help
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory)][string]$HelpPath,
    [Parameter(Mandatory)][string]$ManifestPath,
    [Parameter(Mandatory)][string]$OutputPath,
    [string]$Culture = 'en-US'
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# A cabinet (MS-CAB) with one folder of stored files: header, folder, file entries, then the data in blocks of at
# most 32 KiB. Checksums are optional in the format (0 means none).
function Write-Cabinet([string]$Path, [System.IO.FileInfo[]]$Files) {
    $blockSize = 32768
    # Each name as its own byte array (a pipeline would flatten them into one).
    $names = [System.Collections.Generic.List[byte[]]]::new()
    foreach ($file in $Files) { $names.Add([Text.Encoding]::ASCII.GetBytes($file.Name + [char]0)) }
    $data = [System.IO.MemoryStream]::new()
    foreach ($file in $Files) { $bytes = [System.IO.File]::ReadAllBytes($file.FullName); $data.Write($bytes, 0, $bytes.Length) }
    $all = $data.ToArray()
    $blockCount = [Math]::Max(1, [Math]::Ceiling($all.Length / $blockSize))
    $headerSize = 36; $folderSize = 8
    $fileEntriesSize = 0
    foreach ($name in $names) { $fileEntriesSize += 16 + $name.Length }
    $firstBlock = $headerSize + $folderSize + $fileEntriesSize
    $cabinetSize = $firstBlock + 8 * $blockCount + $all.Length

    $stream = [System.IO.File]::Create($Path)
    $writer = [System.IO.BinaryWriter]::new($stream)
    try {
        # CFHEADER
        $writer.Write([byte[]][char[]]'MSCF'); $writer.Write([uint32]0)
        $writer.Write([uint32]$cabinetSize); $writer.Write([uint32]0)
        $writer.Write([uint32]($headerSize + $folderSize)); $writer.Write([uint32]0)
        $writer.Write([byte]3); $writer.Write([byte]1)                       # format version 1.3
        $writer.Write([uint16]1); $writer.Write([uint16]$Files.Count)        # one folder, the files
        $writer.Write([uint16]0); $writer.Write([uint16]0); $writer.Write([uint16]0)   # flags, set id, index in set
        # CFFOLDER: where its data starts, how many blocks, no compression
        $writer.Write([uint32]$firstBlock); $writer.Write([uint16]$blockCount); $writer.Write([uint16]0)
        # CFFILE per file: size, offset in the folder's uncompressed data, folder 0, a DOS date and time, attributes
        $offset = 0; $now = Get-Date
        $dosDate = [uint16]((($now.Year - 1980) -shl 9) -bor ($now.Month -shl 5) -bor $now.Day)
        $dosTime = [uint16](($now.Hour -shl 11) -bor ($now.Minute -shl 5) -bor [int]($now.Second / 2))
        for ($i = 0; $i -lt $Files.Count; $i++) {
            $writer.Write([uint32]$Files[$i].Length); $writer.Write([uint32]$offset); $writer.Write([uint16]0)
            $writer.Write($dosDate); $writer.Write($dosTime); $writer.Write([uint16]0x20)
            $writer.Write($names[$i])
            $offset += $Files[$i].Length
        }
        # CFDATA blocks: no checksum, stored bytes (compressed size = uncompressed size)
        for ($block = 0; $block -lt $blockCount; $block++) {
            $start = $block * $blockSize
            $length = [Math]::Min($blockSize, $all.Length - $start)
            $writer.Write([uint32]0); $writer.Write([uint16]$length); $writer.Write([uint16]$length)
            $writer.Write($all, $start, $length)
        }
    }
    finally { $writer.Dispose() }
}

$manifest = Import-PowerShellDataFile -LiteralPath $ManifestPath
$moduleName = [IO.Path]::GetFileNameWithoutExtension($ManifestPath)
$prefix = '{0}_{1}' -f $moduleName, ([guid]$manifest.GUID)
# Help versions have four parts; the help is as new as the module it documents.
$helpVersion = [version]::new(([version]$manifest.ModuleVersion).Major, ([version]$manifest.ModuleVersion).Minor, [Math]::Max(0, ([version]$manifest.ModuleVersion).Build), 0)

New-Item -ItemType Directory -Path $OutputPath -Force | Out-Null
$files = @(Get-ChildItem -LiteralPath $HelpPath -File | Sort-Object Name)
if ($files.Count -eq 0) { throw "No help files in ${HelpPath}: build the help first." }

$zip = Join-Path $OutputPath "${prefix}_${Culture}_HelpContent.zip"
Remove-Item -LiteralPath $zip -ErrorAction Ignore
Compress-Archive -Path $files.FullName -DestinationPath $zip
Write-Cabinet (Join-Path $OutputPath "${prefix}_${Culture}_HelpContent.cab") $files

$helpInfo = @"
<?xml version="1.0" encoding="utf-8"?>
<HelpInfo xmlns="http://schemas.microsoft.com/powershell/help/2010/05">
  <HelpContentURI>$($manifest.HelpInfoUri)</HelpContentURI>
  <SupportedUICultures>
    <UICulture>
      <UICultureName>$Culture</UICultureName>
      <UICultureVersion>$helpVersion</UICultureVersion>
    </UICulture>
  </SupportedUICultures>
</HelpInfo>
"@
[System.IO.File]::WriteAllText((Join-Path $OutputPath "${prefix}_HelpInfo.xml"), $helpInfo, [System.Text.UTF8Encoding]::new($false))
Get-ChildItem -LiteralPath $OutputPath | ForEach-Object { Write-Verbose "Wrote $($_.FullName)" }
