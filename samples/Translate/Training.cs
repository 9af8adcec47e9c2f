// `dotnet run --project samples/Translate -- --train`: the whole recipe from the seed. A byte-level BPE learned from the
// training split (one vocabulary for both languages: Korean and English share no words, but one table lets the LM head
// share its weight with the target embedding, and byte fallback works the same on both sides), a 3 + 3-layer
// Transformer (d_model 128, 4 heads, d_ff 512, about 1.6 M parameters), AdamW with a short warm-up and a cosine decay,
// label smoothing 0.1, dropout 0.1, 15 epochs of batches of 32.
using Attention.Randomness;
using Attention.Tokenization;
using Attention.Training;
using Attention.Transformers;
using Spectre.Console;

namespace Attention.Samples;

internal static class Training
{
    public const int VocabularySize = 1000, Epochs = 15, BatchSize = 32;

    public static TransformerOptions Options(int vocabulary) => new()
    {
        ModelDim = 128, HeadCount = 4, FeedForwardDim = 512, EncoderLayers = 3, DecoderLayers = 3, Dropout = 0.1f,
        SourceVocabularySize = vocabulary, TargetVocabularySize = vocabulary, MaxPositions = 64, TieOutputToEmbedding = true, PaddingIndex = 0,
    };

    /// <summary>Trains from the seed and writes the checkpoint (the tokenizer in its metadata) to <paramref name="path"/>.</summary>
    public static (Transformer Model, BytePairTokenizer Tokenizer) Run(string path, string folder, int epochs)
    {
        var train = Corpus.Read("train.tsv");
        var tokenizer = BytePairTokenizer.Train(train.SelectMany(p => new[] { p.Korean, p.English }), VocabularySize);
        Print.Line($"BPE: {tokenizer.Vocabulary.Count} tokens (3 special, 256 bytes, {tokenizer.Merges.Count} merges) learned from {train.Count} training pairs");
        var (sos, eos) = (tokenizer.Vocabulary.IdOf(SpecialTokens.StartOfSequence), tokenizer.Vocabulary.IdOf(SpecialTokens.EndOfSequence));
        SentencePair Pair(CorpusPair p) => new(tokenizer.Encode(p.Korean), [.. tokenizer.Encode(p.English), eos]);
        var model = new Transformer(Options(tokenizer.Vocabulary.Count), new TorchGenerator(1));
        Print.Line($"model: {model.Parameters().Sum(p => p.Value.RowCount * p.Value.ColumnCount):N0} parameters");
        var optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(model.Parameters(), 0.01f), 0, 0.9f, 0.98f, 1e-9f);
        var steps = epochs * ((train.Count + BatchSize - 1) / BatchSize);
        var cosine = LearningRateSchedule.Cosine(peak: 2e-3f, floor: 1e-5f, totalSteps: steps);
        Func<int, float> schedule = n => n <= 100 ? cosine(1) * n / 100 : cosine(n);            // 100 updates of linear warm-up
        var checkpoints = Path.Combine(folder, "checkpoint");
        var trainer = new Trainer(model, optimizer, schedule, new TrainerOptions
        {
            Epochs = epochs, BatchSize = BatchSize, StartToken = sos, LabelSmoothing = 0.1f, Seed = 1, CheckpointDirectory = checkpoints,
        });
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Print.Note("Ctrl+C stops between two updates and keeps a checkpoint in " + checkpoints);
        TrainingSummary summary = null!;
        AnsiConsole.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn()).Start(context =>
        {
            var bar = context.AddTask("training", maxValue: steps);
            summary = trainer.Fit([.. train.Select(Pair)], [.. Corpus.Read("valid.tsv").Select(Pair)], new Reporter(report =>
            {
                bar.Value = report.Step;
                bar.Description = report.Validation is { } v
                    ? $"epoch {report.Epoch}/{report.Epochs}: validation loss {v.Loss:0.000}, token accuracy {v.Accuracy:P1}"
                    : $"epoch {report.Epoch}/{report.Epochs}, loss {report.Training.Loss:0.000}, {report.TokensPerSecond:N0} tokens/s, ETA {report.Remaining:mm\\:ss}";
                if (report.Validation is not null)
                {
                    AnsiConsole.MarkupLine(Markup.Escape(bar.Description));
                }
            }), cancel.Token);
        });
        Print.Line($"loss curve: {Path.GetFullPath(Path.Combine(checkpoints, Checkpoint.LossCurveFile))}");
        if (summary.Cancelled)
        {
            Print.Line($"Stopped at update {summary.Steps}; the checkpoint in {checkpoints} keeps it.");
        }
        model.Save(path, new Dictionary<string, string> { [TokenizerKey] = tokenizer.ToJson() });
        Print.Line($"model written to {Path.GetFullPath(path)}");
        return (model, tokenizer);
    }

    /// <summary>The metadata key of the tokenizer in the checkpoint.</summary>
    public const string TokenizerKey = "attention.tokenizer";

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
