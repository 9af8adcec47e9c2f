// Lesson 3: the whole Transformer of "Attention Is All You Need" (Figure 1), trained, on the seed article's example
// "안녕하세요, 만나서 반가워요". The encoder reads the Korean sentence once; the decoder then writes one token per step —
// "At T=0 the decoder is fed <sos> … until it outputs <eos>" — and this model, trained on the project's small corpus
// (samples/Translate/data), writes "hey, good to know you".
//
//   dotnet run --project samples/Translate                         the article's sentence, test scores, beam search, attention
//   dotnet run --project samples/Translate -- "저는 학생이에요"       your own sentence (several: several arguments)
//   dotnet run --project samples/Translate -- --file in.txt         one sentence per line
//   dotnet run --project samples/Translate -- --train [--epochs n]  retrain from the seed (about 2–3 minutes on 2 cores)
//   dotnet run --project samples/Translate -- --parity <folder>     dropout 0, written out for PyTorch to replay
//   common options: --out <folder for SVG files and checkpoints> --threads <n>
using Attention.Samples;
using Attention.Tokenization;
using Attention.Transformers;
using Attention.Visualization;
using MathNet.Numerics.LinearAlgebra;

var (train, epochs, file, sentences, rest) = (false, Recipe.Epochs, (string?)null, new List<string>(), new List<string>());
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--train":
            train = true;
            break;
        case "--epochs" when i + 1 < args.Length && int.TryParse(args[i + 1], out var e) && e > 0:
            (epochs, i) = (e, i + 1);
            break;
        case "--file" when i + 1 < args.Length:
            file = args[++i];
            break;
        case "--parity" when i + 1 < args.Length:
            Parity.Run(args[++i]);                                  // for tools/reference/translate_training.py
            return;
        case "--out" or "--threads" when i + 1 < args.Length:
            rest.AddRange([args[i], args[++i]]);
            break;
        default:
            if (args[i].StartsWith("--", StringComparison.Ordinal))
            {
                rest.Add(args[i]);                                      // SampleArguments says what is unknown
            }
            else
            {
                sentences.Add(args[i]);
            }
            break;
    }
}
var outputFolder = SampleArguments.Apply([.. rest], "Translate");
Directory.CreateDirectory(outputFolder);
var committed = Path.Combine(AppContext.BaseDirectory, "model", "translate.safetensors");

Transformer model;
BytePairTokenizer tokenizer;
if (train)
{
    Print.Title("Training from the seed");
    (model, tokenizer) = Training.Run(Path.Combine(outputFolder, "translate.safetensors"), outputFolder, epochs);
}
else
{
    model = Transformer.Load(committed);
    var metadata = Attention.Serialization.SafeTensors.ReadWithMetadata(committed).Metadata;
    tokenizer = BytePairTokenizer.FromJson(metadata[Training.TokenizerKey]);
}
var (sos, eos) = (tokenizer.Vocabulary.IdOf(SpecialTokens.StartOfSequence), tokenizer.Vocabulary.IdOf(SpecialTokens.EndOfSequence));
var decoding = new Decoding(model);
var greedyOptions = new DecodingOptions { StartToken = sos, EndToken = eos, MaxNewTokens = 40, RecordAttention = true };
string Translate(string korean)
{
    var ids = tokenizer.Encode(korean);
    if (ids.Length == 0)
    {
        throw new ArgumentException("An empty sentence has nothing to translate.", nameof(korean));
    }
    if (ids.Length > model.Options.MaxPositions)
    {
        throw new ArgumentException($"The sentence is {ids.Length} tokens long; the positional table holds {model.Options.MaxPositions} (TransformerOptions.MaxPositions).", nameof(korean));
    }
    return tokenizer.Decode(decoding.Greedy(ids, greedyOptions with { RecordAttention = false }).Tokens.Where(t => t != eos));
}

if (sentences.Count > 0 || file is not null)
{
    foreach (var sentence in sentences.Concat(file is null ? [] : File.ReadAllLines(file).Where(l => l.Trim().Length > 0)))
    {
        try
        {
            Print.Line($"{sentence}  →  {Translate(sentence)}");
        }
        catch (ArgumentException error)
        {
            Print.Line($"{sentence}  →  (not translated: {error.Message})");
        }
    }
    return;
}

Print.Title("1. The model and its tokenizer");
Print.Line($"{model.Options.EncoderLayers} + {model.Options.DecoderLayers} layers, d_model {model.Options.ModelDim}, {model.Options.HeadCount} heads, d_ff {model.Options.FeedForwardDim}, " +
           $"{model.Parameters().Sum(p => p.Value.RowCount * p.Value.ColumnCount):N0} parameters; one byte-level BPE vocabulary of {tokenizer.Vocabulary.Count} tokens for both languages.");
const string korean = "안녕하세요, 만나서 반가워요";
var sourceIds = tokenizer.Encode(korean);
var pieces = sourceIds.Select(id => tokenizer.Vocabulary[id]).ToArray();
Print.Line($"\"{korean}\" → {string.Join(" ", pieces.Select(p => $"[{p}]"))} → ids {string.Join(" ", sourceIds)}");

Print.Title("2. Decode step by step (greedy, KV cache): the article's T=0, T=1, … (BPE pieces in brackets, as they are)");
var result = decoding.Greedy(sourceIds, greedyOptions);
var fed = new List<string> { SpecialTokens.StartOfSequence };
var written = new List<int>();
foreach (var step in result.Steps)
{
    var produced = step.Output == eos ? SpecialTokens.EndOfSequence : $"[{tokenizer.Vocabulary[step.Output]}]";
    if (step.Output != eos)
    {
        written.Add(step.Output);
    }
    Print.Line($"T={step.Position}: {string.Join(" ", fed)} → {produced}   (p {step.Probability:0.00})   so far: \"{tokenizer.Decode(written)}\"");
    fed.Add(produced);
}
var translation = tokenizer.Decode(written);
Print.Line($"output: \"{translation}\"   (the articles: \"hey, good to know you\")");

Print.Title("3. Beam search (width 4): the best finished sentences");
foreach (var (beam, rank) in decoding.BeamSearch(sourceIds, greedyOptions with { RecordAttention = false }, beamWidth: 4).Take(3).Select((b, i) => (b, i + 1)))
{
    Print.Line($"beam {rank}: \"{tokenizer.Decode(beam.Tokens.Where(t => t != eos))}\"  log p = {beam.LogProbability:0.00}");
}

Print.Title("4. Where each English token looked: cross-attention, one head of the last decoder layer");
// The decoder run once more over what it wrote (teacher forcing, evaluation mode), keeping every head's weights.
var memory = model.Encode(sourceIds);
var decoderInput = (int[])[sos, .. result.Tokens.Take(result.Tokens.Count - 1)];
var recorded = model.Decoder.ForwardRecorded(model.Embed(model.TargetEmbedding, decoderInput), memory, Attention.Mechanisms.AttentionMask.Causal);
var lastLayer = recorded.Layers[^1].Cross;
var sharpest = Enumerable.Range(0, model.Options.HeadCount).MaxBy(h => lastLayer.Heads[h].Weights.EnumerateRows().Average(r => r.Maximum()));  // the most decided head
var cross = lastLayer.Heads[sharpest].Weights;
var rows = result.Tokens.Select(t => t == eos ? SpecialTokens.EndOfSequence : tokenizer.Vocabulary[t].Trim()).ToArray();
var columns = pieces.Select(p => p.Trim()).ToArray();
var title = $"decoder layer {model.Options.DecoderLayers}, head {sharpest + 1} of {model.Options.HeadCount} (the sharpest)";
Print.Heatmap($"row = English token written, column = Korean token; {title}", cross, rows, columns);
var svg = Path.GetFullPath(Path.Combine(outputFolder, "cross-attention.svg"));
File.WriteAllText(svg, AttentionHeatmap.ToSvg(cross, rows, columns, $"Cross-attention, {title}"));
foreach (var (row, token) in rows.Select((t, i) => (i, t)).Where(r => r.t != SpecialTokens.EndOfSequence))
{
    Print.Line($"\"{token}\" looks most at \"{columns[cross.Row(row).MaximumIndex()]}\" ({cross.Row(row).Maximum():0.00})");
}
Print.Line($"SVG written to {svg}");

Print.Title("5. The test split (never trained on), greedy: exact match and BLEU (sacreBLEU's, 13a tokens)");
var test = Corpus.Read("test.tsv");
foreach (var part in new[] { "random", "compositional", "hand-written" })
{
    var items = test.Where(p => p.Part == part).ToList();
    var translated = items.Select(p => (p.Korean, p.English, Output: Translate(p.Korean))).ToList();
    var exact = translated.Count(t => t.Output == t.English);
    var bleu = Attention.Evaluation.Bleu.Corpus([.. translated.Select(t => t.Output)], [.. translated.Select(t => t.English)]);
    Print.Line($"{part}: {exact} of {items.Count} exactly right ({100.0 * exact / items.Count:0.0}%), corpus BLEU {bleu:0.0}");
    foreach (var (k, en, output) in translated.Take(3))
    {
        Print.Line($"   {k}  →  {output}{(output == en ? "" : $"   (reference: {en})")}");
    }
}
Print.Note("Hand-written test pairs are mostly phrases the corpus never shows in any form: a model this small translates what its data teaches.");
