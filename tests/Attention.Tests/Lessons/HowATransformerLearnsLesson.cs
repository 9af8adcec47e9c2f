using Attention.Kernels;
using Attention.Layers;
using Attention.Training;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Lessons;

/// <summary>The numbers of docs/training.md ("how a Transformer learns"), each computed by the library.</summary>
public class HowATransformerLearnsLesson
{
    [Fact]
    public void The_chain_rule_through_one_linear_layer_by_hand()
    {
        // y = x·Wᵀ + b with x = [1, 2], W = [[0.5, −1]], b = [0.25]:  y = 0.5·1 + (−1)·2 + 0.25 = −1.25.
        // L = ½·y² = 0.78125, so ∂L/∂y = y = −1.25, and the chain rule gives
        //   ∂L/∂W = (∂L/∂y)ᵀ·x = −1.25·[1, 2] = [−1.25, −2.5]
        //   ∂L/∂b = ∂L/∂y = −1.25
        //   ∂L/∂x = ∂L/∂y·W = −1.25·[0.5, −1] = [−0.625, 1.25]
        var layer = new Linear(Matrix<float>.Build.DenseOfArray(new[,] { { 0.5f, -1f } }), Vector<float>.Build.Dense([0.25f]));
        var x = Matrix<float>.Build.DenseOfArray(new[,] { { 1f, 2f } });
        var y = layer.Forward(x);
        y[0, 0].Should().Be(-1.25f);
        var dx = layer.Backward(x, y);                                   // ∂L/∂y = y for L = ½·y²
        layer.WeightParameter.Gradient.Row(0).ToArray().Should().Equal(-1.25f, -2.5f);
        layer.BiasParameter!.Gradient[0, 0].Should().Be(-1.25f);
        dx.Row(0).ToArray().Should().Equal(-0.625f, 1.25f);
    }

    [Fact]
    public void The_layer_norm_gradient_has_no_part_along_the_mean_or_along_the_normalised_row()
    {
        // LN removes the row's mean and its scale, so moving x along [1, 1, …] or along x̂ changes nothing: with γ = 1 the
        // gradient is orthogonal to both. Σ_j ∂L/∂x_j = 0 and Σ_j x̂_j·∂L/∂x_j = 0 for any upstream gradient. (The second
        // holds exactly only as ε → 0: ε inside √(σ² + ε) leaves a part of size ε/(σ² + ε), so ε is 1e-12 here.)
        var x = RandomMatrices.Uniform(3, 6, 1);
        var upstream = RandomMatrices.Uniform(3, 6, 2);
        var dx = LayerNormalization.Backward(x, Vector<float>.Build.Dense(6, 1f), 1e-12f, upstream).Input;
        var normalised = LayerNormalization.Apply(x, Vector<float>.Build.Dense(6, 1f), Vector<float>.Build.Dense(6), 1e-12f);
        for (var i = 0; i < 3; i++)
        {
            // zero up to float32 rounding of a sum of six products, relative to their size (‖∂L/∂x‖ is about 10 here)
            var scale = (float)(dx.Row(i).L2Norm() * normalised.Row(i).L2Norm());
            dx.Row(i).Sum().Should().BeApproximately(0f, 1e-6f * scale * 10);
            dx.Row(i).DotProduct(normalised.Row(i)).Should().BeApproximately(0f, 1e-6f * scale * 10);
        }
    }

    [Fact]
    public void Label_smoothing_stops_pushing_once_the_model_keeps_epsilon_over_C_on_every_other_class()
    {
        // ε = 0.1, C = 4, target 0: the smoothed target is [0.9 + 0.025, 0.025, 0.025, 0.025] and ∂L/∂z = p − target.
        // Logits whose softmax is exactly that target have gradient 0: no reason to grow the right logit forever.
        var logits = Matrix<float>.Build.DenseOfArray(new[,] { { MathF.Log(0.925f), MathF.Log(0.025f), MathF.Log(0.025f), MathF.Log(0.025f) } });
        var gradient = new CrossEntropyLoss(labelSmoothing: 0.1f).Backward(logits, [0]);
        gradient.Enumerate().Should().OnlyContain(g => Math.Abs(g) < 1e-6f);
        var withoutSmoothing = new CrossEntropyLoss().Backward(logits, [0]);
        withoutSmoothing[0, 0].Should().BeApproximately(0.925f - 1f, 1e-6f, "without smoothing it still pushes p towards 1");
    }

    [Fact]
    public void The_papers_warm_up_peaks_at_update_4000()
    {
        // lrate = d_model^−0.5 · min(n^−0.5, n·warmup^−1.5): for d_model 512 and 4000 warm-up updates,
        // n = 1: 512^−0.5 · 4000^−1.5 = 0.0441942 · 3.95285e−6 = 1.74693e−7; the peak at n = 4000: 0.0441942 · 0.0158114 = 6.98771e−4.
        var rate = LearningRateSchedule.Warmup(512, 4000);
        rate(1).Should().BeApproximately(1.74693e-7f, 1e-11f);
        rate(4000).Should().BeApproximately(6.98771e-4f, 1e-9f);
        rate(3999).Should().BeLessThan(rate(4000));
        rate(4001).Should().BeLessThan(rate(4000));
    }
}
