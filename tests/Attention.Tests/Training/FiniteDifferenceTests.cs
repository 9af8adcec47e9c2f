using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Training;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>
/// Every layer's backward pass checked without PyTorch: for L = Σ output ⊙ R (R a fixed random matrix, so ∂L/∂output = R),
/// each entry of every input and every parameter is nudged by ±h and (L(+h) − L(−h)) / 2h compared with the analytic
/// gradient. The bound, stated before the check: with h = 1e-2 and float32 forward passes the numeric derivative is good
/// to about 1e-3 here (rounding of L over 2h, and the h² curvature term), so |analytic − numeric| ≤ 2e-3 + 2%·|numeric|.
/// A wrong term in a backward pass (a missing scale, a transposed product, a lost residual) is off by far more.
/// </summary>
public class FiniteDifferenceTests
{
    private const float H = 1e-2f;

    /// <summary>Nudges every entry of <paramref name="at"/> in place (restoring it) and compares with <paramref name="analytic"/>.</summary>
    private static void Check(string what, Matrix<float> at, Func<double> loss, Matrix<float> analytic)
    {
        for (var i = 0; i < at.RowCount; i++)
        {
            for (var j = 0; j < at.ColumnCount; j++)
            {
                var keep = at[i, j];
                at[i, j] = keep + H;
                var up = loss();
                at[i, j] = keep - H;
                var down = loss();
                at[i, j] = keep;
                var numeric = (float)((up - down) / (2 * H));
                analytic[i, j].Should().BeApproximately(numeric, 2e-3f + 0.02f * Math.Abs(numeric), $"∂L/∂{what}[{i}, {j}]");
            }
        }
    }

    private static double Dot(Matrix<float> output, Matrix<float> r) => output.PointwiseMultiply(r).Enumerate().Sum(v => (double)v);

    private static void CheckParameters(IEnumerable<(string Name, Parameter Parameter)> parameters, Func<double> loss)
    {
        foreach (var (name, parameter) in parameters)
        {
            Check(name, parameter.Value, loss, parameter.Gradient.Clone());
        }
    }

    /// <summary>LayerNorm gains of 1 and biases of 0 would hide a bug that swaps or drops them: draw them instead.</summary>
    private static void Perturb(IEnumerable<(string Name, Parameter Parameter)> parameters, int seed)
    {
        var random = new Random(seed);
        foreach (var (name, parameter) in parameters.Where(p => p.Name.Contains("norm", StringComparison.Ordinal) || p.Name.EndsWith("bias", StringComparison.Ordinal) || p.Name.Contains("bias[", StringComparison.Ordinal)))
        {
            parameter.Value.MapInplace(_ => (float)(name.EndsWith("weight", StringComparison.Ordinal) ? 0.5 + random.NextDouble() : random.NextDouble() - 0.5));
        }
    }

    [Theory]
    [InlineData(Activation.ReLU)]
    [InlineData(Activation.Gelu)]
    public void Feed_forward(Activation activation)
    {
        var layer = new FeedForward(6, 10, activation, new TorchGenerator(1));
        var (x, r) = (RandomMatrices.Uniform(4, 6, 2), RandomMatrices.Uniform(4, 6, 3));
        double Loss() => Dot(layer.Forward(x), r);
        var dx = layer.Backward(layer.ForwardRecorded(x), r);
        Check("x", x, Loss, dx);
        CheckParameters(layer.NamedParameters(), Loss);
    }

    [Fact]
    public void Layer_norm()
    {
        var layer = new LayerNorm(6);
        Perturb(layer.NamedParameters("norm."), 4);
        var (x, r) = (RandomMatrices.Uniform(3, 6, 5), RandomMatrices.Uniform(3, 6, 6));
        double Loss() => Dot(layer.Forward(x), r);
        Check("x", x, Loss, layer.Backward(x, r));
        CheckParameters(layer.NamedParameters("norm."), Loss);
    }

    [Theory]
    [InlineData("padding")]
    [InlineData("causal")]
    [InlineData("both")]
    public void Scaled_dot_product_attention_under_every_mask(string kind)
    {
        // n ≠ m and d_k ≠ d_v for padding (keys 4 and 5 hidden); n = m for the causal mask.
        var m = kind == "padding" ? 6 : 4;
        var mask = kind switch
        {
            "padding" => AttentionMask.KeyPadding(keyCount: 6, length: 4),
            "causal" => AttentionMask.Causal,
            _ => AttentionMask.Combine(AttentionMask.Causal, AttentionMask.KeyPadding(keyCount: 4, length: 3)),
        };
        var (q, k, v, r) = (RandomMatrices.Uniform(4, 3, 7), RandomMatrices.Uniform(m, 3, 8), RandomMatrices.Uniform(m, 5, 9), RandomMatrices.Uniform(4, 5, 10));
        double Loss() => Dot(ScaledDotProductAttention.Compute(q, k, v, mask).Output, r);
        var gradients = ScaledDotProductAttention.Backward(q, k, v, ScaledDotProductAttention.Compute(q, k, v, mask).Weights, r);
        Check("Q", q, Loss, gradients.Queries);
        Check("K", k, Loss, gradients.Keys);
        Check("V", v, Loss, gradients.Values);
    }

    [Fact]
    public void Multi_head_cross_attention_with_kdim_and_vdim()
    {
        var layer = new MultiHeadAttention(6, 2, new TorchGenerator(11), keyDim: 4, valueDim: 5);
        Perturb(layer.NamedParameters(), 12);
        var (query, key, value, r) = (RandomMatrices.Uniform(3, 6, 13), RandomMatrices.Uniform(5, 4, 14), RandomMatrices.Uniform(5, 5, 15), RandomMatrices.Uniform(3, 6, 16));
        var mask = AttentionMask.KeyPadding(keyCount: 5, length: 4);
        double Loss() => Dot(layer.Forward(query, key, value, mask, needWeights: false).Output, r);
        var gradients = layer.Backward(layer.ForwardRecorded(query, key, value, mask), r);
        Check("query", query, Loss, gradients.Queries);
        Check("key", key, Loss, gradients.Keys);
        Check("value", value, Loss, gradients.Values);
        CheckParameters(layer.NamedParameters(), Loss);
    }

    private static readonly TransformerOptions LayerOptions = TransformerOptions.Small(5, 5) with { ModelDim = 6, HeadCount = 2, FeedForwardDim = 8 };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Encoder_layer(bool normFirst)
    {
        var layer = new EncoderLayer(LayerOptions with { NormFirst = normFirst, Activation = Activation.Gelu }, new TorchGenerator(17));
        Perturb(layer.NamedParameters(), 18);
        var (x, r) = (RandomMatrices.Uniform(4, 6, 19), RandomMatrices.Uniform(4, 6, 20));
        var mask = AttentionMask.KeyPadding(keyCount: 4, length: 3);
        double Loss() => Dot(layer.Forward(x, mask), r);
        Check("x", x, Loss, layer.Backward(layer.ForwardRecorded(x, mask), r));
        CheckParameters(layer.NamedParameters(), Loss);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Decoder_layer(bool normFirst)
    {
        var layer = new DecoderLayer(LayerOptions with { NormFirst = normFirst, Activation = Activation.Gelu }, new TorchGenerator(21));
        Perturb(layer.NamedParameters(), 22);
        var (x, memory, r) = (RandomMatrices.Uniform(3, 6, 23), RandomMatrices.Uniform(5, 6, 24), RandomMatrices.Uniform(3, 6, 25));
        var memoryMask = AttentionMask.KeyPadding(keyCount: 5, length: 4);
        double Loss() => Dot(layer.Forward(x, memory, AttentionMask.Causal, memoryMask), r);
        var (dx, dMemory) = layer.Backward(layer.ForwardRecorded(x, memory, AttentionMask.Causal, memoryMask), r);
        Check("x", x, Loss, dx);
        Check("memory", memory, Loss, dMemory);
        CheckParameters(layer.NamedParameters(), Loss);
    }
}
