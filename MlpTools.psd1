@{
    RootModule           = 'MlpTools.psm1'
    ModuleVersion        = '0.1.0'
    GUID                 = '5f0c7d3e-8a51-4c57-9a43-2d1f6b0e9c21'
    Author               = 'MlpTools'
    Copyright            = '(c) MlpTools. MIT License.'
    Description          = 'Train, test, apply and save multilayer perceptrons from PowerShell: your own CSV files, objects and images (or MNIST), classification and regression, training with checkpoints, accuracy, prediction, and model files that PyTorch and ONNX Runtime read, on TorchSharp (libtorch).'
    # PowerShell 7.4 and later (the module targets .NET 8).
    PowerShellVersion    = '7.4'
    # Update-Help and Save-Help fetch MlpTools_<GUID>_HelpInfo.xml and the help content (.zip on Linux and macOS, .cab
    # on Windows) from here: the assets that build.ps1 writes to out/updatable-help, attached to each release.
    HelpInfoUri          = 'https://github.com/MlpTools/MlpTools/releases/latest/download/'
    CompatiblePSEditions = @('Core')
    CmdletsToExport      = @(
        'Get-MnistDataset'
        'New-Mlp'
        'Invoke-MlpTraining'
        'Test-MlpAccuracy'
        'Invoke-MlpPrediction'
        'Invoke-MlpActivation'
        'Test-MlpGradient'
        'Export-Mlp'
        'Import-Mlp'
        'Export-MlpDigitGrid'
        'Export-MlpTrainingCurve'
        'Export-MlpConfusionMatrix'
        'Show-MlpDigit'
        'Test-MlpEnvironment'
        'ConvertTo-MlpDataset'
        'Import-MlpDataset'
        'Split-MlpDataset'
        'Invoke-MlpSweep'
        'Export-MlpSweepChart'
    )
    TypesToProcess       = @('MlpTools.Types.ps1xml')
    FormatsToProcess     = @('MlpTools.Format.ps1xml')
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()
    PrivateData          = @{
        PSData = @{
            # Linux x64, Windows x64 and macOS arm64: each has its native package, MlpTools.Native.<rid> (see the README).
            Tags         = @('MachineLearning', 'NeuralNetwork', 'MLP', 'MNIST', 'TorchSharp', 'PSEdition_Core', 'Linux', 'Windows', 'MacOS')
            LicenseUri   = 'https://opensource.org/licenses/MIT'
            ReleaseNotes = '0.1.0: first release. The cmdlets and engine; the native libraries (libtorch, SkiaSharp, ONNX Runtime) come in MlpTools.Native.linux-x64, MlpTools.Native.win-x64 or MlpTools.Native.osx-arm64 of the same version: Install-PSResource MlpTools.Native.<platform> -Version 0.1.0.'
        }
    }
}
