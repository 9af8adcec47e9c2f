// Lesson 2: several heads looking at one sentence in different ways, and where each token sits.
// Two sentences about two kinds of apple go through embeddings + sinusoidal positions + multi-head self-attention,
// with every shape printed, then one heatmap per head (terminal and SVG).
//
// The weights are untrained (random, seeded): the pictures show the mechanism, not meaning. Nothing here "knows"
// that Apple the company differs from the fruit; a trained model would learn that from data.
//
//   dotnet run --project samples/Apple [-- --out <folder for the SVG files>] [--threads <n>]
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Samples;
using Attention.Tokenization;
using Attention.Visualization;

var outputFolder = SampleArguments.Apply(args, "Apple");
string[] sentences =
[
    "I enjoy eating apples, and I also love using Apple products.",
    "Apple unveiled a new smartphone model at their latest product launch event",
];
const int modelDim = 16;  // d_model
const int headCount = 4;  // h, so each head is d_model / h = 4 wide

Print.Note("Untrained weights (seeded random numbers): the patterns below show how the mechanism mixes tokens, not what they mean.");

Print.Title("1. One vocabulary for both sentences (special tokens first, then the sorted words)");
var tokenizer = WordTokenizer.FromCorpus(sentences);
Print.Line($"vocabulary ({tokenizer.Vocabulary.Count} tokens): " + string.Join(" ", tokenizer.Vocabulary.Tokens.Select((t, i) => $"{i}:{t}")));
Print.Line("Words are case-sensitive, so 'Apple' (the company, capitalised) and 'apples' (the fruit) are different tokens.");

var generator = new TorchGenerator(42);
var embedding = new Embedding(tokenizer.Vocabulary.Count, modelDim, generator);
var positions = new SinusoidalPositionalEncoding(modelDim, maxPositions: 64);
var attention = new MultiHeadAttention(modelDim, headCount, generator);
Print.Line($"Embedding {TensorPrinter.Size(embedding.Weight)}, positional table [64 × {modelDim}], " +
           $"W_Q, W_K, W_V, W_O each {TensorPrinter.Size(attention.WQ)}, {headCount} heads of {attention.HeadDim} columns");

Directory.CreateDirectory(outputFolder);
for (var s = 0; s < sentences.Length; s++)
{
    var words = WordTokenizer.Split(sentences[s]);
    var ids = tokenizer.Encode(sentences[s]);
    Print.Title($"2.{s + 1} \"{sentences[s]}\"");
    Print.Value("ids", TensorPrinter.Format(ids), $"torch.Size([{ids.Length}])");

    var tokens = embedding.Forward(ids);            // [n × d_model]
    var x = positions.Forward(tokens);              // + PE(pos)
    Print.Line($"token embeddings      {TensorPrinter.Size(tokens)}");
    Print.Line($"+ positional encoding {TensorPrinter.Size(positions.Encode(ids.Length))}  (row i gets the sines and cosines of position i)");
    Print.Line($"= x                   {TensorPrinter.Size(x)}");

    var q = attention.QueryProjection.Forward(x);   // shown to make the head split visible
    Print.Line($"Q = x·W_Qᵀ + b_Q      {TensorPrinter.Size(q)}, split into {headCount} heads of {TensorPrinter.Size(q.SubMatrix(0, q.RowCount, 0, attention.HeadDim))}; K and V the same");

    var result = attention.Forward(x);              // self-attention: queries, keys and values all from x
    Print.Line($"each head's weights   softmax(Q_h·K_hᵀ/√{attention.HeadDim}) {TensorPrinter.Size(result.HeadWeights![0])}");
    Print.Line($"concat of the heads   [{ids.Length}, {modelDim}], then ·W_Oᵀ + b_O = output {TensorPrinter.Size(result.Output)}");

    for (var h = 0; h < headCount; h++)
    {
        var name = $"sentence-{s + 1}-head-{h + 1}";
        Print.Heatmap($"sentence {s + 1}, head {h + 1}: row = query token, column = key token", result.HeadWeights[h], words, words);
        var path = Path.GetFullPath(Path.Combine(outputFolder, name + ".svg"));
        File.WriteAllText(path, AttentionHeatmap.ToSvg(result.HeadWeights[h], words, words, $"Sentence {s + 1}, head {h + 1} (untrained)"));
        Print.Line($"SVG written to {path}");
    }
}

Print.Title("3. Cross-attention: the first sentence asks, the second answers");
var first = positions.Forward(embedding.Forward(tokenizer.Encode(sentences[0])));
var second = positions.Forward(embedding.Forward(tokenizer.Encode(sentences[1])));
var cross = attention.Forward(first, second, second);
Print.Line($"queries {TensorPrinter.Size(first)}, keys and values {TensorPrinter.Size(second)} → weights {TensorPrinter.Size(cross.AverageWeights!)}, output {TensorPrinter.Size(cross.Output)}");
var firstWords = WordTokenizer.Split(sentences[0]);
var secondWords = WordTokenizer.Split(sentences[1]);
Print.Heatmap("average over heads: row = word of sentence 1, column = word of sentence 2", cross.AverageWeights!, firstWords, secondWords);
var crossPath = Path.GetFullPath(Path.Combine(outputFolder, "cross-attention-average.svg"));
File.WriteAllText(crossPath, AttentionHeatmap.ToSvg(cross.AverageWeights!, firstWords, secondWords, "Cross-attention, average of 4 heads (untrained)"));
Print.Line($"SVG written to {crossPath}");
