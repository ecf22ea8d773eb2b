using System.Buffers.Binary;
using System.Text;

namespace MlpTools.Core.Persistence.Onnx;

/// <summary>
/// Builds one protobuf message: fields appended in order, nested messages written with their length first. ONNX needs
/// only these few wire forms, so MlpTools writes them itself rather than taking a code generator and onnx.proto along.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream _buffer = new();

    public long Length => _buffer.Length;

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, 0);
        WriteVarint((ulong)value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
        _buffer.Write(bytes);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, 2);
        WriteVarint((ulong)value.Length);
        _buffer.Write(value);
        return this;
    }

    public ProtoWriter Message(int field, ProtoWriter message)
    {
        Tag(field, 2);
        WriteVarint((ulong)message._buffer.Length);
        message._buffer.Position = 0;
        message._buffer.CopyTo(_buffer);
        return this;
    }

    public void WriteTo(Stream stream)
    {
        _buffer.Position = 0;
        _buffer.CopyTo(stream);
    }

    private void Tag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer.WriteByte((byte)(value | 0x80));
            value >>= 7;
        }
        _buffer.WriteByte((byte)value);
    }
}

/// <summary>A protobuf that cannot be read: cut short, or with lengths and varints that do not fit.</summary>
internal sealed class ProtoFormatException(string message) : Exception(message);

/// <summary>
/// Reads the fields of one protobuf message in <c>[start, end)</c> of a buffer, without recursion of its own and without
/// allocating more than a field's own bytes: every length is checked against what is left of the message first.
/// </summary>
internal sealed class ProtoReader
{
    private readonly byte[] _buffer;
    private readonly int _end;
    private int _position;

    public ProtoReader(byte[] buffer, int start, int end)
    {
        _buffer = buffer;
        _position = start;
        _end = end;
    }

    public ProtoReader(byte[] buffer) : this(buffer, 0, buffer.Length)
    {
    }

    public int WireType { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next(out int field)
    {
        if (_position >= _end)
        {
            field = 0;
            return false;
        }
        ulong tag = ReadVarint();
        field = (int)Math.Min(tag >> 3, int.MaxValue);
        WireType = (int)(tag & 7);
        if (field == 0)
        {
            throw new ProtoFormatException($"a field numbered 0 at byte {_position}");
        }
        return true;
    }

    public long Int64() => Expect(0) ? (long)ReadVarint() : 0;

    public float Float()
    {
        Expect(5);
        Need(4);
        float value = BinaryPrimitives.ReadSingleLittleEndian(_buffer.AsSpan(_position, 4));
        _position += 4;
        return value;
    }

    public string String()
    {
        var (offset, length) = Span();
        return Encoding.UTF8.GetString(_buffer, offset, length);
    }

    /// <summary>The bytes of a length-delimited field, as a position and length in the buffer.</summary>
    public (int Offset, int Length) Span()
    {
        Expect(2);
        ulong length = ReadVarint();
        if (length > (ulong)(_end - _position))
        {
            throw new ProtoFormatException($"a field of {length} bytes where only {_end - _position} are left");
        }
        int offset = _position;
        _position += (int)length;
        return (offset, (int)length);
    }

    public ProtoReader Message()
    {
        var (offset, length) = Span();
        return new ProtoReader(_buffer, offset, offset + length);
    }

    /// <summary>A repeated int64 field, packed or not; <paramref name="into"/> takes at most <paramref name="limit"/> values.</summary>
    public void Int64s(List<long> into, int limit)
    {
        if (WireType == 0)
        {
            Add(into, (long)ReadVarint(), limit);
            return;
        }
        var packed = Message();
        while (packed._position < packed._end)
        {
            Add(into, (long)packed.ReadVarint(), limit);
        }
    }

    /// <summary>How many values a repeated float field holds (packed or not), reading past them.</summary>
    public long CountFloats()
    {
        if (WireType == 5)
        {
            Float();
            return 1;
        }
        return Span().Length / 4;
    }

    public void Skip()
    {
        switch (WireType)
        {
            case 0:
                ReadVarint();
                break;
            case 1:
                Need(8);
                _position += 8;
                break;
            case 2:
                Span();
                break;
            case 5:
                Need(4);
                _position += 4;
                break;
            default:
                // Groups (3, 4) are protobuf 2 features ONNX does not use.
                throw new ProtoFormatException($"wire type {WireType} at byte {_position}");
        }
    }

    private static void Add(List<long> into, long value, int limit)
    {
        if (into.Count >= limit)
        {
            throw new ProtoFormatException($"more than {limit} values in one list");
        }
        into.Add(value);
    }

    private bool Expect(int wireType)
    {
        if (WireType != wireType)
        {
            throw new ProtoFormatException($"wire type {WireType} where {wireType} belongs, at byte {_position}");
        }
        return true;
    }

    private void Need(int bytes)
    {
        if (_end - _position < bytes)
        {
            throw new ProtoFormatException($"the data ends inside a field at byte {_position}");
        }
    }

    private ulong ReadVarint()
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            Need(1);
            byte b = _buffer[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
        throw new ProtoFormatException($"a number longer than 10 bytes at byte {_position}");
    }
}
