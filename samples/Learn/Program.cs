// Lesson 4: a Transformer learns. The Annotated Transformer's copy task — the source is 9 random tokens from 2 … 10 and
// the target is the same 9 tokens — trained from random weights with the library's Trainer: batches of 16 stacked
// sentence pairs, cross-entropy, backward passes, Adam with the paper's warm-up schedule, a progress bar, a checkpoint
// after every epoch and on Ctrl+C, and the loss curve as an SVG. Then the trained model copies sequences it never saw,
// and its cross-attention shows how: output position i looks at source position i.
//
//   dotnet run --project samples/Learn [-- --out <folder>] [--threads <n>] [--epochs <n>] [--resume]
using Attention.Randomness;
using Attention.Samples;
using Attention.Training;
using Attention.Transformers;
using Attention.Visualization;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

var (epochs, resume, rest) = (3, false, new List<string>());
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--epochs" && i + 1 < args.Length && int.TryParse(args[i + 1], out var e) && e > 0)
    {
        (epochs, i) = (e, i + 1);
    }
    else if (args[i] == "--resume")
    {
        resume = true;
    }
    else
    {
        rest.Add(args[i]);
    }
}
var outputFolder = SampleArguments.Apply([.. rest], "Learn");
const int Start = 1, End = 0, Length = 9;   // <sos> = 1, <eos> = 0, tokens 2 … 10

Print.Title("1. The task and the data");
var random = new Random(2);
SentencePair Pair()
{
    var tokens = Enumerable.Range(0, Length).Select(_ => random.Next(2, 11)).ToArray();
    return new SentencePair(tokens, [.. tokens, End]);            // the target is the source, then <eos>
}
var train = Enumerable.Range(0, 8000).Select(_ => Pair()).ToArray();
var validation = Enumerable.Range(0, 200).Select(_ => Pair()).ToArray();
Print.Line($"{train.Length} training pairs and {validation.Length} held-out pairs, e.g. {string.Join(" ", train[0].Source)} → {string.Join(" ", train[0].Target)} (0 = <eos>)");
Print.Line("The decoder reads <sos> followed by the target shifted right and must predict the target: teacher forcing.");

Print.Title("2. The model and its parameters");
var options = TransformerOptions.Small(11, 11) with { ModelDim = 32, HeadCount = 4, FeedForwardDim = 64, MaxPositions = 16, Dropout = 0.0f };
var model = new Transformer(options, new TorchGenerator(1));
var named = model.NamedParameters();
Print.Line($"d_model {options.ModelDim}, {options.HeadCount} heads, d_ff {options.FeedForwardDim}, {options.EncoderLayers} + {options.DecoderLayers} layers: " +
           $"{named.Sum(p => p.Parameter.Value.RowCount * p.Parameter.Value.ColumnCount):N0} parameters in {named.Count} tensors, e.g.");
foreach (var (name, parameter) in named.Take(5))
{
    Print.Line($"  {name} [{parameter.Value.RowCount} × {parameter.Value.ColumnCount}]");
}

Print.Title("3. Training");
// The paper's Adam (β₁ 0.9, β₂ 0.98, ε 1e-9) and warm-up schedule (halved: the Annotated Transformer's "factor"; for
// d_model 32 the paper's formula peaks at 0.0125 after 200 updates), clipping at a gradient norm of 1, no label
// smoothing (a copy has one right answer).
var optimizer = new Adam(model.Parameters(), 0, 0.9f, 0.98f, 1e-9f);
var checkpoints = Path.Combine(outputFolder, "checkpoint");
var trainer = new Trainer(model, optimizer, LearningRateSchedule.Warmup(options.ModelDim, warmupSteps: 200, factor: 0.5f),
    new TrainerOptions { Epochs = epochs, BatchSize = 16, StartToken = Start, LabelSmoothing = 0, Seed = 3, CheckpointDirectory = checkpoints });
if (resume && Directory.Exists(checkpoints))
{
    trainer.LoadCheckpoint(checkpoints);
    Print.Line($"Resumed from {checkpoints} at update {trainer.State.Step} (epoch {trainer.State.Epoch + 1}, batch {trainer.State.Batch + 1}).");
}
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;                                            // stop between updates and keep a checkpoint
    cancel.Cancel();
};
Print.Note("Ctrl+C stops between two updates and keeps a checkpoint; --resume continues from it with the same numbers.");
TrainingSummary summary = null!;
AnsiConsole.Progress()
    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
    .Start(context =>
    {
        var bar = context.AddTask("training", maxValue: 1);
        var progress = new Reporter(report =>
        {
            bar.MaxValue = report.TotalSteps;
            bar.Value = report.Step;
            var t = report.Training;
            bar.Description = report.Validation is { } v
                ? $"epoch {report.Epoch}/{report.Epochs}: held-out loss {v.Loss:0.000}, perplexity {v.Perplexity:0.00}, token accuracy {v.Accuracy:P1}"
                : $"epoch {report.Epoch}/{report.Epochs} update {report.Step}: loss {t.Loss:0.000}, ppl {t.Perplexity:0.00}, acc {t.Accuracy:P0}, {report.TokensPerSecond:N0} tok/s, ETA {report.Remaining:mm\\:ss}";
            if (report.Validation is not null)
            {
                AnsiConsole.MarkupLine(Markup.Escape(bar.Description));
            }
        });
        summary = trainer.Fit(train, validation, progress, cancel.Token);
    });
Print.Line(summary.Cancelled
    ? $"Stopped at update {summary.Steps}; the checkpoint in {checkpoints} resumes it (--resume)."
    : $"Done: {summary.Steps} updates. Checkpoint (model.safetensors, optimizer.safetensors, trainer.json) in {checkpoints}.");
Print.Line($"Loss curve: {Path.GetFullPath(Path.Combine(checkpoints, Checkpoint.LossCurveFile))}");
if (summary.Cancelled)
{
    return;
}

Print.Title("4. Copying sequences it never saw (greedy decoding)");
var decoding = new Decoding(model);
var held = new Random(4);
var unseen = Enumerable.Range(0, 200).Select(_ => Enumerable.Range(0, Length).Select(_ => held.Next(2, 11)).ToArray()).ToArray();
var decoded = unseen.Select(s => decoding.Greedy(s, new DecodingOptions { StartToken = Start, EndToken = End, MaxNewTokens = Length + 1, RecordAttention = true })).ToArray();
var copied = unseen.Zip(decoded).Count(p => p.Second.Tokens.SequenceEqual([.. p.First, End]));
foreach (var (source, result) in unseen.Zip(decoded).Take(3))
{
    Print.Line($"{string.Join(" ", source)}  →  {string.Join(" ", result.Tokens)}");
}
Print.Line($"{copied} of {unseen.Length} unseen sequences copied exactly.");

Print.Title("5. How it copies: cross-attention of the last decoder layer (averaged over heads)");
var example = decoded[0];
var cross = Matrix<float>.Build.DenseOfRowVectors(example.Steps.Select(s => s.CrossAttention![^1].Row(0)));
var rows = example.Steps.Select(s => $"T={s.Position}").ToArray();
var columns = unseen[0].Select((t, i) => $"{i}:{t}").ToArray();
Print.Heatmap("row = output step, column = source position:token", cross, rows, columns);
Directory.CreateDirectory(outputFolder);
var svg = Path.GetFullPath(Path.Combine(outputFolder, "copy-cross-attention.svg"));
File.WriteAllText(svg, AttentionHeatmap.ToSvg(cross, rows, columns, "Cross-attention of the trained copy model"));
var diagonal = Enumerable.Range(0, Math.Min(cross.RowCount, Length)).Count(t => cross.Row(t).MaximumIndex() == t);
Print.Line($"SVG written to {svg}. At {diagonal} of the first {Math.Min(cross.RowCount, Length)} steps the largest weight is on the source position " +
           "being copied (or beside it, where the band is wide): the model learned to point at the token it writes.");
