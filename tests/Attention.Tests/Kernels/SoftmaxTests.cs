using Attention.Kernels;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>The public softmax: of a vector, of each row of a matrix, and down the columns of column-major storage.</summary>
public class SoftmaxTests
{
    [Fact]
    public void The_query_journey_example_gives_the_printed_weights()
    {
        // "Build a Large Language Model (From Scratch)", ch. 3: the attention scores of the query "journey" and the
        // weights printed for them. exp(0.9544 − 1.4950) = 0.5824 …; the six exps sum to 4.2041; 0.5824 / 4.2041 = 0.1385.
        float[] scores = [0.9544f, 1.4950f, 1.4754f, 0.8434f, 0.7070f, 1.0865f];
        var weights = new float[6];
        Softmax.Apply(scores, weights);
        Expect.Close(weights, [0.1385f, 0.2379f, 0.2333f, 0.1240f, 0.1082f, 0.1581f], 0, 5e-5f, "weights (printed to 4 decimals)", 6);
        scores[0].Should().Be(0.9544f, "the input is not modified");
    }

    [Fact]
    public void Large_logits_stay_finite_because_the_maximum_is_subtracted()
    {
        // exp(10000) overflows float32; exp(10000 − 10000) = 1 and exp(9999 − 10000) = e⁻¹ = 0.36788, so the weights are
        // 1 / 1.36788 = 0.73106 and 0.36788 / 1.36788 = 0.26894 (integers, so the inputs are exact in float32).
        float[] logits = [10000f, 9999f];
        Softmax.Apply(logits, logits);                                   // in place: the same span
        Expect.Close(logits, [0.7310586f, 0.2689414f], 1e-6f, 0, "softmax of 1e4 logits", 2);
    }

    [Fact]
    public void Rows_of_a_matrix_are_each_a_distribution_equal_to_the_reference()
    {
        var logits = RandomMatrices.Uniform(5, 37, 3) * 10;
        var before = logits.Clone();
        var weights = Softmax.Rows(logits);
        logits.Should().Be(before, "the input is not modified");
        for (var i = 0; i < logits.RowCount; i++)
        {
            var row = logits.Row(i).ToArray();
            ColumnSoftmaxReference.Column(row);                          // the scalar specification, one row at a time
            Expect.Close(weights.Row(i).ToArray(), row, 1e-6f, 1e-7f, $"row {i}", 37);
            weights.Row(i).Sum().Should().BeApproximately(1.0f, 1e-6f);
        }
    }

    [Fact]
    public void Columns_works_in_place_on_column_major_storage()
    {
        // Column 0 = [0, 0]: uniform, [1/2, 1/2]. Column 1 = [ln 3, 0]: [3/4, 1/4].
        float[] values = [0, 0, MathF.Log(3f), 0];
        Softmax.Columns(values, 2, 2);
        Expect.Close(values, [0.5f, 0.5f, 0.75f, 0.25f], 1e-6f, 0, "two columns", 2);
    }

    [Fact]
    public void Spans_that_are_too_short_or_overlap_are_refused()
    {
        var shortDestination = () => Softmax.Apply(new float[3], new float[2]);
        shortDestination.Should().Throw<ArgumentException>().WithParameterName("destination").WithMessage("*3 probabilities*has 2*");
        var buffer = new float[4];
        var shifted = () => Softmax.Apply(buffer.AsSpan(0, 3), buffer.AsSpan(1, 3));
        shifted.Should().Throw<ArgumentException>().WithParameterName("destination");
        var shortValues = () => Softmax.Columns(new float[5], 2, 3);
        shortValues.Should().Throw<ArgumentException>().WithParameterName("values").WithMessage("*[2 × 3] = 6 floats*has 5*");
        var nullMatrix = () => Softmax.Rows(null!);
        nullMatrix.Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void Empty_inputs_are_left_empty()
    {
        Softmax.Apply([], []);
        Softmax.Columns([], 0, 3);
        Softmax.Columns([], 3, 0);
        var two = new float[] { 1, 1 };
        Softmax.Columns(two, 0, 0);
        two.Should().Equal(1, 1);
    }
}
