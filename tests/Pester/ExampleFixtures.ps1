# The files and objects the help's examples name as the reader's own (flowers.csv, houses.csv, digits.mlp, leaves/,
# $priceModel, ...), made small, once per run, for tests/Pester/Examples.Tests.ps1. Dot-source it after TestHelpers.ps1,
# with the module imported.

function New-IrisRows {
    <#
    .SYNOPSIS
        150 iris-like rows, 50 of each species in turn: the four measurements of the real iris data around each species'
        mean (seeded), so the three species separate as they do there.
    #>
    param([int]$PerSpecies = 50, [int]$Seed = 1)
    $random = [System.Random]::new($Seed)
    $species = [ordered]@{
        setosa     = 5.0, 3.4, 1.5, 0.2
        versicolor = 5.9, 2.8, 4.3, 1.3
        virginica  = 6.6, 3.0, 5.6, 2.0
    }
    $spread = 0.35, 0.3, 0.3, 0.15
    foreach ($name in $species.Keys) {
        foreach ($i in 1..$PerSpecies) {
            $values = foreach ($j in 0..3) { [math]::Round([math]::Max(0.1, $species[$name][$j] + $spread[$j] * (2 * $random.NextDouble() - 1)), 1) }
            [pscustomobject]@{ SepalLength = $values[0]; SepalWidth = $values[1]; PetalLength = $values[2]; PetalWidth = $values[3]; Species = $name }
        }
    }
}

function New-HouseRows {
    <# .SYNOPSIS Houses as the README makes them: Size, Rooms, District (Centre, North, South) and a Price that follows them. #>
    param([int]$Count = 300, [int]$Seed = 1)
    $random = [System.Random]::new($Seed)
    $districts = 'North', 'South', 'Centre'
    $premium = @{ North = 0; South = -20000; Centre = 60000 }
    foreach ($i in 1..$Count) {
        $size = $random.Next(30, 220)
        $rooms = [math]::Max(1, [math]::Round($size / 30 + 2 * $random.NextDouble() - 1))
        $district = $districts[$random.Next(3)]
        $price = 1500 * $size + 8000 * $rooms + $premium[$district] + $random.Next(-15000, 15000)
        [pscustomobject]@{ Size = $size; Rooms = $rooms; District = $district; Price = [math]::Round($price / 100) * 100 }
    }
}

function Write-JpegImage([string]$Path, [byte[]]$Pixels, [int]$Side) {
    # SkiaSharp (loaded by MlpTools in its own load context, so reached by reflection) re-encodes a grey PNG as JPEG.
    $png = "$Path.png"
    [MlpDataset].Assembly.GetType('MlpTools.Core.Data.Images.ImageFiles')::WritePng($png, $Pixels, $Side, $Side)
    $skia = [System.AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SkiaSharp' } | Select-Object -First 1
    $bitmap = $skia.GetType('SkiaSharp.SKBitmap')::Decode([string]$png)
    try {
        $image = $skia.GetType('SkiaSharp.SKImage')::FromBitmap($bitmap)
        try {
            $data = $image.Encode([Enum]::Parse($skia.GetType('SkiaSharp.SKEncodedImageFormat'), 'Jpeg'), 90)
            try { [IO.File]::WriteAllBytes($Path, $data.ToArray()) } finally { $data.Dispose() }
        } finally { $image.Dispose() }
    } finally { $bitmap.Dispose(); Remove-Item -LiteralPath $png }
}

function New-LeafPixels([int]$Side, [bool]$Oak, [int]$Offset) {
    # A 'leaf': a dark vein on a light ground, vertical for oak and horizontal for maple, at a position set by -Offset.
    $pixels = [byte[]]::new($Side * $Side)
    [Array]::Fill($pixels, [byte]230)
    foreach ($i in 0..($Side - 1)) {
        foreach ($width in 0..2) {
            $at = if ($Oak) { $i * $Side + $Offset + $width } else { ($Offset + $width) * $Side + $i }
            $pixels[$at] = 20
        }
    }
    $pixels
}

function New-ExampleFixture {
    <#
    .SYNOPSIS
        Writes every file the examples read into -Folder: tables, image folders, IDX files, model files and a sweep's
        result file. -Train and -Test are the MNIST slice the examples run on, -Model a model trained on it, -DataPath
        the folder of the full MNIST files (the local mirror of Get-MnistDataset -Mirror).
    #>
    param(
        [Parameter(Mandatory)][string]$Folder,
        [Parameter(Mandatory)]$Train,
        [Parameter(Mandatory)]$Test,
        [Parameter(Mandatory)]$Model,
        [Parameter(Mandatory)][string]$DataPath,
        [Parameter(Mandatory)][string]$SlicePath
    )
    $null = New-Item -ItemType Directory -Force $Folder
    $at = { param($relative) $path = Join-Path $Folder $relative; $null = New-Item -ItemType Directory -Force (Split-Path $path); $path }

    # Tables.
    $iris = @(New-IrisRows)
    $iris | Export-Csv (& $at 'flowers.csv')
    $iris | Select-Object -Index 3, 60, 120, 140 | Select-Object SepalLength, SepalWidth, PetalLength, PetalWidth | Export-Csv (& $at 'new-flowers.csv')
    $houses = @(New-HouseRows)
    $houses | Export-Csv (& $at 'houses.csv')
    $houses | Export-Csv (& $at 'houses-semicolon.csv') -Delimiter ';'
    $houses | Select-Object -First 4 | Select-Object Size, Rooms, District | Export-Csv (& $at 'houses-for-sale.csv')
    $survey = foreach ($i in 0..39) {
        [pscustomobject]@{ Age = if ($i -eq 5) { '' } else { 20 + $i }; Hours = $i % 7 + 1; Region = if ($i -eq 9) { '' } else { ('east', 'west')[$i % 2] }; Answer = ('no', 'yes')[[int]($i % 7 -gt 3)] }
    }
    $survey | Export-Csv (& $at 'survey.csv')
    $patients = foreach ($i in 0..39) {
        [pscustomobject]@{
            Age = if ($i % 11 -eq 3) { '' } else { 30 + $i }; Weight = 60 + $i % 25; Smoker = if ($i % 13 -eq 4) { '' } else { ('no', 'yes')[$i % 3 -eq 0] }
            BloodPressure = if ($i % 17 -eq 8) { '' } else { 110 + $i % 30 }; Outcome = ('healthy', 'ill')[[int]($i % 3 -eq 0 -and $i -gt 15)]
        }
    }
    $patients | Export-Csv (& $at 'patients.csv')
    $orders = foreach ($i in 0..59) {
        [pscustomobject]@{ ProductCode = (1040, 2210, 3300)[$i % 3]; Year = 2022 + $i % 3; Quantity = 1 + $i % 5; Amount = 20 + 7 * ($i % 9); Returned = ('no', 'yes')[[int]($i % 3 -eq 1 -and $i % 2 -eq 0)] }
    }
    $orders | Export-Csv (& $at 'orders.csv')
    foreach ($quarter in 'q1', 'q2') {
        $rows = foreach ($i in 0..29) { [pscustomobject]@{ Temperature = 15 + $i % 20; Pressure = 990 + $i % 40; Status = ('ok', 'fault')[[int]($i % 20 -gt 15)] } }
        $rows | Export-Csv (& $at "exports/$quarter.csv")
    }
    $customers = foreach ($i in 0..119) {
        [pscustomobject]@{ Tenure = 1 + $i % 48; MonthlyCharge = 20 + $i % 60; Contract = ('monthly', 'yearly')[$i % 2]; Left = ('no', 'yes')[[int]($i % 2 -eq 0 -and $i % 48 -lt 12)] }
    }
    $customers | Export-Csv (& $at 'churn.csv')
    $customers | Select-Object -First 20 | Select-Object Tenure, MonthlyCharge, Contract | Export-Csv (& $at 'customers.csv')

    # Images: MNIST digits as PNG files (white on black, in class folders), digits drawn dark on white, and 'leaves'.
    $images = [MlpDataset].Assembly.GetType('MlpTools.Core.Data.Images.ImageFiles')
    foreach ($part in @{ Name = 'train'; Data = $Train; Count = 300 }, @{ Name = 'test'; Data = $Test; Count = 100 }) {
        foreach ($i in 0..($part.Count - 1)) {
            $images::WritePng((& $at "mnist-png/$($part.Name)/$($part.Data.GetLabel($i))/$i.png"), $part.Data.GetPixels($i), 28, 28)
        }
    }
    $inverted = { param($index) [byte[]]@($Test.GetPixels($index) | ForEach-Object { 255 - $_ }) }
    $images::WritePng((& $at 'my-digit.png'), (& $inverted 0), 28, 28)
    foreach ($i in 1..3) { $images::WritePng((& $at "drawings/drawing-$i.png"), (& $inverted $i), 28, 28) }
    foreach ($i in 0..14) {
        $images::WritePng((& $at "leaves/maple/$i.png"), (New-LeafPixels 40 $false (5 + 2 * $i)), 40, 40)
        Write-JpegImage (& $at "leaves/oak/$i.jpg") (New-LeafPixels 40 $true (5 + 2 * $i)) 40
    }
    Write-JpegImage (& $at 'new-leaf.jpg') (New-LeafPixels 40 $true 12) 40

    # IDX files: scans of another size, folders of MNIST's layout, and the full MNIST files as a local mirror.
    $small = New-SeparableData -Count 40
    Write-IdxDataset -ImagesPath (& $at 'scans/images.idx3.gz') -LabelsPath (& $at 'scans/labels.idx1.gz') -Pixels $small.Pixels -Labels $small.Labels -Height 4 -Width 4 -Gzip
    foreach ($split in 'Train', 'Test') {
        Write-MnistSplit -Folder (& $at 'fashion-mnist/x' | Split-Path) -Split $split -Pixels $small.Pixels -Labels $small.Labels -Height 4 -Width 4 -Gzip
    }
    Write-MnistSplit -Folder (& $at 'datasets/separable/x' | Split-Path) -Split Test -Pixels $small.Pixels -Labels $small.Labels -Height 4 -Width 4
    foreach ($copy in 'datasets/mnist', 'srv/datasets/mnist') {
        $null = New-Item -ItemType Directory -Force (Join-Path $Folder $copy)
        Copy-Item (Join-Path $SlicePath '*') (Join-Path $Folder $copy)
    }
    $mirror = New-Item -ItemType Directory -Force (Join-Path $Folder 'mnist-mirror')
    foreach ($name in 'train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte') {
        $null = New-Item -ItemType SymbolicLink -Path (Join-Path $mirror $name) -Target (Join-Path $DataPath $name)
    }

    # Model files: the MNIST model in each format, a folder of models, a deployed model and a pre-1.6 torch.save pickle.
    Export-Mlp -Model $Model -Path (& $at 'digits.mlp')
    Export-Mlp -Model $Model -Path (& $at 'from-python.pt') -Format PyTorch
    Export-Mlp -Model $Model -Path (& $at 'srv/models/digits.mlp')
    Export-Mlp -Model $Model -Path (& $at 'models/first.mlp')
    $second = New-Mlp -HiddenSize 32 -Name second -Seed 2
    $null = Invoke-MlpTraining -Model $second -Dataset $Train -ValidationDataset $Test -Epochs 1 -Seed 2
    Export-Mlp -Model $second -Path (& $at 'models/second.mlp')
    $second.Dispose()
    # A legacy torch.save file begins with a protocol-2 pickle of its magic number.
    [IO.File]::WriteAllBytes((& $at 'old.pt'), [byte[]](0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E))

    Invoke-MlpPrediction -Model $Model -Dataset $Test -First 25 | Export-Csv (& $at 'predictions.csv')

    # A sweep stopped after its first trial: the header line and one trial of the sweep the variable 'results' runs.
    $sweepTrain, $sweepValidation = Split-MlpDataset $Train -TestFraction 0.1 -Seed 1 -Stratify
    $resultFile = & $at 'sweep.jsonl'
    $null = Invoke-MlpSweep -Dataset $sweepTrain -ValidationDataset $sweepValidation -Parameter @{ Activation = 'ReLU', 'GELU' } -Epochs 1 -Seed 1 -ResultPath $resultFile -ErrorAction Stop
    Set-Content $resultFile (Get-Content $resultFile -TotalCount 2)
}

function Get-ExampleVariableSetup([string]$Fixtures) {
    <#
    .SYNOPSIS
        Code that makes each variable the pages use without making it (name -> code), run before an example that
        names it and does not assign it. The code reads the fixtures from -Fixtures and runs after the preamble, so
        $model, $train and $test are the MNIST ones.
    #>
    $sweep = "-Parameter @{ Activation = 'ReLU', 'GELU' } -Epochs 1 -Seed 1"
    # A model of the price of houses.csv (README: 'Find the price'), and its test part.
    $price = "`$priceData = Import-Csv '$Fixtures/houses.csv' | ConvertTo-MlpDataset -TargetProperty Price
              `$priceTrain, `$priceTest = Split-MlpDataset `$priceData -TestFraction 0.2 -Seed 1
              `$priceModel = New-Mlp -Dataset `$priceTrain -HiddenSize 32 -Seed 1
              `$null = Invoke-MlpTraining -Model `$priceModel -Dataset `$priceTrain -Epochs 20 -BatchSize 32 -Seed 1"
    @{
        priceModel  = $price
        priceTest   = $price
        # The flowers classifier the pages' $model is where they predict new-flowers.csv.
        flowerModel = "`$flowerData = Import-MlpDataset '$Fixtures/flowers.csv' -LabelColumn Species
                       `$flowerModel = New-Mlp -Dataset `$flowerData -HiddenSize 16 -Seed 1
                       `$null = Invoke-MlpTraining -Model `$flowerModel -Dataset `$flowerData -Epochs 20 -BatchSize 16 -Seed 1"
        # A customer-churn classifier whose class names are no and yes.
        churn       = "`$churnData = Import-MlpDataset '$Fixtures/churn.csv' -LabelColumn Left
                       `$churn = New-Mlp -Dataset `$churnData -HiddenSize 8 -Seed 1
                       `$null = Invoke-MlpTraining -Model `$churn -Dataset `$churnData -Epochs 20 -BatchSize 16 -Seed 1"
        data        = "`$data = Import-MlpDataset '$Fixtures/flowers.csv' -LabelColumn Species"
        candidate   = '$candidate = $model'
        predictions = '$predictions = Invoke-MlpPrediction -Model $model -Dataset $test -Index (Get-Random -InputObject (0..($test.Count - 1)) -Count 25 -SetSeed 1)'
        # The sweep pages' datasets and space (Invoke-MlpSweep Example 1 on a smaller space).
        validation  = '$train, $validation = Split-MlpDataset $train -TestFraction 0.1 -Seed 1 -Stratify'
        space       = '$space = @{ Activation = ''ReLU'', ''GELU'' }'
        results     = "`$sweepTrain, `$sweepValidation = Split-MlpDataset `$train -TestFraction 0.1 -Seed 1 -Stratify
                       `$results = Invoke-MlpSweep -Dataset `$sweepTrain -ValidationDataset `$sweepValidation $sweep"
    }
}
