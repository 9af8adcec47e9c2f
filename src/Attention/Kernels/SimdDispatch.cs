using System.Runtime.Intrinsics;

namespace Attention.Kernels;

/// <summary>
/// Picks the widest vector width the CPU accelerates, once at start-up, and lets tests and benchmarks
/// force a narrower one so that every path (scalar included) runs on any machine.
/// </summary>
/// <remarks>
/// The environment variable <c>ATTENTION_SIMD</c> (<c>scalar</c>, <c>128</c>, <c>256</c> or <c>512</c>) caps the
/// width for a whole process. <see cref="Force"/> overrides it for the calling async flow only, so tests that
/// run in parallel do not disturb each other. A width the CPU does not accelerate is lowered to one it does.
/// </remarks>
internal static class SimdDispatch
{
    private static readonly AsyncLocal<SimdWidth?> Forced = new();

    /// <summary>The widest width this CPU accelerates.</summary>
    public static SimdWidth Hardware { get; } = DetectHardware();

    private static readonly Lazy<SimdWidth> Chosen = new(() => Cap(Parse(Environment.GetEnvironmentVariable("ATTENTION_SIMD")) ?? Hardware));

    /// <summary>The width chosen at start-up: <see cref="Hardware"/>, capped by <c>ATTENTION_SIMD</c>.</summary>
    /// <exception cref="InvalidOperationException"><c>ATTENTION_SIMD</c> holds a value other than scalar, 128, 256 or 512.</exception>
    public static SimdWidth Default => Chosen.Value;

    /// <summary>The width kernels use now, in this async flow.</summary>
    public static SimdWidth Current => Forced.Value ?? Default;

    /// <summary>Every width this CPU can run, narrowest first (always includes <see cref="SimdWidth.Scalar"/>).</summary>
    public static IReadOnlyList<SimdWidth> Available { get; } =
        [.. new[] { SimdWidth.Scalar, SimdWidth.Vector128, SimdWidth.Vector256, SimdWidth.Vector512 }.Where(w => w <= Hardware)];

    /// <summary>Runs kernels in this async flow at <paramref name="width"/> until the returned scope is disposed.</summary>
    public static IDisposable Force(SimdWidth width)
    {
        var previous = Forced.Value;
        Forced.Value = Cap(width);
        return new Scope(previous);
    }

    private static SimdWidth Cap(SimdWidth width) => width <= Hardware ? width : Hardware;

    private static SimdWidth DetectHardware() =>
        Vector512.IsHardwareAccelerated ? SimdWidth.Vector512
        : Vector256.IsHardwareAccelerated ? SimdWidth.Vector256
        : Vector128.IsHardwareAccelerated ? SimdWidth.Vector128
        : SimdWidth.Scalar;

    /// <summary>The width <c>ATTENTION_SIMD</c> asks for; null when it is not set (or empty).</summary>
    internal static SimdWidth? Parse(string? value) =>
        value?.Trim().ToUpperInvariant() switch
        {
            null or "" => null,
            "SCALAR" or "0" => SimdWidth.Scalar,
            "128" => SimdWidth.Vector128,
            "256" => SimdWidth.Vector256,
            "512" => SimdWidth.Vector512,
            _ => throw new InvalidOperationException(
                $"ATTENTION_SIMD is '{value}', which is not a vector width: use scalar, 128, 256 or 512 (or leave it unset for the widest the CPU has)."),
        };

    private sealed class Scope(SimdWidth? previous) : IDisposable
    {
        public void Dispose() => Forced.Value = previous;
    }
}
