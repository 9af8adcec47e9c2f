using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Support;

public static class RandomMatrices
{
    /// <summary>[rows × columns] with entries uniform on [−1, 1), reproducible from the seed.</summary>
    public static Matrix<float> Uniform(int rows, int columns, int seed)
    {
        var random = new Random(seed);
        return Matrix<float>.Build.Dense(rows, columns, (_, _) => (float)(random.NextDouble() * 2.0 - 1.0));
    }
}
