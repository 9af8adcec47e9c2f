// "Attention Is All You Need", §3.5:
//   PE(pos, 2i)   = sin(pos / 10000^(2i / d_model))
//   PE(pos, 2i+1) = cos(pos / 10000^(2i / d_model))
// Each pair of columns is a sine and cosine of one frequency, from 1 down to 1/10000 radians per position.
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>The paper's fixed sinusoidal positional encoding: interleaved sin (even columns) and cos (odd columns).</summary>
/// <remarks>
/// Angles are computed in double and rounded to float32 once, so position 4999 is as exact as position 1 (the
/// Annotated Transformer's float32 version drifts by about 1e-4 there). With an odd d_model the last column is a sine.
/// Each instance owns its table (max length × d_model floats; 78 MB for 4096 × 5000) and it goes with the instance;
/// it has no parameters to train.
/// </remarks>
public sealed class SinusoidalPositionalEncoding : IPositionalEncoding
{
    private readonly Matrix<float> _table;

    /// <summary>Creates the table for <paramref name="modelDim"/> columns and <paramref name="maxPositions"/> positions.</summary>
    /// <param name="modelDim">d_model, at least 1.</param>
    /// <param name="maxPositions">Number of positions, at least 1 (PyTorch tutorials use 5000).</param>
    public SinusoidalPositionalEncoding(int modelDim, int maxPositions = 5000)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPositions);
        _table = Build(modelDim, maxPositions);
    }

    /// <inheritdoc />
    public int ModelDim => _table.ColumnCount;

    /// <inheritdoc />
    public int MaxPositions => _table.RowCount;

    /// <summary>PE(pos, column) for one entry, computed in double as the table is.</summary>
    /// <param name="position">pos ≥ 0.</param>
    /// <param name="column">Column 2i or 2i+1, in [0, d_model).</param>
    /// <param name="modelDim">d_model.</param>
    /// <returns>sin(pos / 10000^(2i/d_model)) for even columns, cos of the same angle for odd ones.</returns>
    public static double Value(int position, int column, int modelDim)
    {
        var twoI = column - column % 2;
        var angle = position / Math.Pow(10000.0, (double)twoI / modelDim);
        return column % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle);
    }

    /// <inheritdoc />
    public Matrix<float> Encode(int length)
    {
        CheckLength(length, MaxPositions);
        return _table.SubMatrix(0, length, 0, ModelDim);
    }

    /// <inheritdoc />
    public Matrix<float> Forward(Matrix<float> x) => Forward(x, 0);

    /// <inheritdoc />
    public Matrix<float> Forward(Matrix<float> x, int startPosition)
    {
        Shapes.RequireColumns(x, nameof(x), ModelDim, $"d_model of the positional table {Shapes.Of(MaxPositions, ModelDim)}");
        ArgumentOutOfRangeException.ThrowIfNegative(startPosition);
        CheckPositions(startPosition, x.RowCount, MaxPositions);
        return x + _table.SubMatrix(startPosition, x.RowCount, 0, ModelDim);
    }

    /// <summary>Throws unless positions <paramref name="startPosition"/> … + <paramref name="count"/> − 1 are in the table
    /// (the end is computed in 64 bits, so a start near int.MaxValue cannot wrap around).</summary>
    internal static void CheckPositions(int startPosition, int count, int maxPositions)
    {
        if ((long)startPosition + count > maxPositions)
        {
            throw new ArgumentOutOfRangeException(nameof(startPosition), startPosition,
                $"Asked for {count} positions starting at {startPosition} (up to {(long)startPosition + count - 1}), but the positional table holds positions 0 to {maxPositions - 1} ({maxPositions} in all). Build it with a larger max length.");
        }
    }

    internal static void CheckLength(int length, int maxPositions)
    {
        if (length < 1 || length > maxPositions)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length,
                $"Asked for {length} positions, but the positional table holds positions 0 to {maxPositions - 1} ({maxPositions} in all). Build it with a larger max length.");
        }
    }

    private static Matrix<float> Build(int modelDim, int maxPositions)
    {
        Shapes.Elements(maxPositions, modelDim, "The positional table", nameof(maxPositions));
        return Matrix<float>.Build.Dense(maxPositions, modelDim, (pos, column) => (float)Value(pos, column, modelDim));
    }
}
