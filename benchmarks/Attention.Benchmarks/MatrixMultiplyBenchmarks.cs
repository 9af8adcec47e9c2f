using Attention.Kernels;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// C = A·B for square n × n matrices: the scalar triple loop (baseline), the first SIMD kernel (one column of C at a time,
/// <c>Vector128</c>), the blocked Gemm at 256 and 512 bits, and MathNet's own <c>Multiply</c>; on one core and on two.
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
    [Params(67, 256, 512)]
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

    [Benchmark]
    public void ColumnKernel128()
    {
        using var _ = SimdDispatch.Force(SimdWidth.Vector128);
        MatrixMultiply.Multiply(_a, _b, _c, N, N, N);
    }

    [Benchmark]
    public void Gemm256() => Gemm.Multiply(_a, 1, N, _b, 1, N, _c, N, N, N, SimdWidth.Vector256);

    [Benchmark]
    public void Gemm512() => Gemm.Multiply(_a, 1, N, _b, 1, N, _c, N, N, N, SimdWidth.Vector512);

    [Benchmark]
    public void MathNetMultiply() => _ma.Multiply(_mb, _mc);
}
