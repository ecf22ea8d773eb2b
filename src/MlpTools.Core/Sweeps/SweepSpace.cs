using MlpTools.Core.Platform;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace MlpTools.Core.Sweeps;

/// <summary>
/// One swept parameter: a list of values to try, or a range [min, max] to draw from (uniformly, or log-uniformly on
/// <see cref="LogScale"/>). Values are plain: string, bool, long, double or int[] (the cmdlet converts enums to their
/// names first), so that a trial's parameters have one canonical JSON form whatever wrote them.
/// </summary>
public sealed class SweepDimension
{
    private SweepDimension(string name, IReadOnlyList<object> values, double min, double max, bool logScale, bool integer)
    {
        Name = name;
        Values = values;
        Min = min;
        Max = max;
        LogScale = logScale;
        Integer = integer;
    }

    public static SweepDimension OfValues(string name, IReadOnlyList<object> values)
    {
        if (values.Count == 0)
        {
            throw new MlpToolsException(ErrorIds.SweepSpaceEmpty,
                $"Parameter '{name}' has no values to try. Give it at least one value, or leave it out of the space.", name);
        }
        foreach (object value in values)
        {
            CheckPlain(name, value);
        }
        return new SweepDimension(name, values, double.NaN, double.NaN, false, false);
    }

    /// <param name="integer">Draws are rounded to whole numbers (a batch size, a patience).</param>
    public static SweepDimension OfRange(string name, double min, double max, bool logScale, bool integer)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max) || min > max)
        {
            throw new MlpToolsException(ErrorIds.SweepRangeInvalid,
                $"The range of '{name}' must be two finite numbers, the smaller first: [min, max]; got [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}].", name);
        }
        if (logScale && min <= 0)
        {
            throw new MlpToolsException(ErrorIds.SweepRangeInvalid,
                $"A log-scale range needs numbers above 0; the range of '{name}' starts at {min.ToString(CultureInfo.InvariantCulture)}. Start it above 0, or leave '{name}' out of -LogScale.", name);
        }
        return new SweepDimension(name, Array.Empty<object>(), min, max, logScale, integer);
    }

    public string Name { get; }
    /// <summary>The values of a list; empty for a range.</summary>
    public IReadOnlyList<object> Values { get; }
    public bool IsRange => Values.Count == 0;
    public double Min { get; }
    public double Max { get; }
    public bool LogScale { get; }
    public bool Integer { get; }

    internal object Draw(Random random)
    {
        if (!IsRange)
        {
            return Values[random.Next(Values.Count)];
        }
        double u = random.NextDouble();
        double value = LogScale ? Math.Exp(Math.Log(Min) + u * (Math.Log(Max) - Math.Log(Min))) : Min + u * (Max - Min);
        return Integer ? (object)(long)Math.Clamp(Math.Round(value), Min, Max) : value;
    }

    internal void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        if (IsRange)
        {
            json.WriteStartArray("range");
            json.WriteNumberValue(Min);
            json.WriteNumberValue(Max);
            json.WriteEndArray();
            json.WriteBoolean("logScale", LogScale);
            json.WriteBoolean("integer", Integer);
        }
        else
        {
            json.WriteStartArray("values");
            foreach (object value in Values)
            {
                SweepValues.Write(json, value);
            }
            json.WriteEndArray();
        }
        json.WriteEndObject();
    }

    private static void CheckPlain(string name, object value)
    {
        if (value is not (string or bool or long or double or int[]))
        {
            throw new ArgumentException($"Value '{value}' of '{name}' is a {value?.GetType().Name ?? "null"}; sweep values are string, bool, long, double or int[].", nameof(value));
        }
        if (value is double number && !double.IsFinite(number))
        {
            throw new MlpToolsException(ErrorIds.SweepParameterValueInvalid,
                $"'{name}' cannot be {number.ToString(CultureInfo.InvariantCulture)}: give finite numbers.", name);
        }
    }
}

/// <summary>
/// What a sweep tries: every combination of the listed values (a grid), or <c>count</c> random draws from the lists and
/// ranges with a seed. Dimensions are ordered by name, so the same space gives the same trials in the same order
/// however it was written.
/// </summary>
public sealed class SweepSpace
{
    /// <summary>How many draws may repeat a combination already drawn before a random sweep gives up looking for new ones.</summary>
    private const int RepeatedDrawsAllowed = 1000;

    public SweepSpace(IEnumerable<SweepDimension> dimensions, int? count, long seed)
    {
        Dimensions = dimensions.OrderBy(d => d.Name, StringComparer.Ordinal).ToArray();
        if (Dimensions.Count == 0)
        {
            throw new MlpToolsException(ErrorIds.SweepSpaceEmpty,
                "The space has no parameters to sweep. Give -Parameter a hashtable such as @{ LearningRate = 1e-3, 3e-3 }.", null);
        }
        var duplicate = Dimensions.GroupBy(d => d.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new MlpToolsException(ErrorIds.SweepParameterDuplicate,
                $"Parameter '{duplicate.Key}' is given twice (in -Parameter and -Range, or under two spellings). Give it once.", duplicate.Key);
        }
        if (count is null && Dimensions.FirstOrDefault(d => d.IsRange) is { } range)
        {
            throw new MlpToolsException(ErrorIds.SweepRangeNeedsCount,
                $"'{range.Name}' is a range, which a grid cannot list. Add -Count N to draw N random trials, or give '{range.Name}' a list of values.", range.Name);
        }
        if (count is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(count), count, "A random sweep draws at least one trial.");
        }
        Count = count;
        Seed = seed;
    }

    public IReadOnlyList<SweepDimension> Dimensions { get; }
    /// <summary>Random draws to make; null for a grid.</summary>
    public int? Count { get; }
    public long Seed { get; }

    /// <summary>The number of combinations of the listed values (a range counts as infinite: null).</summary>
    public long? GridSize => Dimensions.Any(d => d.IsRange) ? null
        : Dimensions.Aggregate(1L, (size, d) => size > int.MaxValue ? size : size * d.Values.Count);

    /// <summary>The sweep's trials, in order: the grid with the last dimension varying fastest, or the distinct random draws.</summary>
    public IReadOnlyList<SweepTrial> Trials()
    {
        var trials = new List<SweepTrial>();
        if (Count is int count)
        {
            var random = new Random(unchecked((int)(Seed ^ (Seed >> 32))));
            var seen = new HashSet<string>(StringComparer.Ordinal);
            int repeats = 0;
            while (trials.Count < count && repeats < RepeatedDrawsAllowed)
            {
                var trial = SweepTrial.Create(trials.Count + 1, Dimensions.Select(d => KeyValuePair.Create(d.Name, d.Draw(random))));
                if (seen.Add(trial.Key))
                {
                    trials.Add(trial);
                }
                else
                {
                    repeats++;
                }
            }
            return trials;
        }
        if (GridSize > SweepTrial.MaxTrials)
        {
            throw new MlpToolsException(ErrorIds.SweepSpaceTooLarge,
                $"The grid has {GridSize} combinations, more than the {SweepTrial.MaxTrials} a sweep runs. Give fewer values, or draw a sample with -Count.", GridSize);
        }
        var positions = new int[Dimensions.Count];
        do
        {
            trials.Add(SweepTrial.Create(trials.Count + 1, Dimensions.Select((d, i) => KeyValuePair.Create(d.Name, d.Values[positions[i]]))));
        }
        while (Advance(positions));
        return trials;
    }

    private bool Advance(int[] positions)
    {
        for (int i = positions.Length - 1; i >= 0; i--)
        {
            if (++positions[i] < Dimensions[i].Values.Count)
            {
                return true;
            }
            positions[i] = 0;
        }
        return false;
    }

    /// <summary>The space as canonical JSON: part of the sweep's fingerprint.</summary>
    public void WriteTo(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        json.WriteString("mode", Count is null ? "grid" : "random");
        if (Count is int count)
        {
            json.WriteNumber("count", count);
        }
        json.WriteNumber("seed", Seed);
        json.WriteStartObject("parameters");
        foreach (var dimension in Dimensions)
        {
            json.WritePropertyName(dimension.Name);
            dimension.WriteTo(json);
        }
        json.WriteEndObject();
        json.WriteEndObject();
    }
}

/// <summary>Writes and reads the plain values of a sweep in JSON, and hashes canonical JSON into keys.</summary>
public static class SweepValues
{
    public static void Write(Utf8JsonWriter json, object value)
    {
        switch (value)
        {
            case string s: json.WriteStringValue(s); break;
            case bool b: json.WriteBooleanValue(b); break;
            case long l: json.WriteNumberValue(l); break;
            case double d: json.WriteNumberValue(d); break;
            case int[] a:
                json.WriteStartArray();
                foreach (int item in a)
                {
                    json.WriteNumberValue(item);
                }
                json.WriteEndArray();
                break;
            default: throw new ArgumentException($"A sweep value cannot be a {value.GetType().Name}.", nameof(value));
        }
    }

    /// <summary>A value read back: whole numbers as long, others as double, arrays as int[].</summary>
    public static object Read(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString()!,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number when element.TryGetInt64(out long whole) && !element.GetRawText().Contains('.') && !element.GetRawText().Contains('e', StringComparison.OrdinalIgnoreCase) => whole,
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.Array => element.EnumerateArray().Select(e => e.GetInt32()).ToArray(),
        _ => throw new JsonException($"A sweep value cannot be {element.ValueKind}."),
    };

    public static byte[] ToJson(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            write(json);
        }
        return buffer.ToArray();
    }

    public static string Sha256(byte[] bytes) => Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    internal static string Text(byte[] utf8) => Encoding.UTF8.GetString(utf8);
}
