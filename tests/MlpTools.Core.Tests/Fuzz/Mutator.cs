using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace MlpTools.Core.Tests.Fuzz;

/// <summary>What a damaged file may still turn into: anything finite, only the seed's own content, or nothing at all.</summary>
internal enum Expectation
{
    /// <summary>A valid file of other content: a load is correct if every weight and prediction is finite.</summary>
    AnyFiniteModel,
    /// <summary>Damage the format's checksums cover (zip CRC, SHA-256, gzip CRC): a load is correct only with the seed's content.</summary>
    SeedContent,
    /// <summary>A file that must be refused (ambiguous duplicate entries).</summary>
    Refusal,
    /// <summary>A valid file of the seed's content in another form (a multi-member gzip): it must load, as the seed.</summary>
    SeedContentRequired,
}

/// <summary>One damaged file: its mutation class (for grouping), what exactly was done, its bytes, and what a correct load is.</summary>
internal sealed record Mutant(string Class, string Detail, byte[] Bytes, Expectation Expect);

/// <summary>Damages a seed file in one of the ways a truncated download, a bad disk or an attacker would.</summary>
internal static class Mutator
{
    /// <summary>What a bomb inflates to: more than the fuzz test's memory bound.</summary>
    public const long BombBytes = 1_600_000_000;

    private const string PickleOpcodes = "(.0123FIJKLMNPQRSTUVXabcdeghijklmnopqrstu}])\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008a\u008b\u008c\u008d\u008e\u008f\u0090\u0091\u0092\u0093\u0094\u0095";

    /// <summary>
    /// Case <paramref name="round"/> of <paramref name="format"/>: the mutation classes take turns, so each gets its share
    /// of a few hundred cases; <paramref name="random"/> decides the rest (where, what value).
    /// </summary>
    public static Mutant Mutate(FuzzFormat format, FuzzSeeds seeds, bool images, int round, Random random)
    {
        byte[] seed = seeds.For(format, images);
        byte[] raw = format == FuzzFormat.IdxGz ? (images ? seeds.Images : seeds.Labels) : seed;
        // Checksums cover these formats, so byte-level damage must be caught or be harmless.
        Expectation rawDamage = format is FuzzFormat.Mlp or FuzzFormat.Checkpoint or FuzzFormat.PyTorch or FuzzFormat.IdxGz
            ? Expectation.SeedContent : Expectation.AnyFiniteModel;
        var mutations = new List<Func<Mutant>>
        {
            () => Truncate(seed, random, rawDamage),
            () => Flip(seed, random, rawDamage),
        };
        switch (format)
        {
            case FuzzFormat.Idx:
                mutations.Add(() => IdxHeader(raw, images, random, gzip: false));
                mutations.Add(() => IdxHeader(raw, images, random, gzip: false));
                break;
            case FuzzFormat.IdxGz:
                mutations.Add(() => IdxHeader(raw, images, random, gzip: true));
                mutations.Add(() => GzipHeader(seed, random));
                mutations.Add(() => GzipMembers(raw, random));
                mutations.Add(() => Truncate(seed, random, rawDamage));
                mutations.Add(() => InflatedGzip(images));
                break;
            case FuzzFormat.SafeTensors:
                mutations.Add(() => SafeTensors(seed, random));
                mutations.Add(() => SafeTensors(seed, random));
                mutations.Add(() => SafeTensors(seed, random));
                break;
            case FuzzFormat.PyTorch:
                mutations.Add(() => ZipHeader(seed, random));
                mutations.Add(() => Pickle(seed, random));
                mutations.Add(() => Pickle(seed, random));
                mutations.Add(() => Storage(seed, random));
                mutations.Add(() => DuplicatePickle(seed, random));
                mutations.Add(() => InflatedEntry(seed, random));
                break;
            default:
                mutations.Add(() => ZipHeader(seed, random));
                mutations.Add(() => Manifest(seed, random, "architecture"));
                mutations.Add(() => Manifest(seed, random, format == FuzzFormat.Checkpoint ? "training" : ""));
                mutations.Add(() => LayerList(seed, random));
                mutations.Add(() => Entry(seed, random));
                if (format == FuzzFormat.Checkpoint)
                {
                    mutations.Add(() => GeneratorState(seed, random));
                }
                mutations.Add(() => DuplicateEntry(seed, random));
                mutations.Add(() => InflatedEntry(seed, random));
                break;
        }
        return mutations[round % mutations.Count]();
    }

    private static Mutant Truncate(byte[] seed, Random random, Expectation expect)
    {
        int length = random.Next(3) switch
        {
            0 => random.Next(Math.Min(64, seed.Length)),
            1 => seed.Length - 1 - random.Next(Math.Min(64, seed.Length)),
            _ => random.Next(seed.Length),
        };
        return new("truncation", $"cut to {length} of {seed.Length} bytes", seed[..length], expect);
    }

    private static Mutant Flip(byte[] seed, Random random, Expectation expect)
    {
        var copy = (byte[])seed.Clone();
        var changes = new List<string>();
        int count = random.Next(1, 9);
        bool inHeader = random.Next(3) == 0;
        for (int i = 0; i < count; i++)
        {
            int at = inHeader ? random.Next(Math.Min(64, copy.Length)) : random.Next(copy.Length);
            byte before = copy[at];
            copy[at] = random.Next(2) == 0 ? (byte)(before ^ (1 << random.Next(8))) : (byte)random.Next(256);
            changes.Add($"@{at} {before:x2}->{copy[at]:x2}");
        }
        return new("byte flips", string.Join(' ', changes), copy, expect);
    }

    private static long Hostile(Random random, long old, int width)
    {
        long max = width == 2 ? ushort.MaxValue : uint.MaxValue;
        long value = random.Next(8) switch
        {
            0 => 0, 1 => 1, 2 => max, 3 => old + 1, 4 => old - 1, 5 => old * 2 + 1, 6 => int.MaxValue, _ => random.NextInt64(max + 1),
        };
        return value & max;
    }

    private static void WriteField(byte[] bytes, int offset, int width, long value, bool bigEndian = false)
    {
        if (width == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), (ushort)value);
        }
        else if (bigEndian)
        {
            BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(offset), (uint)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), (uint)value);
        }
    }

    private static long ReadField(byte[] bytes, int offset, int width) => width == 2
        ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(offset)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(offset));

    // ---- IDX and gzip ----

    private static Mutant IdxHeader(byte[] raw, bool images, Random random, bool gzip)
    {
        var copy = (byte[])raw.Clone();
        int dimensions = copy[3];
        string detail;
        int choice = random.Next(images ? 3 : 4);
        if (choice == 0)
        {
            int at = random.Next(4);
            byte value = random.Next(2) == 0 ? (byte)random.Next(256) : new byte[] { 0, 1, 2, 3, 4, 8, 9, 0x0D, 0xFF }[random.Next(9)];
            detail = $"magic byte {at} {copy[at]:x2} := {value:x2}";
            copy[at] = value;
        }
        else if (choice == 1)
        {
            int dimension = random.Next(dimensions);
            uint old = BinaryPrimitives.ReadUInt32BigEndian(copy.AsSpan(4 + 4 * dimension));
            uint value = random.Next(9) switch
            {
                0 => 0, 1 => 1, 2 => old - 1, 3 => old + 1, 4 => int.MaxValue, 5 => 0x80000000, 6 => uint.MaxValue, 7 => 65536, _ => (uint)random.NextInt64(uint.MaxValue),
            };
            BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(4 + 4 * dimension), value);
            detail = $"dimension {dimension} {old} := {value}";
        }
        else if (choice == 2)
        {
            int extra = random.Next(1, 64);
            var tail = new byte[extra];
            random.NextBytes(tail);
            copy = copy.Concat(tail).ToArray();
            detail = $"{extra} bytes appended";
        }
        else
        {
            int at = 8 + random.Next(copy.Length - 8);
            detail = $"label {at - 8} {copy[at]} := 255";
            copy[at] = 255;
        }
        return gzip
            ? new("idx header (re-gzipped)", detail, TestData.Gzip(copy), Expectation.AnyFiniteModel)
            : new("idx header", detail, copy, Expectation.AnyFiniteModel);
    }

    private static Mutant GzipHeader(byte[] gzip, Random random)
    {
        var copy = (byte[])gzip.Clone();
        var fields = new (string Name, int Offset, int Width)[]
        {
            ("magic", 0, 1), ("magic", 1, 1), ("method", 2, 1), ("flags", 3, 1), ("mtime", 4, 4), ("extra flags", 8, 1), ("os", 9, 1),
            ("trailer crc", copy.Length - 8, 4), ("trailer size", copy.Length - 4, 4),
        };
        var (name, offset, width) = fields[random.Next(fields.Length)];
        if (width == 1)
        {
            byte value = name == "flags" ? (byte)(1 << random.Next(8)) : (byte)random.Next(256);
            string detail = $"{name} {copy[offset]:x2} := {value:x2}";
            copy[offset] = value;
            return new("gzip header", detail, copy, Expectation.SeedContent);
        }
        long old = ReadField(copy, offset, 4);
        long hostile = Hostile(random, old, 4);
        WriteField(copy, offset, 4, hostile);
        return new("gzip header", $"{name} {old} := {hostile}", copy, Expectation.SeedContent);
    }

    /// <summary>A valid gzip file of several members, as concatenated .gz files are: gzip -t accepts it, so must the reader.</summary>
    private static Mutant GzipMembers(byte[] raw, Random random)
    {
        int parts = random.Next(2, 4);
        var cuts = Enumerable.Range(0, parts - 1).Select(_ => random.Next(raw.Length + 1)).Order().ToList();
        cuts.Insert(0, 0);
        cuts.Add(raw.Length);
        // Members of our own, so that an empty part still makes a member (GZipStream writes nothing for no input).
        var file = Enumerable.Range(0, parts).Select(i => raw[cuts[i]..cuts[i + 1]])
            .SelectMany(part => Containers.GzipMember(Containers.Deflate(part), Crc32.Of(part), part.Length)).ToArray();
        return new("gzip members", $"{parts} members split at {string.Join(',', cuts.Skip(1).SkipLast(1))}", file, Expectation.SeedContentRequired);
    }

    /// <summary>A small .gz whose header is honest about a huge payload of zeros (the labels file stays the seed's 12 labels).</summary>
    private static Mutant InflatedGzip(bool images)
    {
        byte[] header = images
            ? TestData.IdxHeader(0x08, (uint)(BombBytes / (28 * 28)), 28, 28)
            : TestData.IdxHeader(0x08, (uint)BombBytes);
        long payload = images ? BombBytes / (28 * 28) * 28 * 28 : BombBytes;
        byte[] file = Containers.GzipMember(Containers.DeflatedZeros(payload, header), 0, header.Length + payload);
        return new("inflated gzip", $"{file.Length} bytes of gzip inflating to {payload} bytes", file, Expectation.AnyFiniteModel);
    }

    // ---- SafeTensors ----

    private static Mutant SafeTensors(byte[] seed, Random random)
    {
        var (kind, detail, bytes) = SafeTensorsSurgery.Mutate(seed, random);
        return new(kind, detail, bytes, Expectation.AnyFiniteModel);
    }

    // ---- zip containers: .mlp, checkpoints, .pt ----

    private static Mutant ZipHeader(byte[] seed, Random random)
    {
        var records = Zip.Records(seed);
        var (record, fields, start) = records[random.Next(records.Count)];
        var field = fields[random.Next(fields.Length)];
        long old = ReadField(seed, start + field.Offset, field.Width);
        long value = Hostile(random, old, field.Width);
        var copy = (byte[])seed.Clone();
        WriteField(copy, start + field.Offset, field.Width, value);
        string entry = record == Zip.End.Record ? "" : $" of '{EntryNameAt(seed, record, start)}'";
        return new("zip header", $"{record}{entry}: {field.Name} {old} := {value}", copy, Expectation.SeedContent);
    }

    private static string EntryNameAt(byte[] zip, string record, int start)
    {
        int nameOffset = record == Zip.Local.Record ? 30 : 46;
        int length = BinaryPrimitives.ReadUInt16LittleEndian(zip.AsSpan(start + (record == Zip.Local.Record ? 26 : 28)));
        return Encoding.UTF8.GetString(zip, start + nameOffset, length);
    }

    private static Mutant Manifest(byte[] seed, Random random, string preferred)
    {
        var entries = Zip.Read(seed);
        var manifest = JsonNode.Parse(entries[0].Content)!;
        string detail = JsonSurgery.Mutate(manifest, random, preferred);
        entries[0] = (entries[0].Name, Encoding.UTF8.GetBytes(manifest.ToJsonString()), entries[0].Deflated);
        return new("manifest json", detail, Zip.Rebuild(entries), Expectation.AnyFiniteModel);
    }

    /// <summary>The manifest's hidden layer sizes replaced by a list no model of the file's weights can have.</summary>
    private static Mutant LayerList(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        var manifest = JsonNode.Parse(entries[0].Content)!;
        var (what, sizes) = random.Next(6) switch
        {
            0 => ("a million layers of 1", Enumerable.Repeat(1L, 1_000_000)),
            1 => ("[100000, 100000]", new long[] { 100_000, 100_000 }),
            2 => ("[0]", new long[] { 0 }),
            3 => ("[]", Array.Empty<long>()),
            4 => ("[-1]", new long[] { -1 }),
            _ => ("[2147483647]", new long[] { int.MaxValue }),
        };
        manifest["architecture"]!["hiddenSizes"] = new JsonArray(sizes.Select(n => (JsonNode)n).ToArray());
        entries[0] = (entries[0].Name, Encoding.UTF8.GetBytes(manifest.ToJsonString()), entries[0].Deflated);
        return new("manifest layer list", $"architecture.hiddenSizes := {what}", Zip.Rebuild(entries), Expectation.AnyFiniteModel);
    }

    /// <summary>Another entry damaged, with the manifest's SHA-256 updated to match, as a deliberate forger would.</summary>
    private static Mutant Entry(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        int index = 1 + random.Next(entries.Count - 1);
        var (name, content, deflated) = entries[index];
        string kind, detail;
        byte[] changed;
        if (SafeTensorsLike(content))
        {
            (kind, detail, changed) = SafeTensorsSurgery.Mutate(content, random);
        }
        else
        {
            var mutant = random.Next(2) == 0 ? Truncate(content, random, Expectation.AnyFiniteModel) : Flip(content, random, Expectation.AnyFiniteModel);
            (kind, detail, changed) = (mutant.Class, mutant.Detail, mutant.Bytes);
        }
        entries[index] = (name, changed, deflated);
        entries[0] = (entries[0].Name, Rehashed(entries[0].Content, content, changed), entries[0].Deflated);
        return new($"entry re-hashed: {kind}", $"'{name}': {detail}", Zip.Rebuild(entries), Expectation.AnyFiniteModel);
    }

    /// <summary>A checkpoint whose saved generator states have another size or type (re-hashed): libtorch aborts on those.</summary>
    private static Mutant GeneratorState(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        int index = entries.FindIndex(e => e.Name.StartsWith("random-state", StringComparison.Ordinal));
        var (name, content, deflated) = entries[index];
        var (kind, detail, changed) = SafeTensorsSurgery.Reshape(content, random);
        entries[index] = (name, changed, deflated);
        entries[0] = (entries[0].Name, Rehashed(entries[0].Content, content, changed), entries[0].Deflated);
        return new($"entry re-hashed: {kind}", $"'{name}': {detail}", Zip.Rebuild(entries), Expectation.AnyFiniteModel);
    }

    private static bool SafeTensorsLike(byte[] content) => content.Length > 9 && content[8] == '{';

    private static byte[] Rehashed(byte[] manifest, byte[] oldContent, byte[] newContent)
    {
        string text = Encoding.UTF8.GetString(manifest);
        string oldHash = Convert.ToHexString(SHA256.HashData(oldContent));
        string newHash = Convert.ToHexString(SHA256.HashData(newContent));
        int at = text.IndexOf(oldHash, StringComparison.OrdinalIgnoreCase);
        if (at >= 0)
        {
            bool lower = text.Substring(at, oldHash.Length).Any(char.IsLower);
            text = text.Remove(at, oldHash.Length).Insert(at, lower ? newHash.ToLowerInvariant() : newHash);
        }
        return Encoding.UTF8.GetBytes(text);
    }

    /// <summary>A second entry of the same name (first or last) with other content: zip tools disagree on which one counts.</summary>
    private static Mutant DuplicateEntry(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        int index = random.Next(entries.Count);
        var (name, content, deflated) = entries[index];
        byte[] other;
        if (index == 0)
        {
            var manifest = JsonNode.Parse(content)!;
            JsonSurgery.Mutate(manifest, random);
            other = Encoding.UTF8.GetBytes(manifest.ToJsonString());
        }
        else
        {
            other = SafeTensorsLike(content) ? SafeTensorsSurgery.Mutate(content, random).Bytes : Flip(content, random, Expectation.Refusal).Bytes;
        }
        bool first = random.Next(2) == 0;
        entries.Insert(first ? 0 : entries.Count, (name, other, deflated));
        return new("duplicate entry", $"a second '{name}' placed {(first ? "first" : "last")}", Zip.Rebuild(entries), Expectation.Refusal);
    }

    // ---- .pt ----

    private static int PickleIndex(List<(string Name, byte[] Content, bool Deflated)> entries) => entries.FindIndex(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal));

    private static Mutant Pickle(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        int index = PickleIndex(entries);
        var (detail, pickle) = MutatePickle(entries[index].Content, random);
        entries[index] = (entries[index].Name, pickle, entries[index].Deflated);
        return new("pickle opcodes", detail, Zip.Rebuild(entries), Expectation.AnyFiniteModel);
    }

    private static (string Detail, byte[] Pickle) MutatePickle(byte[] content, Random random)
    {
        var pickle = content.ToList();
        int at = random.Next(pickle.Count);
        byte opcode = (byte)PickleOpcodes[random.Next(PickleOpcodes.Length)];
        string detail;
        switch (random.Next(5))
        {
            case 0:
                detail = $"byte @{at} {pickle[at]:x2} := opcode {opcode:x2}";
                pickle[at] = opcode;
                break;
            case 1:
                detail = $"opcode {opcode:x2} inserted @{at}";
                pickle.Insert(at, opcode);
                break;
            case 2:
                detail = $"byte @{at} ({pickle[at]:x2}) deleted";
                pickle.RemoveAt(at);
                break;
            case 3:
                detail = $"pickle cut to {at} of {pickle.Count} bytes";
                pickle.RemoveRange(at, pickle.Count - at);
                break;
            default:
                byte value = (byte)random.Next(256);
                detail = $"byte @{at} {pickle[at]:x2} := {value:x2}";
                pickle[at] = value;
                break;
        }
        return (detail, pickle.ToArray());
    }

    /// <summary>A tensor's storage entry cut short, lengthened or given a non-finite value (zip CRCs updated).</summary>
    private static Mutant Storage(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        var storages = Enumerable.Range(0, entries.Count).Where(i => entries[i].Name.Contains("/data/", StringComparison.Ordinal)).ToList();
        int index = storages[random.Next(storages.Count)];
        var (name, content, deflated) = entries[index];
        byte[] changed;
        string detail;
        switch (random.Next(3))
        {
            case 0:
                int length = random.Next(content.Length);
                changed = content[..length];
                detail = $"'{name}' cut to {length} of {content.Length} bytes";
                break;
            case 1:
                int extra = 4 * random.Next(1, 5);
                changed = content.Concat(new byte[extra]).ToArray();
                detail = $"'{name}' {extra} bytes longer";
                break;
            default:
                changed = (byte[])content.Clone();
                float value = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }[random.Next(3)];
                int at = 4 * random.Next(content.Length / 4);
                BinaryPrimitives.WriteSingleLittleEndian(changed.AsSpan(at), value);
                detail = $"'{name}' float {at / 4} := {value}";
                break;
        }
        entries[index] = (name, changed, deflated);
        return new("tensor storage", detail, Zip.Rebuild(entries), Expectation.AnyFiniteModel);
    }

    /// <summary>Another pickle the guard may not see: a second data.pkl, or an entry whose name merely ends in data.pkl.</summary>
    private static Mutant DuplicatePickle(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        var (name, content, deflated) = entries[PickleIndex(entries)];
        string otherName = random.Next(2) == 0 ? name : "archive/other/data.pkl";
        var (change, other) = MutatePickle(content, random);
        bool first = random.Next(2) == 0;
        entries.Insert(first ? 0 : entries.Count, (otherName, other, deflated));
        return new("duplicate entry", $"another '{otherName}' ({change}) placed {(first ? "first" : "last")}", Zip.Rebuild(entries), Expectation.Refusal);
    }

    /// <summary>An entry replaced by a deflate bomb whose size the headers state honestly, or understate as the old size.</summary>
    private static Mutant InflatedEntry(byte[] seed, Random random)
    {
        var entries = Zip.Read(seed);
        int index = random.Next(entries.Count);
        bool honest = random.Next(2) == 0;
        var items = entries.Select((e, i) => i != index
            ? (e.Deflated ? ZipItem.Deflated(e.Name, e.Content) : ZipItem.Stored(e.Name, e.Content))
            : new ZipItem(e.Name, Containers.DeflatedZeros(BombBytes), 8, 0, honest ? BombBytes : e.Content.Length));
        return new("inflated entry", $"'{entries[index].Name}' inflates to {BombBytes} bytes, declared {(honest ? "as such" : $"as {entries[index].Content.Length}")}",
            Zip.Build(items), Expectation.AnyFiniteModel);
    }
}
