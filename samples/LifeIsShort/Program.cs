// "Life is short, eat dessert first": Sebastian Raschka's self-attention walkthrough (Ahead of AI, 2024), step by
// step in C#. Every number printed here is the number the article prints, in PyTorch's format, because the
// TorchGenerator reproduces torch.manual_seed(123) bit for bit.
//
//   dotnet run --project samples/LifeIsShort [-- --out <folder for the SVG files>] [--threads <n>]
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tokenization;
using Attention.Visualization;
using Attention.Samples;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

var outputFolder = SampleArguments.Apply(args, "LifeIsShort");
const string sentence = "Life is short, eat dessert first";

Print.Title("1. Tokenize: sorted distinct words become the vocabulary");
var tokenizer = WordTokenizer.FromText(sentence);
var ids = tokenizer.Encode(sentence);
Print.Line("dc = {" + string.Join(", ", tokenizer.Vocabulary.Tokens.Select((w, i) => $"'{w}': {i}")) + "}");
Print.Value("sentence_int", TensorPrinter.Format(ids), $"torch.Size([{ids.Length}])");

Print.Title("2. Embed: torch.manual_seed(123); nn.Embedding(50_000, 3)");
var embedding = new Embedding(vocabularySize: 50_000, dimension: 3, new TorchGenerator(123));
var x = embedding.Forward(ids);
Print.Value("embedded_sentence", TensorPrinter.Format(x), TensorPrinter.Size(x));

Print.Title("3. Projection matrices: torch.manual_seed(123); torch.rand(d, d_q), rand(d, d_k), rand(d, d_v)");
var head = new SelfAttention(inputDim: 3, keyDim: 2, valueDim: 4, new TorchGenerator(123));
Print.Value("W_query", TensorPrinter.Format(head.WQ), TensorPrinter.Size(head.WQ));
Print.Value("W_key", TensorPrinter.Format(head.WK), TensorPrinter.Size(head.WK));
Print.Value("W_value", TensorPrinter.Format(head.WV), TensorPrinter.Size(head.WV));

Print.Title("4. Queries, keys and values: x·W_query, x·W_key, x·W_value");
var trace = head.Trace(x);
Print.Value("query_2 = x_2 @ W_query", TensorPrinter.Format(trace.Queries.Row(1)), TensorPrinter.Size(trace.Queries.Row(1)));
Print.Value("key_2", TensorPrinter.Format(trace.Keys.Row(1)), TensorPrinter.Size(trace.Keys.Row(1)));
Print.Value("value_2", TensorPrinter.Format(trace.Values.Row(1)), TensorPrinter.Size(trace.Values.Row(1)));
Print.Line($"keys.shape: {TensorPrinter.Size(trace.Keys)}");
Print.Line($"values.shape: {TensorPrinter.Size(trace.Values)}");

Print.Title("5. Unnormalized attention weights ω = q·k");
Print.Value("omega_24 = query_2.dot(keys[4])", TensorPrinter.Format(trace.Scores[1, 4]), "[]");
Print.Value("omega_2 = query_2 @ keys.T", TensorPrinter.Format(trace.Scores.Row(1)), TensorPrinter.Size(trace.Scores.Row(1)));

Print.Title("6. Attention weights α = softmax(ω / √d_k)");
Print.Value("attention_weights_2", TensorPrinter.Format(trace.Weights.Row(1)), TensorPrinter.Size(trace.Weights.Row(1)));

Print.Title("7. Context vector z = α·values");
Print.Value("context_vector_2", TensorPrinter.Format(trace.Context.Row(1)), TensorPrinter.Size(trace.Context.Row(1)));
Print.Value("sa(embedded_sentence)", TensorPrinter.Format(trace.Context), TensorPrinter.Size(trace.Context));
Print.Note("The article prints -0.2627 at [2, 2]. That value is -0.26265 to within 1e-7, right on a rounding boundary:\n" +
           "PyTorch 1.13 on this kind of machine prints -0.2626, as here; the article's machine summed in another order.");

Print.Title("8. Four heads side by side (the article's MultiHeadAttentionWrapper, d_v = 1 each)");
var generator = new TorchGenerator(123);
var heads = Enumerable.Range(0, 4).Select(_ => new SelfAttention(3, 2, 1, generator)).ToArray();
var concatenated = Matrix<float>.Build.DenseOfColumnVectors(heads.Select(h => h.Forward(x).Column(0)));
Print.Value("mha(embedded_sentence)", TensorPrinter.Format(concatenated), TensorPrinter.Size(concatenated));

Print.Title("9. Cross-attention: queries from the sentence, keys and values from 8 other tokens");
generator = new TorchGenerator(123);
var crossHead = new SelfAttention(3, 2, 4, generator);
var secondInput = generator.Rand(8, 3);
var cross = crossHead.Trace(x, secondInput);
Print.Line($"First input shape: {TensorPrinter.Size(x)}");
Print.Line($"Second input shape: {TensorPrinter.Size(secondInput)}");
Print.Value("crossattn(first_input, second_input)", TensorPrinter.Format(cross.Context), TensorPrinter.Size(cross.Context));

Print.Title("10. Causal attention: a token may only look at itself and the tokens before it");
Print.Value("attn_scores", TensorPrinter.Format(trace.Scores), TensorPrinter.Size(trace.Scores));
Print.Value("attn_weights", TensorPrinter.Format(trace.Weights), TensorPrinter.Size(trace.Weights));
var maskSimple = Matrix<float>.Build.Dense(6, 6, (i, j) => j <= i ? 1.0f : 0.0f);
Print.Value("mask_simple = torch.tril(torch.ones(6, 6))", TensorPrinter.Format(maskSimple), TensorPrinter.Size(maskSimple));
Print.Value("masked_simple = attn_weights * mask_simple", TensorPrinter.Format(trace.Weights.PointwiseMultiply(maskSimple)), "[6, 6]");
var renormalized = AttentionMask.Causal.MaskWeightsAndRenormalize(trace.Weights);
Print.Value("masked_simple_norm (rows divided by their sums)", TensorPrinter.Format(renormalized), "[6, 6]");
Print.Line("The more efficient way: put -inf above the diagonal before the softmax.");
Print.Value("masked", TensorPrinter.Format(trace.Scores + AttentionMask.Causal.ToAdditive(6, 6)), "[6, 6]");
var causal = head.Trace(x, AttentionMask.Causal);
Print.Value("attn_weights = softmax(masked / √d_k)", TensorPrinter.Format(causal.Weights), TensorPrinter.Size(causal.Weights));

Print.Title("11. The attention weights as pictures (untrained weights: they show the mechanism, not meaning)");
var words = WordTokenizer.Split(sentence);
Directory.CreateDirectory(outputFolder);
foreach (var (name, weights) in new[] { ("attention-weights", trace.Weights), ("causal-attention-weights", causal.Weights) })
{
    Print.Heatmap($"{name}: row = query token, column = key token", weights, words, words);
    Print.Line(AttentionHeatmap.ToText(weights, words, words));
    var path = Path.GetFullPath(Path.Combine(outputFolder, name + ".svg"));
    File.WriteAllText(path, AttentionHeatmap.ToSvg(weights, words, words, $"Life is short: {name}"));
    Print.Line($"SVG written to {path}");
}
