using Attention.Kernels;
using Attention.Samples;
using Attention.Tests.Support;
using Attention.Tests.Training;
using Attention.Training;

namespace Attention.Tests.Corpus;

/// <summary>The translation model's training is reproducible: the first updates of samples/Translate's recipe, from the
/// seed, give the committed losses bit for bit. The SIMD width is fixed at 128 bits, which every x86-64 and ARM64 CPU
/// has, so the check holds on any machine (docs/determinism.md); the thread count does not matter.</summary>
public class TranslationRecipeTests
{
    // Measured once with this recipe and pinned (bits of the doubles): a change anywhere in the training path that changes
    // a single bit of the loss — a sum in another order, a different mask draw — fails here.
    private static readonly long[] CommittedLosses =
    [
        0x4054E7EBB1C11029, 0x4054D15F42F42F43, 0x405441DC1619C8C0, 0x4053B4FF5E824B3D, 0x40529475125ACEBB,   // 83.62, 83.27, 81.03, 78.83, 74.32
    ];

    [Fact]
    public void The_first_five_updates_give_the_committed_losses_bit_for_bit()
    {
        using var width = SimdDispatch.Force(SimdWidth.Vector128);
        var train = File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Corpus", "train.tsv")).Skip(1).Select(l => l.Split('\t')).Select(f => (f[0], f[1])).ToList();
        var tokenizer = Recipe.Tokenizer(train);
        var (sos, eos) = (tokenizer.Vocabulary.IdOf("<sos>"), tokenizer.Vocabulary.IdOf("<eos>"));
        var pairs = train.Select(p => new SentencePair(tokenizer.Encode(p.Item1), [.. tokenizer.Encode(p.Item2), eos])).ToArray();
        var model = Recipe.Model(tokenizer.Vocabulary.Count);
        var trainer = new Trainer(model, Recipe.Optimizer(model), Recipe.Schedule(Recipe.Steps(pairs.Length, Recipe.Epochs)), Recipe.Trainer(Recipe.Epochs, sos, null));
        using var stop = new CancellationTokenSource();
        trainer.Fit(pairs, progress: new Synchronous(p => { if (p.Step == 5) stop.Cancel(); }), cancellation: stop.Token);
        var losses = trainer.State.TrainingLosses.Select(l => BitConverter.DoubleToInt64Bits(l.Loss)).ToArray();
        losses.Should().Equal(CommittedLosses, $"the losses were {string.Join(", ", trainer.State.TrainingLosses.Select(l => $"{l.Loss:R} (0x{BitConverter.DoubleToInt64Bits(l.Loss):X16})"))}");
    }

    [Fact]
    public void The_committed_checkpoint_gives_PyTorchs_logits_in_nn_Transformer()
    {
        // tools/reference/translate_checkpoint.py loads the same file into nn.Transformer: weights move both ways.
        var torch = Fixture.Load("translate_logits.json");
        var model = Attention.Transformers.Transformer.Load(Path.Combine(AppContext.BaseDirectory, "Corpus", "translate.safetensors"));
        int[] Ids(string name) => [.. torch.Data(name).Select(v => (int)v)];
        var logits = model.Forward(Ids("src"), Ids("tgt_in"));
        // Logits of about ±20 after six layers: float32 sums in another order differ by at most 8.1e-6 here (measured).
        Expect.Close(logits, torch.Matrix("logits"), relative: 1e-5f, absolute: 2e-5f, what: "logits of the articles' sentence");
        logits.Row(0).MaximumIndex().Should().Be(869, "\"hey\" first");
    }
}
