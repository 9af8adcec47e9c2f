using Attention.Layers;
using Attention.Randomness;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Layers;

public class PositionalEncodingTests
{
    private static readonly Fixture Torch = Fixture.Load("sinusoidal_positional_encoding.json");

    [Fact]
    public void Position_1_with_d_model_8_worked_by_hand()
    {
        // The frequencies are 1 / 10000^(2i/8) for i = 0..3: 1, 1/10, 1/100, 1/1000.
        // PE(1, ·) = [sin 1, cos 1, sin 0.1, cos 0.1, sin 0.01, cos 0.01, sin 0.001, cos 0.001]
        //          = [0.841471, 0.540302, 0.099833, 0.995004, 0.010000, 0.999950, 0.001000, 0.9999995]
        var pe = new SinusoidalPositionalEncoding(8, maxPositions: 10).Encode(2);
        Expect.Close(pe.Row(0), Vector<float>.Build.DenseOfArray([0, 1, 0, 1, 0, 1, 0, 1]), what: "position 0 is sin 0 = 0, cos 0 = 1");
        Expect.Close(pe.Row(1), Vector<float>.Build.DenseOfArray([0.841471f, 0.540302f, 0.099833f, 0.995004f, 0.010000f, 0.999950f, 0.001000f, 0.9999995f]),
            0, 1e-6f, "position 1");
    }

    [Theory]
    [InlineData(8, "pe_d8")]
    [InlineData(7, "pe_d7")]
    public void The_table_equals_the_float64_reference_rounded_to_float32(int modelDim, string name)
    {
        var pe = new SinusoidalPositionalEncoding(modelDim, maxPositions: 100).Encode(50);
        // Both sides compute in double and round once; pow and sin may differ in the last double bit, never a float32 bit
        // by more than one ulp (6e-8 near 1).
        Expect.Close(pe, Torch.Matrix(name), 0, 6e-8f, name);
    }

    [Fact]
    public void With_odd_d_model_the_last_column_is_a_sine()
    {
        var pe = new SinusoidalPositionalEncoding(7, maxPositions: 10).Encode(4);
        // Column 6 = sin(pos / 10000^(6/7)) = sin(pos · 0.0003728): 0 at position 0, rising slowly.
        pe[0, 6].Should().Be(0.0f);
        pe[3, 6].Should().BeApproximately((float)Math.Sin(3 / Math.Pow(10000, 6.0 / 7)), 1e-9f);
    }

    [Fact]
    public void Forward_adds_position_i_to_row_i_without_touching_the_input()
    {
        var encoding = new SinusoidalPositionalEncoding(4, maxPositions: 16);
        var x = Matrix<float>.Build.Dense(3, 4, 1.0f);
        var y = encoding.Forward(x);
        y.Should().Be(x + encoding.Encode(3));
        x.Should().Be(Matrix<float>.Build.Dense(3, 4, 1.0f));
    }

    [Fact]
    public void Instances_with_the_same_size_share_one_table_and_callers_get_copies()
    {
        var first = new SinusoidalPositionalEncoding(6, maxPositions: 20);
        var copy = first.Encode(5);
        copy[0, 0] = 42.0f;
        new SinusoidalPositionalEncoding(6, maxPositions: 20).Encode(5)[0, 0].Should().Be(0.0f, "changing a returned matrix cannot change the shared table");
    }

    [Fact]
    public void Asking_beyond_the_table_is_a_clear_error()
    {
        var encoding = new SinusoidalPositionalEncoding(4, maxPositions: 16);
        var encode = () => encoding.Encode(17);
        encode.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*17 positions*0 to 15*16 in all*");
        var forward = () => new LearnedPositionalEncoding(8, 4, new TorchGenerator(0)).Forward(Matrix<float>.Build.Dense(9, 4));
        forward.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*9 positions*0 to 7*");
    }

    [Fact]
    public void An_input_of_the_wrong_width_names_both_shapes()
    {
        var forward = () => new SinusoidalPositionalEncoding(4, maxPositions: 16).Forward(Matrix<float>.Build.Dense(3, 5));
        forward.Should().Throw<ArgumentException>().WithParameterName("x").WithMessage("*4 columns*[16 × 4]*[3 × 5]*");
    }

    [Fact]
    public void A_learned_encoding_is_an_embedding_over_positions()
    {
        var learned = new LearnedPositionalEncoding(10, 4, new TorchGenerator(9));
        var embedding = new Embedding(10, 4, new TorchGenerator(9)); // nn.Embedding(10, 4) after manual_seed(9)
        learned.Encode(3).Should().Be(embedding.Forward([0, 1, 2]));
        learned.Forward(Matrix<float>.Build.Dense(2, 4)).Should().Be(embedding.Weight.SubMatrix(0, 2, 0, 4));
    }

    [Fact]
    public void With_positions_permuting_the_tokens_no_longer_just_permutes_the_output()
    {
        var layer = new Attention.Mechanisms.MultiHeadAttention(8, 2, seed: 4);
        var encoding = new SinusoidalPositionalEncoding(8, maxPositions: 16);
        var x = RandomMatrices.Uniform(3, 8, 5);
        var swapped = Matrix<float>.Build.DenseOfRowVectors(x.Row(1), x.Row(0), x.Row(2));

        var output = layer.Forward(encoding.Forward(x)).Output;
        var swappedOutput = layer.Forward(encoding.Forward(swapped)).Output;
        (swappedOutput.Row(0) - output.Row(1)).AbsoluteMaximum().Should().BeGreaterThan(1e-3f, "token order now matters");
    }
}
