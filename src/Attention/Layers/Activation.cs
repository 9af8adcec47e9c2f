namespace Attention.Layers;

/// <summary>The non-linearity between the two linear maps of <see cref="FeedForward"/>.</summary>
public enum Activation
{
    /// <summary>max(0, x), as in the paper (§3.3).</summary>
    ReLU,

    /// <summary>The exact GELU, x·Φ(x) = ½·x·(1 + erf(x/√2)), as PyTorch's <c>activation="gelu"</c> (not the tanh approximation).</summary>
    Gelu,
}
