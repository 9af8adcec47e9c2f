using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

/// <summary>
/// The kernels split a product between threads by columns of the result, and fused attention by blocks of 128 queries;
/// every sum still runs in the same order, so a layer's output must not change by a single bit with
/// <see cref="Parallelism.Use"/>'s thread count. 301 tokens split unevenly on 3 threads on any machine.
/// </summary>
public class ThreadCountTests
{
    private static readonly TransformerOptions Options = LayerOptions.Small;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_encoder_layer_gives_the_same_bits_on_one_thread_and_on_several(bool normFirst)
    {
        var layer = new EncoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(301, 64, 2);
        var padding = AttentionMask.KeyPadding(keyCount: 301, length: 290);
        var one = Run(1, () => layer.Forward(x, padding));
        foreach (var threads in new[] { 2, 3 })
        {
            Expect.BitExact(Run(threads, () => layer.Forward(x, padding)).ToColumnMajorArray(), one.ToColumnMajorArray(), $"{threads} threads against one");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_decoder_layer_gives_the_same_bits_on_one_thread_and_on_several(bool normFirst)
    {
        var layer = new DecoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(5));
        var (y, memory) = (RandomMatrices.Uniform(301, 64, 6), RandomMatrices.Uniform(77, 64, 7));
        var one = Run(1, () => layer.Forward(y, memory, AttentionMask.Causal));
        foreach (var threads in new[] { 2, 3 })
        {
            Expect.BitExact(Run(threads, () => layer.Forward(y, memory, AttentionMask.Causal)).ToColumnMajorArray(), one.ToColumnMajorArray(), $"{threads} threads against one");
        }
    }

    [Theory]
    [InlineData(301, 301)]
    [InlineData(301, 150)]
    [InlineData(150, 301)]
    public void Multi_head_attention_gives_the_same_bits_on_any_thread_count(int n, int m)
    {
        // kdim 96 and vdim 80 differ from E = 128, so a split that read the wrong input width would show. The sizes are
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
    public void The_process_wide_count_is_read_where_no_scope_is_set_and_refuses_zero()
    {
        var before = Parallelism.ThreadCount;
        try
        {
            Parallelism.ThreadCount = 3;
            Parallelism.Threads.Should().Be(3);
            using (Parallelism.Use(1))
            {
                Parallelism.Threads.Should().Be(1, "a scope overrides the process-wide count in its flow");
            }
            Parallelism.Threads.Should().Be(3);
            var zero = () => Parallelism.ThreadCount = 0;
            zero.Should().Throw<ArgumentOutOfRangeException>();
        }
        finally
        {
            Parallelism.ThreadCount = before;
        }
    }

    [Fact]
    public void A_training_pass_draws_the_same_dropout_masks_whatever_the_thread_count()
    {
        // Dropout takes its masks from one generator in order, on the calling thread: the masks must not depend on the count.
        Matrix<float> Train(int threads)
        {
            var layer = new EncoderLayer(Options with { Dropout = 0.1f }, new TorchGenerator(3));
            layer.SetTraining(true);
            return Run(threads, () => layer.Forward(RandomMatrices.Uniform(301, 64, 4)));
        }
        Expect.BitExact(Train(3).ToColumnMajorArray(), Train(1).ToColumnMajorArray(), "training on 3 threads against 1");
    }

    private static Matrix<float> Run(int threads, Func<Matrix<float>> forward)
    {
        using var _ = Parallelism.Use(threads);
        return forward();
    }
}
