using System.Buffers.Binary;
using System.Text;

namespace MlpTools.Core.Persistence;

/// <summary>
/// Reads a pickle's opcodes without running any of them, and refuses the pickle unless every Python name it asks for
/// is one a PyTorch state_dict needs (the tensor rebuild function, the storage types, OrderedDict).
/// </summary>
/// <remarks>
/// Why: a pickle is a program. Python runs whatever callable it names (os.system, eval, ...), which is why
/// torch.load has weights_only. The .NET unpickler PyBridge uses (Razorvine.Pickle) cannot run Python, but it turns any
/// name it does not know into a placeholder object and carries on, and what it does with them is not a contract.
/// Checking the names first, with an allowlist as torch.load(weights_only=True) does, refuses such files with a clear
/// error before the unpickler sees them. Opcodes this reader does not know are refused too (fail closed).
/// </remarks>
internal static class PickleGuard
{
    /// <summary>The names a torch.save'd state_dict may use. Anything else is refused.</summary>
    private static readonly HashSet<string> Allowed = new(StringComparer.Ordinal)
    {
        "collections.OrderedDict",
        "torch._utils._rebuild_tensor",
        "torch._utils._rebuild_tensor_v2",
        "torch.FloatStorage", "torch.DoubleStorage", "torch.HalfStorage", "torch.BFloat16Storage",
        "torch.LongStorage", "torch.IntStorage", "torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage", "torch.BoolStorage",
    };

    private const int MaxLine = 4096;

    /// <summary>Throws <see cref="PickleRefusedException"/> unless the pickle only builds tensors and plain containers.</summary>
    public static void Check(byte[] pickle)
    {
        var names = new List<string>();
        // Just enough of the pickle machine to know what STACK_GLOBAL names: the last values pushed (a string, or null for
        // anything else) and the strings stored in the memo.
        var recent = new List<string?>();
        var memo = new Dictionary<long, string?>();
        int position = 0;

        while (true)
        {
            if (position >= pickle.Length)
            {
                throw new PickleRefusedException("The pickle ends without its STOP opcode: the file is truncated or damaged.", unsafeContent: false);
            }
            byte op = pickle[position++];
            switch (op)
            {
                case (byte)'.': // STOP
                    return;

                // Opcodes without an argument that push or change values the guard does not track.
                case (byte)'N': case 0x88: case 0x89: // NONE, NEWTRUE, NEWFALSE
                case (byte)']': case (byte)')': case (byte)'}': case 0x8f: // EMPTY_LIST, EMPTY_TUPLE, EMPTY_DICT, EMPTY_SET
                case (byte)'a': case (byte)'e': case (byte)'l': case (byte)'t': // APPEND, APPENDS, LIST, TUPLE
                case 0x85: case 0x86: case 0x87: // TUPLE1, TUPLE2, TUPLE3
                case (byte)'d': case (byte)'s': case (byte)'u': case 0x90: case 0x91: // DICT, SETITEM, SETITEMS, ADDITEMS, FROZENSET
                case (byte)'0': case (byte)'2': case (byte)'(': case (byte)'1': // POP, DUP, MARK, POP_MARK
                case (byte)'R': case (byte)'b': case 0x81: // REDUCE, BUILD, NEWOBJ: only allowed names can be called
                case (byte)'Q': // BINPERSID: torch's reference to a tensor's bytes in the zip
                    recent.Add(null);
                    break;
                case 0x94: // MEMOIZE
                    memo[memo.Count] = Last(recent); // Python stores it at len(memo)
                    break;

                // Numbers.
                case (byte)'J': Skip(ref position, 4, pickle); recent.Add(null); break; // BININT
                case (byte)'K': Skip(ref position, 1, pickle); recent.Add(null); break; // BININT1
                case (byte)'M': Skip(ref position, 2, pickle); recent.Add(null); break; // BININT2
                case (byte)'G': Skip(ref position, 8, pickle); recent.Add(null); break; // BINFLOAT
                case (byte)'I': case (byte)'L': case (byte)'F': ReadLine(ref position, pickle); recent.Add(null); break; // INT, LONG, FLOAT
                case 0x8a: Skip(ref position, ReadLength(ref position, 1, pickle), pickle); recent.Add(null); break; // LONG1
                case 0x8b: Skip(ref position, ReadLength(ref position, 4, pickle), pickle); recent.Add(null); break; // LONG4

                // Strings: tracked, since STACK_GLOBAL takes its module and name from them.
                case (byte)'X': recent.Add(ReadString(ref position, ReadLength(ref position, 4, pickle), pickle)); break; // BINUNICODE
                case 0x8c: recent.Add(ReadString(ref position, ReadLength(ref position, 1, pickle), pickle)); break; // SHORT_BINUNICODE
                case 0x8d: recent.Add(ReadString(ref position, ReadLength(ref position, 8, pickle), pickle)); break; // BINUNICODE8
                case (byte)'V': recent.Add(ReadLine(ref position, pickle)); break; // UNICODE (raw-unicode-escaped; plain names are ASCII)
                case (byte)'S': ReadLine(ref position, pickle); recent.Add(null); break; // STRING (quoted repr)
                case (byte)'T': case (byte)'B': Skip(ref position, ReadLength(ref position, 4, pickle), pickle); recent.Add(null); break; // BINSTRING, BINBYTES
                case (byte)'U': case (byte)'C': Skip(ref position, ReadLength(ref position, 1, pickle), pickle); recent.Add(null); break; // SHORT_BINSTRING, SHORT_BINBYTES
                case 0x8e: case 0x96: Skip(ref position, ReadLength(ref position, 8, pickle), pickle); recent.Add(null); break; // BINBYTES8, BYTEARRAY8

                // Memo.
                case (byte)'g': recent.Add(memo.GetValueOrDefault(ParseIndex(ReadLine(ref position, pickle)))); break; // GET
                case (byte)'h': recent.Add(memo.GetValueOrDefault(ReadLength(ref position, 1, pickle))); break; // BINGET
                case (byte)'j': recent.Add(memo.GetValueOrDefault(ReadLength(ref position, 4, pickle))); break; // LONG_BINGET
                case (byte)'p': memo[ParseIndex(ReadLine(ref position, pickle))] = Last(recent); break; // PUT
                case (byte)'q': memo[ReadLength(ref position, 1, pickle)] = Last(recent); break; // BINPUT
                case (byte)'r': memo[ReadLength(ref position, 4, pickle)] = Last(recent); break; // LONG_BINPUT

                // Protocol framing.
                case 0x80: Skip(ref position, 1, pickle); break; // PROTO
                case 0x95: Skip(ref position, 8, pickle); break; // FRAME
                case (byte)'P': ReadLine(ref position, pickle); recent.Add(null); break; // PERSID

                // The names a pickle can call: checked against the allowlist.
                case (byte)'c': // GLOBAL module\nname\n
                {
                    string module = ReadLine(ref position, pickle);
                    string name = ReadLine(ref position, pickle);
                    Require($"{module}.{name}", names);
                    recent.Add(null);
                    break;
                }
                case 0x93: // STACK_GLOBAL
                {
                    string? name = recent.Count > 0 ? recent[^1] : null;
                    string? module = recent.Count > 1 ? recent[^2] : null;
                    if (module is null || name is null)
                    {
                        throw new PickleRefusedException("The pickle names a Python object in a way MlpTools does not follow, so it is refused.", unsafeContent: true);
                    }
                    Require($"{module}.{name}", names);
                    recent.Add(null);
                    break;
                }
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

    private static void Require(string qualifiedName, List<string> names)
    {
        if (qualifiedName == "torch._utils._rebuild_parameter")
        {
            throw new PickleRefusedException(
                "The file holds a whole pickled model (torch.save(model)), not a state_dict. In Python, save it with torch.save(model.state_dict(), path).",
                unsafeContent: false);
        }
        if (!Allowed.Contains(qualifiedName))
        {
            throw Refuse(qualifiedName);
        }
        names.Add(qualifiedName);
    }

    private static PickleRefusedException Refuse(string qualifiedName) => new(
        $"The pickle asks for the Python object '{qualifiedName}'. A state_dict holds only tensors and plain containers, and loading " +
        "a pickle that names anything else could run code, so MlpTools refuses it. If the file is yours, save it again with " +
        "torch.save(model.state_dict(), path).", unsafeContent: true);

    private static string? Last(List<string?> recent) => recent.Count > 0 ? recent[^1] : null;

    private static long ParseIndex(string text) => long.TryParse(text, out long index) ? index : -1;

    private static void Skip(ref int position, long count, byte[] pickle)
    {
        if (count < 0 || count > pickle.Length - position)
        {
            throw new PickleRefusedException("The pickle is cut short inside an opcode: the file is truncated or damaged.", unsafeContent: false);
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

    private static string ReadString(ref int position, long length, byte[] pickle)
    {
        int start = position;
        Skip(ref position, length, pickle);
        return Encoding.UTF8.GetString(pickle, start, (int)length);
    }

    private static string ReadLine(ref int position, byte[] pickle)
    {
        int end = Array.IndexOf(pickle, (byte)'\n', position, Math.Min(MaxLine, pickle.Length - position));
        if (end < 0)
        {
            throw new PickleRefusedException("The pickle has a text argument without its line end: the file is truncated or damaged.", unsafeContent: false);
        }
        string line = Encoding.UTF8.GetString(pickle, position, end - position);
        position = end + 1;
        return line;
    }
}

/// <summary>A pickle the guard will not hand to the unpickler; <see cref="UnsafeContent"/> when it asks for code rather than being damaged.</summary>
internal sealed class PickleRefusedException(string message, bool unsafeContent) : Exception(message)
{
    public bool UnsafeContent { get; } = unsafeContent;
}
