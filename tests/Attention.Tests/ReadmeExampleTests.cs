using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Tokenization;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests;

/// <summary>The README's example runs here, and the README must show exactly this code.</summary>
public class ReadmeExampleTests
{
    private const string Example =
        """
        var tokenizer = WordTokenizer.FromText("Life is short, eat dessert first");
        int[] ids = tokenizer.Encode("Life is short, eat dessert first");          // [0, 4, 5, 2, 1, 3]
        var x = new Embedding(50_000, 3, new TorchGenerator(123)).Forward(ids);    // [6 × 3]
        var head = new SelfAttention(inputDim: 3, keyDim: 2, valueDim: 4, new TorchGenerator(123));
        SelfAttentionTrace trace = head.Trace(x, AttentionMask.Causal);            // queries … weights [6 × 6] … context [6 × 4]

        // Or on any Q [n × d_k], K [m × d_k], V [m × d_v]:
        AttentionOutput result = ScaledDotProductAttention.Compute(trace.Queries, trace.Keys, trace.Values, AttentionMask.Causal);
        """;

    [Fact]
    public void The_readme_example_runs_and_gives_the_articles_causal_weights()
    {
        var tokenizer = WordTokenizer.FromText("Life is short, eat dessert first");
        int[] ids = tokenizer.Encode("Life is short, eat dessert first");          // [0, 4, 5, 2, 1, 3]
        var x = new Embedding(50_000, 3, new TorchGenerator(123)).Forward(ids);    // [6 × 3]
        var head = new SelfAttention(inputDim: 3, keyDim: 2, valueDim: 4, new TorchGenerator(123));
        SelfAttentionTrace trace = head.Trace(x, AttentionMask.Causal);            // queries … weights [6 × 6] … context [6 × 4]

        // Or on any Q [n × d_k], K [m × d_k], V [m × d_v]:
        AttentionOutput result = ScaledDotProductAttention.Compute(trace.Queries, trace.Keys, trace.Values, AttentionMask.Causal);

        ids.Should().Equal(0, 4, 5, 2, 1, 3);
        Expect.Close(trace.Weights, Fixture.Load("self_attention_2024.json").Matrix("causal_weights"), what: "causal weights");
        result.Output.Should().Be(trace.Context);
    }

    private const string KernelExample =
        """
        float[] a = [1, 4, 2, 5, 3, 6];       // A = [1 2 3; 4 5 6], [2 × 3], column by column
        float[] b = [7, 9, 11, 8, 10, 12];    // B = [7 8; 9 10; 11 12], [3 × 2]
        var c = new float[4];
        MatrixMultiply.Multiply(a, b, c, m: 2, k: 3, n: 2);                       // c = [58, 139, 64, 154]: A·B = [58 64; 139 154]
        var weights = new float[3];
        Softmax.Apply([1f, 2f, 3f], weights);                                    // [0.0900, 0.2447, 0.6652]
        """;

    [Fact]
    public void The_readme_kernel_example_computes_what_its_comments_say()
    {
        float[] a = [1, 4, 2, 5, 3, 6];       // A = [1 2 3; 4 5 6], [2 × 3], column by column
        float[] b = [7, 9, 11, 8, 10, 12];    // B = [7 8; 9 10; 11 12], [3 × 2]
        var c = new float[4];
        MatrixMultiply.Multiply(a, b, c, m: 2, k: 3, n: 2);                       // c = [58, 139, 64, 154]: A·B = [58 64; 139 154]
        var weights = new float[3];
        Softmax.Apply([1f, 2f, 3f], weights);                                    // [0.0900, 0.2447, 0.6652]

        // 1·7 + 2·9 + 3·11 = 58, 4·7 + 5·9 + 6·11 = 139, 1·8 + 2·10 + 3·12 = 64, 4·8 + 5·10 + 6·12 = 154
        c.Should().Equal(58, 139, 64, 154);
        // e¹, e², e³ = 2.7183, 7.3891, 20.0855; their sum is 30.1929
        Expect.Close(weights, [0.0900306f, 0.2447285f, 0.6652410f], 1e-6f, 0, "softmax [1, 2, 3]", 3);
    }

    private const string FrozenWeightsExample =
        """
        using (FrozenWeights.Begin())       // promise: no weight changes until the scope ends
        {
            foreach (var sentence in batch)
            {
                outputs.Add(encoder.Forward(sentence));
            }
        }
        """;

    [Fact]
    public void The_readme_frozen_weights_example_gives_what_the_layer_gives_without_it()
    {
        var encoder = new EncoderLayer(TransformerOptions.Small(10, 10) with { Dropout = 0 }, new TorchGenerator(1));
        Matrix<float>[] batch = [RandomMatrices.Uniform(7, 16, 2), RandomMatrices.Uniform(12, 16, 3)];
        var outputs = new List<Matrix<float>>();

        using (FrozenWeights.Begin())       // promise: no weight changes until the scope ends
        {
            foreach (var sentence in batch)
            {
                outputs.Add(encoder.Forward(sentence));
            }
        }

        for (var i = 0; i < batch.Length; i++)
        {
            Expect.BitExact(outputs[i].ToColumnMajorArray(), encoder.Forward(batch[i]).ToColumnMajorArray(), $"sentence {i}");
        }
    }

    [Fact]
    public void The_readme_shows_exactly_the_tested_code()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Attention.sln")))
        {
            directory = directory.Parent;
        }
        directory.Should().NotBeNull("the tests run inside the repository");
        var readme = File.ReadAllText(Path.Combine(directory!.FullName, "README.md")).ReplaceLineEndings("\n");
        readme.Should().Contain(Example.ReplaceLineEndings("\n"));
        readme.Should().Contain(KernelExample.ReplaceLineEndings("\n"));
        readme.Should().Contain(FrozenWeightsExample.ReplaceLineEndings("\n"));
    }
}
