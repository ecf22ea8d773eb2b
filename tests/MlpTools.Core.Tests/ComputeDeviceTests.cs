using MlpTools.Core.Platform;
using System.IO.Compression;
using MlpTools.Core.Modeling;
using MlpTools.Core.Persistence;
using MlpTools.Core.Training;
using TorchSharp;
using Xunit;
using static MlpTools.Core.Tests.TestData;

namespace MlpTools.Core.Tests;

public class ComputeDeviceTests
{
    private static readonly TrainingOptions Options = new() { Epochs = 3, BatchSize = 10, LearningRate = 0.01, Seed = 3 };

    private static MlpModel OnDevice(ComputeDevice device) =>
        MlpModel.Create("m", new MlpArchitecture(PixelsPerImage, new[] { 8 }, 2, ActivationSpec.ReLU), 1, device: device);

    [Fact]
    public void CpuIsTheDefaultAndTheModelsWeightsLiveThere()
    {
        using var model = Model();

        Assert.Equal(ComputeDevice.Cpu, model.Device);
        Assert.Equal(DeviceType.CPU, model.TorchDevice.type);
        Assert.All(model.Network.parameters(), p => Assert.Equal(DeviceType.CPU, p.device_type));
    }

    [Fact]
    public void ACpuModelTrainsEvaluatesAndPredictsExactlyAsOneMadeWithoutADevice()
    {
        var data = Separable();
        using var plain = Model();
        using var onCpu = OnDevice(ComputeDevice.Cpu);

        var expected = Trainer.Train(plain, data, null, Options).Select(r => (r.Loss, r.TrainAccuracy)).ToList();
        var got = Trainer.Train(onCpu, data, null, Options, device: ComputeDevice.Cpu).Select(r => (r.Loss, r.TrainAccuracy)).ToList();

        Assert.Equal(expected, got);
        Assert.Equal(ComputeDevice.Cpu, onCpu.Device);
        Assert.Equal(Evaluator.Accuracy(plain, data).Correct, Evaluator.Accuracy(onCpu, data).Correct);
        Assert.Equal(Evaluator.Predict(plain, data, new[] { 0, 1, 2 }).Select(p => p.Confidence),
            Evaluator.Predict(onCpu, data, new[] { 0, 1, 2 }).Select(p => p.Confidence));
    }

    [Fact]
    public void AModelFileRecordsNoDeviceAndIsReadOntoCpu()
    {
        using var folder = new TempFolder();
        using var model = Model();
        ModelFiles.Export(model, folder.File("m.mlp"));

        using var back = ModelFiles.Import(folder.File("m.mlp"));
        using var onCpu = ModelFiles.Import(folder.File("m.mlp"), device: ComputeDevice.Cpu);

        Assert.Equal(ComputeDevice.Cpu, back.Device);
        Assert.Equal(ComputeDevice.Cpu, onCpu.Device);
        using var zip = ZipFile.OpenRead(folder.File("m.mlp"));
        using var manifest = new StreamReader(zip.GetEntry(ModelManifest.EntryName)!.Open());
        Assert.DoesNotContain("device", manifest.ReadToEnd(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void CudaIsRefusedWithDeviceUnavailableNamingTheCudaPackages()
    {
        // This package's engine is TorchSharp-cpu: libtorch itself says there is no CUDA.
        Assert.False(torch.cuda.is_available());

        var error = Fails("DeviceUnavailable", () => OnDevice(ComputeDevice.Cuda));

        Assert.Equal(FailureKind.NotInstalled, error.Kind);
        Assert.Equal(ComputeDevice.Cuda, error.Target);
        Assert.Contains("CPU only", error.Message);
        Assert.Contains("TorchSharp-cuda-linux", error.Message);
        Assert.Contains("TorchSharp-cuda-windows", error.Message);
    }

    [Fact]
    public void TrainingOnCudaIsRefusedBeforeTheModelOrTheCheckpointIsTouched()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        var before = Evaluator.Predict(model, data, new[] { 0, 1 }).Select(p => p.Confidence).ToList();

        // Refused when called, not when the records are first enumerated.
        Fails("DeviceUnavailable", () => Trainer.Train(model, data, null, Options, checkpoint: TrainingCheckpoint.WriteTo(folder.File("run.ckpt")), device: ComputeDevice.Cuda));

        Assert.Equal(0, model.EpochsTrained);
        Assert.Equal(ComputeDevice.Cpu, model.Device);
        Assert.Equal(before, Evaluator.Predict(model, data, new[] { 0, 1 }).Select(p => p.Confidence));
        Assert.False(File.Exists(folder.File("run.ckpt")));
    }

    [Fact]
    public void ReadingAModelOrACheckpointOntoCudaIsRefusedBeforeTheFileIsRead()
    {
        using var folder = new TempFolder();
        var data = Separable();
        using var model = Model();
        Trainer.Train(model, data, null, Options with { Epochs = 1 }, checkpoint: TrainingCheckpoint.WriteTo(folder.File("run.ckpt"))).ToList();
        ModelFiles.Export(model, folder.File("m.mlp"));

        Fails("DeviceUnavailable", () => ModelFiles.Import(folder.File("m.mlp"), device: ComputeDevice.Cuda));
        Fails("DeviceUnavailable", () => TrainingCheckpoint.Resume(folder.File("run.ckpt"), data, null, device: ComputeDevice.Cuda));
        // Before the file is read: a path with nothing there gives the device error, not ModelFileNotFound.
        Fails("DeviceUnavailable", () => ModelFiles.Import(folder.File("none.mlp"), device: ComputeDevice.Cuda));
    }
}
