namespace Attention.Kernels;

/// <summary>Per-thread scratch buffers: allocated once, grown when needed, reused by every later call on the thread.</summary>
/// <remarks>A fresh page of memory costs about 5 µs to touch on these machines, so hot paths must not allocate their
/// temporaries per call. Each caller keeps its buffer in its own <c>[ThreadStatic]</c> field, so threads never share one.</remarks>
internal static class Scratch
{
    /// <summary>The buffer in <paramref name="buffer"/>, replaced by a larger one if it holds fewer than <paramref name="length"/> floats. Contents are undefined.</summary>
    public static float[] Rent(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length)
        {
            buffer = GC.AllocateUninitializedArray<float>(length);
        }
        return buffer;
    }
}
