namespace Attention.Kernels;

/// <summary>
/// Rows <see cref="First"/> … <see cref="First"/> + <see cref="Count"/> − 1 of column-major [<see cref="Tokens"/> ×
/// <see cref="Columns"/>] matrices: one core's tokens in <see cref="Parallelism.ForEachBlock"/>. In column-major storage
/// a block of rows is not contiguous, so <see cref="Gather"/> copies it into the thread's scratch, where the layers'
/// span code runs on it unchanged, and <see cref="Scatter"/> copies the result back. A block of every row is used in place.
/// </summary>
internal readonly record struct TokenBlock(int Tokens, int First, int Count, int Columns)
{
    /// <summary>True when the block holds every row, so nothing needs copying.</summary>
    public bool IsWhole => First == 0 && Count == Tokens;

    /// <summary>The block's rows of <paramref name="source"/>, [Count × Columns]: <paramref name="source"/> itself when whole, else a copy in <paramref name="scratch"/>.</summary>
    public Span<float> Gather(float[] source, ref float[]? scratch)
    {
        if (IsWhole)
        {
            return source.AsSpan(0, Tokens * Columns);
        }
        var block = Scratch.Rent(ref scratch, Count * Columns).AsSpan(0, Count * Columns);
        for (var j = 0; j < Columns; j++)
        {
            source.AsSpan(j * Tokens + First, Count).CopyTo(block.Slice(j * Count, Count));
        }
        return block;
    }

    /// <summary>Where to compute the block's rows of <paramref name="target"/>: <paramref name="target"/> itself when whole,
    /// else <paramref name="scratch"/> (contents undefined), to be copied back by <see cref="Scatter"/>.</summary>
    public Span<float> Destination(float[] target, ref float[]? scratch) =>
        IsWhole ? target.AsSpan(0, Tokens * Columns) : Scratch.Rent(ref scratch, Count * Columns).AsSpan(0, Count * Columns);

    /// <summary>Copies <paramref name="block"/> [Count × Columns] into the block's rows of <paramref name="target"/> (nothing to do when whole).</summary>
    public void Scatter(ReadOnlySpan<float> block, float[] target)
    {
        if (IsWhole)
        {
            return;
        }
        for (var j = 0; j < Columns; j++)
        {
            block.Slice(j * Count, Count).CopyTo(target.AsSpan(j * Tokens + First, Count));
        }
    }
}
