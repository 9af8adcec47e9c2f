namespace Attention.Tests.Lessons;

/// <summary>
/// What Raschka's 2024 article prints, copied from the article ("Understanding and Coding Self-Attention,
/// Multi-Head Attention, Causal-Attention, and Cross-Attention in LLMs", Ahead of AI, January 2024) without the
/// <c>grad_fn=…</c> suffixes. The tests print this library's results in PyTorch's format and compare the text.
/// </summary>
public static class RaschkaArticle2024
{
    public const string Sentence = "Life is short, eat dessert first";

    public const string SentenceInt = "tensor([0, 4, 5, 2, 1, 3])";

    public const string EmbeddedSentence =
        """
        tensor([[ 0.3374, -0.1778, -0.3035],
                [ 0.1794,  1.8951,  0.4954],
                [ 0.2692, -0.0770, -1.0205],
                [-0.2196, -0.3792,  0.7671],
                [-0.5880,  0.3486,  0.6603],
                [-1.1925,  0.6984, -1.4097]])
        """;

    public const string Omega24 = "tensor(1.2903)";

    public const string Omega2 = "tensor([-0.6004,  3.4707, -1.5023,  0.4991,  1.2903, -1.3374])";

    public const string AttentionWeights2 = "tensor([0.0386, 0.6870, 0.0204, 0.0840, 0.1470, 0.0229])";

    public const string ContextVector2 = "tensor([0.5313, 1.3607, 0.7891, 1.3110])";

    public const string ContextVectors =
        """
        tensor([[-0.1564,  0.1028, -0.0763, -0.0764],
                [ 0.5313,  1.3607,  0.7891,  1.3110],
                [-0.3542, -0.1234, -0.2627, -0.3706],
                [ 0.0071,  0.3345,  0.0969,  0.1998],
                [ 0.1008,  0.4780,  0.2021,  0.3674],
                [-0.5296, -0.2799, -0.4107, -0.6006]])
        """;

    /// <summary>Four heads of SelfAttention(3, 2, 1) drawn one after another from torch.manual_seed(123), concatenated.</summary>
    public const string MultiHeadWrapperContextVectors =
        """
        tensor([[-0.0185,  0.0170,  0.1999, -0.0860],
                [ 0.4003,  1.7137,  1.3981,  1.0497],
                [-0.1103, -0.1609,  0.0079, -0.2416],
                [ 0.0668,  0.3534,  0.2322,  0.1008],
                [ 0.1180,  0.6949,  0.3157,  0.2807],
                [-0.1827, -0.2060, -0.2393, -0.3167]])
        """;

    public const string CrossAttentionContextVectors =
        """
        tensor([[0.4231, 0.8665, 0.6503, 1.0042],
                [0.4874, 0.9718, 0.7359, 1.1353],
                [0.4054, 0.8359, 0.6258, 0.9667],
                [0.4357, 0.8886, 0.6678, 1.0311],
                [0.4429, 0.9006, 0.6775, 1.0460],
                [0.3860, 0.8021, 0.5985, 0.9250]])
        """;

    public const string AttnScores =
        """
        tensor([[ 0.0613, -0.3491,  0.1443, -0.0437, -0.1303,  0.1076],
                [-0.6004,  3.4707, -1.5023,  0.4991,  1.2903, -1.3374],
                [ 0.2432, -1.3934,  0.5869, -0.1851, -0.5191,  0.4730],
                [-0.0794,  0.4487, -0.1807,  0.0518,  0.1677, -0.1197],
                [-0.1510,  0.8626, -0.3597,  0.1112,  0.3216, -0.2787],
                [ 0.4344, -2.5037,  1.0740, -0.3509, -0.9315,  0.9265]])
        """;

    public const string AttnWeights =
        """
        tensor([[0.1772, 0.1326, 0.1879, 0.1645, 0.1547, 0.1831],
                [0.0386, 0.6870, 0.0204, 0.0840, 0.1470, 0.0229],
                [0.1965, 0.0618, 0.2506, 0.1452, 0.1146, 0.2312],
                [0.1505, 0.2187, 0.1401, 0.1651, 0.1793, 0.1463],
                [0.1347, 0.2758, 0.1162, 0.1621, 0.1881, 0.1231],
                [0.1973, 0.0247, 0.3102, 0.1132, 0.0751, 0.2794]])
        """;

    public const string MaskSimple =
        """
        tensor([[1., 0., 0., 0., 0., 0.],
                [1., 1., 0., 0., 0., 0.],
                [1., 1., 1., 0., 0., 0.],
                [1., 1., 1., 1., 0., 0.],
                [1., 1., 1., 1., 1., 0.],
                [1., 1., 1., 1., 1., 1.]])
        """;

    public const string MaskedSimple =
        """
        tensor([[0.1772, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
                [0.0386, 0.6870, 0.0000, 0.0000, 0.0000, 0.0000],
                [0.1965, 0.0618, 0.2506, 0.0000, 0.0000, 0.0000],
                [0.1505, 0.2187, 0.1401, 0.1651, 0.0000, 0.0000],
                [0.1347, 0.2758, 0.1162, 0.1621, 0.1881, 0.0000],
                [0.1973, 0.0247, 0.3102, 0.1132, 0.0751, 0.2794]])
        """;

    /// <summary>Printed twice by the article: after renormalizing the masked weights, and after masking with −∞ before the softmax.</summary>
    public const string CausalWeights =
        """
        tensor([[1.0000, 0.0000, 0.0000, 0.0000, 0.0000, 0.0000],
                [0.0532, 0.9468, 0.0000, 0.0000, 0.0000, 0.0000],
                [0.3862, 0.1214, 0.4924, 0.0000, 0.0000, 0.0000],
                [0.2232, 0.3242, 0.2078, 0.2449, 0.0000, 0.0000],
                [0.1536, 0.3145, 0.1325, 0.1849, 0.2145, 0.0000],
                [0.1973, 0.0247, 0.3102, 0.1132, 0.0751, 0.2794]])
        """;

    public const string MaskedScores =
        """
        tensor([[ 0.0613,    -inf,    -inf,    -inf,    -inf,    -inf],
                [-0.6004,  3.4707,    -inf,    -inf,    -inf,    -inf],
                [ 0.2432, -1.3934,  0.5869,    -inf,    -inf,    -inf],
                [-0.0794,  0.4487, -0.1807,  0.0518,    -inf,    -inf],
                [-0.1510,  0.8626, -0.3597,  0.1112,  0.3216,    -inf],
                [ 0.4344, -2.5037,  1.0740, -0.3509, -0.9315,  0.9265]])
        """;
}
