// Steady-state times of the rows: median of 7 rounds after a warm-up of several seconds.
using System.Diagnostics;
using Attention.Kernels;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

var which = args.Length > 0 ? args[0] : "all";
if (Environment.GetEnvironmentVariable("READABLE") == "1")
{
    // The new build's readable path: the fast path switched off (the old build has no switch).
    Type.GetType("Attention.Inference.FastPath, Attention")!.GetProperty("Enabled")!.SetValue(null, false);
}
var mha = new MultiHeadAttention(512, 8, new TorchGenerator(1));
var layer = new EncoderLayer(new TransformerOptions { Dropout = 0 }, new TorchGenerator(2));
var x = new TorchGenerator(3).Randn(512, 512);
var result = Matrix<float>.Build.Dense(512, 512);
var q = new TorchGenerator(4).Randn(2048, 64); var k = new TorchGenerator(5).Randn(2048, 64); var v = new TorchGenerator(6).Randn(2048, 64);
#if OLD_API // 12a0ace named the decoding class Generator and both length options MaxLength
var small = new TransformerOptions { ModelDim = 64, HeadCount = 4, FeedForwardDim = 128, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0, SourceVocabularySize = 64, TargetVocabularySize = 64, MaxLength = 600 };
var gen = new Generator(new Transformer(small, new TorchGenerator(1)));
DecodingOptions Greedy(int tokens) => new() { StartToken = 2, EndToken = null, MaxLength = tokens, UseCache = true };
#else
var small = new TransformerOptions { ModelDim = 64, HeadCount = 4, FeedForwardDim = 128, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0, SourceVocabularySize = 64, TargetVocabularySize = 64, MaxPositions = 600 };
var gen = new Decoding(new Transformer(small, new TorchGenerator(1)));
DecodingOptions Greedy(int tokens) => new() { StartToken = 2, EndToken = null, MaxNewTokens = tokens, UseCache = true };
#endif
int[] source = [5, 9, 13, 2, 44, 17, 8, 30, 11, 6, 21, 4];

double Median(Action f, int inner, double warmSeconds = 2)
{
    var sw = Stopwatch.StartNew();
    while (sw.Elapsed.TotalSeconds < warmSeconds) f();
    var ts = new List<double>();
    var pause0 = GC.GetTotalPauseDuration(); var g0 = GC.CollectionCount(2); var a0 = GC.GetTotalAllocatedBytes();
    for (int r = 0; r < 7; r++) { var t = Stopwatch.StartNew(); for (int i = 0; i < inner; i++) f(); ts.Add(t.Elapsed.TotalMilliseconds / inner); }
    var calls = 7.0 * inner;
    Console.Error.Write($"  [gc pause {(GC.GetTotalPauseDuration() - pause0).TotalMilliseconds / calls:F2} ms/call, gen2 {(GC.CollectionCount(2) - g0) / calls:F2}/call, {(GC.GetTotalAllocatedBytes() - a0) / calls / 1e6:F1} MB/call] ");
    ts.Sort(); return ts[3];
}
void Row(string name, Action f, int inner) { if (which == "all" || name == which) Console.WriteLine($"{name}\t{Median(f, inner):F3}"); }
Row("mha_fused", () => mha.Forward(x, needWeights: false), 10);
Row("encoder_layer", () => layer.Forward(x), 5);
Row("encoder_layer_into_result", () => layer.Forward(x, null, result), 5);
Row("fused_attention_2048x64", () => ScaledDotProductAttention.ComputeFused(q, k, v), 5);
Row("decode_cache_128", () => gen.Greedy(source, Greedy(128)), 2);
Row("decode_cache_512", () => gen.Greedy(source, Greedy(512)), 1);
