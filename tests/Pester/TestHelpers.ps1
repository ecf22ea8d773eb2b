# Shared fixtures for the MlpTools Pester tests. Dot-source it in BeforeAll:
#     . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
# It imports nothing itself: each test file imports the module from $env:MLPTOOLS_MODULE first.

function ConvertTo-BigEndianBytes([uint32]$Value) {
    # Parenthesised: the comma operator binds tighter than -band.
    [byte[]]@((($Value -shr 24) -band 0xFF), (($Value -shr 16) -band 0xFF), (($Value -shr 8) -band 0xFF), ($Value -band 0xFF))
}

function ConvertTo-IdxBytes {
    <#
    .SYNOPSIS
        The bytes of an IDX file of unsigned bytes: magic 00 00 08 <dimension count>, big-endian dimensions, data.
    .PARAMETER Magic
        Four bytes to write instead of the correct magic number (to make a damaged file).
    #>
    param(
        [Parameter(Mandatory)][uint32[]]$Dimensions,
        [AllowEmptyCollection()][byte[]]$Data = @(),
        [byte[]]$Magic
    )
    if (-not $Magic) { $Magic = [byte[]]@(0, 0, 8, $Dimensions.Count) }
    $stream = [System.IO.MemoryStream]::new()
    $stream.Write($Magic, 0, $Magic.Length)
    foreach ($dimension in $Dimensions) {
        $stream.Write((ConvertTo-BigEndianBytes $dimension), 0, 4)
    }
    if ($Data.Length) { $stream.Write($Data, 0, $Data.Length) }
    , $stream.ToArray()
}

function Write-GzipFile([string]$Path, [byte[]]$Bytes) {
    $file = [System.IO.File]::Create($Path)
    try {
        $gzip = [System.IO.Compression.GZipStream]::new($file, [System.IO.Compression.CompressionLevel]::Fastest)
        try { $gzip.Write($Bytes, 0, $Bytes.Length) } finally { $gzip.Dispose() }
    } finally { $file.Dispose() }
}

function Copy-ToGzip([string]$Source, [string]$Destination) {
    # Streams, so real MNIST files are not held in PowerShell arrays.
    $in = [System.IO.File]::OpenRead($Source)
    try {
        $out = [System.IO.File]::Create($Destination)
        try {
            $gzip = [System.IO.Compression.GZipStream]::new($out, [System.IO.Compression.CompressionLevel]::Fastest)
            try { $in.CopyTo($gzip) } finally { $gzip.Dispose() }
        } finally { $out.Dispose() }
    } finally { $in.Dispose() }
}

function Write-IdxFile {
    <#
    .SYNOPSIS
        Writes an IDX file, raw or gzip-compressed. -Magic writes a wrong magic number; -TruncateTo cuts the
        (uncompressed) file to that many bytes, so the header can claim more than the file holds.
    #>
    param(
        [Parameter(Mandatory)][string]$Path,
        [Parameter(Mandatory)][uint32[]]$Dimensions,
        [AllowEmptyCollection()][byte[]]$Data = @(),
        [switch]$Gzip,
        [byte[]]$Magic,
        [int]$TruncateTo = -1
    )
    $bytes = ConvertTo-IdxBytes -Dimensions $Dimensions -Data $Data -Magic $Magic
    if ($TruncateTo -ge 0) {
        $cut = [byte[]]::new($TruncateTo)
        [Array]::Copy($bytes, $cut, $TruncateTo)
        $bytes = $cut
    }
    $folder = Split-Path -Parent $Path
    if ($folder -and -not (Test-Path -LiteralPath $folder)) { New-Item -ItemType Directory -Path $folder -Force | Out-Null }
    if ($Gzip) { Write-GzipFile $Path $bytes } else { [System.IO.File]::WriteAllBytes($Path, $bytes) }
    $Path
}

function Write-IdxDataset {
    <#
    .SYNOPSIS
        Writes an images file (count x height x width) and a labels file (count), raw or gzipped.
    #>
    param(
        [Parameter(Mandatory)][string]$ImagesPath,
        [Parameter(Mandatory)][string]$LabelsPath,
        [Parameter(Mandatory)][AllowEmptyCollection()][byte[]]$Pixels,
        [Parameter(Mandatory)][AllowEmptyCollection()][byte[]]$Labels,
        [Parameter(Mandatory)][int]$Height,
        [Parameter(Mandatory)][int]$Width,
        [switch]$Gzip
    )
    if ($Pixels.Length -ne $Labels.Length * $Height * $Width) {
        throw "Write-IdxDataset: $($Pixels.Length) pixels are not $($Labels.Length) images of ${Height}x${Width}."
    }
    Write-IdxFile -Path $ImagesPath -Dimensions $Labels.Length, $Height, $Width -Data $Pixels -Gzip:$Gzip | Out-Null
    Write-IdxFile -Path $LabelsPath -Dimensions $Labels.Length -Data $Labels -Gzip:$Gzip | Out-Null
}

function Get-MnistFileName([ValidateSet('Train', 'Test')][string]$Split) {
    if ($Split -eq 'Train') { @{ Images = 'train-images-idx3-ubyte'; Labels = 'train-labels-idx1-ubyte' } }
    else { @{ Images = 't10k-images-idx3-ubyte'; Labels = 't10k-labels-idx1-ubyte' } }
}

function Write-MnistSplit {
    <#
    .SYNOPSIS
        Writes one split under MNIST's file names into a folder (with .gz appended when -Gzip).
    #>
    param(
        [Parameter(Mandatory)][string]$Folder,
        [Parameter(Mandatory)][ValidateSet('Train', 'Test')][string]$Split,
        [Parameter(Mandatory)][AllowEmptyCollection()][byte[]]$Pixels,
        [Parameter(Mandatory)][AllowEmptyCollection()][byte[]]$Labels,
        [Parameter(Mandatory)][int]$Height,
        [Parameter(Mandatory)][int]$Width,
        [switch]$Gzip
    )
    $names = Get-MnistFileName $Split
    $suffix = if ($Gzip) { '.gz' } else { '' }
    Write-IdxDataset -ImagesPath (Join-Path $Folder ($names.Images + $suffix)) -LabelsPath (Join-Path $Folder ($names.Labels + $suffix)) `
        -Pixels $Pixels -Labels $Labels -Height $Height -Width $Width -Gzip:$Gzip
}

function New-SeparableData {
    <#
    .SYNOPSIS
        Pixels and labels of a linearly separable 2-class set of 4x4 images: class 0 has the left half bright,
        class 1 the right half. Brightness varies a little (seeded), labels alternate 0,1,0,1...
    .PARAMETER MislabelIndex
        Images whose label is flipped while their pixels keep their class's pattern (for exact accuracy counts).
    .OUTPUTS
        A hashtable: Pixels, Labels, Pattern (the class each image looks like), Height, Width.
    #>
    param(
        [int]$Count = 32,
        [int]$Seed = 0,
        [int[]]$MislabelIndex = @()
    )
    $height = 4; $width = 4
    $random = [System.Random]::new($Seed)
    $pixels = [byte[]]::new($Count * $height * $width)
    $labels = [byte[]]::new($Count)
    $pattern = [int[]]::new($Count)
    for ($i = 0; $i -lt $Count; $i++) {
        $class = $i % 2
        $pattern[$i] = $class
        $labels[$i] = if ($MislabelIndex -contains $i) { 1 - $class } else { $class }
        for ($row = 0; $row -lt $height; $row++) {
            for ($column = 0; $column -lt $width; $column++) {
                $bright = ($column -lt $width / 2) -eq ($class -eq 0)
                $pixels[($i * $height + $row) * $width + $column] = if ($bright) { $random.Next(200, 256) } else { $random.Next(0, 40) }
            }
        }
    }
    @{ Pixels = $pixels; Labels = $labels; Pattern = $pattern; Height = $height; Width = $width }
}

function New-SeparableDataset {
    <#
    .SYNOPSIS
        Writes a separable set (see New-SeparableData) as IDX files in -Folder and reads it back with Get-MnistDataset.
    #>
    param(
        [Parameter(Mandatory)][string]$Folder,
        [int]$Count = 32,
        [int]$Seed = 0,
        [int[]]$MislabelIndex = @(),
        [string]$Name = 'Separable',
        [ValidateSet('Train', 'Test')][string]$Split = 'Train'
    )
    $data = New-SeparableData -Count $Count -Seed $Seed -MislabelIndex $MislabelIndex
    Write-MnistSplit -Folder $Folder -Split $Split -Pixels $data.Pixels -Labels $data.Labels -Height $data.Height -Width $data.Width
    Get-MnistDataset -Path $Folder -Split $Split -Name $Name -ErrorAction Stop
}

function Get-FreeTcpPort {
    $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
    $probe.Start()
    try { $probe.LocalEndpoint.Port } finally { $probe.Stop() }
}

function Start-TestHttpServer {
    <#
    .SYNOPSIS
        Serves the files of -Root on http://127.0.0.1:<free port>/ from a thread job (404 for anything else),
        logging every requested path. Stop it with Stop-TestHttpServer.
    .OUTPUTS
        A hashtable: Uri, Listener, Job, Requests (a ConcurrentQueue of the requested paths).
    #>
    param([Parameter(Mandatory)][string]$Root)
    $listener = $null
    foreach ($attempt in 1..5) {
        $port = Get-FreeTcpPort
        $candidate = [System.Net.HttpListener]::new()
        $candidate.Prefixes.Add("http://127.0.0.1:$port/")
        try { $candidate.Start(); $listener = $candidate; break } catch { $candidate.Close() }
    }
    if (-not $listener) { throw 'Start-TestHttpServer: no free port for the HTTP listener.' }
    $requests = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
    $job = Start-ThreadJob -Name "MlpTools test HTTP $port" -ArgumentList $listener, $Root, $requests -ScriptBlock {
        param($listener, $root, $requests)
        while ($listener.IsListening) {
            try { $context = $listener.GetContext() } catch { break }
            try {
                $relative = [System.Uri]::UnescapeDataString($context.Request.Url.AbsolutePath.TrimStart('/'))
                $requests.Enqueue('/' + $relative)
                $file = Join-Path $root $relative
                if ($relative -and -not $relative.Contains('..') -and [System.IO.File]::Exists($file)) {
                    $bytes = [System.IO.File]::ReadAllBytes($file)
                    $context.Response.StatusCode = 200
                    $context.Response.ContentType = 'application/octet-stream'
                    $context.Response.ContentLength64 = $bytes.Length
                    $context.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                } else {
                    $context.Response.StatusCode = 404
                }
            } catch {
                # A client that hung up mid-response is not the server's problem.
            } finally {
                try { $context.Response.Close() } catch { }
            }
        }
    }
    @{ Uri = [uri]"http://127.0.0.1:$port/"; Listener = $listener; Job = $job; Requests = $requests }
}

function Stop-TestHttpServer($Server) {
    if (-not $Server) { return }
    try { $Server.Listener.Stop(); $Server.Listener.Close() } catch { }
    if ($Server.Job) {
        $Server.Job | Wait-Job -Timeout 10 | Out-Null
        $Server.Job | Remove-Job -Force -ErrorAction SilentlyContinue
    }
}

function New-TinyModel([long]$Seed = 1, [double]$Dropout = 0, [int[]]$Hidden = @(8)) {
    # An untrained model for the 4x4 separable sets: 16 inputs, 2 outputs, one hidden layer of 8 unless told otherwise.
    New-Mlp -InputSize 16 -HiddenSize $Hidden -OutputSize 2 -Seed $Seed -Dropout $Dropout -ErrorAction Stop
}

function New-TrainedSeparableModel {
    <#
    .SYNOPSIS
        A 16-8-2 model trained on a separable set (New-SeparableDataset) until it classifies every training image right,
        so tests can state exactly what it predicts: the class whose pattern an image shows.
    #>
    param(
        [Parameter(Mandatory)]$Dataset,
        [long]$Seed = 1,
        [int]$Epochs = 10
    )
    $model = New-Mlp -InputSize 16 -HiddenSize 8 -OutputSize 2 -Seed $Seed -Name 'Separable'
    $last = Invoke-MlpTraining -Model $model -Dataset $Dataset -Epochs $Epochs -BatchSize 8 -LearningRate 0.01 -Seed $Seed -ErrorAction Stop |
        Select-Object -Last 1
    if ($last.TrainAccuracy -ne 1) { throw "New-TrainedSeparableModel: training accuracy is $($last.TrainAccuracy), not 1; the fixture is unusable." }
    $model
}

function Get-PngInfo([string]$Path) {
    <#
    .SYNOPSIS
        Whether a file is a PNG (the 8-byte signature, then an IHDR chunk) and the width and height its header gives.
    #>
    $bytes = [System.IO.File]::ReadAllBytes($Path)
    $signature = [byte[]](0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A)
    $isPng = $bytes.Length -gt 24 -and [System.Linq.Enumerable]::SequenceEqual([byte[]]$bytes[0..7], $signature) -and
        [System.Text.Encoding]::ASCII.GetString($bytes, 12, 4) -eq 'IHDR'
    $bigEndian = { param($offset) ([int]$bytes[$offset] -shl 24) -bor ([int]$bytes[$offset + 1] -shl 16) -bor ([int]$bytes[$offset + 2] -shl 8) -bor $bytes[$offset + 3] }
    [pscustomobject]@{
        IsPng  = $isPng
        Width  = if ($isPng) { & $bigEndian 16 } else { 0 }
        Height = if ($isPng) { & $bigEndian 20 } else { 0 }
        Length = $bytes.Length
    }
}

function Read-PngPixels([string]$Path) {
    <#
    .SYNOPSIS
        Decodes a PNG with the SkiaSharp that MlpTools loaded (in its own load context, so reached by reflection).
        Returns the SKBitmap: .Width, .Height, .GetPixel(x, y).Red/.Green/.Blue. Dispose it when done.
    #>
    $skia = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SkiaSharp' } | Select-Object -First 1
    if (-not $skia) { throw 'Read-PngPixels: SkiaSharp is not loaded; draw a picture with MlpTools first.' }
    $skia.GetType('SkiaSharp.SKBitmap')::Decode([string]$Path)
}

function Test-RegionHasColour {
    <#
    .SYNOPSIS
        Whether any pixel in the rectangle [Left, Right) x [Top, Bottom) of a decoded bitmap satisfies -Colour.
    #>
    param($Bitmap, [int]$Left, [int]$Right, [int]$Top, [int]$Bottom, [scriptblock]$Colour)
    for ($y = $Top; $y -lt $Bottom; $y++) {
        for ($x = $Left; $x -lt $Right; $x++) {
            if (& $Colour $Bitmap.GetPixel($x, $y)) { return $true }
        }
    }
    $false
}

function New-FlowerRows {
    <#
    .SYNOPSIS
        Iris-like rows: numeric A and B that separate three species, a string feature Color unrelated to them, a label Species.
        Row i belongs to species i % 3; the values are a fixed function of i, so every run makes the same rows.
    #>
    param([int]$Count = 90)
    $species = 'setosa', 'versicolor', 'virginica'
    $colors = 'blue', 'green', 'red'
    foreach ($i in 0..($Count - 1)) {
        $class = $i % 3
        [pscustomobject]@{
            A       = [math]::Round(2 * $class + ($i * 37 % 100) / 100, 2)
            B       = [math]::Round(-$class + ($i * 53 % 50) / 100, 2)
            Color   = $colors[[math]::Floor($i / 3) % 3]
            Species = $species[$class]
        }
    }
}

function New-CircleRows {
    <#
    .SYNOPSIS
        Two classes of a 2-D table: X and Y uniform in [-2, 2) from a seeded generator, Class 'in' inside the circle
        x² + y² < 1.5 and 'out' outside it; the same rows on every run.
    #>
    param([int]$Count = 200, [int]$Seed = 5)
    $random = [System.Random]::new($Seed)
    foreach ($i in 1..$Count) {
        $x = $random.NextDouble() * 4 - 2; $y = $random.NextDouble() * 4 - 2
        [pscustomobject]@{ X = $x; Y = $y; Class = if ($x * $x + $y * $y -lt 1.5) { 'in' } else { 'out' } }
    }
}

function New-PriceRows {
    <# .SYNOPSIS Regression rows: Price = 3·X1 - 2·X2 + 50 exactly, X1 in [0, 10), X2 in [0, 5), a fixed function of i. #>
    param([int]$Count = 200)
    foreach ($i in 0..($Count - 1)) {
        $x1 = ($i * 7919 % 1000) / 100
        $x2 = ($i * 104729 % 500) / 100
        [pscustomobject]@{ X1 = $x1; X2 = $x2; Price = 3 * $x1 - 2 * $x2 + 50 }
    }
}
