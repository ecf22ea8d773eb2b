BeforeDiscovery {
    # The full-disk test mounts a small tmpfs, which needs Linux and root (as CI runs); elsewhere it is skipped.
    $canMount = $false
    if ($IsLinux -and (id -u) -eq 0) {
        $probe = Join-Path ([IO.Path]::GetTempPath()) "mlptools-mount-probe-$PID"
        New-Item -ItemType Directory $probe -Force | Out-Null
        mount -t tmpfs -o size=64k tmpfs $probe 2>$null
        if ($LASTEXITCODE -eq 0) { $canMount = $true; umount $probe }
        Remove-Item $probe -Force
    }
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $Cmdlet = 'MlpTools.Commands.ExportMlpCommand'
    $data = New-SeparableDataset -Folder (Join-Path $TestDrive 'data') -Count 32 -Seed 1
    $model = New-TrainedSeparableModel -Dataset $data

    function Get-Answers($Model) {
        Invoke-MlpPrediction -Model $Model -Dataset $data -ErrorAction Stop | ForEach-Object { '{0}:{1:R}' -f $_.Predicted, $_.Confidence }
    }
    function Get-Hash([string]$Path) { (Get-FileHash -LiteralPath $Path -Algorithm SHA256).Hash }
}

Describe 'Export-Mlp' {
    Context 'Round trips' {
        It 'Import-Mlp of a <Format> file predicts exactly what the exported model did' -ForEach @(
            @{ Format = 'MlpTools'; File = 'model.mlp' }
            @{ Format = 'PyTorch'; File = 'model.bin' }
            @{ Format = 'SafeTensors'; File = 'model.weights' }
        ) {
            $path = Join-Path $TestDrive $File
            Export-Mlp -Model $model -Path $path -Format $Format -ErrorAction Stop
            # A torch.save file does not say its activation, so Import-Mlp must be told; the other two formats record it.
            $activation = if ($Format -eq 'PyTorch') { @{ Activation = 'ReLU' } } else { @{} }
            $imported = Import-Mlp -Path $path @activation -ErrorAction Stop
            $imported.History.Origin.Format | Should -BeExactly $Format
            Get-Answers $imported | Should -Be (Get-Answers $model)
        }

        It 'chooses the format by extension when -Format is omitted: <File> is <Format>' -ForEach @(
            @{ File = 'by-ext.pt'; Format = 'PyTorch' }
            @{ File = 'by-ext.pth'; Format = 'PyTorch' }
            @{ File = 'by-ext.safetensors'; Format = 'SafeTensors' }
            @{ File = 'by-ext.mlp'; Format = 'MlpTools' }
            @{ File = 'by-ext.model'; Format = 'MlpTools' }
        ) {
            $path = Join-Path $TestDrive $File
            Export-Mlp -Model $model -Path $path -ErrorAction Stop
            (Import-Mlp -Path $path -Activation ReLU -ErrorAction Stop).History.Origin.Format | Should -BeExactly $Format
        }

        It 'takes the model from the pipeline and a path relative to the current location; -PassThru gives the file' {
            Push-Location $TestDrive
            try {
                $file = $model | Export-Mlp -Path 'relative.mlp' -PassThru -ErrorAction Stop
            } finally { Pop-Location }
            $file | Should -BeOfType [System.IO.FileInfo]
            $file.FullName | Should -BeExactly (Join-Path $TestDrive 'relative.mlp')
            $file.Length | Should -BeGreaterThan 0
        }

        It 'writes nothing to the pipeline without -PassThru' {
            Export-Mlp -Model $model -Path (Join-Path $TestDrive 'quiet.mlp') -ErrorAction Stop | Should -BeNullOrEmpty
        }
    }

    Context 'Existing files, -Force, -WhatIf and -Confirm' {
        BeforeEach {
            $path = Join-Path $TestDrive 'existing.mlp'
            Remove-Item $path -Force -ErrorAction Ignore
            Set-Content -LiteralPath $path -Value 'the previous file' -NoNewline
        }

        It 'refuses to replace an existing file without -Force: ModelFileExists (ResourceExists), file unchanged' {
            $err = { Export-Mlp -Model $model -Path $path -ErrorAction Stop } | Should -Throw -ErrorId "ModelFileExists,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'ResourceExists'
            $err.TargetObject | Should -BeExactly $path
            Get-Content -LiteralPath $path -Raw | Should -BeExactly 'the previous file'
        }

        It 'replaces it with -Force' {
            Export-Mlp -Model $model -Path $path -Force -ErrorAction Stop
            Get-Answers (Import-Mlp -Path $path) | Should -Be (Get-Answers $model)
        }

        It 'replaces a read-only file with -Force' {
            Set-ItemProperty -LiteralPath $path -Name IsReadOnly -Value $true
            Export-Mlp -Model $model -Path $path -Force -ErrorAction Stop
            Get-Answers (Import-Mlp -Path $path) | Should -Be (Get-Answers $model)
        }

        It '-WhatIf says what it would do and writes nothing, for a new file or an existing one' {
            $new = Join-Path $TestDrive 'whatif-new.mlp'
            Export-Mlp -Model $model -Path $new -WhatIf | Should -BeNullOrEmpty
            Test-Path $new | Should -BeFalse
            Export-Mlp -Model $model -Path $path -Force -WhatIf
            Get-Content -LiteralPath $path -Raw | Should -BeExactly 'the previous file'
            @(Get-ChildItem $TestDrive -Filter '*.tmp' -Force).Count | Should -Be 0
        }

        It '-Confirm asks before writing; unanswered (a runspace without a user), nothing is written' {
            $worker = [powershell]::Create()
            try {
                $null = $worker.AddScript({
                        param($Module, $Model, $Path)
                        Import-Module $Module
                        Export-Mlp -Model $Model -Path $Path -Force -Confirm
                    }).AddArgument($env:MLPTOOLS_MODULE).AddArgument($model).AddArgument($path)
                $worker.Invoke() | Out-Null
                $asked = @($worker.Streams.Error)
            } finally { $worker.Dispose() }
            $asked.Count | Should -Be 1
            $asked[0].FullyQualifiedErrorId | Should -BeExactly "HostFunctionNotImplemented,$Cmdlet"
            $asked[0].Exception.Message | Should -Match ([regex]::Escape("Export model 'Separable' (16-8-2) as MlpTools, replacing the existing file"))
            Get-Content -LiteralPath $path -Raw | Should -BeExactly 'the previous file'
        }

        It 'declares ConfirmImpact Medium, so $ConfirmPreference = ''Medium'' asks too' {
            $attribute = [MlpTools.Commands.ExportMlpCommand].GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false)
            $attribute.ConfirmImpact | Should -Be 'Medium'
            $attribute.SupportsShouldProcess | Should -BeTrue
        }
    }

    Context 'Failures' {
        It 'a missing folder: FolderNotFound (ObjectNotFound)' {
            $err = { Export-Mlp -Model $model -Path (Join-Path $TestDrive 'no/such/folder/m.mlp') -ErrorAction Stop } |
                Should -Throw -ErrorId "FolderNotFound,$Cmdlet" -PassThru
            $err.CategoryInfo.Category | Should -Be 'ObjectNotFound'
        }

        It 'a folder as the path: PathIsFolder' {
            { Export-Mlp -Model $model -Path $TestDrive -Force -ErrorAction Stop } | Should -Throw -ErrorId "PathIsFolder,$Cmdlet"
        }

        It 'an unknown -Format is rejected by parameter validation' {
            { Export-Mlp -Model $model -Path (Join-Path $TestDrive 'x') -Format Keras -ErrorAction Stop } |
                Should -Throw -ErrorId "CannotConvertArgumentNoMessage,$Cmdlet"
            { Export-Mlp -Model $model -Path (Join-Path $TestDrive 'x') -Format Auto -ErrorAction Stop } |
                Should -Throw -ErrorId "ParameterArgumentValidationError,$Cmdlet"
        }

        It 'a disposed model: ModelDisposed' {
            $gone = New-Mlp -InputSize 4 -HiddenSize 2 -OutputSize 2
            $gone.Dispose()
            { Export-Mlp -Model $gone -Path (Join-Path $TestDrive 'gone.mlp') -ErrorAction Stop } | Should -Throw -ErrorId "ModelDisposed,$Cmdlet"
            Test-Path (Join-Path $TestDrive 'gone.mlp') | Should -BeFalse
        }
    }

    Context 'A full disk' -Skip:(-not $canMount) {
        BeforeAll {
            # 192 KiB: room for the small model's file, not for the notebook's 784-256-10 (about 800 KiB).
            $disk = Join-Path $TestDrive 'full-disk'
            New-Item -ItemType Directory $disk | Out-Null
            mount -t tmpfs -o size=192k tmpfs $disk
            $path = Join-Path $disk 'model.mlp'
            Export-Mlp -Model $model -Path $path -ErrorAction Stop
            $before = Get-Hash $path
            $large = New-Mlp -Seed 1
            $err = $null
            try { Export-Mlp -Model $large -Path $path -Force -ErrorAction Stop } catch { $err = $_ }
        }
        AfterAll {
            umount $disk
        }

        It 'fails with FileWriteFailed (WriteError) and says the disk is full' {
            $err | Should -Not -BeNullOrEmpty
            $err.FullyQualifiedErrorId | Should -BeExactly "FileWriteFailed,$Cmdlet"
            $err.CategoryInfo.Category | Should -Be 'WriteError'
            $err.Exception.Message | Should -Match 'No space left on device'
            $err.Exception.Message | Should -Match 'The file is unchanged'
        }

        It 'leaves the previous file intact, byte for byte, and still importable' {
            Get-Hash $path | Should -BeExactly $before
            Get-Answers (Import-Mlp -Path $path -ErrorAction Stop) | Should -Be (Get-Answers $model)
        }

        It 'leaves no temporary file behind' {
            @(Get-ChildItem $disk -Force).Name | Should -BeExactly 'model.mlp'
        }
    }
}
