using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Tokenization;

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
    }
}
