using Attention.Transformers;

namespace Attention.Tests.Support;

/// <summary>Layer sizes for tests that compare two ways of running one layer: small enough to be quick, large enough
/// that every product is split between threads and blocked (d_model 64 = 4 heads of 16, d_ff 256), no dropout.</summary>
public static class LayerOptions
{
    /// <summary>d_model 64, 4 heads, d_ff 256, dropout 0, vocabularies of 10.</summary>
    public static readonly TransformerOptions Small = TransformerOptions.Small(10, 10) with
    {
        ModelDim = 64, HeadCount = 4, FeedForwardDim = 256, Dropout = 0.0f,
    };
}
