using Attention.Kernels;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The backward passes of softmax over rows and of layer normalisation: against torch.autograd, and against
/// central finite differences computed independently of PyTorch.</summary>
public class BackwardPrimitivesTests
{
    private static readonly Fixture Torch = Fixture.Load("backward_primitives.json");

    [Fact]
    public void The_softmax_backward_equals_PyTorchs_including_a_masked_row()
    {
        var weights = Softmax.Rows(Torch.Matrix("scores"));
        Expect.Close(weights, Torch.Matrix("softmax_weights"), what: "the forward weights");
        var gradient = Softmax.RowsBackward(weights, Torch.Matrix("upstream"));
        Expect.Close(gradient, Torch.Matrix("softmax_grad"), what: "∂L/∂scores");
        gradient.Row(1).SubVector(4, 3).Should().OnlyContain(g => g == 0f, "hidden keys get no gradient");
    }

    [Fact]
    public void The_softmax_backward_of_two_equal_scores_worked_by_hand()
    {
        // w = [1/2, 1/2], ∂L/∂w = [1, 0]: Σ_k g_k·w_k = 1/2, so ∂L/∂s = [1/2·(1 − 1/2), 1/2·(0 − 1/2)] = [1/4, −1/4].
        var gradient = Softmax.RowsBackward(Matrix<float>.Build.DenseOfRowArrays([0.5f, 0.5f]), Matrix<float>.Build.DenseOfRowArrays([1f, 0f]));
        gradient.Row(0).Should().Equal(0.25f, -0.25f);
    }

    [Fact]
    public void The_softmax_backward_agrees_with_finite_differences()
    {
        // L = Σ upstream ⊙ softmax(scores); (L(s + h) − L(s − h)) / 2h for each score.
        var (scores, upstream) = (RandomMatrices.Uniform(3, 6, 1) * 3, RandomMatrices.Uniform(3, 6, 2));
        var analytic = Softmax.RowsBackward(Softmax.Rows(scores), upstream);
        float Loss(Matrix<float> s) => (float)Softmax.Rows(s).PointwiseMultiply(upstream).Enumerate().Sum(v => (double)v);
        CheckFiniteDifferences(scores, Loss, analytic, "∂L/∂scores");
    }

    [Fact]
    public void The_layer_norm_backward_equals_PyTorchs()
    {
        var gradients = LayerNormalization.Backward(Torch.Matrix("x"), Torch.Vector("gamma"), 1e-5f, Torch.Matrix("dy"));
        Expect.Close(gradients.Input, Torch.Matrix("layer_norm_dx"), what: "∂L/∂x");
        Expect.Close(gradients.Gain, Torch.Vector("layer_norm_dgamma"), what: "∂L/∂γ");
        Expect.Close(gradients.Bias, Torch.Vector("layer_norm_dbeta"), what: "∂L/∂β");
    }

    [Fact]
    public void The_layer_norm_backward_agrees_with_finite_differences()
    {
        var (x, dy) = (RandomMatrices.Uniform(4, 5, 3) * 2, RandomMatrices.Uniform(4, 5, 4));
        var gain = RandomMatrices.Uniform(1, 5, 5).Row(0) + 1;
        var bias = RandomMatrices.Uniform(1, 5, 6).Row(0);
        float Loss(Matrix<float> input) => (float)LayerNormalization.Apply(input, gain, bias, 1e-5f).PointwiseMultiply(dy).Enumerate().Sum(v => (double)v);
        CheckFiniteDifferences(x, Loss, LayerNormalization.Backward(x, gain, 1e-5f, dy).Input, "∂L/∂x");
    }

    /// <summary>Central differences with h = 1e-2 against the analytic gradient, to 1e-3 absolute: float32 forward passes
    /// limit the numeric derivative to about 1e-4 here, well below the size of any error in the formula.</summary>
    private static void CheckFiniteDifferences(Matrix<float> at, Func<Matrix<float>, float> loss, Matrix<float> analytic, string what)
    {
        const float h = 1e-2f;
        for (var i = 0; i < at.RowCount; i++)
        {
            for (var j = 0; j < at.ColumnCount; j++)
            {
                var (up, down) = (at.Clone(), at.Clone());
                up[i, j] += h;
                down[i, j] -= h;
                var numeric = (loss(up) - loss(down)) / (2 * h);
                analytic[i, j].Should().BeApproximately(numeric, 1e-3f, $"{what}[{i}, {j}]");
            }
        }
    }
}
