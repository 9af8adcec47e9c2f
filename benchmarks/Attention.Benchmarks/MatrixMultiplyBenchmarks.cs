using Attention.Kernels;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>C = A·B for square n × n matrices: the scalar reference (baseline), our SIMD kernel, and MathNet's Multiply.</summary>
/// <remarks>2·n³ floating-point operations per call; divide by the mean time for GFLOP/s.</remarks>
[MemoryDiagnoser]
public class MatrixMultiplyBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private Matrix<float> _ma = null!;
    private Matrix<float> _mb = null!;
    private Matrix<float> _mc = null!;

    /// <summary>67 is not a multiple of any vector width; 256 is.</summary>
    [Params(67, 256)]
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
    public void Simd() => MatrixMultiply.Multiply(_a, _b, _c, N, N, N);

    [Benchmark]
    public void MathNetMultiply() => _ma.Multiply(_mb, _mc);
}
