using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

/// <summary>
/// <see cref="EncoderLayer.Forward(Matrix{float}, AttentionMask?, Matrix{float})"/> writes the layer's output into a
/// matrix the caller keeps, so a loop over many inputs allocates nothing. It must give the same bits as the allocating
/// call, and refuse a result it cannot write into.
/// </summary>
public class EncoderLayerIntoResultTests
{
    private static readonly TransformerOptions Options = LayerOptions.Small;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Writing_into_a_kept_matrix_gives_the_same_bits_as_a_new_result(bool normFirst)
    {
        var layer = new EncoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(37, 64, 2);
        var padding = AttentionMask.KeyPadding(keyCount: 37, length: 30);
        var result = Matrix<float>.Build.Dense(37, 64, float.NaN); // whatever it held is overwritten

        layer.Forward(x, padding, result);

        Expect.BitExact(result.ToColumnMajorArray(), layer.Forward(x, padding).ToColumnMajorArray(), "into result against a new one");
    }

    [Fact]
    public void A_result_of_the_wrong_shape_is_refused_with_both_shapes()
    {
        var layer = new EncoderLayer(Options, new TorchGenerator(1));
        var act = () => layer.Forward(RandomMatrices.Uniform(5, 64, 3), null, Matrix<float>.Build.Dense(6, 64));
        act.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*[5 × 64]*[6 × 64]*");
    }

    [Fact]
    public void The_input_itself_cannot_be_the_result()
    {
        // The layer reads x until its last step, so it cannot overwrite it on the way.
        var layer = new EncoderLayer(Options, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(5, 64, 3);
        var copy = x.Clone();
        var act = () => layer.Forward(x, null, x);
        act.Should().Throw<ArgumentException>().WithParameterName("result");
        x.Should().BeEquivalentTo(copy, "nothing is written when the call is refused");
    }

    [Fact]
    public void A_result_without_a_dense_array_is_refused()
    {
        var layer = new EncoderLayer(Options, new TorchGenerator(1));
        var act = () => layer.Forward(RandomMatrices.Uniform(5, 64, 3), null, Matrix<float>.Build.Sparse(5, 64));
        act.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*dense*");
    }
}
