using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace MlpTools.Core.Persistence;

/// <summary>
/// Runs a pickle on a small machine of its own that knows only what a PyTorch state_dict is made of (strings, numbers,
/// tuples, lists, dicts, OrderedDict, the tensor rebuild function, the storage types) and refuses everything else; its
/// result is the description of the state_dict's tensors that <see cref="StateDicts"/> then fills from the zip.
/// </summary>
/// <remarks>
/// Why: a pickle is a program. Python runs whatever callable it names (os.system, eval, ...), which is why
/// torch.load has weights_only. MlpTools never hands a pickle to a general unpickler: what this reads, with an allowlist
/// of names as torch.load(weights_only=True) has, is exactly what is loaded, so nothing it did not vet can reach a model.
/// Opcodes it does not know are refused too (fail closed).
/// </remarks>
internal static class PickleGuard
{
    private const string OrderedDict = "collections.OrderedDict";
    private const string RebuildTensor = "torch._utils._rebuild_tensor";
    private const string RebuildTensorV2 = "torch._utils._rebuild_tensor_v2";

    /// <summary>The storage types a state_dict may use, with the element type of their values.</summary>
    private static readonly Dictionary<string, ScalarType> StorageTypes = new(StringComparer.Ordinal)
    {
        ["torch.FloatStorage"] = ScalarType.Float32, ["torch.DoubleStorage"] = ScalarType.Float64,
        ["torch.HalfStorage"] = ScalarType.Float16, ["torch.BFloat16Storage"] = ScalarType.BFloat16,
        ["torch.LongStorage"] = ScalarType.Int64, ["torch.IntStorage"] = ScalarType.Int32, ["torch.ShortStorage"] = ScalarType.Int16,
        ["torch.CharStorage"] = ScalarType.Int8, ["torch.ByteStorage"] = ScalarType.Byte, ["torch.BoolStorage"] = ScalarType.Bool,
    };

    private const int MaxLine = 4096;

    /// <summary>Throws <see cref="PickleRefusedException"/> unless the pickle only builds tensors and plain containers.</summary>
    public static void Check(byte[] pickle) => Run(pickle);

    /// <summary>
    /// The state_dict a torch.save pickle describes, in its order: each key with the storage, offset, shape and strides
    /// of its tensor. Throws <see cref="PickleRefusedException"/> for a pickle that is unsafe, damaged or not a dict of tensors.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, TensorRecord>> ReadStateDict(byte[] pickle)
    {
        if (Run(pickle) is not PickleDict dict)
        {
            throw new PickleRefusedException("The pickle does not hold a dictionary, as a state_dict is.", unsafeContent: false, notAStateDict: true);
        }
        var tensors = new List<KeyValuePair<string, TensorRecord>>();
        foreach (var (key, value) in dict.Items)
        {
            if (key is not string name || value is not TensorRecord tensor)
            {
                string keys = string.Join(", ", dict.Items.Select(i => $"'{i.Key}'").Take(8));
                throw new PickleRefusedException(
                    $"It holds a dictionary whose entries are not all tensors (keys {keys}), such as a training checkpoint. Save model.state_dict() on its own.",
                    unsafeContent: false, notAStateDict: true);
            }
            tensors.Add(new(name, tensor));
        }
        return tensors;
    }

    private static object? Run(byte[] pickle)
    {
        var stack = new List<object?>();
        var marks = new Stack<int>();
        var memo = new Dictionary<long, object?>();
        int position = 0;

        while (true)
        {
            if (position >= pickle.Length)
            {
                throw Damaged("The pickle ends without its STOP opcode: the file is truncated or damaged.");
            }
            byte op = pickle[position++];
            switch (op)
            {
                case (byte)'.': // STOP
                    return Pop(stack);

                case (byte)'(': marks.Push(stack.Count); break; // MARK
                case (byte)'0': Pop(stack); break; // POP
                case (byte)'1': PopToMark(stack, marks); break; // POP_MARK
                case (byte)'2': stack.Add(Peek(stack)); break; // DUP

                case (byte)'N': stack.Add(null); break; // NONE
                case 0x88: stack.Add(true); break; // NEWTRUE
                case 0x89: stack.Add(false); break; // NEWFALSE

                // Numbers.
                case (byte)'J': stack.Add((long)(int)ReadLength(ref position, 4, pickle)); break; // BININT
                case (byte)'K': stack.Add(ReadLength(ref position, 1, pickle)); break; // BININT1
                case (byte)'M': stack.Add(ReadLength(ref position, 2, pickle)); break; // BININT2
                case 0x8a: stack.Add(ReadLong(ref position, ReadLength(ref position, 1, pickle), pickle)); break; // LONG1
                case 0x8b: stack.Add(ReadLong(ref position, ReadLength(ref position, 4, pickle), pickle)); break; // LONG4
                case (byte)'I': stack.Add(ParseInt(ReadLine(ref position, pickle))); break; // INT (01 and 00 are True and False)
                case (byte)'L': stack.Add(ParseInt(ReadLine(ref position, pickle).TrimEnd('L'))); break; // LONG
                case (byte)'G': // BINFLOAT, big-endian
                {
                    int start = position;
                    Skip(ref position, 8, pickle);
                    stack.Add(BinaryPrimitives.ReadDoubleBigEndian(pickle.AsSpan(start, 8)));
                    break;
                }
                case (byte)'F': // FLOAT
                    stack.Add(double.TryParse(ReadLine(ref position, pickle), NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
                        ? number : throw Damaged("The pickle has a FLOAT that is not a number."));
                    break;

                // Strings and bytes.
                case (byte)'X': stack.Add(ReadString(ref position, ReadLength(ref position, 4, pickle), pickle)); break; // BINUNICODE
                case 0x8c: stack.Add(ReadString(ref position, ReadLength(ref position, 1, pickle), pickle)); break; // SHORT_BINUNICODE
                case 0x8d: stack.Add(ReadString(ref position, ReadLength(ref position, 8, pickle), pickle)); break; // BINUNICODE8
                case (byte)'V': stack.Add(ReadLine(ref position, pickle)); break; // UNICODE (raw-unicode-escaped; plain names are ASCII)
                case (byte)'S': stack.Add(ReadLine(ref position, pickle).Trim('\'', '"')); break; // STRING (quoted repr)
                case (byte)'T': stack.Add(ReadString(ref position, ReadLength(ref position, 4, pickle), pickle)); break; // BINSTRING
                case (byte)'U': stack.Add(ReadString(ref position, ReadLength(ref position, 1, pickle), pickle)); break; // SHORT_BINSTRING
                case (byte)'B': stack.Add(ReadBytes(ref position, ReadLength(ref position, 4, pickle), pickle)); break; // BINBYTES
                case (byte)'C': stack.Add(ReadBytes(ref position, ReadLength(ref position, 1, pickle), pickle)); break; // SHORT_BINBYTES
                case 0x8e: case 0x96: stack.Add(ReadBytes(ref position, ReadLength(ref position, 8, pickle), pickle)); break; // BINBYTES8, BYTEARRAY8

                // Containers.
                case (byte)')': stack.Add(Array.Empty<object?>()); break; // EMPTY_TUPLE
                case (byte)'t': stack.Add(PopToMark(stack, marks).ToArray()); break; // TUPLE
                case 0x85: case 0x86: case 0x87: // TUPLE1, TUPLE2, TUPLE3
                    stack.Add(PopMany(stack, op - 0x84).ToArray());
                    break;
                case (byte)']': case 0x8f: stack.Add(new List<object?>()); break; // EMPTY_LIST, EMPTY_SET
                case (byte)'l': case 0x91: stack.Add(PopToMark(stack, marks)); break; // LIST, FROZENSET
                case (byte)'a': Expect<List<object?>>(Peek(stack, 1), "APPEND").Add(Pop(stack)); break; // APPEND
                case (byte)'e': case 0x90: // APPENDS, ADDITEMS
                {
                    List<object?> items = PopToMark(stack, marks);
                    Expect<List<object?>>(Peek(stack), "APPENDS").AddRange(items);
                    break;
                }
                case (byte)'}': stack.Add(new PickleDict()); break; // EMPTY_DICT
                case (byte)'d': // DICT
                {
                    var dict = new PickleDict();
                    dict.SetItems(PopToMark(stack, marks));
                    stack.Add(dict);
                    break;
                }
                case (byte)'s': // SETITEM
                {
                    List<object?> pair = PopMany(stack, 2);
                    Expect<PickleDict>(Peek(stack), "SETITEM").SetItems(pair);
                    break;
                }
                case (byte)'u': // SETITEMS
                {
                    List<object?> items = PopToMark(stack, marks);
                    Expect<PickleDict>(Peek(stack), "SETITEMS").SetItems(items);
                    break;
                }

                // Memo.
                case 0x94: memo[memo.Count] = Peek(stack); break; // MEMOIZE: Python stores it at len(memo)
                case (byte)'p': memo[ParseIndex(ReadLine(ref position, pickle))] = Peek(stack); break; // PUT
                case (byte)'q': memo[ReadLength(ref position, 1, pickle)] = Peek(stack); break; // BINPUT
                case (byte)'r': memo[ReadLength(ref position, 4, pickle)] = Peek(stack); break; // LONG_BINPUT
                case (byte)'g': stack.Add(FromMemo(memo, ParseIndex(ReadLine(ref position, pickle)))); break; // GET
                case (byte)'h': stack.Add(FromMemo(memo, ReadLength(ref position, 1, pickle))); break; // BINGET
                case (byte)'j': stack.Add(FromMemo(memo, ReadLength(ref position, 4, pickle))); break; // LONG_BINGET

                // Protocol framing.
                case 0x80: Skip(ref position, 1, pickle); break; // PROTO
                case 0x95: Skip(ref position, 8, pickle); break; // FRAME

                // The names a pickle can call: checked against the allowlist.
                case (byte)'c': // GLOBAL module\nname\n
                {
                    string module = ReadLine(ref position, pickle);
                    string name = ReadLine(ref position, pickle);
                    stack.Add(Require($"{module}.{name}"));
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    List<object?> parts = PopMany(stack, 2);
                    if (parts[0] is not string module || parts[1] is not string name)
                    {
                        throw new PickleRefusedException("The pickle names a Python object in a way MlpTools does not follow, so it is refused.", unsafeContent: true);
                    }
                    stack.Add(Require($"{module}.{name}"));
                    break;
                }
                case (byte)'R': case 0x81: // REDUCE, NEWOBJ: only allowed names can be called
                {
                    object? arguments = Pop(stack);
                    stack.Add(Call(Pop(stack), Expect<object?[]>(arguments, "REDUCE")));
                    break;
                }
                case (byte)'b': // BUILD: OrderedDict's state (the state_dict's _metadata) is not needed
                    Pop(stack);
                    Expect<PickleDict>(Peek(stack), "BUILD");
                    break;
                case (byte)'Q': // BINPERSID: torch's reference to a tensor's bytes in the zip
                    stack.Add(Storage(Pop(stack)));
                    break;
                case (byte)'i': // INST module\nname\n: builds an arbitrary class instance
                {
                    string module = ReadLine(ref position, pickle);
                    string name = ReadLine(ref position, pickle);
                    throw Refuse($"{module}.{name}");
                }
                case (byte)'o': case 0x92: case 0x82: case 0x83: case 0x84: // OBJ, NEWOBJ_EX, EXT1/2/4: not used by state_dicts
                    throw new PickleRefusedException($"The pickle uses opcode 0x{op:x2}, which builds arbitrary Python objects; a state_dict never needs it.", unsafeContent: true);
                default:
                    throw new PickleRefusedException($"The pickle has opcode 0x{op:x2} at byte {position - 1}, which MlpTools does not accept in a state_dict.", unsafeContent: true);
            }
        }
    }

    private static PickleGlobal Require(string qualifiedName)
    {
        if (qualifiedName == "torch._utils._rebuild_parameter")
        {
            throw new PickleRefusedException(
                "The file holds a whole pickled model (torch.save(model)), not a state_dict. In Python, save it with torch.save(model.state_dict(), path).",
                unsafeContent: false);
        }
        if (qualifiedName is not (OrderedDict or RebuildTensor or RebuildTensorV2) && !StorageTypes.ContainsKey(qualifiedName))
        {
            throw Refuse(qualifiedName);
        }
        return new PickleGlobal(qualifiedName);
    }

    private static object Call(object? callable, object?[] arguments)
    {
        switch ((callable as PickleGlobal)?.Name)
        {
            case OrderedDict when arguments.Length == 0:
                return new PickleDict();
            // OrderedDict(pairs), as PyBridge writes the empty backward hooks: OrderedDict(()).
            case OrderedDict when arguments is [IEnumerable<object?> pairs] && pairs.All(p => p is object?[] { Length: 2 }):
            {
                var dict = new PickleDict();
                dict.SetItems(pairs.SelectMany(p => (object?[])p!).ToList());
                return dict;
            }
            // _rebuild_tensor(storage, offset, size, stride) and _v2(..., requires_grad, backward_hooks[, metadata]).
            case RebuildTensor or RebuildTensorV2 when arguments.Length >= 4 &&
                arguments[0] is StorageRecord storage && arguments[1] is long offset &&
                arguments[2] is object?[] size && arguments[3] is object?[] stride && size.Length == stride.Length &&
                size.All(d => d is long) && stride.All(d => d is long):
            {
                var tensor = new TensorRecord(storage, offset, size.Cast<long>().ToArray(), stride.Cast<long>().ToArray());
                tensor.RequireWithinStorage();
                return tensor;
            }
            default:
                throw Damaged($"The pickle calls {(callable as PickleGlobal)?.Name ?? "something that is not a function"} with arguments a state_dict never gives it.");
        }
    }

    /// <summary>torch's persistent id of a storage: ('storage', storage type, key, location, number of values).</summary>
    private static StorageRecord Storage(object? id)
    {
        if (id is object?[] { Length: 5 } parts && parts[0] is "storage" && parts[1] is PickleGlobal type &&
            StorageTypes.TryGetValue(type.Name, out ScalarType dtype) && parts[2] is string key && parts[4] is long count && count >= 0)
        {
            return new StorageRecord(key, dtype, count);
        }
        throw Damaged("The pickle refers to tensor data in a way torch.save does not write.");
    }

    private static T Expect<T>(object? value, string opcode) =>
        value is T typed ? typed : throw Damaged($"The pickle's {opcode} is applied to a value it does not fit.");

    private static object? Pop(List<object?> stack)
    {
        object? value = Peek(stack);
        stack.RemoveAt(stack.Count - 1);
        return value;
    }

    private static object? Peek(List<object?> stack, int depth = 0) =>
        stack.Count > depth ? stack[stack.Count - 1 - depth] : throw Damaged("The pickle takes more values than it has put on its stack.");

    private static List<object?> PopMany(List<object?> stack, int count)
    {
        if (stack.Count < count)
        {
            throw Damaged("The pickle takes more values than it has put on its stack.");
        }
        List<object?> items = stack.GetRange(stack.Count - count, count);
        stack.RemoveRange(stack.Count - count, count);
        return items;
    }

    private static List<object?> PopToMark(List<object?> stack, Stack<int> marks)
    {
        if (marks.Count == 0 || marks.Peek() > stack.Count)
        {
            throw Damaged("The pickle closes a group it never opened.");
        }
        return PopMany(stack, stack.Count - marks.Pop());
    }

    private static object? FromMemo(Dictionary<long, object?> memo, long index) =>
        memo.TryGetValue(index, out object? value) ? value : throw Damaged("The pickle reads a memo slot it never wrote.");

    private static PickleRefusedException Damaged(string message) => new(message, unsafeContent: false);

    private static PickleRefusedException Refuse(string qualifiedName) => new(
        $"The pickle asks for the Python object '{qualifiedName}'. A state_dict holds only tensors and plain containers, and loading " +
        "a pickle that names anything else could run code, so MlpTools refuses it. If the file is yours, save it again with " +
        "torch.save(model.state_dict(), path).", unsafeContent: true);

    private static long ParseIndex(string text) => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long index) ? index : -1;

    private static object ParseInt(string text) => text switch
    {
        "01" => true,
        "00" => false,
        _ => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) ? value : throw Damaged("The pickle has an INT that is not a number."),
    };

    private static long ReadLong(ref int position, long length, byte[] pickle)
    {
        if (length > 8)
        {
            throw Damaged("The pickle has an integer wider than 64 bits, which no state_dict needs.");
        }
        int start = position;
        Skip(ref position, length, pickle);
        long value = 0;
        for (int i = (int)length - 1; i >= 0; i--)
        {
            value = (value << 8) | pickle[start + i];
        }
        // Two's complement of the given width: sign-extend from its top bit.
        int unused = 64 - 8 * (int)length;
        return length == 0 ? 0 : (value << unused) >> unused;
    }

    private static void Skip(ref int position, long count, byte[] pickle)
    {
        if (count < 0 || count > pickle.Length - position)
        {
            throw Damaged("The pickle is cut short inside an opcode: the file is truncated or damaged.");
        }
        position += (int)count;
    }

    private static long ReadLength(ref int position, int size, byte[] pickle)
    {
        int start = position;
        Skip(ref position, size, pickle);
        ReadOnlySpan<byte> bytes = pickle.AsSpan(start, size);
        return size switch
        {
            1 => bytes[0],
            2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
            4 => BinaryPrimitives.ReadInt32LittleEndian(bytes),
            _ => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        };
    }

    private static string ReadString(ref int position, long length, byte[] pickle) => Encoding.UTF8.GetString(ReadBytes(ref position, length, pickle));

    private static byte[] ReadBytes(ref int position, long length, byte[] pickle)
    {
        int start = position;
        Skip(ref position, length, pickle);
        return pickle.AsSpan(start, (int)length).ToArray();
    }

    private static string ReadLine(ref int position, byte[] pickle)
    {
        int end = Array.IndexOf(pickle, (byte)'\n', position, Math.Min(MaxLine, pickle.Length - position));
        if (end < 0)
        {
            throw Damaged("The pickle has a text argument without its line end: the file is truncated or damaged.");
        }
        string line = Encoding.UTF8.GetString(pickle, position, end - position);
        position = end + 1;
        return line;
    }

    private sealed record PickleGlobal(string Name);

    /// <summary>A dict or OrderedDict, its items in the order the pickle set them (a later value for a key replaces the earlier, as in Python).</summary>
    private sealed class PickleDict
    {
        public List<KeyValuePair<object?, object?>> Items { get; } = new();

        public void SetItems(List<object?> keysAndValues)
        {
            if (keysAndValues.Count % 2 != 0)
            {
                throw Damaged("The pickle sets a dictionary key without its value.");
            }
            for (int i = 0; i < keysAndValues.Count; i += 2)
            {
                object? key = keysAndValues[i];
                if (key is not (string or long or bool or null))
                {
                    throw Damaged("The pickle uses a dictionary key that is neither a string nor a number.");
                }
                int existing = Items.FindIndex(item => Equals(item.Key, key));
                if (existing >= 0)
                {
                    Items[existing] = new(key, keysAndValues[i + 1]);
                }
                else
                {
                    Items.Add(new(key, keysAndValues[i + 1]));
                }
            }
        }
    }
}

/// <summary>One of torch.save's storages: the zip entry data/KEY holding COUNT values of DTYPE.</summary>
internal sealed record StorageRecord(string Key, ScalarType DType, long Count);

/// <summary>A tensor of a torch.save'd state_dict: a view (offset, shape, strides in values) of a storage that other tensors may share.</summary>
internal sealed record TensorRecord(StorageRecord Storage, long Offset, long[] Shape, long[] Stride)
{
    /// <summary>Refuses a view that reaches outside its storage, before any memory is taken for it.</summary>
    public void RequireWithinStorage()
    {
        long last = Offset;
        bool empty = false;
        for (int i = 0; i < Shape.Length; i++)
        {
            if (Shape[i] < 0 || Stride[i] < 0)
            {
                throw new PickleRefusedException($"A tensor has a negative size or stride ([{string.Join(", ", Shape)}], [{string.Join(", ", Stride)}]).", unsafeContent: false);
            }
            empty |= Shape[i] == 0;
            if (!empty)
            {
                try
                {
                    last = checked(last + (Shape[i] - 1) * Stride[i]);
                }
                catch (OverflowException)
                {
                    last = long.MaxValue;
                }
            }
        }
        if (Offset < 0 || (!empty && last >= Storage.Count))
        {
            throw new PickleRefusedException(
                $"A tensor of shape [{string.Join(", ", Shape)}] at offset {Offset} with strides [{string.Join(", ", Stride)}] reaches beyond its storage of {Storage.Count} values.",
                unsafeContent: false);
        }
    }
}

/// <summary>A pickle the guard will not hand to the unpickler; <see cref="UnsafeContent"/> when it asks for code rather than being damaged.</summary>
internal sealed class PickleRefusedException(string message, bool unsafeContent, bool notAStateDict = false) : Exception(message)
{
    public bool UnsafeContent { get; } = unsafeContent;
    /// <summary>A sound pickle of something other than a state_dict (a checkpoint dict, a list, ...).</summary>
    public bool NotAStateDict { get; } = notAStateDict;
}
