using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>Dropout on the attention weights, as <c>nn.MultiheadAttention(dropout=p)</c> applies it in training:
/// head_i = Dropout(softmax(Q_i·K_iᵀ/√d_k))·V_i.</summary>
public class AttentionDropoutTests
{
    private static MultiHeadAttention Layer() => new(8, 2, new TorchGenerator(3), keyDim: 5, valueDim: 5) { AttentionDropout = new Dropout(0.3f, new TorchGenerator(4)) { Training = true } };

    [Fact]
    public void Each_head_multiplies_V_by_its_dropped_weights()
    {
        var attention = Layer();
        var (query, memory) = (RandomMatrices.Uniform(3, 8, 1), RandomMatrices.Uniform(4, 5, 2));
        var record = attention.ForwardRecorded(query, memory, memory);
        for (var h = 0; h < 2; h++)
        {
            var mask = record.DropoutMasks![h]!;
            mask.Enumerate().Should().OnlyContain(m => m == 0f || m == 1f / 0.7f).And.Contain(0f, "p = 0.3 over 12 weights drops some");
            var v = record.V.SubMatrix(0, 4, h * 4, 4);
            var expected = record.Heads[h].Weights.PointwiseMultiply(mask) * v;            // Dropout(α)·V_h
            Expect.Close(record.Concat.SubMatrix(0, 3, h * 4, 4), expected, what: $"head {h}");
        }
    }

    [Fact]
    public void The_gradients_through_dropped_weights_agree_with_finite_differences()
    {
        var attention = Layer();
        var (query, memory) = (RandomMatrices.Uniform(3, 8, 5), RandomMatrices.Uniform(4, 5, 6));
        var upstream = RandomMatrices.Uniform(3, 8, 7);
        // The same stream for every evaluation, so each forward pass drops the same weights.
        MultiHeadAttentionRecord Run(Matrix<float> q, Matrix<float> m)
        {
            using var stream = Dropout.UseGenerator(new TorchGenerator(11));
            return attention.ForwardRecorded(q, m, m);
        }
        float Loss(Matrix<float> q, Matrix<float> m) => (float)Run(q, m).Output.PointwiseMultiply(upstream).Enumerate().Sum(x => (double)x);

        var gradients = attention.Backward(Run(query, memory), upstream);
        var dMemory = gradients.Keys + gradients.Values;
        const float h = 1e-2f;   // float32 forward passes: the numeric derivative is good to about 1e-4 here
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 8; j++)
            {
                var (up, down) = (query.Clone(), query.Clone());
                (up[i, j], down[i, j]) = (up[i, j] + h, down[i, j] - h);
                gradients.Queries[i, j].Should().BeApproximately((Loss(up, memory) - Loss(down, memory)) / (2 * h), 1e-3f, $"∂L/∂query[{i}, {j}]");
            }
        }
        for (var i = 0; i < 4; i++)
        {
            for (var j = 0; j < 5; j++)
            {
                var (up, down) = (memory.Clone(), memory.Clone());
                (up[i, j], down[i, j]) = (up[i, j] + h, down[i, j] - h);
                dMemory[i, j].Should().BeApproximately((Loss(query, up) - Loss(query, down)) / (2 * h), 1e-3f, $"∂L/∂memory[{i}, {j}]");
            }
        }
    }

    [Fact]
    public void Transformer_layers_drop_attention_weights_in_training_only()
    {
        var options = TransformerOptions.Small(5, 5) with { ModelDim = 8, HeadCount = 2, Dropout = 0.2f };
        var layer = new EncoderLayer(options, new TorchGenerator(8));
        layer.SelfAttention.AttentionDropout.Probability.Should().Be(0.2f, "nn.TransformerEncoderLayer passes dropout=p to self_attn");
        var x = RandomMatrices.Uniform(4, 8, 9);
        layer.ForwardRecorded(x).Attention.DropoutMasks.Should().OnlyContain(m => m == null, "evaluation mode drops nothing");
        layer.SetTraining(true);
        layer.ForwardRecorded(x).Attention.DropoutMasks.Should().OnlyContain(m => m != null);
        var decoder = new DecoderLayer(options, new TorchGenerator(8));
        decoder.SetTraining(true);
        (decoder.SelfAttention.AttentionDropout.Training && decoder.CrossAttention.AttentionDropout.Training).Should().BeTrue();
    }
}
