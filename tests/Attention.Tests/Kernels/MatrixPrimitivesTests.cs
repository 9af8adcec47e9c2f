using Attention.Kernels;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>The matrix primitives the lesson classes call, each against a small case worked by hand or against MathNet.</summary>
public class MatrixPrimitivesTests
{
    [Fact]
    public void Linear_is_x_times_W_transposed_plus_b_with_W_in_PyTorchs_layout()
    {
        // x = [1 2 3], W = [[1 0 1], [0 2 0]] ([out 2 × in 3]), b = [10, 20]:
        //   y₀ = 1·1 + 2·0 + 3·1 + 10 = 14,   y₁ = 1·0 + 2·2 + 3·0 + 20 = 24
        var x = Matrix<float>.Build.DenseOfRowArrays([1f, 2f, 3f]);
        var w = Matrix<float>.Build.DenseOfRowArrays([1f, 0f, 1f], [0f, 2f, 0f]);
        var b = Vector<float>.Build.DenseOfArray([10f, 20f]);
        MatrixMultiply.Linear(x, w, b).Row(0).Should().Equal(14f, 24f);
        MatrixMultiply.Linear(x, w, null).Row(0).Should().Equal(4f, 4f);
    }

    [Fact]
    public void Linear_agrees_with_MathNet_on_awkward_sizes_and_writes_into_a_kept_result()
    {
        var (x, w) = (RandomMatrices.Uniform(67, 45, 1), RandomMatrices.Uniform(13, 45, 2));
        var b = RandomMatrices.Uniform(1, 13, 3).Row(0);
        var expected = x * w.Transpose() + Matrix<float>.Build.Dense(67, 13, (_, j) => b[j]);
        Expect.Close(MatrixMultiply.Linear(x, w, b), expected, what: "x·Wᵀ + b");
        var result = Matrix<float>.Build.Dense(67, 13, float.NaN);
        MatrixMultiply.Linear(x, w, b, result);
        Expect.Close(result, expected, what: "into a kept result");
    }

    [Fact]
    public void Linear_refuses_shapes_that_do_not_fit_and_names_both()
    {
        var x = Matrix<float>.Build.Dense(4, 3);
        var w = Matrix<float>.Build.Dense(2, 5);
        var act = () => MatrixMultiply.Linear(x, w, null);
        act.Should().Throw<ArgumentException>().WithMessage("*[4 × 3]*[2 × 5]*");
        var badBias = () => MatrixMultiply.Linear(x, Matrix<float>.Build.Dense(2, 3), Vector<float>.Build.Dense(3));
        badBias.Should().Throw<ArgumentException>().WithParameterName("bias");
        var intoInput = () => MatrixMultiply.Linear(Matrix<float>.Build.Dense(3, 3), Matrix<float>.Build.Dense(3, 3), null, x);
        intoInput.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*[3 × 3]*[4 × 3]*");
    }

    [Fact]
    public void Layer_normalisation_of_a_row_worked_by_hand()
    {
        // Row [1 2 3 4]: μ = 2.5, σ² = (2.25 + 0.25 + 0.25 + 2.25)/4 = 1.25, so (x − μ)/√(1.25 + ε) with ε = 0:
        //   ±1.5/1.1180 = ±1.3416, ±0.5/1.1180 = ±0.4472; then ·γ (2) + β (1).
        var x = Matrix<float>.Build.DenseOfRowArrays([1f, 2f, 3f, 4f]);
        var gain = Vector<float>.Build.Dense(4, 2f);
        var bias = Vector<float>.Build.Dense(4, 1f);
        var y = LayerNormalization.Apply(x, gain, bias, 1e-12f);
        Expect.Close(y.Row(0), Vector<float>.Build.DenseOfArray([1 - 2 * 1.3416408f, 1 - 2 * 0.4472136f, 1 + 2 * 0.4472136f, 1 + 2 * 1.3416408f]));
        LayerNormalization.Apply(x, gain, bias, 1e-12f, x);
        Expect.Close(x, y, what: "in place");
        var wrong = () => LayerNormalization.Apply(x, Vector<float>.Build.Dense(3), bias, 1e-5f);
        wrong.Should().Throw<ArgumentException>().WithMessage("*[3]*[4]*[1 × 4]*");
    }

    [Fact]
    public void Element_wise_sums_scales_and_activations()
    {
        var x = Matrix<float>.Build.DenseOfRowArrays([-2f, -0.5f], [0f, 3f]);
        var y = Matrix<float>.Build.DenseOfRowArrays([1f, 1f], [1f, 1f]);
        Elementwise.Add(x, y).Should().Be(Matrix<float>.Build.DenseOfRowArrays([-1f, 0.5f], [1f, 4f]));
        Elementwise.Multiply(x, 2f).Should().Be(Matrix<float>.Build.DenseOfRowArrays([-4f, -1f], [0f, 6f]));
        Elementwise.Relu(x).Should().Be(Matrix<float>.Build.DenseOfRowArrays([0f, 0f], [0f, 3f]));
        // GELU(x) = x·Φ(x): Φ(−2) = 0.02275, Φ(−0.5) = 0.30854, Φ(3) = 0.99865.
        Expect.Close(Elementwise.Gelu(x), Matrix<float>.Build.DenseOfRowArrays([-0.04550026f, -0.15426877f], [0f, 2.9959502f]));
        x.Should().Be(Matrix<float>.Build.DenseOfRowArrays([-2f, -0.5f], [0f, 3f]), "the allocating forms leave their input alone");
        var wrong = () => Elementwise.Add(x, Matrix<float>.Build.Dense(2, 3));
        wrong.Should().Throw<ArgumentException>().WithParameterName("y").WithMessage("*[2 × 2]*[2 × 3]*");
    }
}
