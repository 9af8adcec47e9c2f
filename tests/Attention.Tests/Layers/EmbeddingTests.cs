using Attention.Layers;
using Attention.Randomness;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Layers;

public class EmbeddingTests
{
    [Fact]
    public void Forward_picks_one_row_per_id()
    {
        // Row i of the table is the vector of token i; ids [2, 0, 2] give rows 2, 0, 2.
        var table = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var embedding = new Embedding(table);

        embedding.Forward([2, 0, 2]).Should().Be(Matrix<float>.Build.DenseOfArray(new float[,] { { 5, 6 }, { 1, 2 }, { 5, 6 } }));
    }

    [Fact]
    public void The_table_is_a_copy_so_the_callers_matrix_is_never_shared()
    {
        var table = Matrix<float>.Build.Dense(3, 2, 1.0f);
        var embedding = new Embedding(table);
        table[0, 0] = 99.0f;
        embedding.Weight[0, 0].Should().Be(1.0f);
    }

    [Fact]
    public void An_id_outside_the_table_names_the_id_and_the_vocabulary_size()
    {
        var embedding = new Embedding(6, 3, new TorchGenerator(123));
        var forward = () => embedding.Forward([0, 6]);
        forward.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*6*position 1*6 tokens*");
        var negative = () => embedding.Forward([-3]);
        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*-3*");
    }

    [Fact]
    public void An_empty_sequence_is_a_clear_error()
    {
        var embedding = new Embedding(6, 3, new TorchGenerator(123));
        var forward = () => embedding.Forward([]);
        forward.Should().Throw<ArgumentException>().WithMessage("*empty sequence*");
    }
}
