// Lesson 3: the whole Transformer of "Attention Is All You Need" (Figure 1) at inference time, on the seed article's
// example "안녕하세요, 만나서 반가워요" ("Hello, nice to meet you"). The encoder reads the Korean sentence once; the decoder
// then writes one token per step: "At T=0 the decoder is fed <sos> … until it outputs <eos>."
//
// The model is UNTRAINED (seeded random weights), so the English it writes is random words: this sample shows the
// machinery of inference, not a translation. A later lesson trains it.
//
//   dotnet run --project samples/Translate [-- --out <folder for the SVG files>] [--threads <n>]
using Attention.Randomness;
using Attention.Samples;
using Attention.Tokenization;
using Attention.Transformers;
using Attention.Visualization;

var outputFolder = SampleArguments.Apply(args, "Translate");
const string korean = "안녕하세요, 만나서 반가워요";
const string english = "Hello, nice to meet you";

Print.Note("The weights are untrained (seeded random numbers): expect random English words. The steps are what matter here.");

Print.Title("1. Tokenize both languages (special tokens <pad> <unk> <sos> <eos> take ids 0–3)");
var source = WordTokenizer.FromCorpus([korean]);
var target = WordTokenizer.FromCorpus([english]);
var sourceIds = source.Encode(korean);
var start = target.Vocabulary.IdOf(SpecialTokens.StartOfSequence);
var end = target.Vocabulary.IdOf(SpecialTokens.EndOfSequence);
Print.Line($"source vocabulary: {string.Join(" ", source.Vocabulary.Tokens.Select((t, i) => $"{i}:{t}"))}");
Print.Line($"target vocabulary: {string.Join(" ", target.Vocabulary.Tokens.Select((t, i) => $"{i}:{t}"))}");
Print.Value($"\"{korean}\" →", TensorPrinter.Format(sourceIds), $"torch.Size([{sourceIds.Length}])");

Print.Title("2. The model: TransformerOptions.Small (d_model 16, h 4, d_ff 32, 2 encoder + 2 decoder layers)");
var options = TransformerOptions.Small(source.Vocabulary.Count, target.Vocabulary.Count);
var model = new Transformer(options, new TorchGenerator(2017));
Print.Line($"source embedding {TensorPrinter.Size(model.SourceEmbedding.Weight)}, target embedding {TensorPrinter.Size(model.TargetEmbedding.Weight)}, " +
           $"LM head {TensorPrinter.Size(model.LmHead.Weight)}, {model.ToStateDict().Count} named parameters");

Print.Title("3. Encode: embedding·√d_model + positions, then the encoder stack");
var embedded = model.Embed(model.SourceEmbedding, sourceIds);
var memory = model.Encode(sourceIds);
Print.Value("embedded source", TensorPrinter.Format(embedded), TensorPrinter.Size(embedded));
Print.Value("memory = Encoder(embedded source)", TensorPrinter.Format(memory), TensorPrinter.Size(memory));

Print.Title("4. Decode one token at a time (greedy, with the KV cache)");
var generator = new Decoding(model);
var decodingOptions = new DecodingOptions
{
    StartToken = start,
    EndToken = end,
    MaxNewTokens = 8,
    RecordAttention = true,
    SuppressedTokens = [.. new[] { SpecialTokens.Pad, SpecialTokens.Unknown, SpecialTokens.StartOfSequence }.Select(target.Vocabulary.IdOf)],
};
var result = generator.Greedy(sourceIds, decodingOptions);
var sourceWords = WordTokenizer.Split(korean);
var fed = new List<string> { SpecialTokens.StartOfSequence };
foreach (var step in result.Steps)
{
    var produced = target.Vocabulary[step.Output];
    var cross = step.CrossAttention![^1].Row(0); // last decoder layer, averaged over heads
    var lookedAt = sourceWords[cross.MaximumIndex()];
    Print.Line($"T={step.Position}: {string.Join(" ", fed)} → {produced}   (p {step.Probability:0.00}; most attention on \"{lookedAt}\", {cross.Maximum():0.00})");
    fed.Add(produced);
}
Print.Line(result.Tokens[^1] == end
    ? $"Stopped at {SpecialTokens.EndOfSequence} after {result.Tokens.Count} tokens."
    : $"Stopped at the maximum length of {decodingOptions.MaxNewTokens} tokens without producing {SpecialTokens.EndOfSequence}.");
Print.Line($"output: \"{target.Decode(result.Tokens)}\"   (a trained model would write \"{english}\")");

var uncached = generator.Greedy(sourceIds, decodingOptions with { UseCache = false });
Print.Line($"Without the KV cache the decoder recomputes every earlier token at each step; the tokens are the same: {uncached.Tokens.SequenceEqual(result.Tokens)}.");

Print.Title("5. Other ways to choose: sampling and beam search");
var sampled = generator.Sample(sourceIds, decodingOptions, new SamplingOptions(Temperature: 0.8f, TopK: 5), new TorchGenerator(7));
Print.Line($"sampling (T = 0.8, top-k 5, seed 7): \"{target.Decode(sampled.Tokens)}\"");
foreach (var (beam, rank) in generator.BeamSearch(sourceIds, decodingOptions, beamWidth: 3).Select((b, i) => (b, i + 1)))
{
    Print.Line($"beam {rank}: \"{target.Decode(beam.Tokens)}\"  log p = {beam.LogProbability:0.00}, score = {beam.Score:0.00}");
}

Print.Title("6. Cross-attention of every step over the source (last decoder layer)");
var crossMatrix = MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfRowVectors(result.Steps.Select(s => s.CrossAttention![^1].Row(0)));
var stepLabels = result.Steps.Select(s => $"T={s.Position}").ToArray();
Print.Heatmap("row = decoding step, column = source word", crossMatrix, stepLabels, sourceWords);
Directory.CreateDirectory(outputFolder);
var path = Path.GetFullPath(Path.Combine(outputFolder, "cross-attention.svg"));
File.WriteAllText(path, AttentionHeatmap.ToSvg(crossMatrix, stepLabels, sourceWords, "Decoder cross-attention per step (untrained)"));
Print.Line($"SVG written to {path}");
