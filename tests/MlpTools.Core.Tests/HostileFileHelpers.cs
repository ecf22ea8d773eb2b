using MlpTools.Core.Modeling;
using MlpTools.Core.Platform;
using System.IO.Compression;
using System.Security.Cryptography;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.ModelFilesTests;
using static MlpTools.Core.Tests.TestData;
using static TorchSharp.torch;

namespace MlpTools.Core.Tests;

/// <summary>
/// What the Hostile*Tests share. Files made to hurt (issue 11): each is refused with its error id before it can crash the
/// process, slip past a check or take unbounded memory, and the same session then still reads a good file. Every file is
/// crafted in the tests: pickles byte by byte, zips in memory, manifests and checkpoints edited.
/// </summary>
internal static class HostileFileHelpers
{
    public static readonly TrainingOptions Options = new() { Epochs = 2, BatchSize = 10, LearningRate = 0.01, Seed = 3 };

    /// <summary>Refused with <paramref name="errorId"/>, nothing in the folder changed, and a good file still imports afterwards.</summary>
    public static MlpToolsException Refused(string errorId, TempFolder folder, Action action)
    {
        var before = Snapshot(folder);
        var error = Fails(errorId, action);
        Assert.Equal(before, Snapshot(folder));
        using var model = Model();
        string good = folder.File($"good-{Guid.NewGuid():N}.mlp");
        ModelFiles.Export(model, good);
        using var back = ModelFiles.Import(good);
        Assert.Equal(model.Layers, back.Layers);
        File.Delete(good);
        return error;
    }

    private static string[] Snapshot(TempFolder folder) =>
        Directory.GetFiles(folder.Path).Order().Select(f => $"{Path.GetFileName(f)}:{Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f)))}").ToArray();

    /// <summary>Managed bytes allocated by <paramref name="action"/> on this thread (which is where the reader inflates entries).</summary>
    public static long Allocated(Action action)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    public static byte[] SafeTensors(Dictionary<string, Tensor> tensors)
    {
        using var buffer = new MemoryStream();
        StateDicts.WriteSafeTensors(tensors, buffer);
        return buffer.ToArray();
    }

    public static byte[] Entry(string path, string name)
    {
        using var zip = ZipFile.OpenRead(path);
        using var stream = zip.GetEntry(name)!.Open();
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The zip's entries in order, with one replaced (deflated) and one added first or last.</summary>
    public static byte[] Rezip(string path, (string Name, byte[] Content)? first = null, (string Name, byte[] Content)? last = null,
        (string Name, byte[] Content)? replace = null)
    {
        var entries = new List<(string, byte[])>();
        if (first is { } f)
        {
            entries.Add(f);
        }
        using (var zip = ZipFile.OpenRead(path))
        {
            foreach (var entry in zip.Entries)
            {
                entries.Add((entry.FullName, entry.FullName == replace?.Name ? replace.Value.Content : Entry(path, entry.FullName)));
            }
        }
        if (last is { } l)
        {
            entries.Add(l);
        }
        return Zip(entries.ToArray());
    }
}
