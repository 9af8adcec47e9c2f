using Attention.Layers;
using Attention.Randomness;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The first layers' backward passes, beside their forward passes: Linear, LayerNorm, Dropout and the
/// feed-forward network, against torch.autograd and by finite differences.</summary>
public class LayerBackwardTests
{
    private static readonly Fixture Torch = Fixture.Load("feed_forward_backward.json");

    private static FeedForward TorchFeedForward(Activation activation) => FeedForward.FromStateDict(
        new Dictionary<string, Matrix<float>>
        {
            ["linear1.weight"] = Torch.Matrix("w1"), ["linear1.bias"] = Torch.Row("b1"),
            ["linear2.weight"] = Torch.Matrix("w2"), ["linear2.bias"] = Torch.Row("b2"),
        }, "", 6, 10, activation, new Dropout(0, new TorchGenerator(0)));

    [Theory]
    [InlineData(Activation.ReLU, "relu")]
    [InlineData(Activation.Gelu, "gelu")]
    public void The_feed_forward_gradients_equal_PyTorchs(Activation activation, string name)
    {
        var network = TorchFeedForward(activation);
        var record = network.ForwardRecorded(Torch.Matrix("x"));
        var dx = network.Backward(record, Torch.Matrix("dy"));
        Expect.Close(dx, Torch.Matrix($"{name}_dx"), what: "∂L/∂x");
        Expect.Close(network.Linear1.WeightParameter.Gradient, Torch.Matrix($"{name}_dw1"), what: "∂L/∂W₁");
        Expect.Close(network.Linear1.BiasParameter!.Gradient, Torch.Row($"{name}_db1"), what: "∂L/∂b₁");
        Expect.Close(network.Linear2.WeightParameter.Gradient, Torch.Matrix($"{name}_dw2"), what: "∂L/∂W₂");
        Expect.Close(network.Linear2.BiasParameter!.Gradient, Torch.Row($"{name}_db2"), what: "∂L/∂b₂");
        network.NamedParameters("encoder.layers.0.").Select(p => p.Name).Should().Equal(
            "encoder.layers.0.linear1.weight", "encoder.layers.0.linear1.bias", "encoder.layers.0.linear2.weight", "encoder.layers.0.linear2.bias");
    }

    [Fact]
    public void Gradients_add_up_over_calls_until_zeroed()
    {
        var network = TorchFeedForward(Activation.ReLU);
        for (var i = 0; i < 2; i++)
        {
            network.Backward(network.ForwardRecorded(Torch.Matrix("x")), Torch.Matrix("dy"));
        }
        Expect.Close(network.Linear1.WeightParameter.Gradient, 2 * Torch.Matrix("relu_dw1"), what: "two backward passes");
        network.Linear1.WeightParameter.ZeroGradient();
        network.Linear1.WeightParameter.Gradient.Enumerate().Should().OnlyContain(g => g == 0f);
    }

    [Fact]
    public void The_layer_norm_gradients_equal_PyTorchs()
    {
        var norm = new LayerNorm(Torch.Vector("norm_weight"), Torch.Vector("norm_bias"));
        var dx = norm.Backward(Torch.Matrix("x"), Torch.Matrix("dy"));
        Expect.Close(dx, Torch.Matrix("norm_dx"), what: "∂L/∂x");
        Expect.Close(norm.GainParameter.Gradient, Torch.Row("norm_dweight"), what: "∂L/∂γ");
        Expect.Close(norm.BiasParameter.Gradient, Torch.Row("norm_dbias"), what: "∂L/∂β");
        norm.GainParameter.Value[0, 2].Should().Be(norm.Gain[2], "the parameter is the layer's own γ, not a copy");
    }

    [Fact]
    public void The_linear_backward_agrees_with_finite_differences()
    {
        // L = Σ dy ⊙ (x·Wᵀ + b): ∂L/∂x by central differences, and ∂L/∂W against the same.
        var linear = new Linear(5, 3, new TorchGenerator(4));
        var (x, dy) = (RandomMatrices.Uniform(4, 5, 5), RandomMatrices.Uniform(4, 3, 6));
        var dx = linear.Backward(x, dy);
        float Loss() => (float)linear.Forward(x).PointwiseMultiply(dy).Enumerate().Sum(v => (double)v);
        const float h = 1e-2f;
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 5; j++)
            {
                var keep = x[i, j];
                x[i, j] = keep + h;
                var up = Loss();
                x[i, j] = keep - h;
                var down = Loss();
                x[i, j] = keep;
                dx[i, j].Should().BeApproximately((up - down) / (2 * h), 1e-3f, $"∂L/∂x[{i}, {j}]");
            }
        }
        Expect.Close(linear.WeightParameter.Gradient, dy.TransposeThisAndMultiply(x), what: "∂L/∂W = dyᵀ·x");
    }

    [Fact]
    public void Dropout_passes_gradients_only_where_it_kept_and_scales_them_as_it_scaled()
    {
        var dropout = new Dropout(0.5f, new TorchGenerator(9)) { Training = true };
        var x = RandomMatrices.Uniform(6, 8, 7);
        var (output, mask) = dropout.ForwardRecorded(x);
        var gradient = Dropout.Backward(mask, Matrix<float>.Build.Dense(6, 8, 1f));
        mask!.Enumerate().Should().OnlyContain(m => m == 0f || m == 2f);
        gradient.Should().Be(mask);
        output.Should().Be(x.PointwiseMultiply(mask));
    }

    [Fact]
    public void Five_large_dropouts_from_one_seed_draw_the_same_mask()
    {
        // 512 × 512 is large enough for MathNet's parallel Map to split; the mask is drawn in one call, in column order,
        // so the thread count and scheduling cannot change it.
        var x = Matrix<float>.Build.Dense(512, 512, 1f);
        var masks = Enumerable.Range(0, 5).Select(_ => new Dropout(0.1f, new TorchGenerator(42)) { Training = true }.ForwardRecorded(x).Mask!).ToList();
        masks.Skip(1).Should().AllSatisfy(m => m.Should().Be(masks[0]));
        var dropped = masks[0].Enumerate().Count(m => m == 0f) / (512.0 * 512.0);
        dropped.Should().BeApproximately(0.1, 0.005, "about p of the entries are dropped (σ = √(0.09/262144) ≈ 0.0006)");
    }
}
