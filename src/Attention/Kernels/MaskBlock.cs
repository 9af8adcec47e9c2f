// Adding an attention mask to one block of fused attention's scores, a key column at a time.
using Attention.Mechanisms;

namespace Attention.Kernels;

internal static class MaskBlock
{
    /// <summary>
    /// Adds <paramref name="mask"/> to a block of scores held column-major with one query per row: <paramref name="scores"/>[i + j·ld]
    /// is query <paramref name="query0"/> + i against key <paramref name="key0"/> + j, for i &lt; rows and j &lt; keys.
    /// </summary>
    /// <remarks>Each kind works a key column at a time: a causal mask hides the top of the column, a key padding mask adds one
    /// constant to each column, a table adds a contiguous slice of its column. A combined mask adds its parts one after another,
    /// which can differ from adding their sum by one rounding when two parts hold finite non-zero biases.</remarks>
    public static void Add(AttentionMask mask, Span<float> scores, int ld, int rows, int query0, int key0, int keys)
    {
        if (mask.Parts is { } parts)
        {
            foreach (var part in parts)
            {
                Add(part, scores, ld, rows, query0, key0, keys);
            }
            return;
        }
        for (var j = 0; j < keys; j++)
        {
            var column = scores.Slice(j * ld, rows);
            var key = key0 + j;
            if (mask.CausalOffset is { } offset)
            {
                column[..Math.Clamp(key - query0 - offset, 0, rows)].Fill(float.NegativeInfinity);   // queries i with key > i + offset
            }
            else if (mask.KeyBias is { } keyBias)
            {
                AddConstant(column, keyBias[key]);
            }
            else
            {
                var n = mask.QueryCount!.Value;
                VectorOps.Add(column, mask.Table.AsSpan(query0 + key * n, rows), column, SimdDispatch.Current);
            }
        }
    }

    private static void AddConstant(Span<float> column, float bias)
    {
        if (bias != 0.0f)                           // added, not filled: a NaN score stays NaN, as on the unfused path
        {
            foreach (ref var score in column)
            {
                score += bias;
            }
        }
    }
}
