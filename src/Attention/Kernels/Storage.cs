using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>Access to a MathNet matrix's column-major values without copying when it is dense.</summary>
internal static class Storage
{
    /// <summary>The matrix's own column-major array when it is dense (no copy), otherwise a column-major copy.</summary>
    public static float[] ColumnMajor(Matrix<float> matrix) => matrix.AsColumnMajorArray() ?? matrix.ToColumnMajorArray();
}
