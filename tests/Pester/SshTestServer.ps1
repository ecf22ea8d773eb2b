# An SSH server on 127.0.0.1 for the remoting tests: OpenSSH's sshd run with its own config, host key and
# authorized_keys in a temporary folder, and PowerShell's SSH subsystem pointing at this very pwsh, with the given
# folder first on PSModulePath (so the remote end imports the MlpTools under test). Dot-source it, then:
#     $server = Start-SshTestServer -ModuleFolder <folder holding MlpTools/> ; ... ; Stop-SshTestServer $server

function Get-SshTestServerSkipReason {
    # Why the remoting tests cannot run here, or $null. CI installs openssh-server (.ci/run), so there it must run.
    if (-not $IsLinux) { return 'the SSH test server is set up for Linux only' }
    if (-not (Test-Path /usr/sbin/sshd)) { return 'sshd is not installed (apt-get install openssh-server; .ci/run does it)' }
    if (-not (Get-Command ssh-keygen -ErrorAction SilentlyContinue)) { return 'ssh-keygen is not installed' }
    $null
}

function Start-SshTestServer {
    param([Parameter(Mandatory)][string]$ModuleFolder)
    $folder = Join-Path ([System.IO.Path]::GetTempPath()) ("mlptools-sshd-" + [guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $folder | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $folder 'host_key') | Out-Null
    & ssh-keygen -q -t ed25519 -N '' -f (Join-Path $folder 'client_key') | Out-Null
    Copy-Item (Join-Path $folder 'client_key.pub') (Join-Path $folder 'authorized_keys')
    # The subsystem: this pwsh (dotnet running pwsh.dll from $PSHOME), serving PowerShell remoting over stdin/stdout.
    # This process may be dotnet itself ('dotnet pwsh', 'dotnet pwsh.dll') or pwsh's own launcher (build.ps1's child).
    $dotnet = if ((Split-Path -Leaf ([Environment]::ProcessPath)) -like 'dotnet*') { [Environment]::ProcessPath } else { (Get-Command dotnet -CommandType Application)[0].Source }
    $subsystem = Join-Path $folder 'pwsh-sshs'
    Set-Content -LiteralPath $subsystem -Value @(
        '#!/bin/sh'
        "export PSModulePath='$ModuleFolder'"
        "exec '$dotnet' '$(Join-Path $PSHOME 'pwsh.dll')' -sshs -NoLogo -NoProfile 2>>'$(Join-Path $folder 'subsystem.log')'"
    )
    & chmod 700 $subsystem
    # A free port: the system picks one for a listener that is closed at once.
    $listener = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $listener.Start(); $port = $listener.LocalEndpoint.Port; $listener.Stop()
    $config = Join-Path $folder 'sshd_config'
    Set-Content -LiteralPath $config -Value @(
        "ListenAddress 127.0.0.1"
        "Port $port"
        "HostKey $(Join-Path $folder 'host_key')"
        "AuthorizedKeysFile $(Join-Path $folder 'authorized_keys')"
        "PidFile $(Join-Path $folder 'sshd.pid')"
        'PasswordAuthentication no'
        'KbdInteractiveAuthentication no'
        'PubkeyAuthentication yes'
        'PermitRootLogin prohibit-password'
        'UsePAM no'
        'StrictModes no'
        "Subsystem powershell $subsystem"
    )
    # Run as root, sshd wants its privilege separation folder.
    if ((& id -u) -eq '0' -and -not (Test-Path /run/sshd)) { New-Item -ItemType Directory -Path /run/sshd | Out-Null }
    $process = Start-Process -FilePath /usr/sbin/sshd -ArgumentList '-D', '-e', '-f', $config -PassThru `
        -RedirectStandardError (Join-Path $folder 'sshd.log') -RedirectStandardOutput (Join-Path $folder 'sshd.out')
    $deadline = [datetime]::UtcNow.AddSeconds(20)
    while ([datetime]::UtcNow -lt $deadline) {
        $client = [System.Net.Sockets.TcpClient]::new()
        try { $client.Connect('127.0.0.1', $port); break } catch { Start-Sleep -Milliseconds 100 } finally { $client.Dispose() }
    }
    if ($process.HasExited) { throw "sshd did not start: $(Get-Content (Join-Path $folder 'sshd.log') -Raw)" }
    [pscustomobject]@{ Process = $process; Folder = $folder; Port = $port; KeyFile = (Join-Path $folder 'client_key'); UserName = (& id -un) }
}

function New-SshTestSession {
    param([Parameter(Mandatory)]$Server)
    # A loaded machine can drop the first connection while the remote pwsh starts: a second try, then the server's own
    # log in the error, so that a failure says why.
    foreach ($attempt in 1, 2) {
        try {
            return New-PSSession -HostName 127.0.0.1 -Port $Server.Port -UserName $Server.UserName -KeyFilePath $Server.KeyFile `
                -Options @{ StrictHostKeyChecking = 'no'; UserKnownHostsFile = '/dev/null'; LogLevel = 'ERROR' } -ErrorAction Stop
        } catch {
            if ($attempt -eq 2) {
                $log = foreach ($name in 'sshd.log', 'subsystem.log') {
                    "--- $name"; Get-Content -LiteralPath (Join-Path $Server.Folder $name) -Tail 20 -ErrorAction SilentlyContinue
                }
                # Without the logs' colour escapes, which the test report's XML cannot hold.
                throw ("No SSH session to 127.0.0.1:$($Server.Port) ($($_.Exception.Message)):`n$($log -join "`n")" -replace '\e\[[0-9;]*m|[\x00-\x08\x0B\x0C\x0E-\x1F]', '')
            }
            Start-Sleep -Seconds 2
        }
    }
}

function Stop-SshTestServer {
    param($Server)
    if (-not $Server) { return }
    # The server and the session processes it started (their parent is the server or one of its children).
    if (-not $Server.Process.HasExited) { Stop-Process -Id $Server.Process.Id -Force -ErrorAction SilentlyContinue }
    $Server.Process.WaitForExit(10000) | Out-Null
    Remove-Item -LiteralPath $Server.Folder -Recurse -Force -ErrorAction SilentlyContinue
}
