using System.Reflection;
using MlpTools.Core.Platform;
using Microsoft.ML.OnnxRuntime;

namespace MlpTools.Core.Modeling;

/// <summary>What scoring needs to know of a vetted ONNX file.</summary>
/// <param name="OutputName">The output that holds the answers: probabilities or logits, or regression values.</param>
/// <param name="OutputIsLogits">True when the output holds class scores (logits), which the scorer turns into probabilities.</param>
/// <param name="FixedBatch">The batch size the input demands, when the file fixes one; null when it is free.</param>
internal sealed record OnnxSignature(int InputSize, int OutputSize, string OutputName, bool OutputIsLogits, int? FixedBatch);

/// <summary>
/// An ONNX model loaded in ONNX Runtime: rows of raw features in, the answers out (class probabilities, or regression
/// values in their own units). No libtorch anywhere on this path. Owns native memory: dispose it.
/// </summary>
internal sealed class OnnxScorer : IDisposable
{
    // Rows per Run: large enough to amortise the call, small enough (4 MB of MNIST pixels) to stay in cache-friendly sizes.
    private const int BatchSize = 1000;

    private readonly InferenceSession _session;
    private readonly string _inputName;
    private readonly OnnxSignature _info;

    private OnnxScorer(InferenceSession session, OnnxSignature info)
    {
        _session = session;
        _info = info;
        _inputName = session.InputMetadata.Keys.Single();
    }

    public int InputSize => _info.InputSize;
    public int OutputSize => _info.OutputSize;

    /// <summary>A session for a file that Persistence's ONNX reader has vetted.</summary>
    public static OnnxScorer Create(byte[] content, OnnxSignature info, string path)
    {
        OnnxRuntimeInfo.EnsureAvailable();
        try
        {
            using var options = new SessionOptions { LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR };
            return new OnnxScorer(new InferenceSession(content, options), info);
        }
        catch (OnnxRuntimeException e)
        {
            throw new MlpToolsException(ErrorIds.OnnxModelUnsupported,
                $"'{path}' passed MlpTools' checks but ONNX Runtime refused it: {e.Message} Export the model again, or check it with onnx.checker.check_model.", path, e);
        }
    }

    /// <summary>
    /// The answers for <paramref name="rows"/> rows of <see cref="InputSize"/> raw features: probabilities (softmax of the
    /// file's scores when it gives logits) or regression values, <see cref="OutputSize"/> per row.
    /// </summary>
    public float[] Score(ReadOnlySpan<float> features, int rows, CancellationToken cancel = default)
    {
        var answers = new float[(long)rows * OutputSize];
        int batch = _info.FixedBatch ?? BatchSize;
        var input = new float[(long)batch * InputSize];
        using var runOptions = new RunOptions();
        for (int start = 0; start < rows; start += batch)
        {
            cancel.ThrowIfCancellationRequested();
            int count = Math.Min(batch, rows - start);
            int length = _info.FixedBatch is null ? count : batch;
            // A file with a fixed batch size gets full batches: the last one padded with zeros, its extra answers dropped.
            Array.Clear(input);
            features.Slice(start * InputSize, count * InputSize).CopyTo(input);
            using var value = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input.AsMemory(0, length * InputSize), new long[] { length, InputSize });
            try
            {
                using var results = _session.Run(runOptions, new[] { _inputName }, new[] { value }, new[] { _info.OutputName });
                results[0].GetTensorDataAsSpan<float>()[..(count * OutputSize)].CopyTo(answers.AsSpan(start * OutputSize));
            }
            catch (OnnxRuntimeException e)
            {
                throw new MlpToolsException(ErrorIds.OnnxScoringFailed,
                    $"ONNX Runtime failed to score the model: {e.Message} Check the model with Import-Mlp of the file it was exported from.", this, e);
            }
        }
        if (_info.OutputIsLogits)
        {
            Softmax(answers, OutputSize);
        }
        return answers;
    }

    private static void Softmax(float[] values, int width)
    {
        for (int row = 0; row < values.Length; row += width)
        {
            var span = values.AsSpan(row, width);
            float max = float.NegativeInfinity;
            foreach (float v in span)
            {
                max = Math.Max(max, v);
            }
            double sum = 0;
            for (int i = 0; i < width; i++)
            {
                sum += Math.Exp(span[i] - max);
            }
            for (int i = 0; i < width; i++)
            {
                span[i] = (float)(Math.Exp(span[i] - max) / sum);
            }
        }
    }

    public void Dispose() => _session.Dispose();
}

/// <summary>Whether ONNX Runtime's native library loads (from the module's dependencies/ folder) and its version.</summary>
public static class OnnxRuntimeInfo
{
    private static readonly Lazy<(string? Version, string? Error)> Load = new(TryLoad, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>ONNX Runtime's version (e.g. 1.31.1); null when it did not load.</summary>
    public static string? Version => Load.Value.Version;

    /// <summary>Why ONNX Runtime cannot be used; null when it loaded.</summary>
    public static string? LoadError => Load.Value.Error;

    /// <summary>The managed package's version, known even when the native library is missing.</summary>
    public static string PackageVersion =>
        typeof(InferenceSession).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "unknown";

    public static void EnsureAvailable()
    {
        if (LoadError is string error)
        {
            throw new MlpToolsException(ErrorIds.OnnxRuntimeLoadFailed,
                $"{error} Run Test-MlpEnvironment for a full report of what was found.", null);
        }
    }

    private static (string?, string?) TryLoad()
    {
        try
        {
            return (OrtEnv.Instance().GetVersionString(), null);
        }
        catch (Exception e)
        {
            Exception inner = e;
            while (inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }
            string reason = inner.Message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? inner.Message;
            return (null, $"ONNX Runtime, which scores models imported from ONNX files, is not available: {reason} " +
                "Rebuild the module for this platform with 'dotnet pwsh ./build.ps1 -Task Build', which puts its native library (onnxruntime) in the module's dependencies folder.");
        }
    }
}
