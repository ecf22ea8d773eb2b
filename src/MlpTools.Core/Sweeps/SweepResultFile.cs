using MlpTools.Core.Platform;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace MlpTools.Core.Sweeps;

/// <summary>What a result file's first line says of the sweep that wrote it.</summary>
public sealed record SweepHeader(string Fingerprint, long Seed, string ModuleVersion, DateTime CreatedUtc);

/// <summary>
/// A sweep's results as JSON lines: a header line with the sweep's fingerprint, then one line per finished trial,
/// appended and flushed to the disk as the trial ends. A process killed mid-write leaves at most a torn last line,
/// which the next run cuts off (it holds no finished trial); a file from another sweep is refused unchanged.
/// One writer at a time: the cmdlet appends from its pipeline thread only.
/// </summary>
public sealed class SweepResultFile : IDisposable
{
    private const string Format = "MlpTools.Sweep";
    private const int FormatVersion = 1;
    private readonly FileStream _stream;

    private SweepResultFile(string path, FileStream stream, IReadOnlyList<SweepTrialResult> finished)
    {
        Path = path;
        _stream = stream;
        Finished = finished;
    }

    private const string ResultFileHint = "Give -ResultPath the path of a file, e.g. 'sweep.jsonl' inside it.";

    public string Path { get; }
    /// <summary>The trials the file already held when it was opened.</summary>
    public IReadOnlyList<SweepTrialResult> Finished { get; }

    /// <summary>The header of an existing, non-empty result file; null when there is none.</summary>
    public static SweepHeader? ReadHeader(string path)
    {
        if (!RegularFile.Exists(path, ResultFileHint))
        {
            return null;
        }
        string? first;
        using (var reader = new StreamReader(path, Encoding.UTF8))
        {
            first = reader.ReadLine();
        }
        return string.IsNullOrWhiteSpace(first) ? null : ParseHeader(path, first);
    }

    /// <summary>
    /// Opens <paramref name="path"/> for this sweep: a new or empty file gets the header; an existing one is continued
    /// when <paramref name="resume"/> is set and its fingerprint is this sweep's, after cutting off a torn last line.
    /// Nothing in the file is changed when it is refused.
    /// </summary>
    public static SweepResultFile Open(string path, SweepHeader header, bool resume)
    {
        var finished = new List<SweepTrialResult>();
        long keep = 0;
        bool hasHeader = false;
        // Only a regular file: a FIFO would block the read, a device would take the results and keep none.
        if (RegularFile.Exists(path, ResultFileHint) && new FileInfo(path).Length > 0)
        {
            if (!resume)
            {
                throw new MlpToolsException(ErrorIds.SweepResultFileExists,
                    $"'{path}' already holds sweep results. Add -Resume to continue that sweep, or give -ResultPath a new file.", path);
            }
            (keep, hasHeader) = ReadExisting(path, header, finished);
        }
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new MlpToolsException(ErrorIds.SweepResultFileWriteFailed,
                $"Cannot write the sweep results to '{path}': {e.Message} Give -ResultPath a file you can write.", path, e);
        }
        // Cut a torn last line (a kill mid-write): it is no finished trial, and the next line must start on its own.
        stream.SetLength(keep);
        stream.Seek(0, SeekOrigin.End);
        var file = new SweepResultFile(path, stream, finished);
        if (!hasHeader)
        {
            file.AppendLine(SweepValues.ToJson(json =>
            {
                json.WriteStartObject();
                json.WriteString("format", Format);
                json.WriteNumber("version", FormatVersion);
                json.WriteString("fingerprint", header.Fingerprint);
                json.WriteNumber("seed", header.Seed);
                json.WriteString("module", header.ModuleVersion);
                json.WriteString("createdUtc", header.CreatedUtc.ToString("O", CultureInfo.InvariantCulture));
                json.WriteEndObject();
            }));
        }
        return file;
    }

    /// <summary>Appends a finished trial and flushes it to the disk before returning.</summary>
    public void Append(SweepTrialResult result) => AppendLine(ToJson(result));

    public void Dispose() => _stream.Dispose();

    private void AppendLine(byte[] json)
    {
        // One write of the line and its end, so a kill leaves either a whole line or a torn one, never a whole line without its end.
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        _stream.Write(line);
        _stream.Flush(flushToDisk: true);
    }

    /// <summary>Reads the trials of an existing file; returns how many bytes to keep (all but a torn last line).</summary>
    private static (long Keep, bool HasHeader) ReadExisting(string path, SweepHeader header, List<SweepTrialResult> finished)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int end = Array.LastIndexOf(bytes, (byte)'\n') + 1;
        string text = Encoding.UTF8.GetString(bytes, 0, end);
        string[] lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0)
        {
            // Only a torn header: nothing finished yet, start over.
            return (0, false);
        }
        var found = ParseHeader(path, lines[0]);
        if (found.Fingerprint != header.Fingerprint)
        {
            throw new MlpToolsException(ErrorIds.SweepResultFileMismatch,
                $"'{path}' holds the results of another sweep (another space, seed, epochs or data; fingerprint {found.Fingerprint[..12]}…, this sweep's {header.Fingerprint[..12]}…). " +
                "Give -ResultPath a new file, or run the sweep that wrote it.", path);
        }
        for (int i = 1; i < lines.Length; i++)
        {
            try
            {
                finished.Add(FromJson(lines[i]) with { FromResultFile = true });
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                throw Damaged(path, $"line {i + 1} is not a trial result ({e.Message})", e);
            }
        }
        return (end, true);
    }

    private static SweepHeader ParseHeader(string path, string line)
    {
        try
        {
            using var document = JsonDocument.Parse(line);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("format", out var format) || format.GetString() != Format)
            {
                throw Damaged(path, "its first line is not a sweep header", null);
            }
            if (root.GetProperty("version").GetInt32() > FormatVersion)
            {
                throw Damaged(path, $"it was written by a newer MlpTools (format {root.GetProperty("version").GetInt32()})", null);
            }
            return new SweepHeader(root.GetProperty("fingerprint").GetString()!, root.GetProperty("seed").GetInt64(),
                root.GetProperty("module").GetString()!, DateTime.Parse(root.GetProperty("createdUtc").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw Damaged(path, "its first line is not a sweep header", e);
        }
    }

    private static MlpToolsException Damaged(string path, string why, Exception? inner) => new(ErrorIds.SweepResultFileDamaged,
        $"'{path}' is not a sweep result file MlpTools can continue: {why}. Give -ResultPath a new file; the old one is left as it is.", path, inner);

    internal static byte[] ToJson(SweepTrialResult result) => SweepValues.ToJson(json =>
    {
        json.WriteStartObject();
        json.WriteNumber("trial", result.Trial);
        json.WriteString("key", result.Key);
        json.WritePropertyName("parameters");
        SweepTrial.WriteParameters(json, result.Parameters);
        WriteScore(json, "validationAccuracy", result.ValidationAccuracy);
        WriteScore(json, "validationLoss", result.ValidationLoss);
        WriteScore(json, "validationRmse", result.ValidationRmse);
        json.WriteNumber("epochsRun", result.EpochsRun);
        json.WriteNumber("bestEpoch", result.BestEpoch);
        json.WriteNumber("seconds", result.Seconds);
        json.WriteString("location", result.Location);
        json.WriteNumber("seed", result.Seed);
        json.WriteEndObject();
    });

    internal static SweepTrialResult FromJson(string line)
    {
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var parameters = new SortedDictionary<string, object>(StringComparer.Ordinal);
        foreach (var property in root.GetProperty("parameters").EnumerateObject())
        {
            parameters[property.Name] = SweepValues.Read(property.Value);
        }
        string key = root.GetProperty("key").GetString()!;
        return new SweepTrialResult(root.GetProperty("trial").GetInt32(), key, parameters,
            ReadScore(root, "validationAccuracy"), ReadScore(root, "validationLoss"), ReadScore(root, "validationRmse"),
            root.GetProperty("epochsRun").GetInt32(), root.GetProperty("bestEpoch").GetInt32(), root.GetProperty("seconds").GetDouble(),
            root.GetProperty("location").GetString()!, root.GetProperty("seed").GetInt64());
    }

    // JSON has no NaN (a diverged trial's loss): such scores are written as strings.
    private static void WriteScore(Utf8JsonWriter json, string name, double? value)
    {
        if (value is not double score)
        {
            json.WriteNull(name);
        }
        else if (double.IsFinite(score))
        {
            json.WriteNumber(name, score);
        }
        else
        {
            json.WriteString(name, score.ToString(CultureInfo.InvariantCulture));
        }
    }

    private static double? ReadScore(JsonElement root, string name) => root.GetProperty(name) switch
    {
        { ValueKind: JsonValueKind.Null } => null,
        { ValueKind: JsonValueKind.String } text => double.Parse(text.GetString()!, CultureInfo.InvariantCulture),
        var number => number.GetDouble(),
    };
}
