using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using Attention.Kernels;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// C = A·B for square n × n matrices: the scalar triple loop (baseline), the first step of docs/kernels.md (one column of
/// C at a time, <c>Vector128</c>), the blocked Gemm at 128, 256 and 512 bits, and MathNet's own <c>Multiply</c>; on one
/// core and on two.
/// </summary>
/// <remarks>2·n³ floating-point operations per call; GFLOP/s = 2·n³ / mean time.</remarks>
[MemoryDiagnoser]
[Config(typeof(OneAndTwoCoresConfig))]
public class MatrixMultiplyBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private Matrix<float> _ma = null!;
    private Matrix<float> _mb = null!;
    private Matrix<float> _mc = null!;

    /// <summary>67 is not a multiple of any vector width or tile; 512 is the target size.</summary>
    [Params(67, 512)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        _ma = Matrix<float>.Build.Dense(N, N, (_, _) => (float)random.NextDouble());
        _mb = Matrix<float>.Build.Dense(N, N, (_, _) => (float)random.NextDouble());
        _mc = Matrix<float>.Build.Dense(N, N);
        _a = _ma.ToColumnMajorArray();
        _b = _mb.ToColumnMajorArray();
        _c = new float[N * N];
    }

    [Benchmark(Baseline = true)]
    public void ScalarReference() => MatrixMultiplyReference.Multiply(_a, _b, _c, N, N, N);

    /// <summary>docs/kernels.md, step 1: C[:, j] = Σ_p B[p, j]·A[:, p], the inner loop down contiguous columns of A and C.</summary>
    [Benchmark]
    public void ColumnKernel128()
    {
        for (var j = 0; j < N; j++)
        {
            var column = _c.AsSpan(j * N, N);
            column.Clear();
            for (var p = 0; p < N; p++)
            {
                MultiplyAdd(_b[p + j * N], _a.AsSpan(p * N, N), column);
            }
        }
    }

    /// <summary>y += α·x, four floats at a time, the ragged tail one by one.</summary>
    private static void MultiplyAdd(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        ref var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        var a = Vector128.Create(alpha);
        nuint n = (nuint)y.Length, i = 0;
        for (; i + (nuint)Vector128<float>.Count <= n; i += (nuint)Vector128<float>.Count)
        {
            Vector128.FusedMultiplyAdd(a, Vector128.LoadUnsafe(ref xs, i), Vector128.LoadUnsafe(ref ys, i)).StoreUnsafe(ref ys, i);
        }
        for (; i < n; i++)
        {
            Unsafe.Add(ref ys, i) += alpha * Unsafe.Add(ref xs, i);
        }
    }

    [Benchmark]
    public void Gemm128() => Gemm.Multiply(_a, 1, N, _b, 1, N, _c, N, N, N, SimdWidth.Vector128);

    [Benchmark]
    public void Gemm256() => Gemm.Multiply(_a, 1, N, _b, 1, N, _c, N, N, N, SimdWidth.Vector256);

    [Benchmark]
    public void Gemm512() => Gemm.Multiply(_a, 1, N, _b, 1, N, _c, N, N, N, SimdWidth.Vector512);

    [Benchmark]
    public void MathNetMultiply() => _ma.Multiply(_mb, _mc);
}
