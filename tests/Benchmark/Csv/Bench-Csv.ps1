<#
.SYNOPSIS
    Times the engine's CSV reader on a 1,000,000-row x 20-column numeric file (+ a label column, ~200 MB) and
    TableBuilder.AddRow of 200,000 objects, next to Import-Csv of the same data.
.DESCRIPTION
    Builds the small console program CsvBench (it references MlpTools.Core), which writes the seeded file, reads it with
    CsvTableReader.Read (wall and CPU seconds, MB/s, the process's peak working set) and feeds TableBuilder.AddRow(object[])
    rows of five values (three rounds; the first includes compiling). Import-Csv is timed in this pwsh on the first
    -ImportCsvRows rows of the same file (the generator is seeded, so it is the file's prefix) and extrapolated linearly to
    the whole file: reading every row with it would take minutes. The machine may be shared: compare ratios within one run,
    and read the CPU seconds as what the read itself costs.
    With -ModulePath, the cmdlets are timed too, in a child pwsh that imports the built module: Import-MlpDataset of the
    whole file, and ConvertTo-MlpDataset of -ObjectRows PowerShell objects (five properties) from the pipeline.
.EXAMPLE
    dotnet pwsh tests/Benchmark/Csv/Bench-Csv.ps1 -ModulePath out/MlpTools/MlpTools.psd1
#>
[CmdletBinding()]
param(
    [ValidateRange(1000, 20000000)][int]$Rows = 1000000,
    [ValidateRange(1000, 1000000)][int]$ImportCsvRows = 100000,
    [ValidateRange(1000, 10000000)][int]$ObjectRows = 200000,
    # Keep the generated files and the built program (in the printed folder) instead of deleting them.
    [switch]$Keep,
    # The built module's manifest: also time Import-MlpDataset and ConvertTo-MlpDataset.
    [string]$ModulePath
)
$ErrorActionPreference = 'Stop'

$folder = Join-Path ([IO.Path]::GetTempPath()) "mlptools-csv-bench-$([guid]::NewGuid().ToString('N'))"
$null = New-Item -ItemType Directory -Path $folder
try {
    $program = Join-Path $folder 'bin'
    dotnet build (Join-Path $PSScriptRoot 'CsvBench/CsvBench.csproj') -c Release -o $program -v quiet -nologo | Out-Null
    if ($LASTEXITCODE -ne 0) { throw 'Building CsvBench failed.' }
    $bench = Join-Path $program 'CsvBench.dll'

    $file = Join-Path $folder 'numeric.csv'
    $slice = Join-Path $folder 'slice.csv'
    dotnet $bench write $file $Rows
    dotnet $bench write $slice $ImportCsvRows
    $megabytes = (Get-Item $file).Length / 1e6

    $values = @{}
    foreach ($line in (dotnet $bench $file label $ObjectRows)) {
        if ("$line" -match '^(\w+)=(.+)$') { $values[$Matches[1]] = [double]$Matches[2] }
    }
    if ($LASTEXITCODE -ne 0) { throw "CsvBench failed reading $file." }

    $importSeconds = (Measure-Command { $null = Import-Csv -LiteralPath $slice }).TotalSeconds
    $importWhole = $importSeconds * $Rows / $ImportCsvRows
    'File                       {0:N0} rows x 20 numeric columns + label, {1:N0} MB' -f $Rows, $megabytes
    'CsvTableReader.Read        {0:N2} s wall, {1:N2} s CPU, {2:N1} MB/s (wall)' -f $values.csv_seconds, $values.csv_cpu_seconds, $values.csv_mb_per_second
    'Peak working set           {0:N0} MB (encoded data {1:N0} MB)' -f ($values.peak_memory_bytes / 1MB), ($values.data_bytes / 1MB)
    'Import-Csv                 {0:N2} s for the first {1:N0} rows; {2:N1} s extrapolated to {3:N0} rows ({4:N0}x the reader)' -f
        $importSeconds, $ImportCsvRows, $importWhole, $Rows, ($importWhole / $values.csv_seconds)
    'TableBuilder.AddRow        {0:N0} rows of 5 values: {1:N0} / {2:N0} / {3:N0} rows/s wall (rounds 1-3; 1 includes compiling), {4:N0} rows per CPU second (round 3)' -f
        $ObjectRows, $values.objects_round1_rows_per_second, $values.objects_round2_rows_per_second, $values.objects_round3_rows_per_second,
        $values.objects_round3_rows_per_cpu_second
    if ($ModulePath) {
        $manifest = (Resolve-Path -LiteralPath $ModulePath).Path
        $child = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $cmdlets = & $child -NoProfile -NonInteractive -Command "
            Import-Module '$manifest' -ErrorAction Stop
            `$seconds = (Measure-Command { `$data = Import-MlpDataset -LiteralPath '$file' -LabelColumn label -ErrorAction Stop }).TotalSeconds
            `$rows = foreach (`$i in 1..$ObjectRows) { [pscustomobject]@{ A = `$i * 0.5; B = `$i % 7; C = 'c' + (`$i % 5); D = [math]::Sqrt(`$i); L = 'k' + (`$i % 3) } }
            `$objectSeconds = (Measure-Command { `$objects = `$rows | ConvertTo-MlpDataset -LabelProperty L -ErrorAction Stop }).TotalSeconds
            '{0:R} {1} {2:R} {3}' -f `$seconds, `$data.Count, `$objectSeconds, `$objects.Count"
        if ($LASTEXITCODE -ne 0) { throw 'Timing the cmdlets failed.' }
        $importSeconds, $importedRows, $objectSeconds, $objectCount = "$cmdlets".Trim().Split(' ')
        'Import-MlpDataset          {0:N2} s for {1:N0} rows, {2:N1} MB/s ({3:N0}x faster than Import-Csv, extrapolated)' -f
            [double]$importSeconds, [int]$importedRows, ($megabytes / [double]$importSeconds), ($importWhole / [double]$importSeconds)
        'ConvertTo-MlpDataset       {0:N0} objects from the pipeline in {1:N2} s: {2:N0} objects/s' -f [int]$objectCount, [double]$objectSeconds, ([int]$objectCount / [double]$objectSeconds)
    }
    $load = if (Test-Path /proc/loadavg) { (Get-Content /proc/loadavg).Split(' ')[0] } else { 'n/a' }
    "Cores: $([Environment]::ProcessorCount); load average at the end: $load"
}
finally {
    if ($Keep) { "Files kept in $folder" } else { Remove-Item -LiteralPath $folder -Recurse -Force }
}
