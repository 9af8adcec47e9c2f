using Attention.Kernels;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Benchmarks;

/// <summary>
/// The products attention actually makes, at sequence length n and head width 64 (n = 509 is not a multiple of anything):
/// Q·Kᵀ ([n × 64]·[64 × n], A·Bᵀ), weights·V ([n × n]·[n × 64], through Aᵀ·B as attention stores the weights transposed),
/// and one head's projection x·W_Qᵀ ([n × 512]·[512 × 64], A·Bᵀ). Ours against MathNet's equivalents, on both cores.
/// </summary>
[MemoryDiagnoser]
public class AttentionShapeBenchmarks
{
    private Matrix<float> _q = null!;
    private Matrix<float> _k = null!;
    private Matrix<float> _v = null!;
    private Matrix<float> _weightsT = null!;
    private Matrix<float> _x = null!;
    private Matrix<float> _w = null!;
    private float[] _scores = null!;

    [Params(509, 512)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        Matrix<float> Random(int rows, int columns) => Matrix<float>.Build.Dense(rows, columns, (_, _) => (float)random.NextDouble());
        (_q, _k, _v, _weightsT, _x, _w) = (Random(N, 64), Random(N, 64), Random(N, 64), Random(N, N), Random(N, 512), Random(64, 512));
        _scores = new float[N * N];
    }

    [Benchmark]
    public Matrix<float> QKt_Ours() => MatrixMultiply.MultiplyTransposed(_q, _k);

    /// <summary>The same product written into an array kept across calls (the span overload): the kernel without the
    /// 1 MB result's allocation, whose collections and fresh pages can cost more than the arithmetic.</summary>
    [Benchmark]
    public float[] QKt_Ours_IntoKeptArray()
    {
        MatrixMultiply.MultiplyTransposed(_q.AsColumnMajorArray(), _k.AsColumnMajorArray(), _scores, N, 64, N);
        return _scores;
    }

    [Benchmark]
    public Matrix<float> QKt_MathNet() => _q.TransposeAndMultiply(_k);

    [Benchmark]
    public Matrix<float> WeightsV_Ours() => MatrixMultiply.TransposeMultiply(_weightsT, _v);

    [Benchmark]
    public Matrix<float> WeightsV_MathNet() => _weightsT.TransposeThisAndMultiply(_v);

    [Benchmark]
    public Matrix<float> Projection_Ours() => MatrixMultiply.MultiplyTransposed(_x, _w);

    [Benchmark]
    public Matrix<float> Projection_MathNet() => _x.TransposeAndMultiply(_w);
}
