using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Mechanisms;

public class SelfAttentionTests
{
    [Fact]
    public void With_identity_projections_self_attention_is_scaled_dot_product_attention_of_the_input()
    {
        var identity = Matrix<float>.Build.DenseIdentity(4);
        var head = new SelfAttention(identity, identity, identity);
        var x = RandomMatrices.Uniform(5, 4, 11);
        Expect.Close(head.Forward(x), ScaledDotProductAttention.Compute(x, x, x).Output);
    }

    [Fact]
    public void Forward_returns_the_context_of_the_trace()
    {
        var head = new SelfAttention(3, 2, 4, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(6, 3, 12);
        head.Forward(x).Should().Be(head.Trace(x).Context);
    }

    [Fact]
    public void An_input_of_the_wrong_width_names_both_shapes()
    {
        var head = new SelfAttention(3, 2, 4, new TorchGenerator(1));
        var forward = () => head.Forward(Matrix<float>.Build.Dense(6, 5));
        forward.Should().Throw<ArgumentException>().WithParameterName("x").WithMessage("*3 columns*[3 × 2]*[6 × 5]*");
    }

    [Fact]
    public void Weights_of_mismatched_shapes_are_refused()
    {
        var build = () => new SelfAttention(Matrix<float>.Build.Dense(3, 2), Matrix<float>.Build.Dense(3, 3), Matrix<float>.Build.Dense(3, 4));
        build.Should().Throw<ArgumentException>().WithParameterName("wk").WithMessage("*[3 × 2]*[3 × 3]*");
        var values = () => new SelfAttention(Matrix<float>.Build.Dense(3, 2), Matrix<float>.Build.Dense(3, 2), Matrix<float>.Build.Dense(4, 4));
        values.Should().Throw<ArgumentException>().WithParameterName("wv").WithMessage("*[3 × 2]*[4 × 4]*");
    }
}
