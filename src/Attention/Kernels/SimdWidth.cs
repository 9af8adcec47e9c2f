namespace Attention.Kernels;

/// <summary>The instruction-set width a kernel runs at: scalar code, or 128-, 256- or 512-bit vectors.</summary>
internal enum SimdWidth
{
    /// <summary>Plain scalar loops: the reference every vector path is held to.</summary>
    Scalar = 0,

    /// <summary><c>Vector128&lt;float&gt;</c>: 4 lanes (SSE, NEON).</summary>
    Vector128 = 128,

    /// <summary><c>Vector256&lt;float&gt;</c>: 8 lanes (AVX2).</summary>
    Vector256 = 256,

    /// <summary><c>Vector512&lt;float&gt;</c>: 16 lanes (AVX-512).</summary>
    Vector512 = 512,
}
