namespace Attention.Kernels;

/// <summary>A float buffer its owner keeps fixed, as an address and a length: a lambda that runs on other threads can
/// capture it where it cannot capture a span. Valid only inside the owner's <c>fixed</c> block.</summary>
internal readonly unsafe record struct Pinned(nint Address, int Length)
{
    /// <summary>The buffer at <paramref name="address"/> holding <paramref name="length"/> floats.</summary>
    public static Pinned Of(float* address, int length) => new((nint)address, length);

    /// <summary>The buffer as a span.</summary>
    public Span<float> Span => new((float*)Address, Length);
}
