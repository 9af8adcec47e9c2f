// Figure 1's "N×": a stack feeds each layer's output to the next. Only the stack's own result is new memory; the outputs
// in between alternate between two per-thread scratch buffers, so a layer never writes the buffer it reads.
using Attention.Kernels;

namespace Attention.Transformers;

internal static class StackBuffers
{
    /// <summary>Where the layer after the one that wrote <paramref name="current"/> writes: the other of this thread's two
    /// buffers (the first when <paramref name="current"/> is the stack's input), at least <paramref name="size"/> floats.</summary>
    public static float[] After(float[] current, int size) =>
        current == _even ? Scratch.Rent(ref _odd, size) : Scratch.Rent(ref _even, size);

    [ThreadStatic]
    private static float[]? _even;

    [ThreadStatic]
    private static float[]? _odd;
}
