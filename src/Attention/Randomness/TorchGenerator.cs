// PyTorch's CPU generator (ATen's mt19937 + its float32 distributions), reproduced bit for bit.
// The algorithm is described in docs/torch-rng.md; this is the "avx2" variant, which
// uses only float32 arithmetic and fused multiply-adds, so it gives the same bits on every OS.
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Randomness;

/// <summary>
/// A random generator that reproduces PyTorch 1.13's CPU generator bit for bit:
/// <c>new TorchGenerator(123)</c> then <see cref="Rand(int, int)"/> gives the floats of
/// <c>torch.manual_seed(123); torch.rand(rows, cols)</c>.
/// </summary>
/// <remarks>
/// <para>The core is the Mersenne Twister MT19937, seeded like <c>torch.manual_seed</c>. On top of it:</para>
/// <list type="bullet">
/// <item><c>torch.rand</c> (float32): u = (next &amp; 0xFFFFFF) · 2⁻²⁴, one 32-bit draw per element, row-major.</item>
/// <item><c>uniform_(a, b)</c>: fma(u, b − a, a) in float32 (used by <c>nn.Linear</c>'s initialisation).</item>
/// <item><c>normal_</c>: for 16 or more values, Box-Muller in blocks of 16 with float32 Cephes log/sin/cos;
/// for fewer, a double-precision Box-Muller that caches its second value until the next seed.</item>
/// </list>
/// <para>Matches PyTorch run with <c>ATEN_CPU_CAPABILITY=avx2</c> (the default on most x86-64 PCs). Under
/// the "default" capability PyTorch uses glibc's logf/sinf/cosf instead, and about a third of normal samples
/// then differ in the last bits (at most about 2e-6).</para>
/// <para>Safe to share between threads: every public method draws under a lock, so concurrent callers never corrupt the
/// state, but which caller gets which numbers then depends on timing. For repeatable runs on several threads give each
/// thread (or each sentence) its own generator, seeded apart.</para>
/// </remarks>
public sealed class TorchGenerator
{
    private const int StateSize = 624;
    private const int ShiftSize = 397;
    private const int BatchedNormalMinimum = 16;

    private readonly uint[] _state = new uint[StateSize];
    private int _next;
    private double? _cachedNormal;

    /// <summary>Creates a generator seeded as <c>torch.manual_seed(seed)</c>.</summary>
    /// <param name="seed">The seed; only its low 32 bits matter, as in PyTorch's CPU generator.</param>
    public TorchGenerator(long seed) => ManualSeed(seed);

    private readonly object _gate = new();

    /// <summary>The seed last given to the constructor or <see cref="ManualSeed"/>.</summary>
    public long Seed { get; private set; }

    /// <summary>Re-seeds the generator, exactly as <c>torch.manual_seed(seed)</c>; also clears the cached normal sample.</summary>
    /// <param name="seed">The seed; only its low 32 bits matter.</param>
    public void ManualSeed(long seed)
    {
        lock (_gate)
        {
            Seed = seed;
            Reseed(seed);
        }
    }

    private void Reseed(long seed)
    {
        _state[0] = (uint)(seed & 0xFFFF_FFFF);
        for (var j = 1; j < StateSize; j++)
        {
            var previous = _state[j - 1];
            _state[j] = unchecked(1812433253u * (previous ^ (previous >> 30)) + (uint)j);
        }
        _next = StateSize; // the first draw regenerates the whole state
        _cachedNormal = null;
    }

    /// <summary>The next 32-bit output of MT19937 (PyTorch's <c>random()</c>, identical to <c>std::mt19937</c>).</summary>
    /// <returns>A uniformly distributed 32-bit integer.</returns>
    public uint NextUInt32()
    {
        lock (_gate)
        {
            return DrawUInt32();
        }
    }

    private uint DrawUInt32()
    {
        if (_next >= StateSize)
        {
            Twist();
        }
        return Temper(_state[_next++]);
    }

    /// <summary>MT19937's tempering of one state word into an output.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static uint Temper(uint y)
    {
        y ^= y >> 11;
        y ^= (y << 7) & 0x9D2C_5680u;
        y ^= (y << 15) & 0xEFC6_0000u;
        return y ^ (y >> 18);
    }

    /// <summary>PyTorch's <c>random64()</c>: two 32-bit draws, the first in the high half.</summary>
    /// <returns>A uniformly distributed 64-bit integer.</returns>
    public ulong NextUInt64()
    {
        lock (_gate)
        {
            return DrawUInt64();
        }
    }

    private ulong DrawUInt64()
    {
        ulong high = DrawUInt32();
        ulong low = DrawUInt32();
        return (high << 32) | low;
    }

    /// <summary>One float32 uniform on [0, 1), as one element of <c>torch.rand</c>: the low 24 bits of one draw, times 2⁻²⁴.</summary>
    /// <returns>A value in [0, 1) with 24 random bits.</returns>
    public float NextFloat()
    {
        lock (_gate)
        {
            return DrawFloat();
        }
    }

    private float DrawFloat() => (DrawUInt32() & 0xFF_FFFF) * (1.0f / (1 << 24));

    /// <summary>One float64 uniform on [0, 1), as <c>torch.rand(dtype=torch.float64)</c>: 53 bits of <see cref="NextUInt64"/>, times 2⁻⁵³.</summary>
    /// <returns>A value in [0, 1) with 53 random bits.</returns>
    public double NextDouble()
    {
        lock (_gate)
        {
            return DrawDouble();
        }
    }

    private double DrawDouble() => (DrawUInt64() & ((1UL << 53) - 1)) * (1.0 / (1UL << 53));

    /// <summary>Fills <paramref name="destination"/> as <c>torch.rand(n)</c> does.</summary>
    /// <param name="destination">The n values to write, in PyTorch's (row-major) element order.</param>
    public void Rand(Span<float> destination)
    {
        lock (_gate)
        {
            DrawFloats(destination);
        }
    }

    private void DrawFloats(Span<float> destination)
    {
        // DrawFloat for each element, reading the state directly so long draws (dropout masks) run at the speed of the
        // twister rather than of a call per number; the same numbers in the same order.
        var state = _state.AsSpan();
        var i = 0;
        while (i < destination.Length)
        {
            if (_next >= StateSize)
            {
                Twist();
            }
            var count = Math.Min(StateSize - _next, destination.Length - i);
            foreach (var word in state.Slice(_next, count))
            {
                destination[i++] = (Temper(word) & 0xFF_FFFF) * (1.0f / (1 << 24));   // DrawFloat, in place
            }
            _next += count;
        }
    }

    /// <summary>A new matrix filled as <c>torch.rand(rows, columns)</c>: uniform on [0, 1), drawn row by row.</summary>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="columns">Number of columns, at least 1.</param>
    /// <returns>A <c>[rows × columns]</c> matrix.</returns>
    public Matrix<float> Rand(int rows, int columns) => FillRowMajor(rows, columns, Rand);

    /// <summary>Fills <paramref name="destination"/> as <c>tensor.uniform_(from, to)</c> does for a float32 tensor.</summary>
    /// <param name="destination">The n values to write, in PyTorch's element order.</param>
    /// <param name="from">Lower bound (rounded to float32, as PyTorch does).</param>
    /// <param name="to">Upper bound (rounded to float32, as PyTorch does).</param>
    /// <remarks>Each value is fma(u, (float)to − (float)from, (float)from) with u from <see cref="NextFloat"/>.</remarks>
    public void Uniform(Span<float> destination, double from, double to)
    {
        if (!(from <= to))
        {
            throw new ArgumentException($"uniform_ expects from <= to, but got from={from} and to={to}.", nameof(from));
        }
        var lower = (float)from;
        var range = (float)to - lower;
        lock (_gate)
        {
            for (var i = 0; i < destination.Length; i++)
            {
                destination[i] = MathF.FusedMultiplyAdd(DrawFloat(), range, lower);
            }
        }
    }

    /// <summary>Fills <paramref name="destination"/> as <c>tensor.normal_(mean, std)</c> does for a contiguous float32 tensor.</summary>
    /// <param name="destination">The n values to write, in PyTorch's element order.</param>
    /// <param name="mean">Mean of the distribution.</param>
    /// <param name="std">Standard deviation, not negative.</param>
    /// <remarks>
    /// With n ≥ 16 this is PyTorch's batched float32 Box-Muller (blocks of 16, a fresh 16-value window for a ragged
    /// tail); with n &lt; 16 each value comes from the cached double-precision Box-Muller, as <c>torch.randn(5)</c>.
    /// </remarks>
    public void Normal(Span<float> destination, double mean = 0.0, double std = 1.0)
    {
        if (!(std >= 0.0))
        {
            throw new ArgumentOutOfRangeException(nameof(std), std, "normal_ expects std >= 0.");
        }
        lock (_gate)
        {
            if (destination.Length >= BatchedNormalMinimum)
            {
                NormalBatched(destination, (float)mean, (float)std);
            }
            else
            {
                for (var i = 0; i < destination.Length; i++)
                {
                    destination[i] = (float)Math.FusedMultiplyAdd(NextCachedStandardNormal(), std, mean);
                }
            }
        }
    }

    /// <summary>A new matrix filled as <c>torch.randn(rows, columns)</c>: standard normal values, row by row.</summary>
    /// <param name="rows">Number of rows, at least 1.</param>
    /// <param name="columns">Number of columns, at least 1.</param>
    /// <returns>A <c>[rows × columns]</c> matrix.</returns>
    public Matrix<float> Randn(int rows, int columns) => FillRowMajor(rows, columns, span => Normal(span));

    private static Matrix<float> FillRowMajor(int rows, int columns, SpanFiller fill)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(columns);
        var values = new float[Shapes.Elements(rows, columns, "The matrix", nameof(rows))];
        fill(values);
        return Matrix<float>.Build.DenseOfRowMajor(rows, columns, values);
    }

    private delegate void SpanFiller(Span<float> destination);

    private void NormalBatched(Span<float> data, float mean, float std)
    {
        DrawFloats(data);
        for (var i = 0; i + BatchedNormalMinimum <= data.Length; i += BatchedNormalMinimum)
        {
            BoxMuller16(data.Slice(i, BatchedNormalMinimum), mean, std);
        }
        if (data.Length % BatchedNormalMinimum != 0)
        {
            // PyTorch redraws the last 16 values, overwriting some already transformed ones.
            var tail = data[^BatchedNormalMinimum..];
            DrawFloats(tail);
            BoxMuller16(tail, mean, std);
        }
    }

    private static void BoxMuller16(Span<float> block, float mean, float std)
    {
        for (var j = 0; j < 8; j++)
        {
            var u1 = 1.0f - block[j];
            var u2 = block[j + 8];
            var radius = MathF.Sqrt(-2.0f * CephesFloat.Log(u1));
            var theta = 6.2831855f * u2;
            var (sin, cos) = CephesFloat.SinCos(theta);
            block[j] = MathF.FusedMultiplyAdd(radius * cos, std, mean);
            block[j + 8] = MathF.FusedMultiplyAdd(radius * sin, std, mean);
        }
    }

    private double NextCachedStandardNormal()
    {
        if (_cachedNormal is { } cached)
        {
            _cachedNormal = null;
            return cached;
        }
        var u1 = DrawDouble(); // gives the angle
        var u2 = DrawDouble(); // gives the radius
        var radius = Math.Sqrt(-2.0 * Math.Log(1.0 - u2));
        var theta = 2.0 * Math.PI * u1;
        _cachedNormal = radius * Math.Sin(theta);
        return radius * Math.Cos(theta);
    }

    private void Twist()
    {
        const uint upperMask = 0x8000_0000u;
        const uint lowerMask = 0x7FFF_FFFFu;
        var state = _state.AsSpan();
        for (var i = 0; i < StateSize; i++)
        {
            var next = i + 1 == StateSize ? 0 : i + 1;                                   // (i + 1) mod 624
            var far = i + ShiftSize < StateSize ? i + ShiftSize : i + ShiftSize - StateSize; // (i + 397) mod 624
            var y = (state[i] & upperMask) | (state[next] & lowerMask);
            state[i] = state[far] ^ (y >> 1) ^ (0x9908_B0DFu & unchecked(0u - (y & 1u))); // the matrix A, without a branch: xor when y is odd
        }
        _next = 0;
    }
}
