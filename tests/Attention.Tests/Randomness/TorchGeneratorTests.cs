using System.Security.Cryptography;
using Attention.Layers;
using Attention.Randomness;
using Attention.Tests.Support;

namespace Attention.Tests.Randomness;

/// <summary>
/// The generator must give PyTorch's floats to the last bit, because the article's printed numbers all start from
/// torch.manual_seed(123). Expected values come from tools/reference/generate.py (torch_generator.json).
/// </summary>
public class TorchGeneratorTests
{
    private static readonly Fixture Torch = Fixture.Load("torch_generator.json");

    [Fact]
    public void Seed_123_gives_the_first_outputs_of_std_mt19937()
    {
        // std::mt19937 gen(123); gen(); gen();  (the values quoted in docs/torch-rng.md)
        var generator = new TorchGenerator(123);
        generator.NextUInt32().Should().Be(2991312382u);
        generator.NextUInt32().Should().Be(3062119789u);
    }

    [Fact]
    public void Rand_takes_the_low_24_bits_of_one_draw_per_element()
    {
        // The first draw for seed 123 is 2991312382 = 0xB24B_CDFE; its low 24 bits are 0x4B_CDFE = 4_967_934,
        // and 4_967_934 / 2^24 = 0.29611194…, the first element of torch.manual_seed(123); torch.rand(1).
        var generator = new TorchGenerator(123);
        generator.NextFloat().Should().Be(4_967_934f / (1 << 24));
    }

    [Fact]
    public void Rand_matches_torch_rand_bit_for_bit()
    {
        var generator = new TorchGenerator(0);
        var actual = generator.Rand(3, 5);
        Expect.BitExact(actual.ToRowMajorArray(), Torch.Data("rand_3x5_seed0"), "torch.manual_seed(0); torch.rand(3, 5)");
    }

    [Theory]
    [InlineData("randn_16_seed42", 42, 16)]
    [InlineData("randn_17_seed42", 42, 17)]
    [InlineData("randn_100_seed42", 42, 100)]
    public void Randn_of_16_or_more_uses_the_batched_float32_path(string name, int seed, int count)
    {
        var actual = new float[count];
        new TorchGenerator(seed).Normal(actual);
        Expect.BitExact(actual, Torch.Data(name), name);
    }

    [Fact]
    public void Randn_of_fewer_than_16_uses_the_cached_double_path_and_its_cache_carries_over()
    {
        var generator = new TorchGenerator(0);
        var first = new float[5];
        var second = new float[5];
        generator.Normal(first);
        generator.Normal(second); // starts with the sine value cached by the first call's last pair
        Expect.BitExact(first, Torch.Data("randn_5_seed0"), "randn(5)");
        Expect.BitExact(second, Torch.Data("randn_5_then_randn_5_seed0"), "randn(5) again");
    }

    [Fact]
    public void A_ragged_batch_redraws_16_values_so_later_draws_stay_in_step()
    {
        // randn(100): 100 draws, then 16 more for the ragged tail (100 % 16 = 4), so rand(4) starts at draw 116.
        var generator = new TorchGenerator(42);
        generator.Normal(new float[100]);
        var after = new float[4];
        generator.Rand(after);
        Expect.BitExact(after, Torch.Data("rand_4_after_randn_100"), "rand(4) after randn(100)");
    }

    [Fact]
    public void Normal_with_mean_and_std_matches_both_paths()
    {
        var generator = new TorchGenerator(7);
        var batched = new float[40];
        var small = new float[3];
        generator.Normal(batched, mean: 2.0, std: 0.5);
        generator.Normal(small, mean: 2.0, std: 0.5);
        Expect.BitExact(batched, Torch.Data("normal_mean2_std05_40"), "normal_(2, 0.5) on 40");
        Expect.BitExact(small, Torch.Data("normal_mean2_std05_3"), "normal_(2, 0.5) on 3");
    }

    [Fact]
    public void Uniform_is_a_fused_multiply_add_of_rand()
    {
        var actual = new float[10];
        new TorchGenerator(7).Uniform(actual, -3.0, 5.0);
        Expect.BitExact(actual, Torch.Data("uniform_minus3_5_10"), "uniform_(-3, 5)");
    }

    [Fact]
    public void ManualSeed_restarts_the_sequence_and_clears_the_cached_normal()
    {
        var generator = new TorchGenerator(0);
        generator.Normal(new float[5]); // leaves a cached value behind
        generator.ManualSeed(0);
        var again = new float[5];
        generator.Normal(again);
        Expect.BitExact(again, Torch.Data("randn_5_seed0"), "randn(5) after re-seeding");
    }

    [Theory]
    [InlineData(3, 2, 123, "linear_3_to_2")]
    [InlineData(10, 7, 1, "linear_10_to_7")]
    public void Linear_is_initialised_like_torch_nn_Linear(int inFeatures, int outFeatures, int seed, string name)
    {
        var linear = new Linear(inFeatures, outFeatures, new TorchGenerator(seed));
        Expect.BitExact(linear.Weight.ToRowMajorArray(), Torch.Data(name + "_weight"), name + ".weight");
        Expect.BitExact(linear.Bias!.ToArray(), Torch.Data(name + "_bias"), name + ".bias");
    }

    [Fact]
    public void Embedding_6_by_16_matches_torch_nn_Embedding()
    {
        var embedding = new Embedding(6, 16, seed: 123);
        Expect.BitExact(embedding.Weight.ToRowMajorArray(), Torch.Data("embedding_6x16"), "nn.Embedding(6, 16).weight");
    }

    [Fact]
    public void Embedding_50000_by_3_matches_torch_to_the_last_bit_of_all_150000_values()
    {
        // The fixture holds the SHA-256 of the float32 little-endian bytes of the whole table.
        var article = Fixture.Load("self_attention_2024.json");
        var embedding = new Embedding(50_000, 3, new TorchGenerator(123));
        var bytes = new byte[50_000 * 3 * sizeof(float)];
        Buffer.BlockCopy(embedding.Weight.ToRowMajorArray(), 0, bytes, 0, bytes.Length);
        Convert.ToHexStringLower(SHA256.HashData(bytes)).Should().Be(article.Text("embedding_sha256"));
    }
}
