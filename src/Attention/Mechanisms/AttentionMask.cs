// "Attention Is All You Need", §3.2.3: "We implement this inside of scaled dot-product attention by masking out
// (setting to −∞) all values in the input of the softmax which correspond to illegal connections."
// A mask is therefore an additive bias on the scaled scores: 0 keeps a key, −∞ hides it, anything else shifts it.
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>
/// Which keys each query may attend to, as an additive bias on the scaled scores: 0 keeps a key, −∞ hides it,
/// any other value shifts its score. Built as causal, boolean, additive, or a combination of these.
/// </summary>
/// <remarks>
/// Shapes are [n × m]: n queries (rows) by m keys (columns). <see cref="Causal"/> fits any shape, a
/// <see cref="KeyPadding(bool[])"/> mask any number of queries; the others have the shape they were built with,
/// and using a mask with scores of another shape throws.
/// A query whose every key is hidden gets all-zero weights and a zero output row (see <see cref="ScaledDotProductAttention"/>).
/// </remarks>
public sealed class AttentionMask
{
    // Exactly one of the four describes the mask; the fused kernel adds it a key column at a time (Kernels/MaskBlock.cs).
    private readonly int? _causalOffset;      // causal: key j is hidden from query i when j > i + offset
    private readonly float[]? _keyBias;       // key padding: one bias per key, the same for every query
    private readonly float[]? _table;         // boolean and additive: the whole [n × m] bias, column-major
    private readonly AttentionMask[]? _parts; // combined: the sum of the parts

    private AttentionMask(string description, int? queryCount, int? keyCount, int? causalOffset = null,
        float[]? keyBias = null, float[]? table = null, AttentionMask[]? parts = null)
    {
        (_causalOffset, _keyBias, _table, _parts) = (causalOffset, keyBias, table, parts);
        Description = description;
        QueryCount = queryCount;
        KeyCount = keyCount;
    }

    /// <summary>
    /// The causal (look-ahead) mask: query i sees keys 0..i and nothing after, as <c>torch.ones(n, m).tril()</c>.
    /// When n ≠ m the diagonal starts at the top-left corner, as PyTorch's <c>is_causal</c> does.
    /// </summary>
    public static AttentionMask Causal { get; } = new("causal", null, null, causalOffset: 0);

    /// <summary>
    /// The causal mask for queries that continue a sequence: query i stands at position <paramref name="queryOffset"/> + i
    /// and sees keys 0 … offset + i. The decoder's KV cache uses it when several new tokens attend to cached ones.
    /// </summary>
    /// <param name="queryOffset">How many keys come before the first query's own position (0 gives <see cref="Causal"/>).</param>
    /// <returns>The mask, fitting any shape.</returns>
    public static AttentionMask CausalFrom(int queryOffset)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(queryOffset);
        return queryOffset == 0 ? Causal : new AttentionMask($"causal from {queryOffset}", null, null, causalOffset: queryOffset);
    }

    /// <summary>A short description of the mask, for messages and printing.</summary>
    public string Description { get; }

    /// <summary>Number of queries (rows) the mask is built for, or null when it fits any shape.</summary>
    public int? QueryCount { get; }

    /// <summary>Number of keys (columns) the mask is built for, or null when it fits any shape.</summary>
    public int? KeyCount { get; }

    /// <summary>A boolean mask in PyTorch's convention: <c>true</c> hides the key (bias −∞), <c>false</c> keeps it.</summary>
    /// <param name="masked">[n × m]; copied, so later changes to the array do not change the mask.</param>
    /// <returns>The mask.</returns>
    public static AttentionMask FromBoolean(bool[,] masked)
    {
        ArgumentNullException.ThrowIfNull(masked);
        var (n, m) = (masked.GetLength(0), masked.GetLength(1));
        var table = new float[Shapes.Elements(n, m, "A boolean mask", nameof(masked))];
        for (var j = 0; j < m; j++)
        {
            for (var i = 0; i < n; i++)
            {
                table[i + j * n] = masked[i, j] ? float.NegativeInfinity : 0.0f;
            }
        }
        return new AttentionMask("boolean", n, m, table: table);
    }

    /// <summary>An additive float mask: <paramref name="bias"/>[i, j] is added to the scaled score of query i and key j.</summary>
    /// <param name="bias">[n × m]; copied. Use −∞ to hide a key.</param>
    /// <returns>The mask.</returns>
    public static AttentionMask Additive(Matrix<float> bias)
    {
        ArgumentNullException.ThrowIfNull(bias);
        return new AttentionMask("additive", bias.RowCount, bias.ColumnCount, table: bias.ToColumnMajorArray());   // a copy
    }

    /// <summary>
    /// A key padding mask (PyTorch's <c>key_padding_mask</c>): <c>padded[j] = true</c> hides key j from every query.
    /// Fits any number of queries and exactly <c>padded.Length</c> keys.
    /// </summary>
    /// <param name="padded">[m], true where key j is padding; copied.</param>
    /// <returns>The mask.</returns>
    public static AttentionMask KeyPadding(bool[] padded)
    {
        ArgumentNullException.ThrowIfNull(padded);
        var keyBias = padded.Select(p => p ? float.NegativeInfinity : 0.0f).ToArray();
        return new AttentionMask("key padding", null, keyBias.Length, keyBias: keyBias);
    }

    /// <summary>A key padding mask from a sequence length: of <paramref name="keyCount"/> keys, those at
    /// <paramref name="length"/> and after are padding.</summary>
    /// <param name="keyCount">m, the padded length of the key sequence.</param>
    /// <param name="length">How many keys are real tokens, 0 ≤ length ≤ m.</param>
    /// <returns>The mask.</returns>
    public static AttentionMask KeyPadding(int keyCount, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keyCount);
        if (length < 0 || length > keyCount)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"The sequence length must be between 0 and the key count {keyCount}.");
        }
        return KeyPadding([.. Enumerable.Range(0, keyCount).Select(j => j >= length)]);
    }

    /// <summary>The mask of sentences stacked one after another in one matrix (a training batch whose position-wise
    /// layers run on all its tokens at once): a query of sentence s sees only the keys of sentence s, and with
    /// <paramref name="causal"/> only those up to its own position in it. Attention over the stack with this mask gives
    /// each sentence what attention over that sentence alone gives it.</summary>
    /// <param name="queryLengths">The sentences' lengths on the query side (rows), in stacking order.</param>
    /// <param name="keyLengths">The same sentences' lengths on the key side (columns); as many as the query lengths.</param>
    /// <param name="causal">Also hide, within each sentence, the keys after the query's position (needs equal lengths).</param>
    /// <returns>A boolean mask of [Σ query lengths × Σ key lengths].</returns>
    /// <remarks>The mask also keeps the whole table (4 bytes per query–key pair: 1 MB for 512 tokens, 40 MB for 3,200), so
    /// that every attention path, the fused kernel included, can read it; multi-head attention's training forward uses
    /// <see cref="SentenceBlocks"/> and never reads the table.</remarks>
    public static AttentionMask Sentences(IReadOnlyList<int> queryLengths, IReadOnlyList<int> keyLengths, bool causal = false)
    {
        ArgumentNullException.ThrowIfNull(queryLengths);
        ArgumentNullException.ThrowIfNull(keyLengths);
        if (queryLengths.Count != keyLengths.Count || queryLengths.Any(l => l <= 0) || keyLengths.Any(l => l <= 0)
            || (causal && !queryLengths.SequenceEqual(keyLengths)))
        {
            throw new ArgumentException($"Sentence masks need one positive length per sentence on both sides (equal lengths when causal): "
                + $"queries [{string.Join(", ", queryLengths)}], keys [{string.Join(", ", keyLengths)}].", nameof(keyLengths));
        }
        var (n, m) = (queryLengths.Sum(l => (long)l), keyLengths.Sum(l => (long)l));
        var table = new float[Shapes.Elements(checked((int)Math.Min(n, int.MaxValue)), checked((int)Math.Min(m, int.MaxValue)), "A sentence mask", nameof(queryLengths))];
        Array.Fill(table, float.NegativeInfinity);
        var (row, column) = (0, 0);
        for (var s = 0; s < queryLengths.Count; s++)
        {
            for (var j = 0; j < keyLengths[s]; j++)
            {
                for (var i = causal ? j : 0; i < queryLengths[s]; i++)
                {
                    table[row + i + (column + j) * (int)n] = 0.0f;                   // same sentence (and j ≤ i when causal)
                }
            }
            (row, column) = (row + queryLengths[s], column + keyLengths[s]);
        }
        var blocks = new SentenceBlock[queryLengths.Count];
        (row, column) = (0, 0);
        for (var s = 0; s < blocks.Length; s++)
        {
            blocks[s] = new SentenceBlock(row, queryLengths[s], column, keyLengths[s]);
            (row, column) = (row + queryLengths[s], column + keyLengths[s]);
        }
        return new AttentionMask(causal ? "sentences, causal" : "sentences", (int)n, (int)m, table: table) { SentenceBlocks = blocks, CausalWithinSentences = causal };
    }

    /// <summary>For a mask built by <see cref="Sentences"/>: each sentence's block of query rows and key columns, in
    /// order; null for every other mask. Attention may run block by block (what the mask allows is exactly that).</summary>
    public IReadOnlyList<SentenceBlock>? SentenceBlocks { get; private init; }

    /// <summary>For a <see cref="Sentences"/> mask: whether each block is causal (the decoder's self-attention).</summary>
    public bool CausalWithinSentences { get; private init; }

    /// <summary>The sum of several masks: a key hidden by any of them stays hidden (−∞ plus anything is −∞).
    /// PyTorch combines <c>attn_mask</c> and <c>key_padding_mask</c> the same way.</summary>
    /// <param name="masks">Masks of compatible shapes (a mask without a size in one direction fits any).</param>
    /// <returns>The combined mask.</returns>
    public static AttentionMask Combine(params AttentionMask[] masks)
    {
        ArgumentNullException.ThrowIfNull(masks);
        if (masks.Length == 0)
        {
            throw new ArgumentException("Combine needs at least one mask.", nameof(masks));
        }
        foreach (var mask in masks)
        {
            ArgumentNullException.ThrowIfNull(mask, nameof(masks));
        }
        var parts = (AttentionMask[])masks.Clone();
        var rows = Agree(parts, m => m.QueryCount, "queries");
        var columns = Agree(parts, m => m.KeyCount, "keys");
        return new AttentionMask(string.Join(" + ", parts.Select(m => m.Description)), rows, columns, parts: parts);
    }

    /// <summary>The bias added to the scaled score of query <paramref name="query"/> and key <paramref name="key"/>.</summary>
    /// <param name="query">Row index i.</param>
    /// <param name="key">Column index j.</param>
    /// <returns>0 to keep, −∞ to hide, or the additive value.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is negative or past the mask's shape.</exception>
    public float BiasAt(int query, int key)
    {
        if (query < 0 || key < 0 || query >= (QueryCount ?? int.MaxValue) || key >= (KeyCount ?? int.MaxValue))
        {
            throw new ArgumentOutOfRangeException(query < 0 || query >= (QueryCount ?? int.MaxValue) ? nameof(query) : nameof(key),
                $"({query}, {key}) is outside the {Description} mask {ShapeText}.");
        }
        return Bias(query, key);
    }

    private float Bias(int query, int key)
    {
        if (_causalOffset is { } offset)
        {
            return key > query + offset ? float.NegativeInfinity : 0.0f;
        }
        if (_keyBias is not null)
        {
            return _keyBias[key];
        }
        if (_table is not null)
        {
            return _table[query + key * QueryCount!.Value];
        }
        var sum = 0.0f;
        foreach (var part in _parts!)
        {
            sum += part.Bias(query, key);
        }
        return sum;
    }

    /// <summary>The mask as a full additive matrix for <paramref name="queryCount"/> queries and <paramref name="keyCount"/> keys.</summary>
    /// <param name="queryCount">n.</param>
    /// <param name="keyCount">m.</param>
    /// <returns>[n × m] of 0, −∞ and additive values.</returns>
    public Matrix<float> ToAdditive(int queryCount, int keyCount)
    {
        RequireFits(queryCount, keyCount, nameof(queryCount));
        Shapes.Elements(queryCount, keyCount, "The additive mask", nameof(queryCount));
        return _table is not null
            ? Matrix<float>.Build.Dense(queryCount, keyCount, (float[])_table.Clone())          // already [n × m], column-major
            : Matrix<float>.Build.Dense(queryCount, keyCount, (i, j) => Bias(i, j));
    }

    /// <summary>
    /// The article's first way to mask, after the softmax: zero the weights of hidden keys, then divide each row by
    /// its new sum. Equal to masking with −∞ before the softmax (up to rounding); the latter is what attention uses.
    /// </summary>
    /// <param name="weights">[n × m] attention weights; not modified.</param>
    /// <returns>[n × m] renormalized weights; a row with no visible key stays all zero.</returns>
    public Matrix<float> MaskWeightsAndRenormalize(Matrix<float> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        RequireFits(weights.RowCount, weights.ColumnCount, nameof(weights));
        var masked = Matrix<float>.Build.Dense(weights.RowCount, weights.ColumnCount,
            (i, j) => float.IsNegativeInfinity(Bias(i, j)) ? 0.0f : weights[i, j]);
        for (var i = 0; i < masked.RowCount; i++)
        {
            var sum = masked.Row(i).Sum();
            if (sum != 0.0f)
            {
                masked.SetRow(i, masked.Row(i) / sum);
            }
        }
        return masked;
    }

    private static int? Agree(AttentionMask[] masks, Func<AttentionMask, int?> size, string what)
    {
        int? agreed = null;
        foreach (var mask in masks)
        {
            if (size(mask) is { } s)
            {
                if (agreed is { } a && a != s)
                {
                    throw new ArgumentException(
                        $"Cannot combine masks of shapes {string.Join(" and ", masks.Select(m => m.ShapeText))}: they disagree on the number of {what}.", nameof(masks));
                }
                agreed = s;
            }
        }
        return agreed;
    }

    private string ShapeText => $"[{QueryCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"} × {KeyCount?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"}]";

    /// <summary>For a causal mask, the number of keys query <paramref name="query"/> can see (i + offset + 1); for any other mask null.</summary>
    internal int? CausalKeyLimit(int query) => _causalOffset is { } offset ? query + offset + 1 : null;

    // The four descriptions, for the fused kernel, which adds a mask to a block of scores a key column at a time
    // (Kernels/MaskBlock.cs). Exactly one is not null.
    internal int? CausalOffset => _causalOffset;

    internal float[]? KeyBias => _keyBias;

    internal float[]? Table => _table;

    internal IReadOnlyList<AttentionMask>? Parts => _parts;

    /// <summary>Throws <see cref="ArgumentException"/> unless the mask fits n queries by m keys.</summary>
    internal void RequireFits(int queryCount, int keyCount, string parameterName)
    {
        if ((QueryCount is { } n && n != queryCount) || (KeyCount is { } m && m != keyCount))
        {
            throw new ArgumentException(
                $"The {Description} mask is {ShapeText} but the scores are [{queryCount} × {keyCount}] (queries × keys).", parameterName);
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{Description} mask {ShapeText}";
}

/// <summary>One stacked sentence's place in a <see cref="AttentionMask.Sentences"/> mask.</summary>
/// <param name="FirstQuery">Its first query row.</param>
/// <param name="QueryCount">Its query rows.</param>
/// <param name="FirstKey">Its first key column.</param>
/// <param name="KeyCount">Its key columns.</param>
public sealed record SentenceBlock(int FirstQuery, int QueryCount, int FirstKey, int KeyCount);
