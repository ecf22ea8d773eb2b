# Paths that are not regular files, given to every command that reads or writes one: a character device (made
# with mknod: /dev/null's numbers), a FIFO, a symbolic link to that FIFO, a symbolic-link loop and a folder. Each is
# refused with its error id before anything is opened or renamed: nothing blocks, the node is still what it was,
# nothing is left in its folder, and the session goes on. Also: long file names, and exports racing for one path.
BeforeDiscovery {
    $canMknod = $IsLinux -and (id -u) -eq 0
    $kinds = @(
        @{ Kind = 'a character device'; Node = 'device'; ErrorId = 'NotARegularFile'; FileType = 'character special file' }
        @{ Kind = 'a FIFO'; Node = 'fifo'; ErrorId = 'NotARegularFile'; FileType = 'fifo' }
        @{ Kind = 'a symbolic link to a FIFO'; Node = 'link-to-fifo'; ErrorId = 'NotARegularFile'; FileType = 'symbolic link' }
        @{ Kind = 'a symbolic-link loop'; Node = 'loop'; ErrorId = 'SymbolicLinkLoop'; FileType = 'symbolic link' }
        @{ Kind = 'a folder'; Node = 'folder'; ErrorId = 'PathIsFolder'; FileType = 'directory' }
    )
    # Each command, with the odd path as $Path: the commands that write, then those that read.
    $commands = @(
        @{ Command = 'Export-Mlp -Force'; Type = 'ExportMlpCommand'; Script = { Export-Mlp -Model $Model -Path $Path -Force } }
        @{ Command = 'Export-Mlp'; Type = 'ExportMlpCommand'; Script = { Export-Mlp -Model $Model -Path $Path } }
        @{ Command = 'Export-MlpDigitGrid'; Type = 'ExportMlpDigitGridCommand'; Script = { Export-MlpDigitGrid -Dataset $Data -Index 0, 1 -Path $Path } }
        @{ Command = 'Export-MlpTrainingCurve'; Type = 'ExportMlpTrainingCurveCommand'; Script = { $Records | Export-MlpTrainingCurve -Path $Path } }
        @{ Command = 'Export-MlpConfusionMatrix'; Type = 'ExportMlpConfusionMatrixCommand'; Script = { $Accuracy | Export-MlpConfusionMatrix -Path $Path } }
        @{ Command = 'Invoke-MlpTraining -CheckpointPath'; Type = 'InvokeMlpTrainingCommand'; Script = {
                Invoke-MlpTraining -Model $Model -Dataset $Data -Epochs 1 -BatchSize 8 -Seed 1 -CheckpointPath $Path } }
        @{ Command = 'Invoke-MlpSweep -ResultPath'; Type = 'InvokeMlpSweepCommand'; Script = {
                Invoke-MlpSweep -Dataset $Data -ValidationDataset $Data -Parameter @{ LearningRate = 0.01 } -Epochs 1 -ResultPath $Path } }
        @{ Command = 'Export-MlpSweepChart'; Type = 'ExportMlpSweepChartCommand'; Script = {
                [pscustomobject]@{ Trial = 1; ValidationAccuracy = 0.5; LearningRate = 0.01 } | Export-MlpSweepChart -Path $Path } }
        @{ Command = 'Import-Mlp'; Type = 'ImportMlpCommand'; Script = { Import-Mlp -LiteralPath $Path } }
        @{ Command = 'Get-MnistDataset -ImagesPath'; Type = 'GetMnistDatasetCommand'; Script = { Get-MnistDataset -ImagesPath $Path -LabelsPath $Labels } }
        @{ Command = 'Invoke-MlpTraining -Resume'; Type = 'InvokeMlpTrainingCommand'; Script = { Invoke-MlpTraining -Dataset $Data -CheckpointPath $Path -Resume } }
        @{ Command = 'Invoke-MlpPrediction -LiteralPath'; Type = 'InvokeMlpPredictionCommand'; Script = { Invoke-MlpPrediction -Model $Model -LiteralPath $Path } }
        # A folder is a dataset of images to Import-MlpDataset, so only the other kinds apply to it.
        @{ Command = 'Import-MlpDataset'; Type = 'ImportMlpDatasetCommand'; Script = { Import-MlpDataset -LiteralPath $Path -LabelColumn L }; NotForFolders = $true }
    )
    $cases = foreach ($kind in $kinds) { foreach ($command in $commands) { if (-not ($command.NotForFolders -and $kind.Node -eq 'folder')) { $kind + $command } } }
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')

    $dataFolder = Join-Path $TestDrive 'data'
    $data = New-SeparableDataset -Folder $dataFolder -Count 32 -Seed 1
    $labels = Join-Path $dataFolder 'train-labels-idx1-ubyte'
    $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 1
    $records = Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 2) -Dataset $data -Epochs 2 -BatchSize 8 -Seed 1
    $accuracy = Test-MlpAccuracy -Model $model -Dataset $data

    # One worker runspace runs every case, with a time limit, so that a command that blocks fails its test instead of
    # hanging the run; it stays the same runspace throughout, so the last test shows the session is still usable.
    $worker = [powershell]::Create()
    $null = $worker.AddScript({ param($Module) Import-Module $Module }).AddArgument($env:MLPTOOLS_MODULE)
    $worker.Invoke()
    function Invoke-Bounded([scriptblock]$Script, [string]$Path, [int]$Seconds = 60) {
        $worker.Commands.Clear()
        $worker.Streams.ClearStreams()
        $null = $worker.AddScript("param(`$Path, `$Model, `$Data, `$Records, `$Accuracy, `$Labels) $Script").
            AddArgument($Path).AddArgument($model).AddArgument($data).AddArgument($records).AddArgument($accuracy).AddArgument($labels)
        $pending = $worker.BeginInvoke()
        $finished = $pending.AsyncWaitHandle.WaitOne([TimeSpan]::FromSeconds($Seconds))
        if (-not $finished) {
            # Release a reader blocked in open() on a FIFO, so that the run can go on to report the failure.
            $unblock = [System.IO.File]::Open($Path, 'Open', 'ReadWrite')
            $unblock.Dispose()
            $worker.Stop()
        }
        $output = $worker.EndInvoke($pending)
        [pscustomobject]@{ Finished = $finished; Output = $output; Errors = @($worker.Streams.Error) }
    }
    function Get-Listing([string]$Folder) { (Get-ChildItem -LiteralPath $Folder -Force | Sort-Object Name | ForEach-Object { $_.Name }) -join '|' }
    function Get-FileType([string]$Path) { stat -c '%F' $Path }
}

AfterAll {
    if ($worker) { $worker.Dispose() }
}

Describe 'Paths that are not regular files' -Skip:(-not $canMknod) {
    BeforeAll {
        $nodes = Join-Path $TestDrive 'nodes'
        New-Item -ItemType Directory $nodes | Out-Null
        mknod (Join-Path $nodes 'device') c 1 3
        mkfifo (Join-Path $nodes 'fifo')
        New-Item -ItemType SymbolicLink -Path (Join-Path $nodes 'link-to-fifo') -Target (Join-Path $nodes 'fifo') | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $nodes 'loop') -Target (Join-Path $nodes 'loop-back') | Out-Null
        New-Item -ItemType SymbolicLink -Path (Join-Path $nodes 'loop-back') -Target (Join-Path $nodes 'loop') | Out-Null
        New-Item -ItemType Directory (Join-Path $nodes 'folder') | Out-Null
        $listing = Get-Listing $nodes
    }

    It '<Command> on <Kind>: <ErrorId> (InvalidArgument), without blocking, the node unchanged and nothing left' -ForEach $cases {
        $path = Join-Path $nodes $Node
        $run = Invoke-Bounded $Script $path
        $run.Finished | Should -BeTrue -Because 'the command must not block on the path'
        $run.Errors.Count | Should -Be 1 -Because ($run.Errors | Out-String)
        $run.Errors[0].FullyQualifiedErrorId | Should -BeExactly "$ErrorId,MlpTools.Commands.$Type"
        $run.Errors[0].CategoryInfo.Category | Should -Be 'InvalidArgument'
        $run.Errors[0].TargetObject | Should -BeExactly $path
        Get-FileType $path | Should -BeExactly $FileType
        Get-Listing $nodes | Should -BeExactly $listing
        @(Get-ChildItem -LiteralPath (Join-Path $nodes 'folder') -Force).Count | Should -Be 0
    }

    It 'a FIFO named as an MNIST file in a -Path folder is refused too, not waited on' {
        $folder = Join-Path $TestDrive 'fifo-data'
        New-Item -ItemType Directory $folder | Out-Null
        Copy-Item $labels $folder
        mkfifo (Join-Path $folder 'train-images-idx3-ubyte')
        $run = Invoke-Bounded { Get-MnistDataset -Path $Path -Split Train } $folder
        $run.Finished | Should -BeTrue
        $run.Errors.FullyQualifiedErrorId | Should -BeExactly 'NotARegularFile,MlpTools.Commands.GetMnistDatasetCommand'
    }

    It 'a symbolic link to a regular file is followed: read, and replaced by the export' {
        $real = Join-Path $TestDrive 'real.mlp'
        Export-Mlp -Model $model -Path $real -ErrorAction Stop
        $link = Join-Path $TestDrive 'link.mlp'
        New-Item -ItemType SymbolicLink -Path $link -Target $real | Out-Null
        (Import-Mlp -LiteralPath $link -ErrorAction Stop).Layers | Should -BeExactly '16-8-2'
        { Export-Mlp -Model $model -Path $link -ErrorAction Stop } | Should -Throw -ErrorId 'ModelFileExists,MlpTools.Commands.ExportMlpCommand'
    }

    It 'the worker session is still usable afterwards: it trains, exports and reads back' {
        $path = Join-Path $TestDrive 'after.mlp'
        $run = Invoke-Bounded { Invoke-MlpTraining -Model $Model -Dataset $Data -Epochs 1 -BatchSize 8 -Seed 1 | Out-Null; Export-Mlp -Model $Model -Path $Path; (Import-Mlp -Path $Path).EpochsTrained } $path
        $run.Errors | Should -BeNullOrEmpty
        $run.Output | Should -Be 1
    }
}

Describe 'Long file names' {
    BeforeAll {
        $long = Join-Path $TestDrive 'long'
        New-Item -ItemType Directory $long | Out-Null
        # 230 characters: a valid name (the limit is 255 bytes) whose temporary name must stay under the limit too.
        $stem = 'm' * 226
    }

    It 'Export-Mlp writes a <Length>-character name, and replaces it with -Force' -ForEach @(@{ Length = 230 }, @{ Length = 255 }) {
        $path = Join-Path $long ('x' * ($Length - 4) + '.mlp')
        Export-Mlp -Model $model -Path $path -ErrorAction Stop
        Export-Mlp -Model $model -Path $path -Force -ErrorAction Stop
        (Import-Mlp -LiteralPath $path -ErrorAction Stop).Layers | Should -BeExactly '16-8-2'
        @(Get-ChildItem -LiteralPath $long -Force -Filter '*.tmp').Count | Should -Be 0
    }

    It 'a PNG export and a checkpoint write a 230-character name' {
        Export-MlpDigitGrid -Dataset $data -Index 0, 1 -Path (Join-Path $long "$stem.png") -ErrorAction Stop
        (Get-PngInfo (Join-Path $long "$stem.png")).IsPng | Should -BeTrue
        $checkpoint = Join-Path $long "$stem.ckp"
        Invoke-MlpTraining -Model (New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed 3) -Dataset $data -Epochs 2 -BatchSize 8 -Seed 1 -CheckpointPath $checkpoint -ErrorAction Stop | Out-Null
        (Import-Mlp -LiteralPath $checkpoint -ErrorAction Stop).EpochsTrained | Should -Be 2
        (Get-ChildItem -LiteralPath $long -Force).Name | Should -Not -BeLike '*.tmp'
    }
}

Describe 'Exports racing for one new path' {
    It 'six runspaces, six models, no -Force: exactly one writes the file, the others get ModelFileExists' {
        $target = Join-Path $TestDrive 'race/model.mlp'
        New-Item -ItemType Directory (Split-Path $target) | Out-Null
        $models = 1..6 | ForEach-Object { New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed $_ -Name "racer$_" }
        $results = $models | ForEach-Object -ThrottleLimit 6 -Parallel {
            Import-Module $env:MLPTOOLS_MODULE
            try { Export-Mlp -Model $_ -Path $using:target -ErrorAction Stop; "wrote $($_.Name)" } catch { $_.FullyQualifiedErrorId }
        }
        $wrote = @($results | Where-Object { $_ -like 'wrote *' })
        $wrote.Count | Should -Be 1
        @($results | Where-Object { $_ -eq 'ModelFileExists,MlpTools.Commands.ExportMlpCommand' }).Count | Should -Be 5
        # The file is the winner's model, whole.
        (Import-Mlp -LiteralPath $target -ErrorAction Stop).Name | Should -BeExactly ($wrote[0] -replace '^wrote ')
        (Get-ChildItem -LiteralPath (Split-Path $target) -Force).Name | Should -BeExactly 'model.mlp'
    }
}
