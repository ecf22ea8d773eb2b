namespace MlpTools.Core.Data.Images;

/// <summary>How an image file becomes a model's input of a given height and width.</summary>
public enum ImagePreparation
{
    /// <summary>
    /// Grayscale, stretched to the size (area averaging where it shrinks, bilinear where it grows); inverted when
    /// its background is light, so ink is bright as in MNIST. For folders of images of one kind.
    /// </summary>
    Resize,

    /// <summary>
    /// MNIST's own preparation of a handwritten digit: dark ink on a light background inverted, cropped to the ink,
    /// scaled to fit 20/28 of the size keeping its aspect ratio, centred by its centre of mass. For a photo or a drawing
    /// to be classified by a model trained on MNIST.
    /// </summary>
    Digit,
}
