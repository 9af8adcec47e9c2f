using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Kernels;

/// <summary>
/// Inside <see cref="FrozenWeights.Begin"/> every Linear packs its weight for the product once and reuses the panels.
/// Packing only copies floats, so every output must keep every bit; and since the panels are a copy, a weight changed
/// inside the scope is not seen until the scope ends, as documented.
/// </summary>
public class FrozenWeightsTests
{
    private static readonly TransformerOptions Options = LayerOptions.Small;

    [Fact]
    public void Panels_packed_once_hold_each_row_of_B_as_Gemm_would_pack_it()
    {
        // B = Wᵀ for W [5 × 3] (out 5, in 3), so B is [3 × 5] and B(p, j) = W(j, p). The scalar micro-kernel's panels are
        // NR = 4 columns wide: panel 0 holds columns 0–3 of each row p, panel 1 holds column 4 and three zeros.
        var w = Matrix<float>.Build.DenseOfArray(new float[,]
        {
            { 1, 2, 3 }, { 4, 5, 6 }, { 7, 8, 9 }, { 10, 11, 12 }, { 13, 14, 15 },
        });
        var packed = PackedPanels.Pack(w.AsColumnMajorArray(), rowStride: 5, columnStride: 1, k: 3, n: 5, SimdWidth.Scalar);
        packed.Data.Should().Equal(
            1, 4, 7, 10, /**/ 2, 5, 8, 11, /**/ 3, 6, 9, 12,  // panel 0: B(p, 0..3) for p = 0, 1, 2
            13, 0, 0, 0, /**/ 14, 0, 0, 0, /**/ 15, 0, 0, 0); // panel 1: B(p, 4), padded
        packed.Offset(0, 4).Should().Be(12, "panel 1 starts after kc·NR = 3·4 floats");
    }

    [Fact]
    public void A_linear_layer_gives_the_same_bits_with_its_weight_packed_once_at_every_width_and_thread_count()
    {
        // in 300 > KC = 256 makes two blocks of rows of Wᵀ, the second ragged (44); out 800 > NC = 768 makes two blocks of
        // columns and is no multiple of any panel width (12, 6, 4); 37 tokens are not a multiple of any tile height.
        var linear = new Linear(300, 800, new TorchGenerator(1));
        var x = RandomMatrices.Uniform(37, 300, 2);
        foreach (var width in SimdDispatch.Available)
        {
            foreach (var threads in new[] { 1, 2, 3 })
            {
                using (SimdDispatch.Force(width))
                using (Parallelism.Use(threads))
                {
                    var expected = linear.Forward(x);
                    using (FrozenWeights.Begin())
                    {
                        linear.Forward(x); // packs
                        var packedOnce = linear.Forward(x); // reads the panels packed by the call before
                        Expect.BitExact(packedOnce.ToColumnMajorArray(), expected.ToColumnMajorArray(), $"{width}, {threads} threads");
                    }
                }
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Encoder_and_decoder_layers_and_multi_head_attention_keep_every_bit(int threads)
    {
        var encoder = new EncoderLayer(Options, new TorchGenerator(3));
        var decoder = new DecoderLayer(Options with { NormFirst = true }, new TorchGenerator(4));
        var attention = new MultiHeadAttention(128, 4, new TorchGenerator(5), keyDim: 96, valueDim: 80);
        var (x, memory) = (RandomMatrices.Uniform(301, 64, 6), RandomMatrices.Uniform(77, 64, 7));
        var (query, key, value) = (RandomMatrices.Uniform(150, 128, 8), RandomMatrices.Uniform(301, 96, 9), RandomMatrices.Uniform(301, 80, 10));
        Matrix<float>[] All() =>
        [
            encoder.Forward(x, AttentionMask.KeyPadding(keyCount: 301, length: 290)),
            decoder.Forward(x, memory, AttentionMask.Causal),
            attention.Forward(query, key, value, needWeights: false).Output,
        ];

        using (Parallelism.Use(threads))
        {
            var expected = All();
            using (FrozenWeights.Begin())
            {
                All();
                var frozen = All();
                for (var i = 0; i < expected.Length; i++)
                {
                    Expect.BitExact(frozen[i].ToColumnMajorArray(), expected[i].ToColumnMajorArray(), $"output {i} on {threads} threads");
                }
            }
        }
    }

    [Fact]
    public void A_model_whose_head_shares_the_embedding_matrix_gives_the_same_logits()
    {
        // The LM head and the target embedding are one matrix, so they are one entry in the scope.
        var model = new Transformer(TransformerOptions.Small(12, 9) with { TieOutputToEmbedding = true }, new TorchGenerator(11));
        int[] source = [4, 7, 5, 9, 1], target = [2, 6, 1, 8];
        var expected = model.Forward(source, target);
        using (FrozenWeights.Begin())
        {
            model.Forward(source, target);
            Expect.BitExact(model.Forward(source, target).ToColumnMajorArray(), expected.ToColumnMajorArray(), "logits");
        }
    }

    [Fact]
    public void Decoding_inside_a_caller_scope_shares_it_and_picks_the_same_tokens()
    {
        // Greedy opens a scope of its own unless one is open; the DecodingTests hold its tokens to the unfrozen model.
        var model = new Transformer(TransformerOptions.Small(12, 9), new TorchGenerator(11));
        var options = new DecodingOptions { StartToken = 2, MaxNewTokens = 10 };
        var alone = new Decoding(model).Greedy([4, 7, 5, 9, 1], options);
        using (FrozenWeights.Begin())
        {
            var inside = new Decoding(model).Greedy([4, 7, 5, 9, 1], options);
            FrozenWeights.IsActive.Should().BeTrue("the generator must not end the caller's scope");
            inside.Tokens.Should().Equal(alone.Tokens);
            inside.LogProbability.Should().Be(alone.LogProbability);
        }
    }

    [Fact]
    public void A_new_scope_repacks_a_weight_changed_between_scopes_into_the_kept_memory()
    {
        // The first scope's panels are kept for reuse when it ends; the second scope must pack into them again.
        var linear = new Linear(300, 40, new TorchGenerator(13));
        var x = RandomMatrices.Uniform(5, 300, 14);
        using (FrozenWeights.Begin())
        {
            linear.Forward(x);
        }
        linear.Weight.MapInplace(w => -w);
        var expected = linear.Forward(x);
        using (FrozenWeights.Begin())
        {
            Expect.BitExact(linear.Forward(x).ToColumnMajorArray(), expected.ToColumnMajorArray(), "after the change, second scope");
        }
        FrozenWeights.ReleaseMemory();
        using (FrozenWeights.Begin())
        {
            Expect.BitExact(linear.Forward(x).ToColumnMajorArray(), expected.ToColumnMajorArray(), "after ReleaseMemory");
        }
    }

    [Fact]
    public void A_later_scope_uses_the_kept_panels_as_they_are_while_the_weight_is_unchanged_and_repacks_after_one_ulp()
    {
        var linear = new Linear(300, 40, new TorchGenerator(15));
        var width = SimdDispatch.Current;
        PackedPanels First()
        {
            using (FrozenWeights.Begin())
            {
                return FrozenWeights.Transposed(linear.Weight, width)!;
            }
        }
        var first = First();
        First().Should().BeSameAs(first, "the weight still holds the values its panels were packed from");
        linear.Weight[7, 123] = MathF.BitIncrement(linear.Weight[7, 123]);    // one ulp, as a small optimizer step might
        var afterChange = First();
        afterChange.Data.Should().BeSameAs(first.Data, "the changed weight is packed again into the kept memory");
        var x = RandomMatrices.Uniform(3, 300, 16);
        var expected = linear.Forward(x);
        using (FrozenWeights.Begin())
        {
            Expect.BitExact(linear.Forward(x).ToColumnMajorArray(), expected.ToColumnMajorArray(), "after a one-ulp change between scopes");
        }
        linear.Weight[0, 0] = 0.0f;
        var withPositiveZero = First();
        linear.Weight[0, 0] = -0.0f;                                            // equal as numbers, different bits
        First().Should().NotBeSameAs(withPositiveZero, "+0 and −0 are told apart: the weight is packed again");
    }

    [Fact]
    public void A_weight_changed_inside_the_scope_after_its_first_use_is_not_seen_until_the_scope_ends()
    {
        // The documented contract: inside the scope the products read the copy packed on first use.
        var linear = new Linear(3, 2, new TorchGenerator(12));
        var x = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 0, 0 } }); // y = W[:, 0] + b: reads column 0 of W
        var before = linear.Forward(x);
        Matrix<float> stale;
        using (FrozenWeights.Begin())
        {
            linear.Forward(x);
            linear.Weight[0, 0] += 1.0f; // too late: W is packed
            stale = linear.Forward(x);
        }
        var after = linear.Forward(x);

        stale.Should().BeEquivalentTo(before, "the packed copy was taken before the change");
        after[0, 0].Should().Be(before[0, 0] + 1.0f, "outside the scope W is read as it is now: y₀ = (W₀₀ + 1)·1 + b₀");
        after[0, 1].Should().Be(before[0, 1]);
    }

    [Fact]
    public void A_weight_changed_before_its_first_use_in_the_scope_is_packed_with_the_change()
    {
        var linear = new Linear(3, 2, new TorchGenerator(12));
        var x = Matrix<float>.Build.DenseOfArray(new float[,] { { 1, 0, 0 } });
        var before = linear.Forward(x);
        using (FrozenWeights.Begin())
        {
            linear.Weight[0, 0] += 1.0f;
            linear.Forward(x)[0, 0].Should().Be(before[0, 0] + 1.0f);
        }
    }

    [Fact]
    public void Scopes_nest_and_belong_to_the_flow_that_began_them()
    {
        FrozenWeights.IsActive.Should().BeFalse();
        using (FrozenWeights.Begin())
        {
            using (FrozenWeights.Begin())
            {
                FrozenWeights.IsActive.Should().BeTrue();
            }
            FrozenWeights.IsActive.Should().BeTrue("the outer scope is still open");
            var elsewhere = true;
            var thread = new Thread(() => elsewhere = FrozenWeights.IsActive);
            thread.UnsafeStart(); // does not carry this flow's context
            thread.Join();
            elsewhere.Should().BeFalse("another flow has not begun a scope");
        }
        FrozenWeights.IsActive.Should().BeFalse();
    }

    [Fact]
    public void A_product_refuses_panels_packed_for_another_shape()
    {
        var packed = PackedPanels.Pack(new float[12], rowStride: 4, columnStride: 1, k: 3, n: 4, SimdWidth.Scalar);
        var act = () => Gemm.Multiply(new float[6], 1, 2, new float[12], 4, 1, new float[8], m: 2, k: 3, n: 4, SimdWidth.Vector128, packedB: packed);
        act.Should().Throw<ArgumentException>().WithMessage("*[3 × 4] for Scalar*[3 × 4] for Vector128*");
    }
}
