// Prints key=value lines for Bench-Csv.ps1: CSV read time and throughput, peak memory, and AddRow(object[]) rate.
using System.Diagnostics;
using MlpTools.Core.Data.Tabular;

if (args is ["write", string target, string rowText])
{
    WriteCsv(target, int.Parse(rowText));
    return;
}
string path = args.Length > 0 ? args[0] : throw new ArgumentException("usage: CsvBench <file.csv> [label column] [object rows] | CsvBench write <file.csv> <rows>");
string label = args.Length > 1 ? args[1] : "label";
int objectRows = args.Length > 2 ? int.Parse(args[2]) : 200_000;

TimeSpan CpuTime() => Process.GetCurrentProcess().TotalProcessorTime;
var clock = Stopwatch.StartNew();
TimeSpan cpuBefore = CpuTime();
TabularData data = CsvTableReader.Read(path, ',', new TableBuilderOptions { LabelColumn = label }, null, CancellationToken.None);
double seconds = clock.Elapsed.TotalSeconds;
double cpuSeconds = (CpuTime() - cpuBefore).TotalSeconds;
long bytes = new FileInfo(path).Length;
Console.WriteLine($"csv_rows={data.RowCount}");
Console.WriteLine($"csv_features={data.Schema.EncodedWidth}");
Console.WriteLine($"csv_seconds={seconds:F3}");
Console.WriteLine($"csv_mb_per_second={bytes / 1e6 / seconds:F1}");
// On a shared machine the wall time includes waiting for a core; the process's CPU time is what the read itself costs.
Console.WriteLine($"csv_cpu_seconds={cpuSeconds:F3}");
Console.WriteLine($"peak_memory_bytes={Process.GetCurrentProcess().PeakWorkingSet64}");
Console.WriteLine($"data_bytes={(long)data.Features.Length * sizeof(float) + data.LabelIndices!.Length * sizeof(int)}");

// What ConvertTo-MlpDataset hands the builder per pipeline object: five property values, numbers and text mixed.
var rows = new object?[objectRows][];
string[] kinds = { "a", "b", "c" };
for (int i = 0; i < objectRows; i++)
{
    rows[i] = new object?[] { i * 0.5, i % 100, kinds[i % 3], (i % 7).ToString(), i % 2 == 0 ? "yes" : "no" };
}
for (int round = 1; round <= 3; round++)
{
    clock.Restart();
    cpuBefore = CpuTime();
    var builder = new TableBuilder(new[] { "a", "b", "c", "d", "label" }, new TableBuilderOptions { LabelColumn = "label" });
    foreach (object?[] row in rows)
    {
        builder.AddRow(row);
    }
    double addSeconds = clock.Elapsed.TotalSeconds;
    double addCpuSeconds = (CpuTime() - cpuBefore).TotalSeconds;
    builder.Build("objects");
    Console.WriteLine($"objects_round{round}_rows_per_second={objectRows / addSeconds:F0}");
    Console.WriteLine($"objects_round{round}_rows_per_cpu_second={objectRows / addCpuSeconds:F0}");
    Console.WriteLine($"objects_round{round}_with_build_rows_per_second={objectRows / clock.Elapsed.TotalSeconds:F0}");
}

// 20 numeric features like a real measurement table (six decimals, signs, magnitudes from 0.001 to 1000), then a class
// label; seeded, so every run reads the same bytes. ~200 bytes a row.
static void WriteCsv(string path, int rows)
{
    var random = new Random(1);
    using var writer = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
    writer.Write(string.Join(',', Enumerable.Range(1, 20).Select(i => $"f{i}")));
    writer.Write(",label\n");
    Span<char> number = stackalloc char[32];
    for (int row = 0; row < rows; row++)
    {
        for (int column = 0; column < 20; column++)
        {
            double value = (random.NextDouble() * 2 - 1) * Math.Pow(10, column % 7 - 3);
            value.TryFormat(number, out int written, "F6", System.Globalization.CultureInfo.InvariantCulture);
            writer.Write(number[..written]);
            writer.Write(',');
        }
        writer.Write("class");
        writer.Write(row % 10);
        writer.Write('\n');
    }
}
