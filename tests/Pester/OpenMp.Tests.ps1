# How libtorch's OpenMP threads wait (src/MlpTools.Core/Platform/OpenMpSettings.cs). libgomp reads its settings once,
# when it loads, from the native environment; OMP_DISPLAY_ENV=verbose makes it print what it read to stderr, so each
# case starts a fresh pwsh, loads libtorch there (New-Mlp) and reads libgomp's own report.
BeforeAll {
    $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    function Get-GompSetting([string]$Before = '', [hashtable]$Environment = @{}, [string[]]$Empty = @()) {
        $names = @('OMP_DISPLAY_ENV', 'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT')
        $saved = @{}
        # Set or removed with the env: drive: [Environment]::SetEnvironmentVariable gets $null from PowerShell as '',
        # and the child would see the variable set (empty).
        function Set-ChildVariable($Name, $Value) { if ($Value) { Set-Item "env:$Name" $Value } else { Remove-Item "env:$Name" -ErrorAction Ignore } }
        foreach ($name in $names) { $saved[$name] = [Environment]::GetEnvironmentVariable($name) }
        try {
            foreach ($name in $names) { Set-ChildVariable $name $Environment[$name] }
            foreach ($name in $Empty) { [Environment]::SetEnvironmentVariable($name, '') }
            $env:OMP_DISPLAY_ENV = 'verbose'
            $output = & $pwsh -NoProfile -NonInteractive -Command "$Before; Import-Module '$env:MLPTOOLS_MODULE'; `$null = New-Mlp; 'loaded'" 2>&1
        }
        finally {
            foreach ($name in $names) { Set-ChildVariable $name $saved[$name] }
        }
        $settings = @{ Loaded = "$output" -match 'loaded' }
        foreach ($line in $output) { if ("$line" -match "^\s*(OMP_WAIT_POLICY|GOMP_SPINCOUNT) = '([^']*)'") { $settings[$Matches[1]] = $Matches[2] } }
        $settings
    }
}

Describe 'OpenMP wait settings' -Skip:(-not $IsLinux) {
    It 'spins 1000 times at a barrier (not libgomp''s 300000) when the user chose nothing' {
        $settings = Get-GompSetting
        $settings.Loaded | Should -BeTrue
        $settings.GOMP_SPINCOUNT | Should -Be '1000'
    }

    It 'treats <_> set to an empty value as not set' -ForEach 'GOMP_SPINCOUNT', 'OMP_WAIT_POLICY' {
        (Get-GompSetting -Empty $_).GOMP_SPINCOUNT | Should -Be '1000'
    }

    It 'keeps a GOMP_SPINCOUNT the process was started with' {
        (Get-GompSetting -Environment @{ GOMP_SPINCOUNT = '123' }).GOMP_SPINCOUNT | Should -Be '123'
    }

    It 'keeps OMP_WAIT_POLICY=passive the process was started with (no spinning at all)' {
        $settings = Get-GompSetting -Environment @{ OMP_WAIT_POLICY = 'passive' }
        $settings.OMP_WAIT_POLICY | Should -Be 'PASSIVE'
        $settings.GOMP_SPINCOUNT | Should -Be '0'
    }

    It 'hands $env:<Name> set in PowerShell before the import on to libtorch' -ForEach @(
        @{ Name = 'GOMP_SPINCOUNT'; Value = '777'; Expected = @{ GOMP_SPINCOUNT = '777' } }
        @{ Name = 'OMP_WAIT_POLICY'; Value = 'passive'; Expected = @{ GOMP_SPINCOUNT = '0' } }
    ) {
        $settings = Get-GompSetting -Before "`$env:$Name = '$Value'"
        foreach ($key in $Expected.Keys) { $settings[$key] | Should -Be $Expected[$key] }
    }
}
