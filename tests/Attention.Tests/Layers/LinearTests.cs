using Attention.Layers;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Layers;

public class LinearTests
{
    [Fact]
    public void Forward_is_x_times_W_transposed_plus_b_with_W_stored_out_by_in()
    {
        // W = [[1, 2, 3],      b = [0.5, -1]
        //      [0, -1, 4]]     (2 outputs × 3 inputs, PyTorch's layout)
        // x = [1, 1, 2]:  y0 = 1·1 + 2·1 + 3·2 + 0.5 = 9.5
        //                 y1 = 0·1 − 1·1 + 4·2 − 1   = 6
        var weight = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 2, 3 }, { 0, -1, 4 } });
        var linear = new Linear(weight, Vector<float>.Build.DenseOfArray([0.5f, -1f]));
        var x = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 1, 2 } });

        linear.Forward(x).Row(0).Should().Equal(9.5f, 6f);
    }

    [Fact]
    public void Forward_agrees_with_MathNet_on_a_larger_input()
    {
        var weight = RandomMatrices.Uniform(7, 5, seed: 1);
        var x = RandomMatrices.Uniform(9, 5, seed: 2);
        var linear = new Linear(weight);
        Expect.Close(linear.Forward(x), x * weight.Transpose());
    }

    [Fact]
    public void A_wrong_input_width_names_both_shapes()
    {
        var linear = new Linear(Matrix<float>.Build.Dense(2, 3));
        var forward = () => linear.Forward(Matrix<float>.Build.Dense(4, 5));
        forward.Should().Throw<ArgumentException>().WithParameterName("x").WithMessage("*3 columns*[2 × 3]*[4 × 5]*");
    }

    [Fact]
    public void A_bias_of_the_wrong_length_is_rejected()
    {
        var build = () => new Linear(Matrix<float>.Build.Dense(2, 3), Vector<float>.Build.Dense(3));
        build.Should().Throw<ArgumentException>().WithParameterName("bias").WithMessage("*2 entries*[2 × 3]*has 3*");
    }

    [Fact]
    public void A_seed_gives_the_same_layer_as_a_fresh_generator_with_that_seed()
    {
        var fromSeed = new Linear(4, 3, seed: 5);
        var fromGenerator = new Linear(4, 3, new Attention.Randomness.TorchGenerator(5));
        fromSeed.Weight.Should().Be(fromGenerator.Weight);
        fromSeed.Bias!.ToArray().Should().Equal(fromGenerator.Bias!.ToArray());
        new Linear(4, 3, seed: 5, bias: false).Bias.Should().BeNull();
    }
}
