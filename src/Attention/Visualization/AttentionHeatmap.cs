// Attention weights as a picture: one cell per (query, key) pair, darker for a larger weight.
// Row i is the query token, column j the key token, as in the paper's attention visualizations.
using System.Globalization;
using System.Security;
using System.Text;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Visualization;

/// <summary>Draws an attention-weight matrix as text (for any terminal) or as an SVG image.</summary>
public static class AttentionHeatmap
{
    private const string Shades = " ░▒▓█";
    private const int Cell = 56;
    private const int Margin = 12;

    /// <summary>A text heatmap: two block characters per weight (<c> ░▒▓█</c> for 0, ¼, ½, ¾, 1), the row labels on the left,
    /// column indices on top with a line naming them, and each row's weights to two decimals on the right.</summary>
    /// <param name="weights">[n × m] weights in [0, 1].</param>
    /// <param name="rowLabels">n labels, one per query token.</param>
    /// <param name="columnLabels">m labels, one per key token.</param>
    /// <returns>Lines of text, one per query.</returns>
    public static string ToText(Matrix<float> weights, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels)
    {
        CheckLabels(weights, rowLabels, columnLabels);
        var labelWidth = rowLabels.Max(l => l.Length);
        var text = new StringBuilder();
        // Cells are two characters wide, too narrow for words: columns carry their index, and a key line names them.
        text.Append(' ', labelWidth + 1);
        for (var j = 0; j < columnLabels.Count; j++)
        {
            text.Append((j % 10).ToString(CultureInfo.InvariantCulture).PadRight(2));
        }
        text.Append("  keys: ").AppendLine(string.Join(" ", columnLabels.Select((l, j) => $"{j}={l}")));
        for (var i = 0; i < weights.RowCount; i++)
        {
            text.Append(rowLabels[i].PadLeft(labelWidth)).Append(' ');
            for (var j = 0; j < weights.ColumnCount; j++)
            {
                text.Append(Shade(weights[i, j]), 2);
            }
            text.Append("  ").AppendLine(string.Join(" ", weights.Row(i).Select(w => w.ToString("0.00", CultureInfo.InvariantCulture))));
        }
        return text.ToString();
    }

    /// <summary>An SVG heatmap: a grid of cells shaded from white (0) to dark blue (1), each with its weight printed, tokens as labels.</summary>
    /// <param name="weights">[n × m] weights in [0, 1].</param>
    /// <param name="rowLabels">n labels, one per query token (left).</param>
    /// <param name="columnLabels">m labels, one per key token (top).</param>
    /// <param name="title">A title above the grid.</param>
    /// <returns>A complete SVG document (UTF-8 text).</returns>
    public static string ToSvg(Matrix<float> weights, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels, string title)
    {
        CheckLabels(weights, rowLabels, columnLabels);
        ArgumentNullException.ThrowIfNull(title);
        var left = Margin + 10 * Math.Max(4, rowLabels.Max(l => l.Length));
        var top = Margin + 40 + 10 * Math.Max(4, columnLabels.Max(l => l.Length));
        var width = left + Cell * weights.ColumnCount + Margin;
        var height = top + Cell * weights.RowCount + Margin;
        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="14">""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <rect width="{width}" height="{height}" fill="white"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{Margin}" y="{Margin + 16}" font-size="16" font-weight="bold">{Escape(title)}</text>""");
        for (var j = 0; j < columnLabels.Count; j++)
        {
            var x = left + Cell * j + Cell / 2;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{x}" y="{top - 6}" transform="rotate(-45 {x} {top - 6})">{Escape(columnLabels[j])}</text>""");
        }
        for (var i = 0; i < weights.RowCount; i++)
        {
            var y = top + Cell * i;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{left - 6}" y="{y + Cell / 2 + 5}" text-anchor="end">{Escape(rowLabels[i])}</text>""");
            for (var j = 0; j < weights.ColumnCount; j++)
            {
                var w = Math.Clamp(weights[i, j], 0.0f, 1.0f);
                var (r, g, b) = (Blend(255, 8, w), Blend(255, 48, w), Blend(255, 107, w));
                var ink = w > 0.5f ? "white" : "black";
                var x = left + Cell * j;
                svg.AppendLine(CultureInfo.InvariantCulture, $"""  <rect x="{x}" y="{y}" width="{Cell}" height="{Cell}" fill="rgb({r},{g},{b})" stroke="#ccc"/>""");
                svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{x + Cell / 2}" y="{y + Cell / 2 + 5}" text-anchor="middle" font-size="12" fill="{ink}">{weights[i, j].ToString("0.00", CultureInfo.InvariantCulture)}</text>""");
            }
        }
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static char Shade(float weight)
    {
        if (float.IsNaN(weight))
        {
            return '?';
        }
        var level = (int)MathF.Round(Math.Clamp(weight, 0.0f, 1.0f) * (Shades.Length - 1));
        return Shades[level];
    }

    private static int Blend(int from, int to, float t) => (int)MathF.Round(from + (to - from) * t);

    private static string Escape(string text) => SecurityElement.Escape(text) ?? string.Empty;

    private static void CheckLabels(Matrix<float> weights, IReadOnlyList<string> rowLabels, IReadOnlyList<string> columnLabels)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(rowLabels);
        ArgumentNullException.ThrowIfNull(columnLabels);
        if (rowLabels.Count != weights.RowCount)
        {
            throw new ArgumentException($"rowLabels needs one label per query row of the weights {Shapes.Of(weights)}, but has {rowLabels.Count}.", nameof(rowLabels));
        }
        if (columnLabels.Count != weights.ColumnCount)
        {
            throw new ArgumentException($"columnLabels needs one label per key column of the weights {Shapes.Of(weights)}, but has {columnLabels.Count}.", nameof(columnLabels));
        }
    }
}
