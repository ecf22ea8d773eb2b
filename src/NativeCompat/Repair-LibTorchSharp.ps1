<#
.SYNOPSIS
    Makes a copy of TorchSharp's libLibTorchSharp.so loadable on Linux systems whose
    libstdc++ lacks GLIBCXX_3.4.32 (GCC 12 and older, e.g. Debian 12).
.DESCRIPTION
    The library needs GLIBCXX_3.4.32 for a single symbol, std::ios_base_library_init().
    This script builds libmlptools_glibcxx_shim.so (from glibcxx_shim.cpp) next to the
    library, marks the GLIBCXX_3.4.32 version need as weak, unversions that symbol and
    makes the library load the shim. Does nothing on other systems or if already done.
    Patch only a copy: never the file in the NuGet package cache.
.PARAMETER Always
    Apply the fix even where this machine's libstdc++ has GLIBCXX_3.4.32: for the Linux package, which must load on
    Debian 12 whatever machine built it. The weak version need keeps it loading where the version exists.
#>
[CmdletBinding()]
param([Parameter(Mandatory)][string]$NativeDirectory, [switch]$Always)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$LibraryName = 'libLibTorchSharp.so'
$ShimName = 'libmlptools_glibcxx_shim.so'
$MissingVersion = 'GLIBCXX_3.4.32'
$Symbol = '_ZSt21ios_base_library_initv'
$VerFlagWeak = 0x2

# Minimal ELF64 little-endian reader: only what is needed to inspect version and dynamic sections.
# BitConverter reads in host order, which is little-endian on every platform this runs on.
function Read-ElfFile([string]$Path) {
    $bytes = [IO.File]::ReadAllBytes($Path)
    if ($bytes.Length -lt 64 -or [BitConverter]::ToUInt32($bytes, 0) -ne 0x464C457F -or $bytes[4] -ne 2 -or $bytes[5] -ne 1) {
        throw "'$Path' is not a 64-bit little-endian ELF file."
    }
    $headerOffset = [BitConverter]::ToInt64($bytes, 0x28)
    $headerSize = [BitConverter]::ToUInt16($bytes, 0x3A)
    $sections = foreach ($i in 0..([BitConverter]::ToUInt16($bytes, 0x3C) - 1)) {
        $h = $headerOffset + $i * $headerSize
        [pscustomobject]@{
            Type   = [BitConverter]::ToUInt32($bytes, $h + 4)
            Offset = [BitConverter]::ToInt64($bytes, $h + 24)
            Size   = [BitConverter]::ToInt64($bytes, $h + 32)
            Link   = [BitConverter]::ToUInt32($bytes, $h + 40)
        }
    }
    [pscustomobject]@{ Bytes = $bytes; Sections = @($sections) }
}

function Get-ElfString($Elf, $StringSection, [long]$Index) {
    $start = $StringSection.Offset + $Index
    $end = [Array]::IndexOf($Elf.Bytes, [byte]0, [int]$start)
    [Text.Encoding]::ASCII.GetString($Elf.Bytes, $start, $end - $start)
}

# Vernaux entries of .gnu.version_r (SHT_GNU_verneed): the symbol versions the file requires.
function Get-ElfVersionNeeds($Elf) {
    $b = $Elf.Bytes
    foreach ($section in $Elf.Sections | Where-Object Type -eq 0x6ffffffe) {
        $strings = $Elf.Sections[$section.Link]
        $need = $section.Offset
        while ($true) {
            $file = Get-ElfString $Elf $strings ([BitConverter]::ToUInt32($b, $need + 4))
            $aux = $need + [BitConverter]::ToUInt32($b, $need + 8)
            foreach ($i in 1..[BitConverter]::ToUInt16($b, $need + 2)) {
                [pscustomobject]@{
                    File        = $file
                    Name        = Get-ElfString $Elf $strings ([BitConverter]::ToUInt32($b, $aux + 8))
                    Flags       = [BitConverter]::ToUInt16($b, $aux + 4)
                    FlagsOffset = $aux + 4
                }
                $aux += [BitConverter]::ToUInt32($b, $aux + 12)
            }
            $next = [BitConverter]::ToUInt32($b, $need + 12)
            if ($next -eq 0) { break }
            $need += $next
        }
    }
}

# Version names defined in .gnu.version_d (SHT_GNU_verdef): the symbol versions a library provides.
function Get-ElfVersionDefinitions($Elf) {
    $b = $Elf.Bytes
    foreach ($section in $Elf.Sections | Where-Object Type -eq 0x6ffffffd) {
        $strings = $Elf.Sections[$section.Link]
        $def = $section.Offset
        while ($true) {
            $aux = $def + [BitConverter]::ToUInt32($b, $def + 12)
            Get-ElfString $Elf $strings ([BitConverter]::ToUInt32($b, $aux))
            $next = [BitConverter]::ToUInt32($b, $def + 16)
            if ($next -eq 0) { break }
            $def += $next
        }
    }
}

# DT_NEEDED entries of the dynamic section.
function Get-ElfNeededLibraries($Elf) {
    $b = $Elf.Bytes
    foreach ($section in $Elf.Sections | Where-Object Type -eq 6) {
        $strings = $Elf.Sections[$section.Link]
        for ($entry = $section.Offset; $entry -lt $section.Offset + $section.Size; $entry += 16) {
            $tag = [BitConverter]::ToInt64($b, $entry)
            if ($tag -eq 0) { break }
            if ($tag -eq 1) { Get-ElfString $Elf $strings ([BitConverter]::ToInt64($b, $entry + 8)) }
        }
    }
}

function Find-SystemLibStdCxx {
    # ldconfig lives in /sbin, which is not on an ordinary user's PATH on Debian.
    $ldconfig = Get-Command ldconfig, /sbin/ldconfig, /usr/sbin/ldconfig -CommandType Application -ErrorAction Ignore |
        Select-Object -First 1
    if (-not $ldconfig) { throw 'ldconfig not found; cannot locate the system libstdc++ (install libc-bin).' }
    $pattern = '^\s*libstdc\+\+\.so\.6 \(.*x86-64.*\) => (.+)$'
    $line = & $ldconfig.Source -p | Where-Object { $_ -match $pattern } | Select-Object -First 1
    if (-not $line -or $line -notmatch $pattern) { throw 'No x86-64 libstdc++.so.6 found by ldconfig -p (install libstdc++6).' }
    $Matches[1].Trim()
}

function Assert-Tool([string]$Name, [string]$Package) {
    if (Get-Command $Name -CommandType Application -ErrorAction Ignore) { return }
    # As root on a Debian-like system the fix installs its own tools, so a fresh machine builds with no manual step.
    if ((Get-Command apt-get -ErrorAction Ignore) -and (& id -u) -eq '0') {
        Write-Host "Installing $Package (needed for the libstdc++ compatibility fix)..."
        & apt-get update -qq | Out-Null
        & apt-get install -y -qq $Package | Out-Null
    }
    if (-not (Get-Command $Name -CommandType Application -ErrorAction Ignore)) {
        throw "$Name is required to make $LibraryName work with this system's libstdc++ (which lacks $MissingVersion). Install it, e.g.: sudo apt-get install $Package"
    }
}

function Invoke-Tool([string]$Name, [string[]]$Arguments) {
    $output = & $Name @Arguments 2>&1
    if ($LASTEXITCODE -ne 0) { throw "$Name $Arguments failed (exit code $LASTEXITCODE): $($output -join [Environment]::NewLine)" }
}

if ($Always -and -not $IsLinux) { throw "The libstdc++ fix for $LibraryName is built with g++ and patchelf: build the Linux package on Linux." }
if (-not $IsLinux) { Write-Verbose "Not Linux: $LibraryName needs no repair."; return }

$library = Join-Path $NativeDirectory $LibraryName
if (-not (Test-Path -LiteralPath $library -PathType Leaf)) { throw "$LibraryName not found in '$NativeDirectory'." }
# .NET file APIs resolve relative paths against the process directory, not the PowerShell location.
$library = (Resolve-Path -LiteralPath $library).ProviderPath
$directory = Split-Path $library
$shim = Join-Path $directory $ShimName

$elf = Read-ElfFile $library
$need = Get-ElfVersionNeeds $elf | Where-Object Name -eq $MissingVersion | Select-Object -First 1
if (-not $need) { Write-Verbose "$library does not require ${MissingVersion}: nothing to do."; return }

$libStdCxx = if ($Always) { "any libstdc++ that lacks $MissingVersion (-Always)" } else { Find-SystemLibStdCxx }
if (-not $Always -and (Get-ElfVersionDefinitions (Read-ElfFile $libStdCxx)) -contains $MissingVersion) {
    Write-Verbose "$libStdCxx provides ${MissingVersion}: nothing to do."; return
}

$alreadyNeedsShim = (Get-ElfNeededLibraries $elf) -contains $ShimName
if (($need.Flags -band $VerFlagWeak) -and $alreadyNeedsShim -and (Test-Path -LiteralPath $shim)) {
    Write-Verbose "$library is already patched: nothing to do."; return
}

$nugetCache = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $HOME .nuget/packages }
if ($library.StartsWith([IO.Path]::GetFullPath($nugetCache).TrimEnd('/') + '/')) {
    throw "Refusing to patch $library inside the NuGet package cache; copy the native files elsewhere first."
}
Assert-Tool 'g++' 'g++'
Assert-Tool 'patchelf' 'patchelf'

Invoke-Tool 'g++' @('-shared', '-fPIC', '-O2', '-o', $shim, (Join-Path $PSScriptRoot 'glibcxx_shim.cpp'))
$done = @("built $ShimName")

# The loader ignores a weak version need that libstdc++ cannot meet (ldd still prints a warning for it).
if (-not ($need.Flags -band $VerFlagWeak)) {
    $stream = [IO.File]::Open($library, 'Open', 'ReadWrite')
    try {
        $stream.Position = $need.FlagsOffset
        $stream.Write([BitConverter]::GetBytes([uint16]($need.Flags -bor $VerFlagWeak)), 0, 2)
    }
    finally { $stream.Dispose() }
    $done += "marked the $MissingVersion need weak"
}

# Unversioned, the symbol binds to whichever loaded library defines it: the shim.
Invoke-Tool 'patchelf' @('--clear-symbol-version', $Symbol, $library)
$done += "unversioned $Symbol"
if (-not $alreadyNeedsShim) {
    Invoke-Tool 'patchelf' @('--add-needed', $ShimName, '--set-rpath', '$ORIGIN', $library)
    $done += 'added the shim as a dependency'
}

Write-Host "Repaired $library for $($Always ? $libStdCxx : "$libStdCxx (lacks $MissingVersion)"): $($done -join ', ')."
