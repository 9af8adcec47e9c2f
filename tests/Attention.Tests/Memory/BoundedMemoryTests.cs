using System.Runtime.CompilerServices;
using Attention.Kernels;
using Attention.Layers;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;

namespace Attention.Tests.Memory;

/// <summary>Memory has an owner: after a model is dropped and the collector has run, the process holds nothing of it.
/// Each test measures the managed heap before and after a large call, with the model gone, and allows 5 MB of slack.
/// The collection runs alone, so no other test allocates while these measure.</summary>
[Collection(nameof(BoundedMemoryTests))]
public class BoundedMemoryTests
{
    private const long Slack = 5 << 20;

    [Fact]
    public void A_long_encoder_call_leaves_no_scratch_behind_once_its_model_is_gone()
    {
        // 2048 tokens through 2 layers: about 20 MB of scratch per layer call (Q, K, V, heads, the d_ff hidden layer),
        // rented from the workspace pool and trimmed at the next full collections once no call uses it.
        var before = SettledHeap();
        EncodeLongSequence();
        (SettledHeap() - before).Should().BeLessThan(Slack);
    }

    [Fact]
    public void A_positional_table_goes_with_its_encoding()
    {
        // 4096 × 5000 floats = 78 MB; once cached in a static, now owned by the instance.
        var before = SettledHeap();
        BuildLargeTable();
        (SettledHeap() - before).Should().BeLessThan(Slack);
    }

    [Fact]
    public void Decoding_keeps_no_packed_weights_once_its_model_is_gone()
    {
        // Greedy decoding packs every weight for the product once per call (FrozenWeights); the packed copies are tied
        // to their weights and go with the model.
        var before = SettledHeap();
        DecodeWithModelOfTenMegabytes();
        (SettledHeap() - before).Should().BeLessThan(Slack);
    }

    [Fact]
    public void An_idle_process_spends_no_processor_time_after_inference()
    {
        // Parallel regions leave the kernels' workers spinning for up to 2 ms, then blocked: a second of idleness after
        // a two-thread call must cost (almost) no processor time. A worker that kept spinning would cost about a second.
        using (Parallelism.Use(2))
        {
            EncodeLongSequence();
        }
        Thread.Sleep(100);
        var process = System.Diagnostics.Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        Thread.Sleep(1000);
        process.Refresh();
        (process.TotalProcessorTime - before).Should().BeLessThan(TimeSpan.FromMilliseconds(100));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void EncodeLongSequence()
    {
        var encoder = new TransformerEncoder(LayerOptions.Small with { EncoderLayers = 2 }, new TorchGenerator(1));
        encoder.Forward(RandomMatrices.Uniform(2048, 64, 2)).RowCount.Should().Be(2048);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void BuildLargeTable() =>
        new SinusoidalPositionalEncoding(4096, maxPositions: 5000).Encode(3).ColumnCount.Should().Be(4096);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void DecodeWithModelOfTenMegabytes()
    {
        var options = TransformerOptions.Small(50, 50) with { ModelDim = 256, HeadCount = 4, FeedForwardDim = 1024, MaxPositions = 40 };
        var model = new Transformer(options, new TorchGenerator(3));
        new Decoding(model).Greedy([4, 8, 15, 16, 23, 42], new DecodingOptions { StartToken = 2, EndToken = null, MaxNewTokens = 8 }).Tokens.Should().HaveCount(8);
    }

    /// <summary>The heap after full collections with finalizers in between: the workspace pool trims at each one, and
    /// drops an array that stayed unused through one whole interval.</summary>
    private static long SettledHeap()
    {
        for (var i = 0; i < 4; i++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
        }
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}

/// <summary>Runs <see cref="BoundedMemoryTests"/> alone, so that other tests do not allocate while they measure.</summary>
[CollectionDefinition(nameof(BoundedMemoryTests), DisableParallelization = true)]
public class BoundedMemoryTestsRunAlone
{
}
