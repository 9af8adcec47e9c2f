using Attention.Visualization;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Visualization;

/// <summary>The printer must produce PyTorch's text exactly; the expected strings are what torch 1.13 prints.</summary>
public class TensorPrinterTests
{
    [Fact]
    public void Columns_share_the_width_of_the_widest_element()
    {
        var m = Matrix<float>.Build.DenseOfArray(new float[,] { { 0.5f, -12.25f }, { 3f, 0.125f } });
        // '{:.4f}' gives 0.5000, -12.2500, 3.0000, 0.1250; the widest is 8 characters.
        TensorPrinter.Format(m).Should().Be("tensor([[  0.5000, -12.2500],\n        [  3.0000,   0.1250]])");
    }

    [Fact]
    public void Whole_numbers_print_with_a_trailing_point()
    {
        TensorPrinter.Format(Vector<float>.Build.DenseOfArray([1f, 0f, -2f])).Should().Be("tensor([ 1.,  0., -2.])");
    }

    [Fact]
    public void All_zeros_print_as_whole_numbers_of_width_one()
    {
        TensorPrinter.Format(Vector<float>.Build.Dense(3)).Should().Be("tensor([0., 0., 0.])");
    }

    [Fact]
    public void A_spread_of_more_than_1000_switches_to_scientific_notation()
    {
        TensorPrinter.Format(Vector<float>.Build.DenseOfArray([1500.5f, 0.5f])).Should().Be("tensor([1.5005e+03, 5.0000e-01])");
    }

    [Fact]
    public void Long_vectors_wrap_at_80_characters()
    {
        var text = TensorPrinter.Format(Vector<float>.Build.Dense(10, i => i + 0.5f));
        // width 6 + ", " = 8 per element; (80 − 7) / 8 = 9 per line
        text.Should().Be("tensor([0.5000, 1.5000, 2.5000, 3.5000, 4.5000, 5.5000, 6.5000, 7.5000, 8.5000,\n        9.5000])");
    }
}
