using Attention.Tests.Support;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>Cross-entropy with ignore_index and label smoothing, against PyTorch's <c>nn.CrossEntropyLoss</c> and by hand.</summary>
public class CrossEntropyLossTests
{
    private static readonly Fixture Torch = Fixture.Load("cross_entropy.json");
    private static readonly Matrix<float> Logits = Torch.Matrix("logits");
    private static readonly int[] Targets = [.. Torch.Data("targets_float").Select(t => (int)t)];

    [Fact]
    public void Two_classes_worked_by_hand()
    {
        // Logits [0, ln 3]: p = [1/4, 3/4]. Target 1: loss = −ln(3/4) = 0.287682.
        // With ε = 0.1: −0.9·ln(3/4) − 0.05·(ln(1/4) + ln(3/4)) = 0.258914 + 0.083698 = 0.342612.
        var logits = Matrix<float>.Build.DenseOfRowArrays([0f, MathF.Log(3f)]);
        new CrossEntropyLoss().Forward(logits, [1]).Loss.Should().BeApproximately(0.287682f, 1e-6f);
        new CrossEntropyLoss(labelSmoothing: 0.1f).Forward(logits, [1]).Loss.Should().BeApproximately(0.342612f, 1e-6f);
        // ∂/∂z = p − target = [1/4 − 0, 3/4 − 1] = [0.25, −0.25].
        Expect.Close(new CrossEntropyLoss().Backward(logits, [1]).Row(0), Vector<float>.Build.DenseOfArray([0.25f, -0.25f]));
    }

    [Theory]
    [InlineData(0.0f, LossReduction.Mean, "plain")]
    [InlineData(0.0f, LossReduction.Sum, "plain_sum")]
    [InlineData(0.1f, LossReduction.Mean, "smooth")]
    [InlineData(0.1f, LossReduction.Sum, "smooth_sum")]
    public void The_reduced_loss_equals_PyTorchs(float smoothing, LossReduction reduction, string expected)
    {
        // Row 2 holds logits of ±1e4: exp() overflows unless the row maximum is subtracted first. Row 3 is ignored (−100).
        var loss = new CrossEntropyLoss(labelSmoothing: smoothing, reduction: reduction).Forward(Logits, Targets);
        loss.Loss.Should().BeApproximately(Torch.Scalar(expected), 1e-5f * Math.Abs(Torch.Scalar(expected)));
        loss.Counted.Should().Be(5);
    }

    [Theory]
    [InlineData(0.0f, "plain_none")]
    [InlineData(0.1f, "smooth_none")]
    public void Per_token_losses_equal_PyTorchs_and_are_zero_where_ignored(float smoothing, string expected)
    {
        var loss = new CrossEntropyLoss(labelSmoothing: smoothing, reduction: LossReduction.None).Forward(Logits, Targets);
        Expect.Close(loss.PerToken, Torch.Vector(expected));
        loss.PerToken[3].Should().Be(0f);
    }

    [Fact]
    public void Another_ignore_index_equals_PyTorchs()
    {
        int[] targets = [.. Torch.Data("custom_targets_float").Select(t => (int)t)];
        var loss = new CrossEntropyLoss(ignoreIndex: 1, labelSmoothing: 0.1f).Forward(Logits, targets);
        loss.Loss.Should().BeApproximately(Torch.Scalar("custom_ignore"), 1e-5f * Torch.Scalar("custom_ignore"));
    }

    [Theory]
    [InlineData(0.0f, "plain_grad")]
    [InlineData(0.1f, "smooth_grad")]
    public void The_gradient_of_the_mean_equals_PyTorchs(float smoothing, string expected) =>
        Expect.Close(new CrossEntropyLoss(labelSmoothing: smoothing).Backward(Logits, Targets), Torch.Matrix(expected), what: expected);

    [Fact]
    public void The_gradient_agrees_with_finite_differences()
    {
        // Central differences in double on small logits: (L(z + h) − L(z − h)) / 2h for every entry.
        var logits = RandomMatrices.Uniform(4, 5, 3);
        int[] targets = [2, 0, -100, 4];
        var loss = new CrossEntropyLoss(labelSmoothing: 0.1f);
        var analytic = loss.Backward(logits, targets);
        const float h = 1e-2f;
        for (var i = 0; i < 4; i++)
        {
            for (var c = 0; c < 5; c++)
            {
                var (up, down) = (logits.Clone(), logits.Clone());
                up[i, c] += h;
                down[i, c] -= h;
                var numeric = (loss.Forward(up, targets).Loss - loss.Forward(down, targets).Loss) / (2 * h);
                analytic[i, c].Should().BeApproximately(numeric, 2e-4f, $"∂L/∂z[{i}, {c}]");
            }
        }
    }

    [Fact]
    public void Bad_targets_and_an_all_ignored_mean_are_refused()
    {
        var loss = new CrossEntropyLoss();
        var outside = () => loss.Forward(Logits, [0, 1, 2, 7, 3, 4]);
        outside.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Target 7 of row 3*7 logits*");
        var count = () => loss.Forward(Logits, [0, 1]);
        count.Should().Throw<ArgumentException>().WithMessage("*[6 × 7]*2*");
        var allIgnored = () => loss.Forward(Logits, [-100, -100, -100, -100, -100, -100]);
        allIgnored.Should().Throw<ArgumentException>().WithMessage("*0/0*");
        new CrossEntropyLoss(reduction: LossReduction.Sum).Forward(Logits, [-100, -100, -100, -100, -100, -100]).Loss.Should().Be(0f);
        var smoothing = () => new CrossEntropyLoss(labelSmoothing: float.NaN);
        smoothing.Should().Throw<ArgumentOutOfRangeException>();
    }
}
