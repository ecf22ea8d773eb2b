using MlpTools.Core.Platform;
using System.Text;
using MlpTools.Core.Data;
using MlpTools.Core.Data.Images;
using MlpTools.Core.Data.Tabular;

namespace MlpTools.Core.Sweeps;

/// <summary>
/// A dataset as bytes, to send it once to each remote session of a sweep: its examples, answers, names and feature
/// schema, so that the copy has the same fingerprint and a model made from it the same preprocessing.
/// </summary>
public static class DatasetPayload
{
    private const string Magic = "MLPDSET1";

    public static byte[] Write(MlpDataset dataset)
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(dataset.Name);
            writer.Write(dataset.Split);
            writer.Write(dataset.Source);
            writer.Write(dataset.Count);
            writer.Write(dataset.ImageHeight);
            writer.Write(dataset.ImageWidth);
            writer.Write((int)dataset.ImagePreparation);
            WriteStrings(writer, dataset.ClassNames);
            WriteStrings(writer, dataset.TargetNames);
            writer.Write(dataset.Schema is not null);
            if (dataset.Schema is { } schema)
            {
                writer.Write(schema.Columns.Count);
                foreach (var column in schema.Columns)
                {
                    writer.Write(column.Name);
                    writer.Write((int)column.Kind);
                    WriteStrings(writer, column.Categories);
                }
            }
            WriteArray<byte>(writer, dataset.Pixels);
            WriteArray<float>(writer, dataset.Features);
            WriteArray<int>(writer, dataset.Labels);
            WriteArray<float>(writer, dataset.Targets);
        }
        return buffer.ToArray();
    }

    public static MlpDataset Read(byte[] payload)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(payload), Encoding.UTF8);
            if (reader.ReadString() != Magic)
            {
                throw new InvalidDataException("It does not start with the payload's mark.");
            }
            string name = reader.ReadString(), split = reader.ReadString(), source = reader.ReadString();
            int count = reader.ReadInt32(), height = reader.ReadInt32(), width = reader.ReadInt32();
            var preparation = (ImagePreparation)reader.ReadInt32();
            string[] classNames = ReadStrings(reader), targetNames = ReadStrings(reader);
            FeatureSchema? schema = null;
            if (reader.ReadBoolean())
            {
                var columns = new FeatureColumn[reader.ReadInt32()];
                for (int i = 0; i < columns.Length; i++)
                {
                    columns[i] = new FeatureColumn(reader.ReadString(), (ColumnKind)reader.ReadInt32(), ReadStrings(reader));
                }
                schema = new FeatureSchema(columns);
            }
            byte[]? pixels = ReadArray<byte>(reader);
            float[]? features = ReadArray<float>(reader);
            int[]? labels = ReadArray<int>(reader);
            float[]? targets = ReadArray<float>(reader);
            return MlpDataset.FromParts(name, split, source, count, pixels, features, labels, targets, classNames, targetNames, schema, height, width, preparation);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException or ArgumentException)
        {
            throw new MlpToolsException(ErrorIds.SweepDatasetPayloadInvalid,
                $"The dataset sent to this session is damaged: {e.Message} Run the sweep again; if it recurs, check that both ends run the same MlpTools.", null, e);
        }
    }

    private static void WriteStrings(BinaryWriter writer, IReadOnlyList<string> values)
    {
        writer.Write(values.Count);
        foreach (string value in values)
        {
            writer.Write(value);
        }
    }

    private static string[] ReadStrings(BinaryReader reader)
    {
        var values = new string[reader.ReadInt32()];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = reader.ReadString();
        }
        return values;
    }

    private static void WriteArray<T>(BinaryWriter writer, T[]? values) where T : unmanaged
    {
        writer.Write(values is null ? -1 : values.Length);
        if (values is not null)
        {
            writer.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()));
        }
    }

    private static T[]? ReadArray<T>(BinaryReader reader) where T : unmanaged
    {
        int length = reader.ReadInt32();
        if (length < 0)
        {
            return null;
        }
        var values = new T[length];
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        if (reader.Read(bytes) != bytes.Length)
        {
            throw new EndOfStreamException("It ends early.");
        }
        return values;
    }
}
