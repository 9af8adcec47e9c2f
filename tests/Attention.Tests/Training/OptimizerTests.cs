using Attention.Tests.Support;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The optimizers, clipping and schedules against torch.optim over four steps with the same gradients.</summary>
public class OptimizerTests
{
    private static readonly Fixture Torch = Fixture.Load("optimizers.json");

    /// <summary>Runs four steps of <paramref name="make"/> from PyTorch's start with PyTorch's gradients.</summary>
    private static (Parameter A, Parameter B) Run(Func<Parameter[], Optimizer> make)
    {
        var a = new Parameter("a", Torch.Matrix("start_a"));
        var b = new Parameter("b", Torch.Row("start_b"));
        var optimizer = make([a, b]);
        var (gradA, gradB) = (Torch.Data("grad_a"), Torch.Data("grad_b"));
        for (var step = 0; step < 4; step++)
        {
            optimizer.ZeroGradients();
            a.Gradient.SetSubMatrix(0, 0, Matrix<float>.Build.DenseOfRowMajor(3, 4, gradA.AsSpan(step * 12, 12).ToArray()));
            b.Gradient.SetRow(0, gradB.AsSpan(step * 5, 5).ToArray());
            optimizer.Step();
        }
        return (a, b);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("nesterov")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Four_steps_end_where_PyTorchs_end(string name)
    {
        var (a, b) = Run(parameters => name switch
        {
            "sgd" => new Sgd(parameters, 0.1f, momentum: 0.9f, dampening: 0.1f, weightDecay: 0.01f),
            "nesterov" => new Sgd(parameters, 0.1f, momentum: 0.9f, nesterov: true),
            "adam" => new Adam(parameters, 0.01f, 0.9f, 0.98f, 1e-9f, weightDecay: 0.01f),
            _ => new AdamW(parameters, 0.01f, 0.9f, 0.98f, 1e-9f, weightDecay: 0.1f),
        });
        Expect.Close(a.Value, Torch.Matrix($"{name}_a"), what: $"{name}: a after 4 steps");
        Expect.Close(b.Value, Torch.Row($"{name}_b"), what: $"{name}: b after 4 steps");
    }

    [Fact]
    public void A_frozen_parameter_does_not_move()
    {
        var (a, _) = Run(parameters =>
        {
            parameters[0].RequiresGradient = false;
            return new Adam(parameters, 0.01f);
        });
        a.Value.Should().Be(Torch.Matrix("start_a"));
    }

    [Fact]
    public void Clipping_by_the_global_norm_equals_PyTorchs()
    {
        var a = new Parameter("a", Matrix<float>.Build.Dense(3, 4));
        var b = new Parameter("b", Matrix<float>.Build.Dense(1, 5));
        var (gradA, gradB) = (Torch.Data("grad_a"), Torch.Data("grad_b"));
        a.Gradient.SetSubMatrix(0, 0, Matrix<float>.Build.DenseOfRowMajor(3, 4, gradA.AsSpan(0, 12).ToArray()));
        b.Gradient.SetRow(0, gradB.AsSpan(0, 5).ToArray());
        var total = GradientClipping.ClipByGlobalNorm([a, b], 1.0f);
        total.Should().BeApproximately(Torch.Scalar("total_norm"), 1e-5f * Torch.Scalar("total_norm"));
        Expect.Close(a.Gradient, Torch.Matrix("clipped_a"));
        Expect.Close(b.Gradient, Torch.Row("clipped_b"));
    }

    [Fact]
    public void The_papers_schedule_rises_for_the_warm_up_then_falls_as_one_over_root_n()
    {
        // d_model 512, warm-up 4000: rate(1) = 512^−0.5 · 4000^−1.5 = 0.044194 · 3.9528e-6 = 1.7469e-7;
        // the peak at n = 4000: 512^−0.5 · 4000^−0.5 = 6.9877e-4; at n = 16000 half of that, 3.4939e-4.
        var rate = LearningRateSchedule.Warmup(512, 4000);
        rate(1).Should().BeApproximately(1.7469e-7f, 1e-10f);
        rate(4000).Should().BeApproximately(6.9877e-4f, 1e-8f);
        rate(16_000).Should().BeApproximately(3.4939e-4f, 1e-8f);
        rate(2000).Should().BeApproximately(rate(4000) / 2, 1e-8f, "linear during the warm-up");
        var zero = () => rate(0);
        zero.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*numbered from 1*");
    }

    [Fact]
    public void Cosine_decays_from_the_peak_to_the_floor()
    {
        var rate = LearningRateSchedule.Cosine(1.0f, 0.1f, totalSteps: 101);
        rate(1).Should().Be(1.0f);
        rate(51).Should().BeApproximately(0.55f, 1e-6f, "half way: (1 + cos(π/2))/2 = 1/2 of the range");
        rate(101).Should().Be(0.1f);
        rate(500).Should().Be(0.1f);
        LearningRateSchedule.Constant(0.3f)(7).Should().Be(0.3f);
    }
}
