using System.Buffers.Binary;
using System.Text;
using System.Text.Json.Nodes;

namespace MlpTools.Core.Tests.Fuzz;

/// <summary>Mutations of JSON documents (a model manifest, a SafeTensors header): one value replaced, removed or blown up.</summary>
internal static class JsonSurgery
{
    /// <summary>
    /// Replaces one scalar of <paramref name="root"/> (one under <paramref name="preferredPath"/>, when given and there
    /// is one) by a hostile value, or removes it, or replaces a list of numbers by a million ones; returns what it did.
    /// </summary>
    public static string Mutate(JsonNode root, Random random, string? preferredPath = null)
    {
        var scalars = new List<(JsonNode Parent, string? Key, int Index, string Path)>();
        Collect(root, "", scalars);
        var candidates = preferredPath is not null && scalars.Any(s => s.Path.StartsWith(preferredPath, StringComparison.Ordinal))
            ? scalars.Where(s => s.Path.StartsWith(preferredPath, StringComparison.Ordinal)).ToList()
            : scalars;
        var (parent, key, index, path) = candidates[random.Next(candidates.Count)];
        JsonNode? old = key is null ? parent[index] : parent[key];

        int choice = random.Next(20);
        if (choice == 0 && parent is JsonObject owner)
        {
            owner.Remove(key!);
            return $"{path} removed";
        }
        if (choice <= 2 && parent is JsonArray list && list.All(n => n is JsonValue v && v.TryGetValue(out double _)))
        {
            list.Clear();
            foreach (var _ in Enumerable.Range(0, 1_000_000))
            {
                list.Add(1);
            }
            return $"{path[..path.LastIndexOf('[')]} := a million ones";
        }
        JsonNode? value = HostileValue(random, old);
        if (key is null)
        {
            parent[index] = value;
        }
        else
        {
            parent[key] = value;
        }
        string shown = value?.ToJsonString() ?? "null";
        return $"{path} := {(shown.Length > 40 ? shown[..20] + $"...({shown.Length} chars)" : shown)}";
    }

    private static JsonNode? HostileValue(Random random, JsonNode? old) => random.Next(18) switch
    {
        0 => 0,
        1 => -1,
        2 => 1,
        3 => 99,
        4 => int.MaxValue,
        5 => int.MinValue,
        6 => long.MaxValue,
        7 => 1e308,
        8 => -1e308,
        9 => "NaN",
        10 => "Infinity",
        11 => null,
        12 => "",
        13 => new string('x', 100_000),
        14 => new JsonArray(),
        15 => new JsonObject(),
        16 => old is JsonValue v && v.TryGetValue(out double d) ? d + 1 : "X",
        _ => old is JsonValue w && w.TryGetValue(out double e) ? e * 1000 + 1 : 2,
    };

    private static void Collect(JsonNode? node, string path, List<(JsonNode, string?, int, string)> into)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    string childPath = path.Length == 0 ? name : $"{path}.{name}";
                    if (child is JsonObject or JsonArray)
                    {
                        Collect(child, childPath, into);
                    }
                    else
                    {
                        into.Add((obj, name, -1, childPath));
                    }
                }
                break;
            case JsonArray array:
                for (int i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonObject or JsonArray)
                    {
                        Collect(array[i], $"{path}[{i}]", into);
                    }
                    else
                    {
                        into.Add((array, null, i, $"{path}[{i}]"));
                    }
                }
                break;
        }
    }
}

/// <summary>A SafeTensors file taken apart (an 8-byte header length, a JSON header, the tensors' bytes) and put back together.</summary>
internal static class SafeTensorsSurgery
{
    private static readonly Dictionary<string, int> ElementSizes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    public static (JsonObject Header, byte[] Data) Split(byte[] file)
    {
        int length = (int)BinaryPrimitives.ReadUInt64LittleEndian(file);
        return (JsonNode.Parse(file.AsSpan(8, length))!.AsObject(), file[(8 + length)..]);
    }

    public static byte[] Join(string header, byte[] data)
    {
        byte[] json = Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + json.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)json.Length);
        json.CopyTo(file, 8);
        data.CopyTo(file, 8 + json.Length);
        return file;
    }

    /// <summary>One hostile change to a SafeTensors file; the description says which.</summary>
    public static (string Class, string Detail, byte[] Bytes) Mutate(byte[] file, Random random)
    {
        var (header, data) = Split(file);
        var tensors = header.Where(p => p.Key != "__metadata__").Select(p => p.Key).ToList();
        switch (random.Next(6))
        {
            case 0:
            {
                ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
                ulong value = random.Next(8) switch
                {
                    0 => 0, 1 => 1, 2 => length - 1, 3 => length + 1, 4 => (ulong)file.Length - 8, 5 => (ulong)file.Length - 7,
                    6 => ulong.MaxValue, _ => (ulong)random.NextInt64(),
                };
                var copy = (byte[])file.Clone();
                BinaryPrimitives.WriteUInt64LittleEndian(copy, value);
                return ("safetensors length", $"header length {length} := {value}", copy);
            }
            case 1:
            {
                string what = JsonSurgery.Mutate(header, random);
                return ("safetensors json", what, Join(header.ToJsonString(), data));
            }
            case 2:
                return Reshape(header, data, tensors[random.Next(tensors.Count)], random);
            case 3:
            {
                var floats = tensors.Where(t => header[t]!["dtype"]!.GetValue<string>() == "F32" && Bytes(header, t) > 0).ToList();
                if (floats.Count == 0)
                {
                    return Reshape(header, data, tensors[random.Next(tensors.Count)], random);
                }
                string name = floats[random.Next(floats.Count)];
                var offsets = header[name]!["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
                float value = new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity }[random.Next(3)];
                int at = (int)offsets[0] + 4 * random.Next((int)(offsets[1] - offsets[0]) / 4);
                var copy = (byte[])data.Clone();
                BinaryPrimitives.WriteSingleLittleEndian(copy.AsSpan(at), value);
                return ("non-finite weights", $"{name}[{(at - offsets[0]) / 4}] := {value}", Join(header.ToJsonString(), copy));
            }
            case 4:
            {
                // Two entries of one name: JSON readers disagree on which one wins.
                string name = tensors[random.Next(tensors.Count)];
                string text = header.ToJsonString();
                string entry = $"\"{name}\":{header[name]!.ToJsonString()}";
                string other = header.Where(p => p.Key != name && p.Key != "__metadata__").Select(p => p.Value!.ToJsonString()).FirstOrDefault() ?? entry;
                string duplicate = $"\"{name}\":{other}";
                text = random.Next(2) == 0 ? text.Replace(entry, duplicate + "," + entry) : text.Replace(entry, entry + "," + duplicate);
                return ("safetensors json", $"'{name}' twice in the header", Join(text, data));
            }
            default:
            {
                // Two tensors of one size reading the same bytes (the format forbids overlaps).
                var bySize = tensors.GroupBy(t => Bytes(header, t)).Where(g => g.Count() > 1).ToList();
                if (bySize.Count == 0)
                {
                    return Reshape(header, data, tensors[random.Next(tensors.Count)], random);
                }
                var pair = bySize[random.Next(bySize.Count)].ToList();
                header[pair[1]]!["data_offsets"] = header[pair[0]]!["data_offsets"]!.DeepClone();
                return ("safetensors json", $"'{pair[1]}' reads the bytes of '{pair[0]}'", Join(header.ToJsonString(), data));
            }
        }
    }

    /// <summary>A valid SafeTensors file in which one tensor (chosen at random) has another shape or element type.</summary>
    public static (string Class, string Detail, byte[] Bytes) Reshape(byte[] file, Random random)
    {
        var (header, data) = Split(file);
        var tensors = header.Where(p => p.Key != "__metadata__").Select(p => p.Key).ToList();
        return Reshape(header, data, tensors[random.Next(tensors.Count)], random);
    }

    /// <summary>A valid SafeTensors file in which one tensor has another shape or element type (its bytes resized to fit).</summary>
    private static (string, string, byte[]) Reshape(JsonObject header, byte[] data, string name, Random random)
    {
        var tensor = header[name]!.AsObject();
        var shape = tensor["shape"]!.AsArray().Select(d => d!.GetValue<long>()).ToList();
        string dtype = tensor["dtype"]!.GetValue<string>();
        string before = $"{dtype}[{string.Join(',', shape)}]";
        switch (random.Next(6))
        {
            case 0 when shape.Count > 0:
                int axis = random.Next(shape.Count);
                shape[axis] = Math.Max(0, shape[axis] + (random.Next(2) == 0 ? -1 : 1) * random.Next(1, 3));
                break;
            case 1 when shape.Count > 1:
                shape.Reverse();
                break;
            case 2:
                shape.Insert(random.Next(shape.Count + 1), 1);
                break;
            case 3:
                shape = new List<long> { 0 };
                break;
            case 4:
                shape = new List<long> { shape.Aggregate(1L, (a, b) => a * b) };
                break;
            default:
                dtype = ElementSizes.Keys.Where(k => k != dtype).ElementAt(random.Next(ElementSizes.Count - 1));
                break;
        }
        tensor["shape"] = new JsonArray(shape.Select(d => (JsonNode)d).ToArray());
        tensor["dtype"] = dtype;

        // Lay the tensors out again in their order, each keeping as much of its old bytes as fits.
        using var laid = new MemoryStream();
        foreach (var (key, node) in header.Where(p => p.Key != "__metadata__").OrderBy(p => p.Value!["data_offsets"]![0]!.GetValue<long>()).ToList())
        {
            var offsets = node!["data_offsets"]!.AsArray().Select(o => o!.GetValue<long>()).ToArray();
            long size = node["shape"]!.AsArray().Aggregate(1L, (a, d) => a * d!.GetValue<long>()) * ElementSizes[node["dtype"]!.GetValue<string>()];
            var bytes = new byte[size];
            data.AsSpan((int)offsets[0], (int)Math.Min(size, offsets[1] - offsets[0])).CopyTo(bytes);
            node["data_offsets"] = new JsonArray(laid.Length, laid.Length + size);
            laid.Write(bytes);
        }
        return ("safetensors reshape", $"'{name}' {before} := {dtype}[{string.Join(',', shape)}]", Join(header.ToJsonString(), laid.ToArray()));
    }

    private static long Bytes(JsonObject header, string name)
    {
        var offsets = header[name]!["data_offsets"]!.AsArray();
        return offsets[1]!.GetValue<long>() - offsets[0]!.GetValue<long>();
    }
}
