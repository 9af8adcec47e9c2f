// Prints matrices and vectors the way PyTorch 1.13 prints tensors (default print options: precision 4,
// line width 80), so a learner can put this library's output beside a Python session and compare digit by digit.
using System.Globalization;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Visualization;

/// <summary>Formats numbers exactly as PyTorch's <c>print(tensor)</c> does with its default options.</summary>
/// <remarks>
/// Every element gets the same width (the widest formatted element), right-aligned, four decimals; if every
/// finite value is a whole number they print as <c>1.</c>; if the finite magnitudes span more than 1000× (or exceed
/// 1e8) they print in scientific notation. Long rows wrap at 80 characters, as in PyTorch.
/// </remarks>
public static class TensorPrinter
{
    private const int LineWidth = 80;
    private const string Prefix = "tensor(";

    /// <summary><c>tensor(1.2903)</c>.</summary>
    /// <param name="value">A scalar (0-d tensor).</param>
    /// <returns>The PyTorch text.</returns>
    public static string Format(float value) => Prefix + new ElementFormat([value]).Format(value).TrimStart() + ")";

    /// <summary><c>tensor([-0.6004,  3.4707, …])</c>.</summary>
    /// <param name="vector">A 1-d tensor of length n ≥ 1.</param>
    /// <returns>The PyTorch text.</returns>
    public static string Format(Vector<float> vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        var values = vector.ToArray();
        return Prefix + FormatRow(values, new ElementFormat(values), Prefix.Length) + ")";
    }

    /// <summary><c>tensor([[ 0.3374, -0.1778], …])</c>, one line per row.</summary>
    /// <param name="matrix">A 2-d tensor [n × m].</param>
    /// <returns>The PyTorch text.</returns>
    public static string Format(Matrix<float> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        var format = new ElementFormat(matrix.ToColumnMajorArray());
        var indent = Prefix.Length + 1;
        var rows = Enumerable.Range(0, matrix.RowCount).Select(i => FormatRow(matrix.Row(i).ToArray(), format, indent));
        return Prefix + "[" + string.Join(",\n" + new string(' ', indent), rows) + "])";
    }

    /// <summary><c>tensor([0, 4, 5, 2, 1, 3])</c>, for token ids.</summary>
    /// <param name="ids">Integers.</param>
    /// <returns>The PyTorch text.</returns>
    public static string Format(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var texts = ids.Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        var width = texts.Length == 0 ? 0 : texts.Max(t => t.Length);
        return Prefix + "[" + string.Join(", ", texts.Select(t => t.PadLeft(width))) + "])";
    }

    /// <summary><c>torch.Size([6, 3])</c>.</summary>
    /// <param name="matrix">Any matrix.</param>
    /// <returns>The PyTorch text of its shape.</returns>
    public static string Size(Matrix<float> matrix)
    {
        ArgumentNullException.ThrowIfNull(matrix);
        return $"torch.Size([{matrix.RowCount}, {matrix.ColumnCount}])";
    }

    /// <summary><c>torch.Size([4])</c>.</summary>
    /// <param name="vector">Any vector.</param>
    /// <returns>The PyTorch text of its shape.</returns>
    public static string Size(Vector<float> vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return $"torch.Size([{vector.Count}])";
    }

    private static string FormatRow(float[] values, ElementFormat format, int indent)
    {
        var elementsPerLine = Math.Max(1, (LineWidth - indent) / (format.Width + 2));
        var lines = values.Select(format.Format).Chunk(elementsPerLine).Select(chunk => string.Join(", ", chunk));
        return "[" + string.Join(",\n" + new string(' ', indent + 1), lines) + "]";
    }

    /// <summary>PyTorch's _Formatter: one mode and one width for all elements of a tensor, decided by its nonzero finite values.</summary>
    private sealed class ElementFormat
    {
        private readonly bool _integers = true;
        private readonly bool _scientific;

        public ElementFormat(IReadOnlyCollection<float> values)
        {
            Width = 1;
            var nonZeroFinite = values.Where(v => float.IsFinite(v) && v != 0.0f).Select(v => (double)v).ToArray();
            if (nonZeroFinite.Length == 0)
            {
                return; // all zeros, infinities or NaN: whole-number mode, width 1, as PyTorch
            }
            var min = nonZeroFinite.Min(Math.Abs);
            var max = nonZeroFinite.Max(Math.Abs);
            _integers = nonZeroFinite.All(v => v == Math.Ceiling(v));
            _scientific = max / min > 1000.0 || max > 1e8 || (!_integers && min < 1e-4);
            Width = nonZeroFinite.Max(v => Raw(v).Length);
        }

        public int Width { get; }

        public string Format(float value) => Raw(value).PadLeft(Width);

        private string Raw(double v)
        {
            if (double.IsNaN(v))
            {
                return "nan";
            }
            if (double.IsInfinity(v))
            {
                return v > 0 ? "inf" : "-inf";
            }
            if (_scientific)
            {
                return v.ToString("0.0000e+00", CultureInfo.InvariantCulture);
            }
            return _integers
                ? v.ToString("F0", CultureInfo.InvariantCulture) + "."
                : v.ToString("F4", CultureInfo.InvariantCulture);
        }
    }
}
