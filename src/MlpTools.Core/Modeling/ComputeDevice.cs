using MlpTools.Core.Platform;
using TorchSharp;

namespace MlpTools.Core.Modeling;

/// <summary>Where a model's weights live and its arithmetic runs.</summary>
public enum ComputeDevice
{
    /// <summary>The processor: the device of this package's engine (TorchSharp-cpu), and the default.</summary>
    Cpu,
    /// <summary>An NVIDIA GPU. Needs a CUDA build of the engine (TorchSharp-cuda-linux or TorchSharp-cuda-windows), which this package does not ship.</summary>
    Cuda,
}

/// <summary>
/// The one place a device is decided. A model is created on the device it is given (<see cref="ComputeDevice.Cpu"/> unless a
/// cmdlet's -Device says otherwise) and holds it (<see cref="MlpModel.Device"/>); everything that makes tensors for the model
/// (dataset tensors, training, evaluation, gradient checks) takes the device from the model. A CUDA build is then a package
/// change (TorchSharp-cuda-* instead of TorchSharp-cpu, whose <c>torch.cuda.is_available()</c> is always false) plus tests.
/// </summary>
internal static class ComputeDevices
{
    /// <summary>The libtorch device for <paramref name="device"/>; refuses one this engine cannot use before anything is allocated.</summary>
    public static torch.Device ToTorch(this ComputeDevice device)
    {
        Require(device);
        return device == ComputeDevice.Cuda ? torch.CUDA : torch.CPU;
    }

    /// <summary>
    /// Throws DeviceUnavailable when <paramref name="device"/> is not there: today, CUDA, since the engine is the CPU build.
    /// The CPU is always there, and asking for it loads nothing (an ONNX model never needs libtorch).
    /// </summary>
    public static void Require(ComputeDevice device)
    {
        if (device == ComputeDevice.Cpu)
        {
            return;
        }
        TorchRuntime.EnsureAvailable();
        if (!torch.cuda.is_available())
        {
            throw new MlpToolsException(ErrorIds.DeviceUnavailable,
                "CUDA is not available: this MlpTools package is CPU only (its engine is TorchSharp-cpu). Computing on an NVIDIA GPU needs " +
                "a CUDA build of the engine (the TorchSharp-cuda-linux or TorchSharp-cuda-windows package), which this package does not provide. " +
                "Use -Device Cpu, or leave -Device out.", device);
        }
    }
}
