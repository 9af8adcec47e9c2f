using System.Text;   // brings System.Text.Encoder and System.Text.Decoder: the library's names must not collide with them
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Transformers;
using Attention.Tests.Support;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.BadInput;

/// <summary>Names that do not collide: this file compiles only if they don't (CS0104 and CS0121 were the errors before).</summary>
public class NameTests
{
    [Fact]
    public void The_stacks_and_decoding_have_names_that_say_what_they_are_beside_System_Text()
    {
        var options = TransformerOptions.Small(10, 10) with { MaxPositions = 16 };
        var encoder = new TransformerEncoder(options, new TorchGenerator(1));
        var decoder = new TransformerDecoder(options, new TorchGenerator(2));
        var (x, y) = (Matrix<float>.Build.Dense(3, 16, 0.5f), Matrix<float>.Build.Dense(2, 16, 0.25f));
        var memory = encoder.Forward(x);
        var output = decoder.Forward(y, memory, null);              // was ambiguous with the cache overload
        var cached = decoder.ForwardWithCache(y, memory, decoder.CreateCache());
        output.Should().NotBeNull();
        Expect.Close(cached.Row(1), decoder.Forward(y, memory, AttentionMask.Causal).Row(1), what: "the cache's last row");
        var decoded = new Decoding(new Transformer(options, new TorchGenerator(3))).Greedy([1, 2], new DecodingOptions { StartToken = 0, MaxNewTokens = 3 });
        decoded.Tokens.Should().HaveCount(3);
        Encoding.UTF8.GetByteCount("used, so the using directive stays").Should().BeGreaterThan(0);
    }
}
