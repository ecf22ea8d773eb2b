using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlpTools.Core.Modeling;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MlpTools.Core.Persistence;

/// <summary>A tensor of a state_dict as its file describes it, before any of its values is read.</summary>
internal sealed record TensorLayout(string Key, ScalarType DType, long[] Shape);

/// <summary>
/// Sees a file's tensors (and, for SafeTensors, its metadata) before their values are read, and throws to refuse them;
/// so sizes are checked against the architecture before anything is inflated or allocated.
/// </summary>
internal delegate void VetStateDict(IReadOnlyList<TensorLayout> tensors, IReadOnlyDictionary<string, string> metadata);

/// <summary>
/// A model's weights as a state_dict (lin_1.weight, lin_1.bias, ...) in PyTorch's torch.save format (written by
/// TorchSharp.PyBridge) and in SafeTensors. Reading is MlpTools' own, so that what is checked is exactly what is loaded.
/// Tensors read here belong to the caller's dispose scope.
/// </summary>
internal static partial class StateDicts
{
    // Bounds that no MLP file reaches, so a damaged or hostile header cannot make the reader allocate without limit.
    private const int MaxPickleBytes = 64 << 20;
    private const long MaxSafeTensorsHeaderBytes = 100 << 20;

    /// <summary>The SafeTensors metadata key under which Export-Mlp records the architecture (as the manifest's JSON).</summary>
    public const string ArchitectureMetadataKey = "mlptools.architecture";

    private static readonly Dictionary<string, (ScalarType Type, int Size)> SafeTensorsTypes = new(StringComparer.Ordinal)
    {
        ["F64"] = (ScalarType.Float64, 8), ["F32"] = (ScalarType.Float32, 4), ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2), ["I64"] = (ScalarType.Int64, 8), ["I32"] = (ScalarType.Int32, 4),
        ["I16"] = (ScalarType.Int16, 2), ["I8"] = (ScalarType.Int8, 1), ["U8"] = (ScalarType.Byte, 1), ["BOOL"] = (ScalarType.Bool, 1),
    };

    private static int ElementSize(ScalarType type) => SafeTensorsTypes.Values.First(t => t.Type == type).Size;

    public static void WritePyTorch(MlpModel model, Stream stream) => model.Network.save_py(stream, leaveOpen: true);

    /// <summary>Writes a SafeTensors file: the JSON header (with <paramref name="metadata"/> as its __metadata__), then each tensor's bytes.</summary>
    public static void WriteSafeTensors(Dictionary<string, Tensor> tensors, Stream stream, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject("__metadata__");
                foreach (var (key, value) in metadata)
                {
                    json.WriteString(key, value);
                }
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var (key, tensor) in tensors)
            {
                long bytes = tensor.NumberOfElements * ElementSize(tensor.dtype);
                json.WriteStartObject(key);
                json.WriteString("dtype", SafeTensorsTypes.First(t => t.Value.Type == tensor.dtype).Key);
                json.WriteStartArray("shape");
                foreach (long dimension in tensor.shape)
                {
                    json.WriteNumberValue(dimension);
                }
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + bytes);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += bytes;
            }
            json.WriteEndObject();
        }
        // The format pads the header with spaces to a multiple of 8 bytes, so the data after it stays aligned.
        while (header.Length % 8 != 0)
        {
            header.WriteByte((byte)' ');
        }
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        header.Position = 0;
        header.CopyTo(stream);
        foreach (Tensor tensor in tensors.Values)
        {
            using Tensor contiguous = tensor.contiguous();
            stream.Write(contiguous.bytes);
        }
    }

    /// <summary>
    /// Reads a torch.save'd state_dict. The pickle runs on <see cref="PickleGuard"/>'s machine, which refuses anything but
    /// tensors and containers; <paramref name="vet"/> then sees the tensors' shapes before any of their bytes is inflated;
    /// and each storage is read whole (CRC-checked) and cut into the tensors that view it, shared or strided as they are.
    /// </summary>
    public static Dictionary<string, Tensor> ReadPyTorch(Stream stream, string path, VetStateDict? vet = null)
    {
        try
        {
            stream.Position = 0;
            using ZipArchive zip = ZipEntries.Open(stream, path);
            // torch's loaders take the entry ending in data.pkl; with two such entries, which one counts is anyone's guess.
            var pickles = zip.Entries.Where(e => e.Name.EndsWith("data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count == 0)
            {
                throw ModelFileErrors.Unrecognized(path, "it is a zip archive without the data.pkl that torch.save writes.");
            }
            if (pickles.Count > 1 || pickles[0].Name != "data.pkl")
            {
                throw ModelFileErrors.Unsafe(path, $"it has the pickle entries {string.Join(", ", pickles.Select(e => $"'{e.FullName}'"))} " +
                    "where torch.save writes exactly one, named data.pkl, so which one a reader loads is ambiguous. Save the state_dict again with torch.save.");
            }
            string archive = pickles[0].FullName[..^"data.pkl".Length];
            var records = ReadStateDictPickle(ZipEntries.Read(pickles[0], MaxPickleBytes, path), path);
            vet?.Invoke(records.Select(r => new TensorLayout(r.Key, r.Value.Storage.DType, r.Value.Shape)).ToList(), new Dictionary<string, string>());

            // A storage holding more values than all the state_dict's tensors together is not what torch.save writes for a
            // model (views of one parameter vector share a storage of exactly their size); refusing it bounds what is inflated.
            long values = records.Sum(r => r.Value.Shape.Aggregate(1L, (a, b) => a * b));
            var storages = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            try
            {
                var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (key, record) in records)
                {
                    if (!storages.TryGetValue(record.Storage.Key, out Tensor? storage))
                    {
                        storage = ReadStorage(zip, archive, record.Storage, values, path);
                        storages[record.Storage.Key] = storage;
                    }
                    if (storage.dtype != record.Storage.DType || storage.NumberOfElements != record.Storage.Count)
                    {
                        throw ModelFileErrors.Corrupt(path, $"its storage '{record.Storage.Key}' is described in two different ways.");
                    }
                    using Tensor view = storage.as_strided(record.Shape, record.Stride, record.Offset);
                    tensors[key] = view.clone();
                }
                return tensors;
            }
            finally
            {
                foreach (Tensor storage in storages.Values)
                {
                    storage.Dispose();
                }
            }
        }
        catch (InvalidDataException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its zip structure cannot be read ({e.Message}).", e);
        }
    }

    private static IReadOnlyList<KeyValuePair<string, TensorRecord>> ReadStateDictPickle(byte[] pickle, string path)
    {
        try
        {
            return PickleGuard.ReadStateDict(pickle);
        }
        catch (PickleRefusedException e) when (e.UnsafeContent)
        {
            throw ModelFileErrors.Unsafe(path, e.Message);
        }
        catch (PickleRefusedException e) when (e.NotAStateDict)
        {
            throw ModelFileErrors.StateDictInvalid(path, e.Message);
        }
        catch (PickleRefusedException e)
        {
            throw ModelFileErrors.Corrupt(path, e.Message);
        }
    }

    private static Tensor ReadStorage(ZipArchive zip, string archive, StorageRecord storage, long values, string path)
    {
        string name = $"{archive}data/{storage.Key}";
        ZipArchiveEntry entry = zip.GetEntry(name) ?? throw ModelFileErrors.Corrupt(path, $"its tensor data '{name}' is missing.");
        if (storage.Count > values)
        {
            throw ModelFileErrors.Corrupt(path, $"its storage '{storage.Key}' holds {storage.Count} values, more than the {values} of all its tensors together.");
        }
        long bytes = storage.Count * ElementSize(storage.DType);
        if (bytes > Array.MaxLength)
        {
            throw ModelFileErrors.Unrecognized(path, $"its storage '{storage.Key}' has {bytes} bytes; MlpTools reads storages of at most {Array.MaxLength}.");
        }
        byte[] content = ZipEntries.Read(entry, bytes, path);
        if (content.Length != bytes)
        {
            throw ModelFileErrors.Corrupt(path, $"its tensor data '{name}' has {content.Length} bytes where its {storage.Count} values need {bytes}.");
        }
        Tensor tensor = empty(storage.Count, storage.DType);
        tensor.bytes = content;
        return tensor;
    }

    /// <summary>
    /// Reads a SafeTensors file after checking that its header describes tensors that fit in the file; <paramref name="vet"/>
    /// sees the tensors' shapes and the file's metadata before any tensor is made.
    /// </summary>
    public static Dictionary<string, Tensor> ReadSafeTensors(Stream stream, string path, VetStateDict? vet = null)
    {
        var (layouts, metadata, dataStart) = ReadSafeTensorsHeader(stream, path);
        vet?.Invoke(layouts.Select(l => l.Layout).ToList(), metadata);
        var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (layout, begin, end) in layouts)
        {
            var content = new byte[end - begin];
            stream.Position = dataStart + begin;
            stream.ReadExactly(content);
            Tensor tensor = empty(layout.Shape, layout.DType);
            tensor.bytes = content;
            tensors[layout.Key] = tensor;
        }
        return tensors;
    }

    /// <summary>Whether the first bytes look like SafeTensors: an 8-byte little-endian header length, then a JSON object.</summary>
    public static bool LooksLikeSafeTensors(ReadOnlySpan<byte> head, long length) =>
        head.Length >= 9 && length >= 10 && head[8] == (byte)'{' &&
        BinaryPrimitives.ReadUInt64LittleEndian(head) is ulong n && n >= 2 && n <= (ulong)(length - 8);

    private static (List<(TensorLayout Layout, long Begin, long End)> Tensors, Dictionary<string, string> Metadata, long DataStart) ReadSafeTensorsHeader(Stream stream, string path)
    {
        long length = stream.Length;
        stream.Position = 0;
        Span<byte> prefix = stackalloc byte[8];
        if (stream.ReadAtLeast(prefix, 8, throwOnEndOfStream: false) < 8)
        {
            throw ModelFileErrors.Corrupt(path, "it ends inside the SafeTensors header.");
        }
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8) || headerLength > MaxSafeTensorsHeaderBytes)
        {
            throw ModelFileErrors.Corrupt(path, $"its SafeTensors header claims {headerLength} bytes but the file has {length - 8} after the length field.");
        }
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataLength = length - 8 - (long)headerLength;
        var tensors = new List<(TensorLayout, long, long)>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            using var document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ModelFileErrors.Corrupt(path, "its SafeTensors header is not a JSON object.");
            }
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (JsonProperty tensor in document.RootElement.EnumerateObject())
            {
                if (!names.Add(tensor.Name))
                {
                    throw ModelFileErrors.Unsafe(path, $"its SafeTensors header names '{tensor.Name}' twice, and readers disagree about which one counts.");
                }
                if (tensor.Name == "__metadata__")
                {
                    foreach (JsonProperty item in tensor.Value.EnumerateObject())
                    {
                        metadata[item.Name] = item.Value.GetString() ?? "";
                    }
                    continue;
                }
                string dtype = tensor.Value.GetProperty("dtype").GetString() ?? "";
                if (!SafeTensorsTypes.TryGetValue(dtype, out var type))
                {
                    throw ModelFileErrors.StateDictInvalid(path, $"tensor '{tensor.Name}' has element type '{dtype}', which MlpTools does not read.");
                }
                var shape = new List<long>();
                long elements = 1;
                foreach (JsonElement dimension in tensor.Value.GetProperty("shape").EnumerateArray())
                {
                    if (dimension.GetInt64() < 0)
                    {
                        throw new FormatException("negative dimension");
                    }
                    elements = checked(elements * dimension.GetInt64());
                    shape.Add(dimension.GetInt64());
                }
                long[] offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[0] > offsets[1] || offsets[1] > dataLength ||
                    offsets[1] - offsets[0] != checked(elements * type.Size))
                {
                    throw ModelFileErrors.Corrupt(path, $"tensor '{tensor.Name}' does not fit the file: its bytes {string.Join("..", offsets)} " +
                        $"should hold {elements} values of {type.Size} bytes within {dataLength} bytes of data.");
                }
                tensors.Add((new TensorLayout(tensor.Name, type.Type, shape.ToArray()), offsets[0], offsets[1]));
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw ModelFileErrors.Corrupt(path, $"its SafeTensors header is not valid ({e.Message}).", e);
        }
        return (tensors, metadata, 8 + (long)headerLength);
    }

    /// <summary>
    /// The layer widths a state_dict describes: lin_1 ... lin_n, each a weight [out, in] and a bias [out], each layer's
    /// inputs the previous layer's outputs.
    /// </summary>
    public static (int Input, int[] Hidden, int Output) InferLayers(IReadOnlyList<TensorLayout> tensors, string path)
    {
        var layers = new SortedDictionary<int, (TensorLayout? Weight, TensorLayout? Bias)>();
        foreach (TensorLayout tensor in tensors)
        {
            Match match = LayerKey().Match(tensor.Key);
            if (!match.Success)
            {
                throw ModelFileErrors.StateDictInvalid(path, $"it has the key '{tensor.Key}' (keys: {DescribeKeys(tensors.Select(t => t.Key))}).");
            }
            int index = int.Parse(match.Groups[1].Value);
            var layer = layers.GetValueOrDefault(index);
            layers[index] = match.Groups[2].Value == "weight" ? (tensor, layer.Bias) : (layer.Weight, tensor);
        }
        if (layers.Count == 0 || layers.Keys.First() != 1 || layers.Keys.Last() != layers.Count)
        {
            throw ModelFileErrors.StateDictInvalid(path, $"its layers are not numbered 1 to n without gaps (keys: {DescribeKeys(tensors.Select(t => t.Key))}).");
        }
        var widths = new List<long>();
        foreach (var (index, (weight, bias)) in layers)
        {
            if (weight is null || bias is null)
            {
                throw ModelFileErrors.StateDictInvalid(path, $"layer {MlpArchitecture.LayerName(index - 1)} lacks its {(weight is null ? "weight" : "bias")}.");
            }
            if (!is_floating_point(weight.DType) || !is_floating_point(bias.DType))
            {
                throw ModelFileErrors.StateDictInvalid(path, $"layer {MlpArchitecture.LayerName(index - 1)} holds {weight.DType} values, not floating-point weights.");
            }
            if (weight.Shape.Length != 2 || bias.Shape.Length != 1 || bias.Shape[0] != weight.Shape[0] || weight.Shape[0] < 1 || weight.Shape[1] < 1 ||
                weight.Shape[0] > int.MaxValue || weight.Shape[1] > int.MaxValue)
            {
                throw ModelFileErrors.StateDictInvalid(path,
                    $"layer {MlpArchitecture.LayerName(index - 1)} has a weight of shape [{string.Join(", ", weight.Shape)}] and a bias of shape [{string.Join(", ", bias.Shape)}]; " +
                    "a linear layer has a weight [outputs, inputs] and a bias [outputs].");
            }
            if (widths.Count == 0)
            {
                widths.Add(weight.Shape[1]);
            }
            else if (weight.Shape[1] != widths[^1])
            {
                throw ModelFileErrors.StateDictInvalid(path,
                    $"layer {MlpArchitecture.LayerName(index - 1)} takes {weight.Shape[1]} inputs but {MlpArchitecture.LayerName(index - 2)} gives {widths[^1]} outputs.");
            }
            widths.Add(weight.Shape[0]);
        }
        return ((int)widths[0], widths.Skip(1).SkipLast(1).Select(w => (int)w).ToArray(), (int)widths[^1]);
    }

    /// <summary>Refuses tensors that are not exactly <paramref name="expected"/> (keys and shapes) in <paramref name="dtype"/>, before they are read.</summary>
    public static void RequireLayout(IReadOnlyList<TensorLayout> tensors, IEnumerable<(string Key, long[] Shape)> expected, ScalarType dtype, string path)
    {
        var shapes = expected.ToDictionary(e => e.Key, e => e.Shape, StringComparer.Ordinal);
        foreach (TensorLayout tensor in tensors)
        {
            if (!shapes.TryGetValue(tensor.Key, out long[]? shape) || !shape.SequenceEqual(tensor.Shape) || tensor.DType != dtype)
            {
                throw ModelFileErrors.Corrupt(path, shape is null
                    ? $"its weights have the key '{tensor.Key}', which the architecture does not."
                    : $"'{tensor.Key}' is [{string.Join(", ", tensor.Shape)}] of {tensor.DType} but the architecture needs [{string.Join(", ", shape)}] of {dtype}.");
            }
        }
        if (tensors.Count != shapes.Count)
        {
            throw ModelFileErrors.Corrupt(path, $"its weights lack {DescribeKeys(shapes.Keys.Except(tensors.Select(t => t.Key)))}.");
        }
    }

    /// <summary>
    /// Copies the tensors into the model, which must have exactly these keys and shapes (checked, not broadcast) and
    /// finite values: a NaN, infinite or overflowing weight makes every prediction meaningless, whatever format carried it.
    /// </summary>
    public static void Load(MlpModel model, IReadOnlyDictionary<string, Tensor> tensors, string path)
    {
        Dictionary<string, Tensor> target = model.Network.state_dict();
        foreach (var (key, parameter) in target)
        {
            if (!tensors.TryGetValue(key, out Tensor? value) || !value.shape.SequenceEqual(parameter.shape))
            {
                throw ModelFileErrors.Corrupt(path, value is null
                    ? $"its weights lack '{key}' (they have: {DescribeKeys(tensors.Keys)})."
                    : $"'{key}' has shape [{string.Join(", ", value.shape)}] but the architecture needs [{string.Join(", ", parameter.shape)}].");
            }
            // The training loop's divergence test: weights whose squares overflow float32 give NaN logits although each is finite.
            using var scope = NewDisposeScope();
            if (!value.to(ScalarType.Float32).pow(2).sum().isfinite().item<bool>())
            {
                throw ModelFileErrors.NotFinite(path, key);
            }
        }
        if (tensors.Count != target.Count)
        {
            throw ModelFileErrors.Corrupt(path, $"its weights have keys the architecture does not: {DescribeKeys(tensors.Keys.Where(k => !target.ContainsKey(k)))}.");
        }
        using (no_grad())
        {
            foreach (var (key, parameter) in target)
            {
                parameter.copy_(tensors[key]);
            }
        }
    }

    private static string DescribeKeys(IEnumerable<string> keys)
    {
        var sorted = keys.Order(StringComparer.Ordinal).ToList();
        return sorted.Count == 0 ? "none" : string.Join(", ", sorted.Take(12)) + (sorted.Count > 12 ? ", ..." : "");
    }

    /// <summary>The keys of <see cref="MlpArchitecture.LayerName"/>'s layers: lin_1.weight, lin_1.bias, ...; group 1 is the layer's number.</summary>
    [GeneratedRegex(@"^lin_([1-9][0-9]{0,4})\.(weight|bias)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerKey();
}
