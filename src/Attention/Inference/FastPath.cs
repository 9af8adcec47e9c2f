// The inference fast path, kept apart from the lessons as PyTorch keeps the native fast path of
// nn.TransformerEncoderLayer apart from its readable forward() (and nanoGPT its `if self.flash:`).
//
// The lesson classes (Mechanisms, Transformers) say each equation with whole matrices: every sub-step returns a new
// [n × d] matrix. That is the clearest code and the specification, but each new matrix is memory the process has not
// touched lately, and at 512 tokens a layer makes a dozen of them. The fast path runs the same sub-steps, in the same
// order and with the same kernels, over column-major spans of scratch memory rented for the call (Kernels.Workspace) and
// given back at its end: the next call finds the same memory already mapped and in cache. Tests hold it equal to the
// lessons on every option.
//
// It runs only when it computes what the lesson would: evaluation (every dropout is the identity), no attention
// weights asked for, no KV cache. Switch it off for the process with Enabled = false, or for one flow with Use(false).
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Inference;

/// <summary>The switch for the inference fast path of <see cref="MultiHeadAttention"/>, <see cref="EncoderLayer"/> and
/// <see cref="DecoderLayer"/>: the same sub-steps over reused scratch memory instead of new matrices.</summary>
/// <remarks>
/// <para>On by default. It runs only where it computes what the readable path computes: in evaluation mode, when no
/// attention weights are asked for, and without a KV cache. Results agree with the readable path to float rounding
/// (the tests hold them to 1e-6 relative; most are bit-identical).</para>
/// <para>Measured gain on one core (d_model 512, 8 heads, 512 tokens): see <c>docs/performance.md</c>.</para>
/// </remarks>
public static class FastPath
{
    private static readonly AsyncLocal<bool?> Flow = new();

    /// <summary>Whether the fast path may run in flows that have not chosen with <see cref="Use"/>. Default true.</summary>
    public static bool Enabled { get; set; } = true;

    /// <summary>Whether the fast path may run now, in this async flow.</summary>
    public static bool IsActive => Flow.Value ?? Enabled;

    /// <summary>Switches the fast path on or off for this async flow (and the tasks it starts) until the scope is disposed.</summary>
    /// <param name="enabled">False to run the readable lesson code only.</param>
    /// <returns>The scope; disposing it restores the choice before it.</returns>
    public static IDisposable Use(bool enabled)
    {
        var previous = Flow.Value;
        Flow.Value = enabled;
        return new Scope(previous);
    }

    internal static bool Applies(params Dropout[] dropouts) => IsActive && dropouts.All(d => d.IsIdentity);

    /// <summary>Multi-head attention without weights into <paramref name="output"/> [n × E]: Q, K, V, all heads fused, W_O.</summary>
    internal static void Attention(MultiHeadAttention attention, ReadOnlySpan<float> query, int n, ReadOnlySpan<float> key, ReadOnlySpan<float> value, int m,
        AttentionMask? mask, Span<float> output, Workspace workspace)
    {
        var (e, d) = (attention.ModelDim, attention.HeadDim);
        var q = workspace.Rent(n * e);
        var k = workspace.Rent(m * e);
        var v = workspace.Rent(m * e);
        var concat = workspace.Rent(n * e);
        MatrixMultiply.Linear(query, n, attention.WQ, attention.QueryProjection.Bias, q);       // Q = query·W_Qᵀ + b_Q
        MatrixMultiply.Linear(key, m, attention.WK, attention.KeyProjection.Bias, k);          // K = key·W_Kᵀ + b_K
        MatrixMultiply.Linear(value, m, attention.WV, attention.ValueProjection.Bias, v);      // V = value·W_Vᵀ + b_V
        // Column-major storage keeps head i's d_k columns contiguous: the kernel takes every head in place, no split copies.
        FusedAttention.Forward(q, k, v, concat, n, m, d, d, mask, 1.0f / MathF.Sqrt(d), attention.HeadCount);
        MatrixMultiply.Linear(concat, n, attention.WO, attention.OutputProjection.Bias, output); // Concat·W_Oᵀ + b_O
    }

    /// <summary><see cref="EncoderLayer.Forward(Matrix{float}, AttentionMask?, Matrix{float})"/> over scratch memory.</summary>
    internal static void Encoder(EncoderLayer layer, Matrix<float> x, AttentionMask? mask, Matrix<float> result)
    {
        var (n, size) = (x.RowCount, x.RowCount * layer.Options.ModelDim);
        using var workspace = new Workspace();
        var input = Storage.ColumnMajor(x).AsSpan(0, size);
        var output = Storage.ColumnMajor(result).AsSpan(0, size);
        var x1 = workspace.Rent(size);
        var sublayer = workspace.Rent(size);
        if (layer.Options.NormFirst)
        {
            var normed = workspace.Rent(size);
            Norm(layer.Norm1, input, n, normed);                                         // LN(x)
            Attention(layer.SelfAttention, normed, n, normed, normed, n, mask, sublayer, workspace);
            VectorOps.Add(input, sublayer, x1, SimdDispatch.Current);                    // x₁ = x + MultiHead(LN(x))
            Norm(layer.Norm2, x1, n, normed);
            FeedForward(layer.FeedForward, normed, n, sublayer, workspace);               // FFN(LN(x₁))
            VectorOps.Add(x1, sublayer, output, SimdDispatch.Current);                   // x₁ + FFN(LN(x₁))
        }
        else
        {
            Attention(layer.SelfAttention, input, n, input, input, n, mask, sublayer, workspace);
            AddAndNorm(layer.Norm1, input, sublayer, n, x1);                             // x₁ = LN(x + MultiHead(x))
            FeedForward(layer.FeedForward, x1, n, sublayer, workspace);
            AddAndNorm(layer.Norm2, x1, sublayer, n, output);                            // LN(x₁ + FFN(x₁))
        }
    }

    /// <summary>The decoder layer over the whole target (no cache, no weights) over scratch memory.</summary>
    internal static void Decoder(DecoderLayer layer, Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask, Matrix<float> result)
    {
        var (n, m, size) = (x.RowCount, memory.RowCount, x.RowCount * layer.Options.ModelDim);
        using var workspace = new Workspace();
        var input = Storage.ColumnMajor(x).AsSpan(0, size);
        var source = Storage.ColumnMajor(memory).AsSpan(0, m * layer.Options.ModelDim);
        var output = Storage.ColumnMajor(result).AsSpan(0, size);
        var x1 = workspace.Rent(size);
        var x2 = workspace.Rent(size);
        var sublayer = workspace.Rent(size);
        if (layer.Options.NormFirst)
        {
            var normed = workspace.Rent(size);
            Norm(layer.Norm1, input, n, normed);
            Attention(layer.SelfAttention, normed, n, normed, normed, n, targetMask, sublayer, workspace);
            VectorOps.Add(input, sublayer, x1, SimdDispatch.Current);                    // x₁ = x + MaskedSelfAttention(LN(x))
            Norm(layer.Norm2, x1, n, normed);
            Attention(layer.CrossAttention, normed, n, source, source, m, memoryMask, sublayer, workspace);
            VectorOps.Add(x1, sublayer, x2, SimdDispatch.Current);                       // x₂ = x₁ + CrossAttention(LN(x₁), memory)
            Norm(layer.Norm3, x2, n, normed);
            FeedForward(layer.FeedForward, normed, n, sublayer, workspace);
            VectorOps.Add(x2, sublayer, output, SimdDispatch.Current);                   // x₂ + FFN(LN(x₂))
        }
        else
        {
            Attention(layer.SelfAttention, input, n, input, input, n, targetMask, sublayer, workspace);
            AddAndNorm(layer.Norm1, input, sublayer, n, x1);                             // x₁ = LN(x + MaskedSelfAttention(x))
            Attention(layer.CrossAttention, x1, n, source, source, m, memoryMask, sublayer, workspace);
            AddAndNorm(layer.Norm2, x1, sublayer, n, x2);                                // x₂ = LN(x₁ + CrossAttention(x₁, memory))
            FeedForward(layer.FeedForward, x2, n, sublayer, workspace);
            AddAndNorm(layer.Norm3, x2, sublayer, n, output);                            // LN(x₂ + FFN(x₂))
        }
    }

    private static void FeedForward(FeedForward network, ReadOnlySpan<float> x, int n, Span<float> y, Workspace workspace)
    {
        var hidden = workspace.Rent(n * network.Linear1.OutFeatures);
        MatrixMultiply.Linear(x, n, network.Linear1.Weight, network.Linear1.Bias, hidden);        // x·W₁ᵀ + b₁
        if (network.Activation == Activation.ReLU)
        {
            VectorOps.Relu(hidden, SimdDispatch.Current);
        }
        else
        {
            Elementwise.Gelu(hidden);
        }
        MatrixMultiply.Linear(hidden, n, network.Linear2.Weight, network.Linear2.Bias, y);        // ·W₂ᵀ + b₂
    }

    private static void Norm(LayerNorm norm, ReadOnlySpan<float> x, int n, Span<float> result) =>
        LayerNormalization.Normalize(x, n, norm.Dimension, norm.Gain, norm.Bias, norm.Epsilon, result);

    /// <summary>result = LN(x + sublayer); <paramref name="result"/> may be <paramref name="sublayer"/>.</summary>
    private static void AddAndNorm(LayerNorm norm, ReadOnlySpan<float> x, ReadOnlySpan<float> sublayer, int n, Span<float> result)
    {
        VectorOps.Add(x, sublayer, result, SimdDispatch.Current);
        Norm(norm, result, n, result);
    }

    private sealed class Scope(bool? previous) : IDisposable
    {
        public void Dispose() => Flow.Value = previous;
    }
}
