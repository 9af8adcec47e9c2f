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
// It runs only when it computes what the lesson would: evaluation (every dropout is the identity) and no attention
// weights asked for; with a KV cache it reads the cache's keys and values in place. Switch it off for the process with Enabled = false, or for one flow with Use(false).
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Inference;

/// <summary>The switch for the inference fast path of <see cref="MultiHeadAttention"/>, <see cref="EncoderLayer"/> and
/// <see cref="DecoderLayer"/>: the same sub-steps over reused scratch memory instead of new matrices.</summary>
/// <remarks>
/// <para>On by default. It runs only where it computes what the readable path computes: in evaluation mode and when no
/// attention weights are asked for (with or without a KV cache). Results agree with the readable path to float rounding
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

    /// <summary><see cref="MultiHeadAttention"/> without weights over scratch memory, written into <paramref name="result"/> [n × E]
    /// (which may be one of the inputs: it is written last).</summary>
    internal static Matrix<float> Attention(MultiHeadAttention attention, Matrix<float> query, Matrix<float> key, Matrix<float> value, AttentionMask? mask,
        Matrix<float> result)
    {
        using var workspace = new Workspace();
        var output = workspace.Rent(query.RowCount * attention.ModelDim);
        Attention(attention, Storage.ColumnMajor(query), query.RowCount, Storage.ColumnMajor(key), Storage.ColumnMajor(value), key.RowCount, mask, output, workspace);
        output.CopyTo(Shapes.DenseArray(result, nameof(result)));
        return result;
    }

    /// <summary>Multi-head attention without weights into <paramref name="output"/> [n × E]: Q, K, V, all heads fused, W_O.</summary>
    internal static void Attention(MultiHeadAttention attention, ReadOnlySpan<float> query, int n, ReadOnlySpan<float> key, ReadOnlySpan<float> value, int m,
        AttentionMask? mask, Span<float> output, Workspace workspace)
    {
        var e = attention.ModelDim;
        var k = workspace.Rent(m * e);
        var v = workspace.Rent(m * e);
        MatrixMultiply.Linear(key, m, attention.WK, attention.KeyProjection.Bias, k);          // K = key·W_Kᵀ + b_K
        MatrixMultiply.Linear(value, m, attention.WV, attention.ValueProjection.Bias, v);      // V = value·W_Vᵀ + b_V
        AttendProjected(attention, query, n, k, v, m, mask, output, workspace);
    }

    /// <summary>The rest of multi-head attention, from keys and values projected already (the KV cache's, or just made).</summary>
    private static void AttendProjected(MultiHeadAttention attention, ReadOnlySpan<float> query, int n, ReadOnlySpan<float> k, ReadOnlySpan<float> v, int m,
        AttentionMask? mask, Span<float> output, Workspace workspace)
    {
        var (e, d) = (attention.ModelDim, attention.HeadDim);
        var q = workspace.Rent(n * e);
        var concat = workspace.Rent(n * e);
        MatrixMultiply.Linear(query, n, attention.WQ, attention.QueryProjection.Bias, q);       // Q = query·W_Qᵀ + b_Q
        // Column-major storage keeps head i's d_k columns contiguous: the kernel takes every head in place, no split copies.
        FusedAttention.Forward(q, k, v, concat, n, m, d, d, mask, 1.0f / MathF.Sqrt(d), attention.HeadCount);
        MatrixMultiply.Linear(concat, n, attention.WO, attention.OutputProjection.Bias, output); // Concat·W_Oᵀ + b_O
    }

    /// <summary>Self-attention of new target rows through a KV cache: their keys and values join it, then they attend to all.</summary>
    private static void CachedSelfAttention(MultiHeadAttention attention, LayerCache cache, ReadOnlySpan<float> rows, int n, Span<float> output, Workspace workspace)
    {
        var (keys, values, mask) = cache.ExtendSelf(attention, Matrix<float>.Build.Dense(n, attention.ModelDim, rows.ToArray()));
        AttendProjected(attention, rows, n, Storage.ColumnMajor(keys), Storage.ColumnMajor(values), keys.RowCount, mask, output, workspace);
    }

    /// <summary>Cross-attention of new target rows to the memory, whose keys and values the cache projected once.</summary>
    private static void CachedCrossAttention(MultiHeadAttention attention, LayerCache cache, ReadOnlySpan<float> rows, int n, Matrix<float> memory,
        AttentionMask? memoryMask, Span<float> output, Workspace workspace)
    {
        var (keys, values) = cache.MemoryKeysAndValues(attention, memory);
        AttendProjected(attention, rows, n, Storage.ColumnMajor(keys), Storage.ColumnMajor(values), keys.RowCount, memoryMask, output, workspace);
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

    /// <summary>The decoder layer (no weights) over scratch memory: the whole target, or with a <paramref name="cache"/>
    /// the newest target rows.</summary>
    internal static void Decoder(DecoderLayer layer, Matrix<float> x, Matrix<float> memory, AttentionMask? targetMask, AttentionMask? memoryMask,
        LayerCache? cache, Matrix<float> result)
    {
        var (n, m, size) = (x.RowCount, memory.RowCount, x.RowCount * layer.Options.ModelDim);
        using var workspace = new Workspace();
        var input = Storage.ColumnMajor(x).AsSpan(0, size);
        var output = Storage.ColumnMajor(result).AsSpan(0, size);
        var x1 = workspace.Rent(size);
        var x2 = workspace.Rent(size);
        var sublayer = workspace.Rent(size);
        if (layer.Options.NormFirst)
        {
            var normed = workspace.Rent(size);
            Norm(layer.Norm1, input, n, normed);
            SelfAttention(normed, sublayer);
            VectorOps.Add(input, sublayer, x1, SimdDispatch.Current);                    // x₁ = x + MaskedSelfAttention(LN(x))
            Norm(layer.Norm2, x1, n, normed);
            CrossAttention(normed, sublayer);
            VectorOps.Add(x1, sublayer, x2, SimdDispatch.Current);                       // x₂ = x₁ + CrossAttention(LN(x₁), memory)
            Norm(layer.Norm3, x2, n, normed);
            FeedForward(layer.FeedForward, normed, n, sublayer, workspace);
            VectorOps.Add(x2, sublayer, output, SimdDispatch.Current);                   // x₂ + FFN(LN(x₂))
        }
        else
        {
            SelfAttention(input, sublayer);
            AddAndNorm(layer.Norm1, input, sublayer, n, x1);                             // x₁ = LN(x + MaskedSelfAttention(x))
            CrossAttention(x1, sublayer);
            AddAndNorm(layer.Norm2, x1, sublayer, n, x2);                                // x₂ = LN(x₁ + CrossAttention(x₁, memory))
            FeedForward(layer.FeedForward, x2, n, sublayer, workspace);
            AddAndNorm(layer.Norm3, x2, sublayer, n, output);                            // LN(x₂ + FFN(x₂))
        }

        void SelfAttention(ReadOnlySpan<float> rows, Span<float> attended)
        {
            if (cache is null)
            {
                Attention(layer.SelfAttention, rows, n, rows, rows, n, targetMask, attended, workspace);
            }
            else
            {
                CachedSelfAttention(layer.SelfAttention, cache, rows, n, attended, workspace);
            }
        }

        void CrossAttention(ReadOnlySpan<float> rows, Span<float> attended)
        {
            if (cache is null)
            {
                var memoryValues = Storage.ColumnMajor(memory).AsSpan(0, m * layer.Options.ModelDim);
                Attention(layer.CrossAttention, rows, n, memoryValues, memoryValues, m, memoryMask, attended, workspace);
            }
            else
            {
                CachedCrossAttention(layer.CrossAttention, cache, rows, n, memory, memoryMask, attended, workspace);
            }
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
