using System.Diagnostics;
using MlpTools.Core.Data;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Platform;
using MlpTools.Core.Training;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

/// <summary>
/// The shared "regular files only" rule (RegularFile) and the atomic writer every writer uses: FIFOs, devices, link loops
/// and folders refused before anything is opened or renamed; create-exclusive publishing; short temporary names;
/// stoppable reads. (Device nodes made with mknod need root: Pester's OddPaths.Tests covers them.)
/// </summary>
[Collection(LibTorchThreadCountCollection.Name)]
public class RegularFileTests
{
    private static string MakeFifo(TempFolder folder, string name)
    {
        string path = folder.File(name);
        using var mkfifo = Process.Start("mkfifo", path);
        mkfifo.WaitForExit();
        Assert.Equal(0, mkfifo.ExitCode);
        return path;
    }

    private static string MakeLoop(TempFolder folder, string name)
    {
        string path = folder.File(name);
        File.CreateSymbolicLink(path, folder.File(name + "-back"));
        File.CreateSymbolicLink(folder.File(name + "-back"), path);
        return path;
    }

    private static string[] Listing(TempFolder folder) => Directory.GetFileSystemEntries(folder.Path).Select(Path.GetFileName).Order().ToArray()!;

    [Fact]
    public void InspectTellsWhatAPathNames()
    {
        using var folder = new TempFolder();
        string file = folder.Write("file", new byte[] { 1 });
        File.CreateSymbolicLink(folder.File("link"), file);

        Assert.Equal(RegularFile.Kind.Regular, RegularFile.Inspect(file));
        Assert.Equal(RegularFile.Kind.Regular, RegularFile.Inspect(folder.File("link")));
        Assert.Equal(RegularFile.Kind.Missing, RegularFile.Inspect(folder.File("none")));
        Assert.Equal(RegularFile.Kind.Missing, RegularFile.Inspect(Path.Combine(file, "below-a-file")));
        Assert.Equal(RegularFile.Kind.Folder, RegularFile.Inspect(folder.Path));
        Assert.Equal(RegularFile.Kind.Fifo, RegularFile.Inspect(MakeFifo(folder, "fifo")));
        Assert.Equal(RegularFile.Kind.LinkLoop, RegularFile.Inspect(MakeLoop(folder, "loop")));
        Assert.Equal(RegularFile.Kind.CharacterDevice, RegularFile.Inspect("/dev/null"));
    }

    [Fact]
    public void ReadersRefuseAFifoALinkLoopAndADeviceWithoutOpeningThem()
    {
        using var folder = new TempFolder();
        string fifo = MakeFifo(folder, "fifo");
        string loop = MakeLoop(folder, "loop");

        // Had any of these opened the FIFO, the test would hang here rather than fail.
        Assert.Equal(FailureKind.InvalidArgument, Fails("NotARegularFile", () => IdxReader.Read(fifo, 1)).Kind);
        Fails("NotARegularFile", () => IdxReader.ReadDimensions(fifo, 1));
        Fails("NotARegularFile", () => ModelFiles.Import(fifo));
        Fails("NotARegularFile", () => TrainingCheckpoint.Resume(fifo, Separable(), null));
        Fails("NotARegularFile", () => ModelFiles.Import("/dev/null"));
        Assert.Equal(FailureKind.InvalidArgument, Fails("SymbolicLinkLoop", () => IdxReader.Read(loop, 1)).Kind);
        Fails("SymbolicLinkLoop", () => ModelFiles.Import(loop));
        Fails("PathIsFolder", () => ModelFiles.Import(folder.Path));
        Assert.Equal(RegularFile.Kind.Fifo, RegularFile.Inspect(fifo));
    }

    [Fact]
    public void AnIdxFileThatFailsToReadIsIdxFileReadFailedNotACrash()
    {
        // A regular file to stat() whose first read fails with EIO: nothing is mapped at address 0.
        var error = Fails("IdxFileReadFailed", () => IdxReader.Read("/proc/self/mem", 1));
        Assert.Equal(FailureKind.ResourceUnavailable, error.Kind);
        Fails("IdxFileReadFailed", () => IdxReader.ReadDimensions("/proc/self/mem", 1));
    }

    [Fact]
    public void WritersRefuseAFifoALinkToADeviceAndALinkLoopAndLeaveThemAsTheyWere()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string fifo = MakeFifo(folder, "fifo");
        string loop = MakeLoop(folder, "loop");
        string device = folder.File("null");
        File.CreateSymbolicLink(device, "/dev/null");
        string[] before = Listing(folder);

        foreach (string target in new[] { fifo, device })
        {
            Fails("NotARegularFile", () => ModelFiles.Export(model, target, overwrite: true));
            Fails("NotARegularFile", () => ModelFiles.Export(model, target));
            Fails("NotARegularFile", () => AtomicFile.Write(target, s => s.WriteByte(1)));
            Fails("NotARegularFile", () => TrainingCheckpoint.WriteTo(target));
        }
        Fails("SymbolicLinkLoop", () => ModelFiles.Export(model, loop, overwrite: true));
        Fails("SymbolicLinkLoop", () => TrainingCheckpoint.WriteTo(loop));

        Assert.Equal(before, Listing(folder));
        Assert.Equal(RegularFile.Kind.Fifo, RegularFile.Inspect(fifo));
        Assert.Equal("/dev/null", new FileInfo(device).LinkTarget);
    }

    [Fact]
    public void AtMostOneOfSeveralWritersThatAllSawNoFilePublishesWithoutForce()
    {
        using var folder = new TempFolder();
        string path = folder.File("m.mlp");
        const int writers = 6;
        // Every writer has passed the existence check and holds its temporary file before any of them publishes.
        using var allWritten = new Barrier(writers);
        var outcomes = new string[writers];

        Parallel.For(0, writers, new ParallelOptions { MaxDegreeOfParallelism = writers }, i =>
        {
            try
            {
                AtomicFile.Write(path, stream =>
                {
                    stream.WriteByte((byte)i);
                    allWritten.SignalAndWait(TimeSpan.FromSeconds(30));
                }, refuseExisting: ModelFileErrors.Exists);
                outcomes[i] = "wrote";
            }
            catch (MlpToolsException e)
            {
                outcomes[i] = e.ErrorId;
            }
        });

        Assert.Equal(1, outcomes.Count(o => o == "wrote"));
        Assert.Equal(writers - 1, outcomes.Count(o => o == "ModelFileExists"));
        Assert.Equal(new[] { (byte)Array.IndexOf(outcomes, "wrote") }, File.ReadAllBytes(path));
        Assert.Equal(new[] { "m.mlp" }, Listing(folder));
    }

    [Fact]
    public void ReplacingStillReplacesAndAFileThatAppearsIsStillRefusedWithoutForce()
    {
        using var folder = new TempFolder();
        string path = folder.File("p.png");
        AtomicFile.Write(path, s => s.WriteByte(1));
        AtomicFile.Write(path, s => s.WriteByte(2));
        Assert.Equal(new byte[] { 2 }, File.ReadAllBytes(path));

        string late = folder.File("late.mlp");
        Fails("ModelFileExists", () => AtomicFile.Write(late, s => File.WriteAllText(late, "someone else's"), refuseExisting: ModelFileErrors.Exists));
        Assert.Equal("someone else's", File.ReadAllText(late));
        Assert.Equal(new[] { "late.mlp", "p.png" }, Listing(folder));
    }

    [Fact]
    public void TemporaryNamesStayShortForTheLongestNamesAndKeepSurrogatePairsWhole()
    {
        using var folder = new TempFolder();
        string longest = new string('n', 251) + ".mlp";
        string temporary = Path.GetFileName(AtomicFile.TemporaryPath(folder.Path, longest));
        Assert.StartsWith("." + new string('n', 64) + ".", temporary);
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(temporary) < 100, temporary);

        string emoji = new string('a', 63) + "\U0001F600" + "tail";
        string cut = Path.GetFileName(AtomicFile.TemporaryPath(folder.Path, emoji));
        Assert.StartsWith("." + new string('a', 63) + ".", cut);

        using var model = Model();
        ModelFiles.Export(model, folder.File(longest));
        ModelFiles.Export(model, folder.File(longest), overwrite: true);
        Assert.Equal(new[] { longest }, Listing(folder));
    }

    [Fact]
    public void ACheckpointPathMustHoldACheckpointOrNothing()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string modelFile = folder.File("model.mlp");
        ModelFiles.Export(model, modelFile);
        string text = folder.Write("notes.txt", "keep me"u8.ToArray());
        byte[] modelBytes = File.ReadAllBytes(modelFile);

        Assert.Equal(FailureKind.ResourceExists, Fails("CheckpointPathOccupied", () => TrainingCheckpoint.WriteTo(modelFile)).Kind);
        Fails("CheckpointPathOccupied", () => TrainingCheckpoint.WriteTo(text));
        Fails("FolderNotFound", () => TrainingCheckpoint.WriteTo(folder.File("no/such/run.ckpt")));
        Assert.Equal(modelBytes, File.ReadAllBytes(modelFile));
        Assert.Equal("keep me", File.ReadAllText(text));

        // A checkpoint may be replaced by a new run's.
        var checkpoint = TrainingCheckpoint.WriteTo(folder.File("run.ckpt"));
        Trainer.Train(model, Separable(), null, new TrainingOptions { Epochs = 1, BatchSize = 8, Seed = 1 }, checkpoint: checkpoint).ToList();
        Assert.Equal(checkpoint.Path, TrainingCheckpoint.WriteTo(checkpoint.Path).Path);
    }

    [Fact]
    public void AStopRequestEndsAReadBetweenChunks()
    {
        using var folder = new TempFolder();
        using var model = Model();
        string modelFile = folder.File("m.mlp");
        ModelFiles.Export(model, modelFile);
        string images = WriteIdx(folder.File("images"), new[] { 2, 2, 2 }, new byte[8]);
        string gzipped = WriteIdx(folder.File("images.gz"), new[] { 2, 2, 2 }, new byte[8], gzip: true);
        using var stop = new CancellationTokenSource();
        stop.Cancel();

        Assert.ThrowsAny<OperationCanceledException>(() => ModelFiles.Import(modelFile, cancel: stop.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => IdxReader.Read(images, 3, stop.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => IdxReader.Read(gzipped, 3, stop.Token));
        Assert.ThrowsAny<OperationCanceledException>(() => TrainingCheckpoint.Resume(modelFile, Separable(), null, stop.Token));
    }

    [Fact]
    public void AMultiMemberGzipIdxFileReadsWholeAndItsLastTrailerIsStillChecked()
    {
        using var folder = new TempFolder();
        byte[] pixels = Enumerable.Range(0, 3 * 2 * 2).Select(i => (byte)(i * 7)).ToArray();
        byte[] content = Idx(new[] { 3, 2, 2 }, pixels);
        // As `cat a.gz b.gz c.gz` makes it, split inside the header and inside the data; the last member is empty.
        byte[] members = Gzip(content[..6]).Concat(Gzip(content[6..20])).Concat(Gzip(content[20..])).Concat(Gzip(Array.Empty<byte>())).ToArray();
        string path = folder.Write("images.gz", members);

        var read = IdxReader.Read(path, 3);
        Assert.Equal(new[] { 3, 2, 2 }, read.Dimensions);
        Assert.Equal(pixels, read.Data);

        byte[] twoMembers = Gzip(content[..20]).Concat(Gzip(content[20..])).ToArray();
        Assert.Equal(pixels, IdxReader.Read(folder.Write("two.gz", twoMembers), 3).Data);
        foreach (int cut in new[] { 1, 4, 7 })
        {
            Fails("IdxGzipInvalid", () => IdxReader.Read(folder.Write($"cut{cut}.gz", twoMembers[..^cut]), 3));
        }
    }

    /// <summary>A -ThreadCount scope held open on a thread of its own until released, as a command in another runspace holds it.</summary>
    private sealed class HeldThreadCount : IDisposable
    {
        private readonly ManualResetEventSlim _started = new(), _release = new();
        private readonly Thread _thread;

        public HeldThreadCount(int count)
        {
            _thread = new Thread(() =>
            {
                using (TorchRuntime.UseThreads(count))
                {
                    _started.Set();
                    _release.Wait(TimeSpan.FromSeconds(30));
                    CountAtEnd = TorchRuntime.ThreadCount;
                }
                CountAfter = TorchRuntime.ThreadCount;
            });
            _thread.Start();
            Assert.True(_started.Wait(TimeSpan.FromSeconds(30)));
        }

        /// <summary>The thread's own count just before its scope ended, and after.</summary>
        public int? CountAtEnd { get; private set; }
        public int? CountAfter { get; private set; }

        public void Dispose()
        {
            _release.Set();
            _thread.Join();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void OverlappingThreadCountsEachHoldTheirOwnAndTheDefaultComesBackWhenTheLastEnds(bool firstEndsFirst)
    {
        int original = TorchRuntime.DefaultThreadCount!.Value;
        int[] others = new[] { 1, 2, 3 }.Where(c => c != original).ToArray();
        int mine = TorchRuntime.ThreadCount!.Value;

        var a = new HeldThreadCount(others[0]);
        Assert.Equal(others[0], TorchRuntime.DefaultThreadCount);
        // This thread of B's meets libtorch while A's count is the default: it must not keep it afterwards.
        var b = new HeldThreadCount(others[1]);
        Assert.Equal(others[1], TorchRuntime.DefaultThreadCount);
        (firstEndsFirst ? a : b).Dispose();
        (firstEndsFirst ? b : a).Dispose();

        Assert.Equal(others[0], a.CountAtEnd);
        Assert.Equal(others[1], b.CountAtEnd);
        Assert.Equal(original, a.CountAfter);
        Assert.Equal(original, b.CountAfter);
        Assert.Equal(original, TorchRuntime.DefaultThreadCount);
        Assert.Equal(mine, TorchRuntime.ThreadCount);
    }
}
