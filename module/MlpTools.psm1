# Loads the cmdlets after hooking up their engine's load context (see EngineLoader.cs for why it must come first).
$cmdletAssembly = [System.Reflection.Assembly]::LoadFrom((Join-Path $PSScriptRoot 'MlpTools.dll'))
[MlpTools.EngineLoader]::Register()
Import-Module -Assembly $cmdletAssembly
