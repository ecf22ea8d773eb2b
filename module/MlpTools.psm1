# Loads the cmdlets after hooking up their engine's load context (see EngineLoader.cs for why it must come first).
$cmdletAssembly = [System.Reflection.Assembly]::LoadFrom((Join-Path $PSScriptRoot 'MlpTools.dll'))
[MlpTools.EngineLoader]::Register()
# 'Import-Module -Force' over a loaded MlpTools left it with no cmdlets: the new import reused the assembly's module
# (named after the assembly), which the removal of the old MlpTools then took away. Removing it first avoids that.
Get-Module -All | Where-Object Name -Like 'dynamic_code_module_MlpTools,*' | Remove-Module -Force
Import-Module -Assembly $cmdletAssembly
