using System.Text;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using Xunit;
using static MlpTools.Core.Tests.HostileFileHelpers;
using static MlpTools.Core.Tests.ModelFilesTests;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>torch.save files made to hurt or merely unusual (issue 11): storages, views and what their pickle claims.</summary>
public class HostileTorchFileTests
{

    // --- 5. memory bombs: sizes are checked against the architecture before anything is inflated ---------------------

    [Fact]
    public void ATorchStorageLargerThanItsTensorsIsRefusedBeforeItIsInflated()
    {
        using var folder = new TempFolder();
        // 16 Mi values claimed for a 16-8-2 network's 154 weights; the data entry is 64 MiB of deflated zeros.
        byte[] pickle = StateDictPickle(16 << 20, NotebookLayout(0, transposed: false));
        string path = folder.Write("bomb.pt", TorchFile(pickle, new byte[64 << 20]));

        long allocated = Allocated(() => Assert.Contains("more than the", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path, activation: Activation.ReLU)).Message));
        Assert.True(allocated < 16 << 20, $"{allocated} bytes allocated");
        // And a data entry longer than its storage is refused before it is read, too.
        string longer = folder.Write("longer.pt", TorchFile(StateDictPickle(154, NotebookLayout(0, transposed: false)), new byte[64 << 20]));
        Assert.Contains("claims", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(longer, activation: Activation.ReLU)).Message);
    }

    // --- 6. valid but unusual torch.save files -----------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TensorsSharingOneStorageAndTransposedTensorsLoadWithTheirValues(bool transposed)
    {
        using var folder = new TempFolder();
        // One storage of 154 values for all four tensors, as after torch.nn.utils.vector_to_parameters, the weights
        // optionally saved as .t() views (strides [1, rows]).
        float[] values = Enumerable.Range(0, 154).Select(i => (i - 77) / 64f).ToArray();
        var layout = NotebookLayout(0, transposed);
        string path = folder.Write("shared.pt", TorchFile(StateDictPickle(values.Length, layout), values.SelectMany(BitConverter.GetBytes).ToArray()));

        using var model = ModelFiles.Import(path, activation: Activation.ReLU);

        Assert.Equal("16-8-2", model.Layers);
        foreach (var (key, offset, shape, stride) in layout)
        {
            float[] actual = model.Network.state_dict()[key].data<float>().ToArray();
            var expected = new List<float>();
            for (long r = 0; r < shape[0]; r++)
            {
                for (long c = 0; c < (shape.Length > 1 ? shape[1] : 1); c++)
                {
                    expected.Add(values[offset + r * stride[0] + (shape.Length > 1 ? c * stride[1] : 0)]);
                }
            }
            Assert.Equal(expected, actual);
        }
    }

    [Fact]
    public void AViewReachingBeyondItsStorageIsRefused()
    {
        using var folder = new TempFolder();
        var layout = NotebookLayout(0, transposed: false);
        layout[3] = ("lin_2.bias", 153, new long[] { 2 }, new long[] { 1 });
        string path = folder.Write("beyond.pt", TorchFile(StateDictPickle(154, layout), new byte[154 * 4]));

        Assert.Contains("beyond its storage", Refused("ModelFileCorrupt", folder, () => ModelFiles.Import(path, activation: Activation.ReLU)).Message);
    }

    private static byte[] TorchFile(byte[] pickle, byte[] storage) =>
        Zip(("archive/data.pkl", pickle), ("archive/data/0", storage), ("archive/version", "3\n"u8.ToArray()));

    /// <summary>A 16-8-2 network's four tensors as views of one storage, the weights optionally transposed views.</summary>
    private static (string Key, int Offset, long[] Shape, long[] Stride)[] NotebookLayout(int start, bool transposed) => new[]
    {
        ("lin_1.weight", start, new long[] { 8, 16 }, transposed ? new long[] { 1, 8 } : new long[] { 16, 1 }),
        ("lin_1.bias", start + 128, new long[] { 8 }, new long[] { 1 }),
        ("lin_2.weight", start + 136, new long[] { 2, 8 }, transposed ? new long[] { 1, 2 } : new long[] { 8, 1 }),
        ("lin_2.bias", start + 152, new long[] { 2 }, new long[] { 1 }),
    };

    /// <summary>A state_dict pickle written opcode by opcode, as torch.save writes one: every tensor a view of storage '0'.</summary>
    private static byte[] StateDictPickle(long storageValues, params (string Key, int Offset, long[] Shape, long[] Stride)[] tensors)
    {
        var pickle = new List<byte> { 0x80, 2, (byte)'}', (byte)'(' };
        void Text(string text)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(text);
            pickle.Add((byte)'X');
            pickle.AddRange(BitConverter.GetBytes(bytes.Length));
            pickle.AddRange(bytes);
        }
        void Integer(long value)
        {
            pickle.Add((byte)'J');
            pickle.AddRange(BitConverter.GetBytes((int)value));
        }
        void Global(string module, string name) => pickle.AddRange(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        void Tuple(IEnumerable<long> items)
        {
            pickle.Add((byte)'(');
            foreach (long item in items)
            {
                Integer(item);
            }
            pickle.Add((byte)'t');
        }
        foreach (var (key, offset, shape, stride) in tensors)
        {
            Text(key);
            Global("torch._utils", "_rebuild_tensor_v2");
            pickle.Add((byte)'(');
            pickle.Add((byte)'(');
            Text("storage");
            Global("torch", "FloatStorage");
            Text("0");
            Text("cpu");
            Integer(storageValues);
            pickle.AddRange("tQ"u8.ToArray());
            Integer(offset);
            Tuple(shape);
            Tuple(stride);
            pickle.Add(0x89); // requires_grad False
            Global("collections", "OrderedDict");
            pickle.AddRange(")RtR"u8.ToArray());
        }
        pickle.AddRange("u."u8.ToArray());
        return pickle.ToArray();
    }
}
