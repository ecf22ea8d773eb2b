namespace MlpTools.Core.Modeling;

/// <summary>The file formats Export-Mlp writes and Import-Mlp reads.</summary>
public enum ModelFileFormat
{
    /// <summary>Import only: decide from the file's content.</summary>
    Auto,
    /// <summary>MlpTools' own file: architecture, weights, training history and metadata in one zip (docs/about_MlpTools_ModelFile.md).</summary>
    MlpTools,
    /// <summary>A PyTorch state_dict as torch.save writes it; torch.load reads it into the lecture notebook's class.</summary>
    PyTorch,
    /// <summary>A state_dict in the SafeTensors format (Hugging Face's safetensors).</summary>
    SafeTensors,
    /// <summary>An ONNX graph with the model's preprocessing inside (opset 17, IR 8); any ONNX runtime scores it. Import-Mlp scores it through ONNX Runtime.</summary>
    Onnx,
}
