using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Visualization;

namespace Attention.Tests.Lessons;

/// <summary>
/// Raschka's 2023 version of the lesson: 16-dimensional embeddings from nn.Embedding(6, 16), d_q = d_k = 24, d_v = 28,
/// and weights stored [d_out × d] applied as W·x. Since (W·x)ᵀ = xᵀ·Wᵀ, the same head takes the transposed weights.
/// </summary>
public class SelfAttentionArticle2023Tests
{
    private static readonly Fixture Torch = Fixture.Load("self_attention_2023.json");

    private static SelfAttentionTrace Run()
    {
        var x = new Embedding(6, 16, new TorchGenerator(123)).Forward([0, 4, 5, 2, 1, 3]);
        var generator = new TorchGenerator(123);
        var wQuery = generator.Rand(24, 16); // torch.rand(d_q, d)
        var wKey = generator.Rand(24, 16);   // torch.rand(d_k, d)
        var wValue = generator.Rand(28, 16); // torch.rand(d_v, d)
        var head = new SelfAttention(wQuery.Transpose(), wKey.Transpose(), wValue.Transpose());
        return head.Trace(x);
    }

    [Fact]
    public void The_16_dimensional_embedding_and_weights_equal_torch_to_the_bit()
    {
        var x = new Embedding(6, 16, new TorchGenerator(123)).Forward([0, 4, 5, 2, 1, 3]);
        Expect.BitExact(x.ToRowMajorArray(), Torch.Data("embedded_sentence"), "embedded_sentence");
        var generator = new TorchGenerator(123);
        Expect.BitExact(generator.Rand(24, 16).ToRowMajorArray(), Torch.Data("W_query"), "W_query");
        Expect.BitExact(generator.Rand(24, 16).ToRowMajorArray(), Torch.Data("W_key"), "W_key");
        Expect.BitExact(generator.Rand(28, 16).ToRowMajorArray(), Torch.Data("W_value"), "W_value");
    }

    [Fact]
    public void Every_step_for_the_second_token_matches_torch()
    {
        var trace = Run();
        Expect.Close(trace.Queries.Row(1), Torch.Vector("query_2"), what: "query_2");
        Expect.Close(trace.Keys, Torch.Matrix("keys"), what: "keys");
        Expect.Close(trace.Values, Torch.Matrix("values"), what: "values");
        Expect.Close(trace.Scores.Row(1), Torch.Vector("omega_2"), what: "omega_2");
        Expect.Close(trace.Weights.Row(1), Torch.Vector("attention_weights_2"), what: "attention_weights_2");
        Expect.Close(trace.Context.Row(1), Torch.Vector("context_vector_2"), what: "context_vector_2");
    }

    [Fact]
    public void The_printed_numbers_equal_the_articles()
    {
        var trace = Run();
        TensorPrinter.Format(trace.Scores[1, 4]).Should().Be("tensor(11.1466)");
        TensorPrinter.Format(trace.Scores.Row(1)).Should().Be("tensor([ 8.5808, -7.6597,  3.2558,  1.0395, 11.1466, -0.4800])");
        TensorPrinter.Format(trace.Weights.Row(1)).Should().Be("tensor([0.2912, 0.0106, 0.0982, 0.0625, 0.4917, 0.0458])");
        TensorPrinter.Format(trace.Context.Row(1)).Should().Be(
            """
            tensor([-1.5993,  0.0156,  1.2670,  0.0032, -0.6460, -1.1407, -0.4908, -1.4632,
                     0.4747,  1.1926,  0.4506, -0.7110,  0.0602,  0.7125, -0.1628, -2.0184,
                     0.3838, -2.1188, -0.8136, -1.5694,  0.7934, -0.2911, -1.3640, -0.2366,
                    -0.9564, -0.5265,  0.0624,  1.7084])
            """);
    }
}
