// softmax(x)_i = exp(x_i − max x) / Σ_j exp(x_j − max x), the public entry points. Subtracting the maximum changes
// nothing mathematically and keeps exp finite: logits of 1e4 stay exact where TensorPrimitives.SoftMax overflows.
// The work happens in ColumnSoftmax (one contiguous vector at a time, at the widest vector width), which attention
// calls directly on its transposed scores.
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>The numerically stable softmax: of one vector, of each row of a matrix, or of each column of column-major storage.</summary>
/// <remarks>Policy: a vector whose entries are all −∞ (every key masked) becomes all zeros; a vector holding NaN or +∞
/// becomes all NaN. The vector exp is within one ulp of the exact value and flushes results below 2⁻¹²⁶ to zero.</remarks>
public static class Softmax
{
    /// <summary>destination = softmax(x), as <c>torch.softmax(x, dim=0)</c> on a vector.</summary>
    /// <param name="x">The logits [n]; not modified (unless it is <paramref name="destination"/> itself).</param>
    /// <param name="destination">[n], at least as long as <paramref name="x"/>: the probabilities. May be <paramref name="x"/> itself.</param>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is shorter than <paramref name="x"/>, or overlaps it only in part.</exception>
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        if (destination.Length < x.Length)
        {
            throw new ArgumentException($"destination must hold the {x.Length} probabilities of x, but it has {destination.Length}.", nameof(destination));
        }
        if (x.Overlaps(destination, out var offset) && offset != 0)
        {
            throw new ArgumentException("destination overlaps x at a different offset; pass the same span to work in place.", nameof(destination));
        }
        var target = destination[..x.Length];
        x.CopyTo(target);
        ColumnSoftmax.Apply(target, target.Length, 1);
    }

    /// <summary>softmax of each row, as <c>torch.softmax(logits, dim=-1)</c>: a new matrix whose rows sum to 1.</summary>
    /// <param name="logits">[n × m]; not modified.</param>
    /// <returns>[n × m].</returns>
    /// <remarks>MathNet stores matrices column-major, so a row is strided: this copies each row into a contiguous column
    /// and back. Attention avoids both copies by computing its scores transposed (see <see cref="Columns"/>).</remarks>
    public static Matrix<float> Rows(Matrix<float> logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        var (n, m) = (logits.RowCount, logits.ColumnCount);
        var values = new float[Shapes.Elements(m, n, "The softmax", nameof(logits))];
        Storage.Transpose(Storage.ColumnMajor(logits), n, m, values);   // [m × n]: row i of the logits is column i here
        ColumnSoftmax.Apply(values, m, n);
        var result = Storage.NewMatrix(n, m);
        Storage.Transpose(values, m, n, Storage.ColumnMajor(result));
        return result;
    }

    /// <summary>In place, softmax down each column of the column-major [rows × columns] matrix in <paramref name="values"/>.</summary>
    /// <param name="values">At least rows·columns floats; column j is values[j·rows .. (j+1)·rows − 1]. Overwritten.</param>
    /// <param name="rows">Entries per column (keys, in attention's transposed scores).</param>
    /// <param name="columns">Columns (queries).</param>
    /// <exception cref="ArgumentException"><paramref name="values"/> holds fewer than rows·columns floats.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A size is negative.</exception>
    public static void Columns(Span<float> values, int rows, int columns)
    {
        Shapes.RequireSpan(values.Length, nameof(values), rows, columns, "the matrix");
        ColumnSoftmax.Apply(values, rows, columns);
    }

    /// <summary>The backward pass of <see cref="Rows"/>: ∂L/∂scores from the weights w = softmax(scores) and ∂L/∂w.</summary>
    /// <param name="weights">w, [n × m], as <see cref="Rows"/> returned them.</param>
    /// <param name="weightsGradient">∂L/∂w, [n × m].</param>
    /// <returns>∂L/∂scores, [n × m]: w_ij·(∂L/∂w_ij − Σ_k ∂L/∂w_ik·w_ik), the softmax's Jacobian applied row by row. A
    /// hidden key (w = 0) gets 0, and a fully masked row (all w = 0) gets a zero row.</returns>
    /// <exception cref="ArgumentException">The shapes differ; the message names both.</exception>
    /// <remarks>The Jacobian of one row is ∂w_j/∂s_k = w_j·([j = k] − w_k); multiplied by the upstream gradient it needs
    /// only the dot product of the row with its gradient, never the m × m matrix.</remarks>
    public static Matrix<float> RowsBackward(Matrix<float> weights, Matrix<float> weightsGradient)
    {
        ArgumentNullException.ThrowIfNull(weights);
        Shapes.RequireShape(weightsGradient, nameof(weightsGradient), weights.RowCount, weights.ColumnCount, $"the shape of the weights {Shapes.Of(weights)}");
        var (n, m) = (weights.RowCount, weights.ColumnCount);
        var (w, g) = (Storage.ColumnMajor(weights), Storage.ColumnMajor(weightsGradient));
        var dot = new double[n];
        for (var j = 0; j < m; j++)
        {
            for (var i = 0; i < n; i++)
            {
                dot[i] += (double)w[i + j * n] * g[i + j * n];                  // Σ_k ∂L/∂w_ik·w_ik, per row
            }
        }
        var result = Storage.NewMatrix(n, m, "The score gradient", nameof(weights));
        var r = Storage.ColumnMajor(result);
        for (var j = 0; j < m; j++)
        {
            for (var i = 0; i < n; i++)
            {
                r[i + j * n] = (float)(w[i + j * n] * (g[i + j * n] - dot[i]));
            }
        }
        return result;
    }
}
