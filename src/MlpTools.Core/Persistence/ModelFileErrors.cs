using MlpTools.Core.Platform;

namespace MlpTools.Core.Persistence;

/// <summary>The errors of reading and writing model files, with their stable ids (listed in the cmdlets' help).</summary>
internal static class ModelFileErrors
{
    public static MlpToolsException NotFound(string path) => new(ErrorIds.ModelFileNotFound,
        $"Model file '{path}' does not exist. Check the path, or write the model first with Export-Mlp.", path);

    public static MlpToolsException Exists(string path) => new(ErrorIds.ModelFileExists,
        $"'{path}' already exists. Use -Force to replace it (the old file stays intact until the new one is complete), or choose another path.", path);

    public static MlpToolsException Empty(string path) => new(ErrorIds.ModelFileEmpty,
        $"'{path}' is empty (0 bytes), so it holds no model. It may have been cut off while it was copied; use an intact copy.", path);

    public static MlpToolsException Unrecognized(string path, string what) => new(ErrorIds.ModelFileUnrecognized,
        $"'{path}' is not a model file MlpTools can read: {what} MlpTools reads its own files (Export-Mlp), PyTorch state_dicts " +
        "(torch.save(model.state_dict(), path)), SafeTensors and ONNX files.", path);

    public static MlpToolsException Corrupt(string path, string what, Exception? inner = null) => new(ErrorIds.ModelFileCorrupt,
        $"'{path}' is damaged or incomplete: {what} Use an intact copy of the file, or export the model again.", path, inner);

    public static MlpToolsException NewerVersion(string path, string what) => new(ErrorIds.ModelFileVersionUnsupported,
        $"'{path}' {what} This is MlpTools {ProducerInfo.MlpToolsVersion}, which reads MlpTools model format version " +
        $"{ModelManifest.CurrentFormatVersion}. Update MlpTools to read it.", path);

    public static MlpToolsException Unsafe(string path, string what) => new(ErrorIds.ModelFileUnsafe,
        $"'{path}' was refused: {what}", path);

    public static MlpToolsException StateDictInvalid(string path, string what) => new(ErrorIds.ModelStateDictInvalid,
        $"The state_dict in '{path}' is not a multilayer perceptron MlpTools can rebuild: {what} MlpTools expects the lecture " +
        "notebook's layer names, lin_1.weight, lin_1.bias, lin_2.weight, lin_2.bias and so on, with each layer's inputs matching " +
        "the previous layer's outputs.", path);

    public static MlpToolsException NotFinite(string path, string key) => new(ErrorIds.ModelWeightsNotFinite,
        $"'{path}' holds NaN, infinite or overflowing values in '{key}', so the model could only predict nonsense. Such weights come from a " +
        "run that diverged: train again from a checkpoint or file saved before it did, with a lower learning rate.", path);

    public static MlpToolsException ActivationRequired(string path) => new(ErrorIds.ModelActivationRequired,
        $"'{path}' holds weights only and does not say which activation the network uses between its layers, and a wrong guess " +
        "changes its predictions. Give it with -Activation (ReLU for the lecture notebook's network).", path);
}
