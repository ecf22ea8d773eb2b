# Invoke-MlpSweep over real PowerShell remoting: an sshd on 127.0.0.1 with PowerShell's SSH subsystem (see
# SshTestServer.ps1), two SSH sessions to it. The same results as a local sweep; a session killed mid-sweep has its
# trial run again on the other and the results are complete; sessions that cannot be used are refused clearly.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'SshTestServer.ps1')
    $skipReason = Get-SshTestServerSkipReason
    # Under CI the server must exist (.ci/run installs openssh-server): a skip there would hide a broken setup.
    if ($skipReason -and $env:CI -eq 'true') { throw "The remoting tests cannot run under CI: $skipReason." }
}

BeforeAll {
    Import-Module $env:MLPTOOLS_MODULE -ErrorAction Stop
    . (Join-Path $PSScriptRoot 'SshTestServer.ps1')
    if (Get-SshTestServerSkipReason) { return }
    # The remote end imports the MlpTools under test: its folder's parent is first on the subsystem's PSModulePath.
    $server = Start-SshTestServer -ModuleFolder (Split-Path (Split-Path $env:MLPTOOLS_MODULE))

    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $rows = New-CircleRows -Count 200
    $train = $rows[0..149] | ConvertTo-MlpDataset -LabelProperty Class -Name circle
    $validation = $rows[150..199] | ConvertTo-MlpDataset -LabelProperty Class -Name circle
    $sweep = @{ Dataset = $train; ValidationDataset = $validation; Epochs = 2; Seed = 3; ThreadCount = 1; ErrorAction = 'Stop' }
    function Get-Scores($Results) { @($Results | Sort-Object Key | ForEach-Object { '{0} {1:R} {2:R}' -f $_.Key, $_.ValidationAccuracy, $_.ValidationLoss }) }
}

AfterAll {
    Get-PSSession | Remove-PSSession -ErrorAction SilentlyContinue
    if ($server) { Stop-SshTestServer $server }
}

Describe 'Invoke-MlpSweep -Session' -Skip:([bool]$skipReason) {
    BeforeEach {
        $sessions = @(New-SshTestSession $server; New-SshTestSession $server)
    }

    AfterEach {
        $sessions | Remove-PSSession -ErrorAction SilentlyContinue
    }

    It 'gives exactly the results of a local sweep, spread over both sessions' {
        $space = @{ HiddenSize = @(8), @(16, 8); Activation = 'ReLU', 'GELU'; LearningRate = 0.01, 0.03 }
        $local = @(Invoke-MlpSweep @sweep -Parameter $space)
        $remote = @(Invoke-MlpSweep @sweep -Parameter $space -Session $sessions)
        $remote.Count | Should -Be 8
        Get-Scores $remote | Should -Be (Get-Scores $local)
        @($remote.Location | Sort-Object -Unique) | Should -Be @($sessions | ForEach-Object { "127.0.0.1/$($_.Name)" } | Sort-Object)
    }

    It 'runs the trial of a session killed mid-sweep on the other, and the results are complete' {
        $path = Join-Path $TestDrive 'killed.jsonl'
        # Trials of about a second each (batches of 4), so the kill lands while both sessions are busy.
        $space = @{ LearningRate = 0.01, 0.02, 0.03, 0.04, 0.05, 0.06; BatchSize = 4 }
        $victim = $sessions[0]
        $victimPid = Invoke-Command -Session $victim { $PID }
        # Kills the victim's pwsh as soon as the first trial is in the result file (header + 1 line).
        $killScript = Join-Path $TestDrive 'kill.sh'
        Set-Content $killScript "for i in `$(seq 600); do [ `$(cat '$path' 2>/dev/null | wc -l) -ge 2 ] && break; sleep 0.1; done; kill -9 $victimPid"
        $killer = Start-Process bash -PassThru -ArgumentList $killScript
        $results = @(Invoke-MlpSweep @sweep -Parameter $space -Epochs 10 -Session $sessions -ResultPath $path -WarningVariable warnings)
        $killer.WaitForExit(60000) | Should -BeTrue
        $victim.State | Should -Not -Be 'Opened'
        @($warnings) -join "`n" | Should -Match "Session '127.0.0.1/$($victim.Name)' was lost .*goes to another session"
        $results.Count | Should -Be 6
        @($results.Key | Sort-Object -Unique).Count | Should -Be 6
        (Get-Content $path).Count | Should -Be 7
        # Every trial finished after the kill ran on the other session; the complete set equals a local run.
        $survivor = "127.0.0.1/$($sessions[1].Name)"
        @($results | Where-Object Location -NE $survivor).Count | Should -BeLessThan 6
        Get-Scores $results | Should -Be (Get-Scores (Invoke-MlpSweep @sweep -Parameter $space -Epochs 10))
    }

    It 'refuses a session without the same MlpTools (SweepSessionVersionMismatch) and runs on the others' {
        Invoke-Command -Session $sessions[0] { Remove-Module MlpTools -ErrorAction SilentlyContinue; $env:PSModulePath = '/nonexistent' }
        $results = @(Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.01, 0.03 } -Session $sessions -ErrorAction SilentlyContinue -ErrorVariable failures)
        $results.Count | Should -Be 2
        $results.Location | Should -Be (@("127.0.0.1/$($sessions[1].Name)") * 2)
        $failures.Count | Should -Be 1
        $failures[0].FullyQualifiedErrorId | Should -Be 'SweepSessionVersionMismatch,MlpTools.Commands.InvokeMlpSweepCommand'
        $failures[0].Exception.Message | Should -Match 'has no MlpTools, this one MlpTools 0\.1\.0'
    }

    It 'refuses closed sessions (SweepSessionUnavailable), then stops with SweepNoWorkerLeft, writing nothing' {
        $path = Join-Path $TestDrive 'closed.jsonl'
        $sessions | Remove-PSSession
        $results = @(Invoke-MlpSweep @sweep -Parameter @{ LearningRate = 0.01 } -Session $sessions -ResultPath $path -ErrorAction SilentlyContinue -ErrorVariable failures)
        $results.Count | Should -Be 0
        @($failures.FullyQualifiedErrorId) | Should -Be @(
            'SweepSessionUnavailable,MlpTools.Commands.InvokeMlpSweepCommand'
            'SweepSessionUnavailable,MlpTools.Commands.InvokeMlpSweepCommand'
            'SweepNoWorkerLeft,MlpTools.Commands.InvokeMlpSweepCommand')
        @(Get-Content $path).Count | Should -Be 1
    }
}
