namespace MlpTools.Core.Data.Tabular;

/// <summary>
/// Distinct texts of one column, each with a code in order of first appearance. Looks up a span of chars without
/// making a string (.NET 8's Dictionary cannot), so a million categorical cells allocate only their distinct values.
/// </summary>
internal sealed class CategoryTable
{
    private readonly List<string> _names = new();
    private readonly List<int> _hashes = new();
    private readonly List<int> _nextInBucket = new();
    private int[] _buckets = new int[16]; // code + 1 of the first entry in each bucket; 0: empty

    public int Count => _names.Count;

    public string this[int code] => _names[code];

    public IReadOnlyList<string> Names => _names;

    /// <summary>The text's code, or -1.</summary>
    public int IndexOf(ReadOnlySpan<char> text) => Find(text, string.GetHashCode(text));

    public int GetOrAdd(ReadOnlySpan<char> text)
    {
        int hash = string.GetHashCode(text);
        int code = Find(text, hash);
        return code >= 0 ? code : Add(text.ToString(), hash);
    }

    private int Find(ReadOnlySpan<char> text, int hash)
    {
        for (int entry = _buckets[hash & (_buckets.Length - 1)] - 1; entry >= 0; entry = _nextInBucket[entry])
        {
            if (_hashes[entry] == hash && text.SequenceEqual(_names[entry]))
            {
                return entry;
            }
        }
        return -1;
    }

    private int Add(string name, int hash)
    {
        int code = _names.Count;
        _names.Add(name);
        _hashes.Add(hash);
        _nextInBucket.Add(-1);
        if (_names.Count > _buckets.Length)
        {
            _buckets = new int[_buckets.Length * 2];
            for (int entry = 0; entry < _names.Count; entry++)
            {
                Link(entry);
            }
        }
        else
        {
            Link(code);
        }
        return code;
    }

    private void Link(int entry)
    {
        int bucket = _hashes[entry] & (_buckets.Length - 1);
        _nextInBucket[entry] = _buckets[bucket] - 1;
        _buckets[bucket] = entry + 1;
    }
}
