using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Transformers;

/// <summary>
/// The overloads with a <c>result</c> (<see cref="EncoderLayer.Forward(Matrix{float}, AttentionMask?, Matrix{float})"/>,
/// the encoder and decoder stacks', the decoder layer's and multi-head attention's) write into a matrix the caller keeps, so a loop
/// over many inputs allocates nothing. Each must give the same bits as the allocating call, and refuse a result it
/// cannot write into. The stacks also keep their layers' intermediate outputs in two scratch buffers used in turn,
/// so each must equal its layers applied one after another.
/// </summary>
public class IntoResultTests
{
    private static readonly TransformerOptions Options = LayerOptions.Small;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Writing_into_a_kept_matrix_gives_the_same_bits_as_a_new_result(bool normFirst)
    {
        var layer = new EncoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(37, 64, 2);
        var padding = AttentionMask.KeyPadding(keyCount: 37, length: 30);
        var result = Matrix<float>.Build.Dense(37, 64, float.NaN); // whatever it held is overwritten

        layer.Forward(x, padding, result);

        Expect.BitExact(result.ToColumnMajorArray(), layer.Forward(x, padding).ToColumnMajorArray(), "into result against a new one");
    }

    [Fact]
    public void A_result_of_the_wrong_shape_is_refused_with_both_shapes()
    {
        var layer = new EncoderLayer(Options, new TorchGenerator(1));
        var act = () => layer.Forward(RandomMatrices.Uniform(5, 64, 3), null, Matrix<float>.Build.Dense(6, 64));
        act.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*[5 × 64]*[6 × 64]*");
    }

    [Fact]
    public void The_input_itself_can_be_the_result()
    {
        // Only the last step writes the result, after the layer has read x for the last time: x may be overwritten.
        var layer = new EncoderLayer(Options, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(5, 64, 3);
        var expected = layer.Forward(x);
        layer.Forward(x, null, x);
        Expect.BitExact(x.ToColumnMajorArray(), expected.ToColumnMajorArray(), "the layer written over its own input");
    }

    [Fact]
    public void A_result_without_a_dense_array_is_refused()
    {
        var layer = new EncoderLayer(Options, new TorchGenerator(1));
        var act = () => layer.Forward(RandomMatrices.Uniform(5, 64, 3), null, Matrix<float>.Build.Sparse(5, 64));
        act.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*dense*");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void The_encoder_stack_equals_its_layers_one_after_another_and_writes_the_same_bits_into_a_kept_result(bool normFirst, bool finalNorm)
    {
        // Three layers, so the intermediate outputs pass through both scratch buffers and back. 37 tokens first, then 11,
        // so the second call's scratch buffers are longer than its matrices.
        var encoder = new TransformerEncoder(Options with { NormFirst = normFirst, FinalNorm = finalNorm, EncoderLayers = 3 }, new TorchGenerator(4));
        foreach (var n in new[] { 37, 11 })
        {
            var x = RandomMatrices.Uniform(n, 64, 5);
            var padding = AttentionMask.KeyPadding(keyCount: n, length: n - 3);
            var stepByStep = x;
            foreach (var layer in encoder.Layers)
            {
                stepByStep = layer.Forward(stepByStep, padding);
            }
            stepByStep = encoder.Norm?.Forward(stepByStep) ?? stepByStep;
            var result = Matrix<float>.Build.Dense(n, 64, float.NaN);

            encoder.Forward(x, padding, result);

            Expect.BitExact(encoder.Forward(x, padding).ToColumnMajorArray(), stepByStep.ToColumnMajorArray(), $"{n} tokens: the stack against its layers in turn");
            Expect.BitExact(result.ToColumnMajorArray(), stepByStep.ToColumnMajorArray(), $"{n} tokens: into a kept result");
        }
    }

    [Fact]
    public void The_encoder_stack_refuses_a_result_of_the_wrong_shape_and_may_overwrite_its_input()
    {
        var encoder = new TransformerEncoder(Options with { EncoderLayers = 2 }, new TorchGenerator(4));
        var x = RandomMatrices.Uniform(5, 64, 3);
        var wrongShape = () => encoder.Forward(x, null, Matrix<float>.Build.Dense(5, 32));
        wrongShape.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*[5 × 64]*[5 × 32]*");
        var expected = encoder.Forward(x);
        encoder.Forward(x, null, x);                                  // the result may be the input: it is written last
        Expect.BitExact(x.ToColumnMajorArray(), expected.ToColumnMajorArray(), "the stack written over its own input");
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    public void The_decoder_stack_equals_its_layers_one_after_another_and_writes_the_same_bits_into_a_kept_result(bool normFirst, bool finalNorm)
    {
        var decoder = new TransformerDecoder(Options with { NormFirst = normFirst, FinalNorm = finalNorm, DecoderLayers = 3 }, new TorchGenerator(13));
        var memory = RandomMatrices.Uniform(29, 64, 14);
        foreach (var n in new[] { 33, 9 })
        {
            var y = RandomMatrices.Uniform(n, 64, 15);
            var stepByStep = y;
            foreach (var layer in decoder.Layers)
            {
                stepByStep = layer.Forward(stepByStep, memory, AttentionMask.Causal);
            }
            stepByStep = decoder.Norm?.Forward(stepByStep) ?? stepByStep;
            var result = Matrix<float>.Build.Dense(n, 64, float.NaN);

            decoder.Forward(y, memory, AttentionMask.Causal, null, result);

            Expect.BitExact(decoder.Forward(y, memory, AttentionMask.Causal).ToColumnMajorArray(), stepByStep.ToColumnMajorArray(), $"{n} tokens: the stack against its layers in turn");
            Expect.BitExact(result.ToColumnMajorArray(), stepByStep.ToColumnMajorArray(), $"{n} tokens: into a kept result");
        }
        var target = RandomMatrices.Uniform(29, 64, 16);
        var expectedOverMemory = decoder.Forward(target, memory);
        decoder.Forward(target, memory, null, null, memory);          // the stack copies its output last, so even the memory may be overwritten
        Expect.BitExact(memory.ToColumnMajorArray(), expectedOverMemory.ToColumnMajorArray(), "the stack written over the memory");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_decoder_layer_writes_the_same_bits_into_a_kept_result(bool normFirst)
    {
        var layer = new DecoderLayer(Options with { NormFirst = normFirst }, new TorchGenerator(6));
        var (y, memory) = (RandomMatrices.Uniform(23, 64, 7), RandomMatrices.Uniform(31, 64, 8));
        var padding = AttentionMask.KeyPadding(keyCount: 31, length: 29);
        var result = Matrix<float>.Build.Dense(23, 64, float.NaN);

        layer.Forward(y, memory, AttentionMask.Causal, padding, result);

        Expect.BitExact(result.ToColumnMajorArray(), layer.Forward(y, memory, AttentionMask.Causal, padding).ToColumnMajorArray(), "into result against a new one");
    }

    [Fact]
    public void A_decoder_layer_refuses_a_result_of_the_wrong_shape_or_one_of_its_inputs()
    {
        var layer = new DecoderLayer(Options, new TorchGenerator(6));
        var (y, memory) = (RandomMatrices.Uniform(4, 64, 7), RandomMatrices.Uniform(4, 64, 8));
        var wrongShape = () => layer.Forward(y, memory, null, null, Matrix<float>.Build.Dense(3, 64));
        wrongShape.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*[4 × 64]*[3 × 64]*");
        var intoMemory = () => layer.Forward(y, memory, null, null, memory);
        intoMemory.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*memory*");
    }

    [Fact]
    public void Multi_head_attention_writes_the_same_bits_into_a_kept_result()
    {
        // Cross-attention with kdim 96 and vdim 80 unlike E = 128, and 19 queries against 26 keys.
        var attention = new MultiHeadAttention(128, 4, new TorchGenerator(9), keyDim: 96, valueDim: 80);
        var (query, key, value) = (RandomMatrices.Uniform(19, 128, 10), RandomMatrices.Uniform(26, 96, 11), RandomMatrices.Uniform(26, 80, 12));
        var padding = AttentionMask.KeyPadding(keyCount: 26, length: 20);
        var result = Matrix<float>.Build.Dense(19, 128, float.NaN);

        attention.Forward(query, key, value, padding, result);

        Expect.BitExact(result.ToColumnMajorArray(), attention.Forward(query, key, value, padding, needWeights: false).Output.ToColumnMajorArray(), "into result against a new one");
    }

    [Fact]
    public void Multi_head_attention_refuses_a_result_of_the_wrong_shape_and_may_overwrite_its_input()
    {
        var attention = new MultiHeadAttention(64, 4, new TorchGenerator(9));
        var x = RandomMatrices.Uniform(6, 64, 10);
        var wrongShape = () => attention.Forward(x, x, x, null, Matrix<float>.Build.Dense(6, 65));
        wrongShape.Should().Throw<ArgumentException>().WithParameterName("result").WithMessage("*[6 × 64]*[6 × 65]*");
        var expected = attention.Forward(x, needWeights: false).Output;
        attention.Forward(x, x, x, null, x);                          // Q, K and V are projected before W_O writes the result
        Expect.BitExact(x.ToColumnMajorArray(), expected.ToColumnMajorArray(), "attention written over its own input");
    }
}
