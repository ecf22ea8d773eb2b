using MlpTools.Core.Imaging;
using Xunit;

namespace MlpTools.Core.Tests;

/// <summary>The confusion heat map's colour bar: a few round labels from 0 to the busiest cell.</summary>
public class ConfusionHeatmapScaleTests
{
    [Theory]
    [InlineData(222, new double[] { 0, 50, 100, 150, 200 })]          // a 2,000-image test set
    [InlineData(1135, new double[] { 0, 250, 500, 750, 1000 })]       // MNIST's 10,000 test images: the busiest cell, digit 1
    [InlineData(3, new double[] { 0, 1, 2, 3 })]                      // tiny data: whole counts only
    [InlineData(1, new double[] { 0, 1 })]
    public void ColourBarHasAtMostSixRoundWholeTicks(int largest, double[] expected)
    {
        Assert.Equal(expected, ConfusionHeatmap.ScaleTickValues(largest));
    }
}
