using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

/// <summary>
/// After its last attention a layer treats each token on its own (§3.3), so on several cores each core takes a block of
/// tokens through the add &amp; norm and feed-forward steps. Every token is computed by the same operations in
/// the same order wherever its block starts, so the output must not change by a single bit with the thread count.
/// 301 tokens on 3 threads make blocks of 100, 100 and 101 rows on any machine.
/// </summary>
public class TokenBlockTests
{
    private static readonly TransformerOptions Options = LayerOptions.Small;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_encoder_layer_gives_the_same_bits_on_one_thread_and_in_token_blocks(bool normFirst)
    {
        var layer = new EncoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(301, 64, 2);
        var padding = AttentionMask.KeyPadding(keyCount: 301, length: 290);
        var one = Run(1, () => layer.Forward(x, padding));
        foreach (var threads in new[] { 2, 3 })
        {
            Expect.BitExact(Run(threads, () => layer.Forward(x, padding)).ToColumnMajorArray(), one.ToColumnMajorArray(), $"{threads} token blocks against one");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_decoder_layer_gives_the_same_bits_on_one_thread_and_in_token_blocks(bool normFirst)
    {
        var layer = new DecoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(5));
        var (y, memory) = (RandomMatrices.Uniform(301, 64, 6), RandomMatrices.Uniform(77, 64, 7));
        var one = Run(1, () => layer.Forward(y, memory, AttentionMask.Causal));
        foreach (var threads in new[] { 2, 3 })
        {
            Expect.BitExact(Run(threads, () => layer.Forward(y, memory, AttentionMask.Causal)).ToColumnMajorArray(), one.ToColumnMajorArray(), $"{threads} token blocks against one");
        }
    }

    [Theory]
    [InlineData(301, 301)]
    [InlineData(301, 150)]
    [InlineData(150, 301)]
    public void Multi_head_attention_projects_its_tokens_in_blocks_without_changing_a_bit(int n, int m)
    {
        // Q = query·W_Qᵀ + b_Q, K and V are per token too: each core projects a block of queries (and of keys and values).
        // kdim 96 and vdim 80 differ from E = 128, so a block that read the wrong input width would show. The sizes are
        // large enough for every projection to be split.
        var attention = new MultiHeadAttention(128, 4, new TorchGenerator(8), keyDim: 96, valueDim: 80);
        var (query, key, value) = (RandomMatrices.Uniform(n, 128, 9), RandomMatrices.Uniform(m, 96, 10), RandomMatrices.Uniform(m, 80, 11));
        var one = Run(1, () => attention.Forward(query, key, value, needWeights: false).Output);
        foreach (var threads in new[] { 2, 3 })
        {
            var many = Run(threads, () => attention.Forward(query, key, value, needWeights: false).Output);
            Expect.BitExact(many.ToColumnMajorArray(), one.ToColumnMajorArray(), $"{threads} threads against one");
        }
    }

    [Fact]
    public void A_training_pass_draws_the_same_dropout_masks_whatever_the_thread_count()
    {
        // Dropout takes its masks from one generator in order, so a training pass must not be split between threads.
        Matrix<float> Train(int threads)
        {
            var layer = new EncoderLayer(Options with { Dropout = 0.1f }, new TorchGenerator(3));
            layer.SetTraining(true);
            return Run(threads, () => layer.Forward(RandomMatrices.Uniform(301, 64, 4)));
        }
        Expect.BitExact(Train(3).ToColumnMajorArray(), Train(1).ToColumnMajorArray(), "training on 3 threads against 1");
    }

    [Fact]
    public void A_block_of_rows_is_copied_out_of_column_major_storage_and_back()
    {
        // [4 × 2] column-major: column 0 = 0 1 2 3, column 1 = 10 11 12 13; rows 1 and 2 are [1 11; 2 12].
        float[] matrix = [0, 1, 2, 3, 10, 11, 12, 13];
        var block = new TokenBlock(Tokens: 4, First: 1, Count: 2, Columns: 2);
        float[]? scratch = null;
        block.Gather(matrix, ref scratch).ToArray().Should().Equal(1, 2, 11, 12);
        var target = new float[8];
        block.Scatter(new float[] { -1, -2, -11, -12 }, target);
        target.Should().Equal(0, -1, -2, 0, 0, -11, -12, 0);
    }

    private static Matrix<float> Run(int threads, Func<Matrix<float>> forward)
    {
        using var _ = Parallelism.Use(threads);
        return forward();
    }
}
