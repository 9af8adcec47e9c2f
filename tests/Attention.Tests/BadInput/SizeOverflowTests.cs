using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.BadInput;

/// <summary>
/// Sizes whose product does not fit in an <c>int</c> must be refused with an <see cref="ArgumentException"/> naming
/// them, before anything is allocated, read or written. 85,461 × 50,257 = 4,294,913,… wraps to 46,181 in 32 bits, and a
/// kernel trusting that length once wrote past its array. Spans make the span entry points cheap to test at such sizes.
/// </summary>
public class SizeOverflowTests
{
    [Fact]
    public void A_linear_layer_whose_output_would_pass_the_largest_array_is_refused_before_it_allocates()
    {
        // A GPT-2-sized LM head (vocabulary 50,257) over 85,461 rows: 4.29 billion outputs.
        var head = new Linear(Matrix<float>.Build.Dense(50_257, 1), bias: null);
        var x = Matrix<float>.Build.Dense(85_461, 1);
        var act = () => head.Forward(x);
        act.Should().Throw<ArgumentException>().WithMessage("*85461*50257*");
        var withBias = () => new Linear(Matrix<float>.Build.Dense(50_257, 1), Vector<float>.Build.Dense(50_257)).Forward(x);
        withBias.Should().Throw<ArgumentException>().WithMessage("*85461*50257*");
    }

    [Theory]
    [InlineData(65_536, 32_769)]   // 2³¹ + 2¹⁶
    [InlineData(65_536, 65_537)]   // 2³² + 2¹⁶: wraps to 65,536 in 32 bits
    public void The_product_entry_points_compare_lengths_in_64_bits(int rows, int columns)
    {
        // A [rows × 1] and B [1 × columns] are real; only C [rows × columns] cannot be, and its span has 16 floats.
        var (a, b) = (new float[rows], new float[columns]);
        var multiply = () => MatrixMultiply.Multiply(a, b, new float[16], rows, 1, columns);
        multiply.Should().Throw<ArgumentException>().WithParameterName("c").WithMessage($"*{rows}*{columns}*");
        var transposed = () => MatrixMultiply.MultiplyTransposed(a, b, new float[16], rows, 1, columns);
        transposed.Should().Throw<ArgumentException>().WithParameterName("c").WithMessage($"*{rows}*{columns}*");
        var transposeMultiply = () => MatrixMultiply.TransposeMultiply(a, b, new float[16], rows, 1, columns);
        transposeMultiply.Should().Throw<ArgumentException>().WithParameterName("c").WithMessage($"*{rows}*{columns}*");
        var softmax = () => Softmax.Columns(new float[16], rows, columns);
        softmax.Should().Throw<ArgumentException>().WithMessage($"*{rows}*{columns}*");
    }

    [Fact]
    public void Fused_attention_refuses_heads_times_width_past_32_bits_instead_of_wrapping_to_zero()
    {
        // 65,536 heads of 65,536 columns: heads · d_k = 2³², which is 0 in 32 bits.
        var act = () => FusedAttention.Forward(new float[4], new float[4], new float[4], new float[4], 1, 1, 65_536, 65_536, null, 1.0f, heads: 65_536);
        act.Should().Throw<ArgumentException>().WithMessage("*4294967296*");
    }

    [Fact]
    public void Matrices_the_library_makes_are_checked_against_the_largest_array()
    {
        var x = Matrix<float>.Build.Dense(70_000, 1);
        var y = Matrix<float>.Build.Dense(1, 70_000);
        var product = () => MatrixMultiply.Multiply(x, y);          // [70,000 × 70,000] = 4.9 billion floats
        product.Should().Throw<ArgumentException>().WithMessage("*70000*70000*");
        var mask = () => AttentionMask.Causal.ToAdditive(70_000, 70_000);
        mask.Should().Throw<ArgumentException>().WithMessage("*70000*70000*");
        var table = () => new SinusoidalPositionalEncoding(70_000, maxPositions: 70_000);
        table.Should().Throw<ArgumentException>().WithMessage("*70000*70000*");
        var embedding = () => new Embedding(70_000, 70_000, new Attention.Randomness.TorchGenerator(1));
        embedding.Should().Throw<ArgumentException>().WithMessage("*70000*70000*");
    }
}
