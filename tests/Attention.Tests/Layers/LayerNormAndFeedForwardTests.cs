using Attention.Layers;
using Attention.Randomness;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Layers;

public class LayerNormAndFeedForwardTests
{
    [Fact]
    public void LayerNorm_of_1_2_3_4_worked_by_hand()
    {
        // mean = 2.5; biased variance = (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25; √(1.25 + 1e-5) = 1.1180384
        // y = (x − 2.5) / 1.1180384 = [−1.3416355, −0.4472118, 0.4472118, 1.3416355], then ·γ + β with γ = [1, 2, 1, 1], β = [0, 0, 0, 1]
        var norm = new LayerNorm(Vector<float>.Build.DenseOfArray([1, 2, 1, 1]), Vector<float>.Build.DenseOfArray([0, 0, 0, 1]));
        var y = norm.Forward(Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 2, 3, 4 } }));
        Expect.Close(y.Row(0), Vector<float>.Build.DenseOfArray([-1.3416355f, -0.8944236f, 0.4472118f, 2.3416355f]), what: "LayerNorm row");
    }

    [Fact]
    public void Add_and_norm_in_one_call_equals_norm_of_the_sum()
    {
        var norm = new LayerNorm(Vector<float>.Build.DenseOfArray([1, 2, 0.5f]), Vector<float>.Build.DenseOfArray([0, 1, -1]));
        var x = RandomMatrices.Uniform(5, 3, 1);
        var residual = RandomMatrices.Uniform(5, 3, 2);
        norm.Forward(x, residual).Should().Be(norm.Forward(x + residual));
        var wrong = () => norm.Forward(x, Matrix<float>.Build.Dense(4, 3));
        wrong.Should().Throw<ArgumentException>().WithParameterName("residual").WithMessage("*[5 × 3]*[4 × 3]*");
    }

    [Fact]
    public void LayerNorm_stays_accurate_for_values_near_1000()
    {
        // Every value and the mean (1000.0625) are exact in float32, so nothing but the algorithm can err here.
        var x = Matrix<float>.Build.DenseOfArray(new float[,] { { 1000.0f, 1000.5f, 999.5f, 1000.25f } });
        var y = new LayerNorm(4).Forward(x);
        double mean = (1000.0 + 1000.5 + 999.5 + 1000.25) / 4;
        double variance = new[] { 1000.0, 1000.5, 999.5, 1000.25 }.Select(v => (v - mean) * (v - mean)).Sum() / 4;
        for (var j = 0; j < 4; j++)
        {
            y[0, j].Should().BeApproximately((float)((x[0, j] - mean) / Math.Sqrt(variance + 1e-5)), 2e-6f);
        }
    }

    [Fact]
    public void LayerNorm_of_512_features_near_1000_repairs_the_rounding_of_its_float_mean()
    {
        // A plain float32 sum of 512 values near 1000 (≈ 512,000, where floats are 1/32 apart) misses the mean by about
        // 4e-4, which is 1.4e-3 of a spread of ±0.5: the normalised values would be off by that much. The corrected
        // two-pass moments leave only the rounding of the final mean to float (6e-5, about 2e-4 of the spread).
        var random = new Random(3);
        var x = Matrix<float>.Build.Dense(3, 512, (i, j) => 1000.0f + (float)(random.NextDouble() - 0.5));
        var y = new LayerNorm(512).Forward(x);
        for (var i = 0; i < 3; i++)
        {
            var row = x.Row(i).Select(v => (double)v).ToArray();
            var mean = row.Average();
            var std = Math.Sqrt(row.Select(v => (v - mean) * (v - mean)).Average() + 1e-5);
            for (var j = 0; j < 512; j++)
            {
                y[i, j].Should().BeApproximately((float)((row[j] - mean) / std), 5e-4f, $"row {i}, feature {j}");
            }
        }
    }

    [Fact]
    public void The_exact_GELU_is_x_times_the_normal_cdf()
    {
        // GELU(1) = 1·Φ(1) = 0.8413447, GELU(−1) = −1·Φ(−1) = −0.1586553, GELU(0) = 0. ReLU(−1) = 0.
        var identity = Matrix<float>.Build.DenseIdentity(3);
        var state = new Dictionary<string, Matrix<float>>
        {
            ["linear1.weight"] = identity, ["linear1.bias"] = Matrix<float>.Build.Dense(1, 3),
            ["linear2.weight"] = identity, ["linear2.bias"] = Matrix<float>.Build.Dense(1, 3),
        };
        var x = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, -1, 0 } });
        var gelu = FeedForward.FromStateDict(state, "", 3, 3, Activation.Gelu, new Dropout(0, new TorchGenerator(0)));
        var relu = FeedForward.FromStateDict(state, "", 3, 3, Activation.ReLU, new Dropout(0, new TorchGenerator(0)));
        Expect.Close(gelu.Forward(x).Row(0), Vector<float>.Build.DenseOfArray([0.8413447f, -0.1586553f, 0]), what: "GELU");
        relu.Forward(x).Row(0).Should().Equal(1f, 0f, 0f);
    }

    [Fact]
    public void Dropout_is_the_identity_unless_training()
    {
        var dropout = new Dropout(0.5f, new TorchGenerator(1));
        var x = Matrix<float>.Build.Dense(20, 50, 1.0f);
        dropout.Forward(x).Should().BeSameAs(x);

        dropout.Training = true;
        var dropped = dropout.Forward(x);
        var zeros = dropped.Enumerate().Count(v => v == 0.0f);
        zeros.Should().BeInRange(400, 600, "about half of 1000 entries are dropped");
        dropped.Enumerate().Where(v => v != 0.0f).Should().OnlyContain(v => v == 2.0f, "survivors are scaled by 1 / (1 − 0.5)");
        x.Enumerate().Should().OnlyContain(v => v == 1.0f, "the input is not modified");
    }

    [Fact]
    public void The_same_seed_drops_the_same_entries()
    {
        var a = new Dropout(0.3f, new TorchGenerator(7)) { Training = true };
        var b = new Dropout(0.3f, new TorchGenerator(7)) { Training = true };
        var x = Matrix<float>.Build.Dense(4, 9, 1.0f);
        a.Forward(x).Should().Be(b.Forward(x));
    }
}
