using System.Text;
using MlpTools.Core.Persistence;
using MlpTools.Core.Platform;
using Xunit;
using static MlpTools.Core.Tests.ModelFilesTests;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class PickleGuardTests
{
    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    /// <summary>Protocol 2 pickles, as torch.save writes them, that ask Python to run code.</summary>
    public static TheoryData<string, byte[], string> HostilePickles => new()
    {
        // os.system('touch pwned') through GLOBAL + REDUCE, the classic.
        { "GLOBAL posix.system", Ascii("\u0080\u0002cposix\nsystem\nq\u0000X\u000b\u0000\u0000\u0000touch pwnedq\u0001\u0085q\u0002Rq\u0003."), "posix.system" },
        // builtins.eval through STACK_GLOBAL (protocol 4), the module name taken back from the memo.
        { "STACK_GLOBAL builtins.eval", Ascii("\u0080\u0004\u008c\u0008builtins\u0094\u008c\u0004eval\u0094\u0093\u008c\u00041+1\u0094\u0085R."), "builtins.eval" },
        { "STACK_GLOBAL via BINGET", Ascii("\u0080\u0004\u008c\u0002os\u0094\u008c\u0006getcwd\u0094h\u0000h\u0001\u0093)R."), "os.getcwd" },
        // INST builds an instance of any class.
        { "INST subprocess.Popen", Ascii("(S'ls'\nisubprocess\nPopen\n."), "subprocess.Popen" },
        // An allowed name is not enough when the rest of the file asks for more.
        { "allowed then hostile", Ascii("\u0080\u0002ccollections\nOrderedDict\n)Rcbuiltins\nexec\n."), "builtins.exec" },
    };

    [Theory]
    [MemberData(nameof(HostilePickles))]
    public void APickleThatAsksForCodeIsRefusedBeforeItIsUnpickled(string name, byte[] pickle, string culprit)
    {
        using var folder = new TempFolder();
        string path = folder.Write("hostile.pt", TorchZip(pickle));

        var error = Fails("ModelFileUnsafe", () => ModelFiles.Import(path));

        Assert.True(error.Message.Contains($"'{culprit}'"), $"{name}: {error.Message}");
        Assert.Equal(FailureKind.InvalidData, error.Kind);
    }

    [Theory]
    [InlineData("OBJ", "(\u0080\u0002o.")]
    [InlineData("EXT1", "\u0080\u0002\u0082\u0001.")]
    [InlineData("NEWOBJ_EX", "\u0080\u0004\u0092.")]
    [InlineData("an unknown opcode", "\u0080\u0002\u00ff.")]
    public void OpcodesThatBuildArbitraryObjectsOrAreUnknownAreRefused(string name, string pickle)
    {
        Assert.True(Assert.Throws<PickleRefusedException>(() => PickleGuard.Check(Ascii(pickle))).UnsafeContent, name);
    }

    [Theory]
    [InlineData("no STOP", "\u0080\u0002}")]
    [InlineData("cut inside a string", "\u0080\u0002X\u00ff\u0000\u0000\u0000abc")]
    [InlineData("GLOBAL without its line end", "\u0080\u0002ctorch._utils")]
    public void ATruncatedPickleIsDamageNotDanger(string name, string pickle)
    {
        Assert.False(Assert.Throws<PickleRefusedException>(() => PickleGuard.Check(Ascii(pickle))).UnsafeContent, name);
    }

    [Fact]
    public void AWholePickledModelGetsAdviceToSaveTheStateDict()
    {
        var error = Assert.Throws<PickleRefusedException>(() => PickleGuard.Check(Ascii("\u0080\u0002ctorch._utils\n_rebuild_parameter\n.")));
        Assert.Contains("torch.save(model.state_dict(), path)", error.Message);
    }

    [Fact]
    public void WhatTorchSaveWritesForAStateDictIsAccepted()
    {
        // The pickle PyBridge writes, which PyTorch reads: OrderedDict, _rebuild_tensor_v2, FloatStorage, persistent ids.
        using var folder = new TempFolder();
        using var model = Model();
        ModelFiles.Export(model, folder.File("m.pt"));
        using var zip = System.IO.Compression.ZipFile.OpenRead(folder.File("m.pt"));
        using var pickle = new MemoryStream();
        zip.Entries.Single(e => e.Name == "data.pkl").Open().CopyTo(pickle);

        PickleGuard.Check(pickle.ToArray());
        Assert.Contains("torch._utils", Encoding.Latin1.GetString(pickle.ToArray()));
    }

    [Fact]
    public void WithoutTheGuardPyBridgeTurnsAnUnknownNameIntoAPlaceholderAndCarriesOn()
    {
        // Why the guard exists: Razorvine.Pickle, under PyBridge, does not refuse names it does not know. A
        // zero-argument call of one (here posix.getuid) becomes a ClassDict placeholder in the result, silently.
        using var folder = new TempFolder();
        string path = folder.Write("quiet.pt", TorchZip(Ascii("\u0080\u0002}X\u0001\u0000\u0000\u0000xcposix\ngetuid\n)Rs.")));
        using var stream = File.OpenRead(path);

        var table = TorchSharp.PyBridge.PyTorchUnpickler.UnpickleStateDict(stream);

        Assert.IsType<Razorvine.Pickle.Objects.ClassDict>(table["x"]);
        Fails("ModelFileUnsafe", () => ModelFiles.Import(path));
    }
}
