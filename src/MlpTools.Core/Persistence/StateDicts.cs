using System.Buffers.Binary;
using System.Collections;
using System.IO.Compression;
using System.Text.Json;
using System.Text.RegularExpressions;
using MlpTools.Core.Modeling;
using Razorvine.Pickle;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace MlpTools.Core.Persistence;

/// <summary>
/// A model's weights as a state_dict (lin_1.weight, lin_1.bias, ...) in PyTorch's torch.save format and in SafeTensors,
/// both written and read by TorchSharp.PyBridge; what this class adds are the checks a file from elsewhere needs first.
/// Tensors read here belong to the caller's dispose scope.
/// </summary>
internal static partial class StateDicts
{
    // Bounds that no MLP file reaches, so a damaged or hostile header cannot make the reader allocate without limit.
    private const int MaxPickleBytes = 64 << 20;
    private const long MaxSafeTensorsHeaderBytes = 100 << 20;

    private static readonly Dictionary<string, int> SafeTensorsElementSizes = new()
    {
        ["F64"] = 8, ["F32"] = 4, ["F16"] = 2, ["BF16"] = 2, ["I64"] = 8, ["I32"] = 4, ["I16"] = 2, ["I8"] = 1, ["U8"] = 1, ["BOOL"] = 1,
    };

    public static void WritePyTorch(MlpModel model, Stream stream) => model.Network.save_py(stream, leaveOpen: true);

    public static void WriteSafeTensors(Dictionary<string, Tensor> tensors, Stream stream) => Safetensors.SaveStateDict(stream, tensors, leaveOpen: true);

    /// <summary>Reads a torch.save'd state_dict after <see cref="PickleGuard"/> has accepted its pickle.</summary>
    public static Dictionary<string, Tensor> ReadPyTorch(Stream stream, string path)
    {
        byte[] pickle;
        try
        {
            stream.Position = 0;
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            ZipArchiveEntry entry = zip.Entries.FirstOrDefault(e => e.Name == "data.pkl")
                ?? throw ModelFileErrors.Unrecognized(path, "it is a zip archive without the data.pkl that torch.save writes.");
            pickle = ReadEntry(entry, MaxPickleBytes, path);
        }
        catch (InvalidDataException e)
        {
            throw ModelFileErrors.Corrupt(path, $"its zip structure cannot be read ({e.Message}).", e);
        }

        try
        {
            PickleGuard.Check(pickle);
        }
        catch (PickleRefusedException e) when (e.UnsafeContent)
        {
            throw ModelFileErrors.Unsafe(path, e.Message);
        }
        catch (PickleRefusedException e)
        {
            throw ModelFileErrors.Corrupt(path, e.Message);
        }

        Hashtable table;
        try
        {
            stream.Position = 0;
            table = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is PickleException or InvalidCastException or InvalidOperationException or NotImplementedException
                                      or InvalidDataException or IndexOutOfRangeException or ArgumentException or NullReferenceException or IOException)
        {
            // The guard let only tensors and containers through, so what is left is damage: a missing tensor entry, a bad shape, ...
            throw ModelFileErrors.Corrupt(path, $"its pickle could not be unpacked into tensors ({e.Message}).", e);
        }

        var tensors = new Dictionary<string, Tensor>();
        foreach (DictionaryEntry item in table)
        {
            if (item.Key is not string key || item.Value is not Tensor tensor)
            {
                string keys = string.Join(", ", table.Keys.Cast<object>().Select(k => $"'{k}'").Take(8));
                throw ModelFileErrors.StateDictInvalid(path,
                    $"it holds a dictionary whose entries are not all tensors (keys {keys}), such as a training checkpoint. Save model.state_dict() on its own.");
            }
            tensors[key] = tensor;
        }
        return tensors;
    }

    /// <summary>Reads a SafeTensors file after checking that its header describes tensors that fit in the file.</summary>
    public static Dictionary<string, Tensor> ReadSafeTensors(Stream stream, string path)
    {
        ValidateSafeTensorsHeader(stream, path);
        try
        {
            stream.Position = 0;
            return Safetensors.LoadStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is JsonException or NotImplementedException or ArgumentException or IOException)
        {
            throw ModelFileErrors.Corrupt(path, $"its tensors could not be read ({e.Message}).", e);
        }
    }

    /// <summary>Whether the first bytes look like SafeTensors: an 8-byte little-endian header length, then a JSON object.</summary>
    public static bool LooksLikeSafeTensors(ReadOnlySpan<byte> head, long length) =>
        head.Length >= 9 && length >= 10 && head[8] == (byte)'{' &&
        BinaryPrimitives.ReadUInt64LittleEndian(head) is ulong n && n >= 2 && n <= (ulong)(length - 8);

    private static void ValidateSafeTensorsHeader(Stream stream, string path)
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
        try
        {
            using var document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ModelFileErrors.Corrupt(path, "its SafeTensors header is not a JSON object.");
            }
            foreach (JsonProperty tensor in document.RootElement.EnumerateObject())
            {
                if (tensor.Name == "__metadata__")
                {
                    continue;
                }
                string dtype = tensor.Value.GetProperty("dtype").GetString() ?? "";
                if (!SafeTensorsElementSizes.TryGetValue(dtype, out int elementSize))
                {
                    throw ModelFileErrors.StateDictInvalid(path, $"tensor '{tensor.Name}' has element type '{dtype}', which MlpTools does not read.");
                }
                long elements = 1;
                foreach (JsonElement dimension in tensor.Value.GetProperty("shape").EnumerateArray())
                {
                    elements = checked(elements * dimension.GetInt64());
                    if (dimension.GetInt64() < 0)
                    {
                        throw new FormatException("negative dimension");
                    }
                }
                long[] offsets = tensor.Value.GetProperty("data_offsets").EnumerateArray().Select(o => o.GetInt64()).ToArray();
                if (offsets.Length != 2 || offsets[0] < 0 || offsets[0] > offsets[1] || offsets[1] > dataLength ||
                    offsets[1] - offsets[0] != checked(elements * elementSize))
                {
                    throw ModelFileErrors.Corrupt(path, $"tensor '{tensor.Name}' does not fit the file: its bytes {string.Join("..", offsets)} " +
                        $"should hold {elements} values of {elementSize} bytes within {dataLength} bytes of data.");
                }
            }
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException or OverflowException)
        {
            throw ModelFileErrors.Corrupt(path, $"its SafeTensors header is not valid ({e.Message}).", e);
        }
    }

    /// <summary>Reads an entry whole, refusing one larger than <paramref name="maxBytes"/> or shorter than the zip says.</summary>
    public static byte[] ReadEntry(ZipArchiveEntry entry, long maxBytes, string path)
    {
        if (entry.Length > maxBytes)
        {
            throw ModelFileErrors.Corrupt(path, $"its entry '{entry.FullName}' claims {entry.Length} bytes, more than any model file needs.");
        }
        var bytes = new byte[entry.Length];
        using Stream content = entry.Open();
        int read = content.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read != bytes.Length || content.ReadByte() != -1)
        {
            throw ModelFileErrors.Corrupt(path, $"its entry '{entry.FullName}' does not have the {entry.Length} bytes the zip directory lists.");
        }
        return bytes;
    }

    /// <summary>
    /// The layer widths a state_dict describes: lin_1 ... lin_n, each a weight [out, in] and a bias [out], each layer's
    /// inputs the previous layer's outputs.
    /// </summary>
    public static (int Input, int[] Hidden, int Output) InferLayers(IReadOnlyDictionary<string, Tensor> tensors, string path)
    {
        var layers = new SortedDictionary<int, (Tensor? Weight, Tensor? Bias)>();
        foreach (var (key, tensor) in tensors)
        {
            Match match = LayerKey().Match(key);
            if (!match.Success)
            {
                throw ModelFileErrors.StateDictInvalid(path, $"it has the key '{key}' (keys: {DescribeKeys(tensors)}).");
            }
            int index = int.Parse(match.Groups[1].Value);
            var layer = layers.GetValueOrDefault(index);
            layers[index] = match.Groups[2].Value == "weight" ? (tensor, layer.Bias) : (layer.Weight, tensor);
        }
        if (layers.Count == 0 || layers.Keys.First() != 1 || layers.Keys.Last() != layers.Count)
        {
            throw ModelFileErrors.StateDictInvalid(path, $"its layers are not numbered 1 to n without gaps (keys: {DescribeKeys(tensors)}).");
        }
        var widths = new List<long>();
        foreach (var (index, (weight, bias)) in layers)
        {
            if (weight is null || bias is null)
            {
                throw ModelFileErrors.StateDictInvalid(path, $"layer lin_{index} lacks its {(weight is null ? "weight" : "bias")}.");
            }
            if (!weight.is_floating_point() || !bias.is_floating_point())
            {
                throw ModelFileErrors.StateDictInvalid(path, $"layer lin_{index} holds {weight.dtype} values, not floating-point weights.");
            }
            if (weight.dim() != 2 || bias.dim() != 1 || bias.shape[0] != weight.shape[0] || weight.shape[0] < 1 || weight.shape[1] < 1 ||
                weight.shape[0] > int.MaxValue || weight.shape[1] > int.MaxValue)
            {
                throw ModelFileErrors.StateDictInvalid(path,
                    $"layer lin_{index} has a weight of shape [{string.Join(", ", weight.shape)}] and a bias of shape [{string.Join(", ", bias.shape)}]; " +
                    "a linear layer has a weight [outputs, inputs] and a bias [outputs].");
            }
            if (widths.Count == 0)
            {
                widths.Add(weight.shape[1]);
            }
            else if (weight.shape[1] != widths[^1])
            {
                throw ModelFileErrors.StateDictInvalid(path,
                    $"layer lin_{index} takes {weight.shape[1]} inputs but lin_{index - 1} gives {widths[^1]} outputs.");
            }
            widths.Add(weight.shape[0]);
        }
        return ((int)widths[0], widths.Skip(1).SkipLast(1).Select(w => (int)w).ToArray(), (int)widths[^1]);
    }

    /// <summary>Copies the tensors into the model, which must have exactly these keys and shapes (checked, not broadcast).</summary>
    public static void Load(MlpModel model, IReadOnlyDictionary<string, Tensor> tensors, string path)
    {
        Dictionary<string, Tensor> target = model.Network.state_dict();
        foreach (var (key, parameter) in target)
        {
            if (!tensors.TryGetValue(key, out Tensor? value) || !value.shape.SequenceEqual(parameter.shape))
            {
                throw ModelFileErrors.Corrupt(path, value is null
                    ? $"its weights lack '{key}' (they have: {DescribeKeys(tensors)})."
                    : $"'{key}' has shape [{string.Join(", ", value.shape)}] but the architecture needs [{string.Join(", ", parameter.shape)}].");
            }
        }
        if (tensors.Count != target.Count)
        {
            throw ModelFileErrors.Corrupt(path, $"its weights have keys the architecture does not: {DescribeKeys(tensors.Where(t => !target.ContainsKey(t.Key)).ToDictionary())}.");
        }
        using (no_grad())
        {
            foreach (var (key, parameter) in target)
            {
                parameter.copy_(tensors[key]);
            }
        }
    }

    private static string DescribeKeys<T>(IReadOnlyDictionary<string, T> tensors) =>
        tensors.Count == 0 ? "none" : string.Join(", ", tensors.Keys.Order(StringComparer.Ordinal).Take(12)) + (tensors.Count > 12 ? ", ..." : "");

    [GeneratedRegex(@"^lin_([1-9][0-9]{0,4})\.(weight|bias)$", RegexOptions.CultureInvariant)]
    private static partial Regex LayerKey();
}
