using System.Text;
using MlpTools.Core.Platform;

namespace MlpTools.Core.Data.Tabular;

/// <summary>
/// Reads a CSV file (header row, RFC 4180 quoting, UTF-8 with or without BOM, \n or \r\n) straight into
/// <see cref="TabularData"/>. Streams through a large byte buffer and hands each record's UTF-8 fields to the
/// <see cref="TableBuilder"/>, which parses numbers from the bytes: no string per cell.
/// </summary>
public static class CsvTableReader
{
    private const int InitialBufferSize = 1 << 20;
    private const int RowsBetweenCancellationChecks = 4096;

    public static TabularData Read(string path, char delimiter, TableBuilderOptions options, IProgress<double>? progress, CancellationToken cancel)
    {
        if (delimiter is '"' or '\r' or '\n' || delimiter > 127)
        {
            throw new MlpToolsException(ErrorIds.CsvDelimiterInvalid,
                $"'{delimiter}' cannot separate CSV fields. Use an ASCII character other than a quote or a line break, such as ',', ';' or a tab.", delimiter);
        }
        // Folders, devices, FIFOs (whose open would block) and link loops are refused before anything is opened.
        using var stream = RegularFile.OpenRead(path, () => new MlpToolsException(ErrorIds.CsvFileNotFound,
            $"'{path}' is not a file. Give the path of a CSV file.", path));
        var records = new CsvRecords(stream, (byte)delimiter, path);
        if (!records.MoveNext())
        {
            throw new MlpToolsException(ErrorIds.DataEmpty, $"'{path}' is empty: it needs a header row and data rows.", path);
        }
        string[] header = records.FieldsAsText();
        if (TableBuilder.FindRepeatedName(header) is string bad)
        {
            throw new MlpToolsException(ErrorIds.CsvHeaderInvalid,
                $"The header (line 1) of '{path}' has {(string.IsNullOrWhiteSpace(bad) ? "an empty column name" : $"the column name '{bad}' twice (names ignore case)")}. " +
                "Give every column a distinct name in the first line; check that the file has a header and that -Delimiter is right.", path);
        }

        var builder = new TableBuilder(header, options) { SourceName = path };
        long length = Math.Max(1, stream.Length);
        long lastReported = -1;
        while (records.MoveNext())
        {
            if (records.FieldCount != header.Length)
            {
                throw new MlpToolsException(ErrorIds.CsvRowRagged,
                    $"Line {records.Line} of '{path}' has {records.FieldCount} fields but the header has {header.Length}. Every row needs one field per " +
                    $"column; quote fields that contain the delimiter '{delimiter}' or line breaks, and check -Delimiter.", path);
            }
            builder.CurrentLine = records.Line;
            builder.AddRow(records.Record, records.Starts, records.Lengths);
            if (builder.RowCount % RowsBetweenCancellationChecks == 0)
            {
                cancel.ThrowIfCancellationRequested();
                if (progress is not null && records.BytesRead != lastReported)
                {
                    lastReported = records.BytesRead;
                    progress.Report((double)records.BytesRead / length);
                }
            }
        }
        cancel.ThrowIfCancellationRequested();
        TabularData data = builder.Build(path);
        progress?.Report(1.0);
        return data;
    }

    /// <summary>
    /// The records of a CSV stream, one at a time: each record's fields as offsets into its bytes (quotes removed and
    /// doubled quotes undone in place), valid until the next <see cref="MoveNext"/>. Blank lines are skipped.
    /// </summary>
    private sealed class CsvRecords(Stream stream, byte delimiter, string path)
    {
        private byte[] _buffer = new byte[InitialBufferSize];
        private int _position; // start of the next record
        private int _end; // end of the bytes read
        private bool _endOfFile;
        private bool _started;
        private int _recordStart;
        private int[] _starts = new int[64];
        private int[] _lengths = new int[64];
        private bool[] _escaped = new bool[64];
        private long _nextLine = 1;

        public long BytesRead { get; private set; }
        public int FieldCount { get; private set; }
        /// <summary>The 1-based file line the current record starts on.</summary>
        public long Line { get; private set; }
        public ReadOnlySpan<byte> Record => _buffer.AsSpan(_recordStart);
        public ReadOnlySpan<int> Starts => _starts.AsSpan(0, FieldCount);
        public ReadOnlySpan<int> Lengths => _lengths.AsSpan(0, FieldCount);

        public string[] FieldsAsText()
        {
            var texts = new string[FieldCount];
            for (int i = 0; i < FieldCount; i++)
            {
                texts[i] = Encoding.UTF8.GetString(Record.Slice(_starts[i], _lengths[i])).Trim();
            }
            return texts;
        }

        public bool MoveNext()
        {
            if (!_started)
            {
                _started = true;
                Fill();
                if (_end >= 3 && _buffer[0] == 0xEF && _buffer[1] == 0xBB && _buffer[2] == 0xBF)
                {
                    _position = 3; // the UTF-8 byte order mark
                }
            }
            while (true)
            {
                if (_position == _end && _endOfFile)
                {
                    return false;
                }
                if (!TryTokenize(out int next, out int lineBreaks))
                {
                    Fill();
                    continue;
                }
                Line = _nextLine;
                _nextLine += 1 + lineBreaks;
                _recordStart = _position;
                _position = next;
                if (FieldCount == 1 && _lengths[0] == 0 && !_escaped[0] && _buffer[_recordStart] != (byte)'"')
                {
                    continue; // a blank line
                }
                for (int i = 0; i < FieldCount; i++)
                {
                    _starts[i] -= _recordStart;
                    if (_escaped[i])
                    {
                        _lengths[i] = Unescape(_buffer.AsSpan(_recordStart + _starts[i], _lengths[i]));
                    }
                }
                return true;
            }
        }

        /// <summary>Keeps the unfinished record, moved to the front (or in a buffer twice the size), and reads more after it.</summary>
        private void Fill()
        {
            int kept = _end - _position;
            if (_position == 0 && kept == _buffer.Length && kept > 0)
            {
                Array.Resize(ref _buffer, (int)Math.Min(Array.MaxLength, _buffer.Length * 2L));
            }
            else if (_position > 0)
            {
                _buffer.AsSpan(_position, kept).CopyTo(_buffer);
            }
            _position = 0;
            _end = kept;
            while (_end < _buffer.Length)
            {
                int read = stream.Read(_buffer, _end, _buffer.Length - _end);
                if (read == 0)
                {
                    _endOfFile = true;
                    break;
                }
                _end += read;
                BytesRead += read;
            }
        }

        /// <summary>
        /// Finds the fields of the record at <see cref="_position"/>; false when the buffer ends before the record does
        /// (and more of the file is to come), so it is tokenized again after <see cref="Fill"/>.
        /// </summary>
        private bool TryTokenize(out int next, out int lineBreaks)
        {
            next = 0;
            lineBreaks = 0;
            FieldCount = 0;
            int p = _position;
            while (true)
            {
                if (p < _end && _buffer[p] == (byte)'"')
                {
                    int close = p + 1;
                    bool escaped = false;
                    while (true)
                    {
                        int quote = _buffer.AsSpan(close, _end - close).IndexOf((byte)'"');
                        if (quote < 0)
                        {
                            return _endOfFile ? throw QuoteError("a quoted field is never closed") : false;
                        }
                        close += quote;
                        if (close + 1 == _end && !_endOfFile)
                        {
                            return false; // cannot tell a closing quote from a doubled one yet
                        }
                        if (close + 1 < _end && _buffer[close + 1] == (byte)'"')
                        {
                            escaped = true;
                            close += 2;
                            continue;
                        }
                        break;
                    }
                    lineBreaks += _buffer.AsSpan(p + 1, close - p - 1).Count((byte)'\n');
                    AddField(p + 1, close - p - 1, escaped);
                    p = close + 1;
                    if (p == _end)
                    {
                        next = p; // end of file (otherwise we returned false above)
                        return true;
                    }
                    byte after = _buffer[p];
                    if (after == delimiter)
                    {
                        p++;
                        continue;
                    }
                    if (after == (byte)'\n')
                    {
                        next = p + 1;
                        return true;
                    }
                    if (after == (byte)'\r' && p + 1 == _end && !_endOfFile)
                    {
                        return false;
                    }
                    if (after == (byte)'\r' && (p + 1 == _end || _buffer[p + 1] == (byte)'\n'))
                    {
                        next = Math.Min(p + 2, _end);
                        return true;
                    }
                    throw QuoteError("a quoted field is followed by more text before the next delimiter");
                }

                int stop = _buffer.AsSpan(p, _end - p).IndexOfAny(delimiter, (byte)'\n');
                if (stop < 0)
                {
                    if (!_endOfFile)
                    {
                        return false;
                    }
                    AddField(p, WithoutCarriageReturn(p, _end), escaped: false);
                    next = _end;
                    return true;
                }
                int fieldEnd = p + stop;
                if (_buffer[fieldEnd] == delimiter)
                {
                    AddField(p, fieldEnd - p, escaped: false);
                    p = fieldEnd + 1;
                    continue;
                }
                AddField(p, WithoutCarriageReturn(p, fieldEnd), escaped: false);
                next = fieldEnd + 1;
                return true;
            }
        }

        private int WithoutCarriageReturn(int start, int end) => end > start && _buffer[end - 1] == (byte)'\r' ? end - 1 - start : end - start;

        private void AddField(int start, int length, bool escaped)
        {
            if (FieldCount == _starts.Length)
            {
                Array.Resize(ref _starts, FieldCount * 2);
                Array.Resize(ref _lengths, FieldCount * 2);
                Array.Resize(ref _escaped, FieldCount * 2);
            }
            _starts[FieldCount] = start;
            _lengths[FieldCount] = length;
            _escaped[FieldCount] = escaped;
            FieldCount++;
        }

        /// <summary>Turns each doubled quote into one, in place; returns the new length.</summary>
        private static int Unescape(Span<byte> field)
        {
            int written = 0;
            for (int read = 0; read < field.Length; read++, written++)
            {
                field[written] = field[read];
                if (field[read] == (byte)'"')
                {
                    read++;
                }
            }
            return written;
        }

        private MlpToolsException QuoteError(string problem) =>
            new(ErrorIds.CsvQuoteInvalid,
                $"Line {_nextLine} of '{path}' is not valid CSV: {problem}. A quoted field must end with a quote followed by the delimiter or " +
                "the end of the line, and a quote inside it must be doubled (\"\").", path);
    }
}
