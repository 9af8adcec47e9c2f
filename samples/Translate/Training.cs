// `dotnet run --project samples/Translate -- --train`: the whole recipe (Recipe.cs) from the seed, with a progress bar.
using Attention.Tokenization;
using Attention.Training;
using Attention.Transformers;
using Spectre.Console;

namespace Attention.Samples;

internal static class Training
{
    /// <summary>Trains from the seed and writes the checkpoint (the tokenizer in its metadata) to <paramref name="path"/>.</summary>
    public static (Transformer Model, BytePairTokenizer Tokenizer) Run(string path, string folder, int epochs)
    {
        var train = Corpus.Read("train.tsv");
        var tokenizer = Recipe.Tokenizer(train.Select(p => (p.Korean, p.English)));
        Print.Line($"BPE: {tokenizer.Vocabulary.Count} tokens (3 special, 256 bytes, {tokenizer.Merges.Count} merges) learned from {train.Count} training pairs");
        var (sos, eos) = (tokenizer.Vocabulary.IdOf(SpecialTokens.StartOfSequence), tokenizer.Vocabulary.IdOf(SpecialTokens.EndOfSequence));
        SentencePair Pair(CorpusPair p) => new(tokenizer.Encode(p.Korean), [.. tokenizer.Encode(p.English), eos]);
        var model = Recipe.Model(tokenizer.Vocabulary.Count);
        Print.Line($"model: {model.Parameters().Sum(p => p.Value.RowCount * p.Value.ColumnCount):N0} parameters");
        var steps = Recipe.Steps(train.Count, epochs);
        var checkpoints = Path.Combine(folder, "checkpoint");
        var trainer = new Trainer(model, Recipe.Optimizer(model), Recipe.Schedule(steps), Recipe.Trainer(epochs, sos, checkpoints));
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
}
