namespace MlpTools.Core.Modeling;

/// <summary>How weights are drawn before training; biases always start at zero.</summary>
public enum Initialization
{
    /// <summary>N(0, 2/fan_in): He et al., for ReLU-like activations (the notebook's nn.init.kaiming_normal_).</summary>
    KaimingNormal,
    /// <summary>N(0, 2/(fan_in+fan_out)): Glorot and Bengio, for sigmoid and tanh.</summary>
    XavierNormal,
}
