# Loads the cmdlets after hooking up their engine's load context (see EngineLoader.cs for why it must come first).
$cmdletAssembly = [System.Reflection.Assembly]::LoadFrom((Join-Path $PSScriptRoot 'MlpTools.dll'))
[MlpTools.EngineLoader]::Register()
# 'Import-Module -Force' over a loaded MlpTools left it with no cmdlets: the new import reused the assembly's module
# (named after the assembly), which the removal of the old MlpTools then took away. Removing it first avoids that.
Get-Module -All | Where-Object Name -Like 'dynamic_code_module_MlpTools,*' | Remove-Module -Force
Import-Module -Assembly $cmdletAssembly

# [MlpDataset], [MlpModel], [Prediction], ...: the engine's types by their short names (see TypeAccelerators.cs).
# They are process-wide and not removed with the module: another runspace may still use them, and the types they
# name stay loaded anyway (an assembly cannot be unloaded from its load context).
$typeAccelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')
foreach ($accelerator in [MlpTools.TypeAccelerators]::All.GetEnumerator()) {
    $typeAccelerators::Add($accelerator.Key, $accelerator.Value)
}
