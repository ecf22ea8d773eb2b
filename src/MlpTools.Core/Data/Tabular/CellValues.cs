using System.Globalization;
using System.Numerics;
using System.Text;

namespace MlpTools.Core.Data.Tabular;

/// <summary>
/// How one cell's text or object becomes a number or a category, the same way for CSV bytes, strings and
/// PowerShell's objects, so a file and its Import-Csv objects encode identically.
/// </summary>
internal static class CellValues
{
    private static readonly double[] PowersOfTen =
    {
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    };

    /// <summary>A number only if it is finite as float32, what the model computes in; NaN, Infinity and 1e39 are not.</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> text, out float value)
    {
        value = 0;
        return (TryParsePlainDecimal(text, out double parsed) ||
                double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out parsed)) && IsFiniteFloat(parsed, out value);
    }

    public static bool TryParseNumber(ReadOnlySpan<byte> utf8, out float value)
    {
        value = 0;
        return (TryParsePlainDecimal(utf8, out double parsed) ||
                double.TryParse(utf8, NumberStyles.Float, CultureInfo.InvariantCulture, out parsed)) && IsFiniteFloat(parsed, out value);
    }

    /// <summary>
    /// The common case of a CSV cell, "[-+]digits[.digits]" with at most 15 significant digits and 22 decimals, several times
    /// faster than double.TryParse and bit-identical to it: the digits and the power of ten are both exact doubles, and
    /// IEEE division rounds their quotient correctly (Clinger's fast path). Anything else is left to double.TryParse.
    /// </summary>
    internal static bool TryParsePlainDecimal<T>(ReadOnlySpan<T> text, out double value) where T : unmanaged, IBinaryInteger<T>
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (text.Length > 0 && int.CreateTruncating(text[0]) is '-' or '+')
        {
            negative = int.CreateTruncating(text[0]) == '-';
            i = 1;
        }
        ulong digits = 0;
        int significant = 0;
        int decimals = 0;
        bool anyDigit = false;
        bool afterPoint = false;
        for (; i < text.Length; i++)
        {
            int c = int.CreateTruncating(text[i]);
            uint digit = (uint)(c - '0');
            if (digit <= 9)
            {
                anyDigit = true;
                decimals += afterPoint ? 1 : 0;
                if (digits != 0 || digit != 0)
                {
                    if (++significant > 15)
                    {
                        return false;
                    }
                    digits = digits * 10 + digit;
                }
            }
            else if (c == '.' && !afterPoint)
            {
                afterPoint = true;
            }
            else
            {
                return false;
            }
        }
        if (!anyDigit || decimals >= PowersOfTen.Length)
        {
            return false;
        }
        value = decimals == 0 ? digits : digits / PowersOfTen[decimals];
        value = negative ? -value : value;
        return true;
    }

    /// <summary>The CLR numeric types, converted; false for anything else (text, bool, dates) and for non-finite values.</summary>
    public static bool TryGetNumber(object value, out float number)
    {
        number = 0;
        double asDouble;
        switch (value)
        {
            case double d: asDouble = d; break;
            case float f: asDouble = f; break;
            case int i: asDouble = i; break;
            case long l: asDouble = l; break;
            case decimal m: asDouble = (double)m; break;
            case short s: asDouble = s; break;
            case byte b: asDouble = b; break;
            case sbyte sb: asDouble = sb; break;
            case uint ui: asDouble = ui; break;
            case ulong ul: asDouble = ul; break;
            case ushort us: asDouble = us; break;
            default: return false;
        }
        return IsFiniteFloat(asDouble, out number);
    }

    private static bool IsFiniteFloat(double parsed, out float value)
    {
        value = (float)parsed;
        return float.IsFinite(value);
    }

    /// <summary>An object's text as a category or class name: invariant for numbers and dates, "True"/"False" for booleans.</summary>
    public static string ToText(object value) => value switch
    {
        string s => s,
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    public static bool IsBlank(ReadOnlySpan<byte> utf8)
    {
        foreach (byte b in utf8)
        {
            if (b != (byte)' ' && b != (byte)'\t' && b != (byte)'\r' && b != (byte)'\n' && b != (byte)'\v' && b != (byte)'\f')
            {
                return false;
            }
        }
        return true;
    }

    public static string DecodeUtf8(ReadOnlySpan<byte> utf8) => Encoding.UTF8.GetString(utf8);

    /// <summary>
    /// Categories and class names in a stable order: by value when every one is an integer ("2" before "10"),
    /// otherwise ordinal (culture-independent, so the same on every machine).
    /// </summary>
    public static string[] SortNames(IEnumerable<string> names)
    {
        string[] sorted = names.ToArray();
        var integers = new long[sorted.Length];
        bool allIntegers = true;
        for (int i = 0; i < sorted.Length && allIntegers; i++)
        {
            allIntegers = long.TryParse(sorted[i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out integers[i]);
        }
        if (allIntegers)
        {
            // Texts of equal value ("01", "1") keep an ordinal tie-break, so the order never depends on the input's order.
            Array.Sort(sorted.Select((name, i) => (integers[i], name)).ToArray(), sorted,
                Comparer<(long Value, string Name)>.Create((a, b) => a.Value != b.Value ? a.Value.CompareTo(b.Value) : string.CompareOrdinal(a.Name, b.Name)));
        }
        else
        {
            Array.Sort(sorted, StringComparer.Ordinal);
        }
        return sorted;
    }

    /// <summary>A list of names for a message, cut after a few so a column of a thousand categories stays readable.</summary>
    public static string Quote(IReadOnlyList<string> names, int limit = 20)
    {
        string shown = string.Join(", ", names.Take(limit).Select(n => $"'{n}'"));
        return names.Count > limit ? $"{shown} and {names.Count - limit} more" : shown;
    }
}
