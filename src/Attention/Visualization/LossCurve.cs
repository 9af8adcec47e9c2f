// A loss curve: the training loss of every update and the validation loss after every epoch, on one chart.
using System.Globalization;
using System.Text;
using Attention.Training;

namespace Attention.Visualization;

/// <summary>Draws losses over updates as an SVG line chart.</summary>
public static class LossCurve
{
    private const int Width = 640, Height = 360, Left = 60, Right = 20, Top = 40, Bottom = 40;

    /// <summary>An SVG chart: training loss in blue, validation loss in orange (dots joined), updates along x, loss along y
    /// from 0 to the largest loss.</summary>
    /// <param name="training">(update, loss) points; may be empty.</param>
    /// <param name="validation">(update, loss) points, or null/empty.</param>
    /// <param name="title">The title.</param>
    /// <returns>A complete SVG document.</returns>
    public static string ToSvg(IReadOnlyList<LossPoint> training, IReadOnlyList<LossPoint>? validation, string title)
    {
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(title);
        validation ??= [];
        var all = training.Concat(validation).Where(p => double.IsFinite(p.Loss)).ToList();
        var maxStep = Math.Max(1, all.Count == 0 ? 1 : all.Max(p => p.Step));
        var maxLoss = all.Count == 0 ? 1 : Math.Max(1e-9, all.Max(p => p.Loss));
        string X(int step) => (Left + (Width - Left - Right) * (double)step / maxStep).ToString("0.#", CultureInfo.InvariantCulture);
        string Y(double loss) => (Height - Bottom - (Height - Top - Bottom) * loss / maxLoss).ToString("0.#", CultureInfo.InvariantCulture);
        string Line(IEnumerable<LossPoint> points) => string.Join(" ", points.Where(p => double.IsFinite(p.Loss)).Select(p => $"{X(p.Step)},{Y(p.Loss)}"));

        var svg = new StringBuilder();
        svg.AppendLine(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{Height}" font-family="sans-serif" font-size="12">""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <rect width="{Width}" height="{Height}" fill="white"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{Left}" y="24" font-size="16" font-weight="bold">{System.Security.SecurityElement.Escape(title)}</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <line x1="{Left}" y1="{Height - Bottom}" x2="{Width - Right}" y2="{Height - Bottom}" stroke="black"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <line x1="{Left}" y1="{Top}" x2="{Left}" y2="{Height - Bottom}" stroke="black"/>""");
        for (var k = 0; k <= 4; k++)
        {
            var loss = maxLoss * k / 4;
            svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{Left - 6}" y="{Y(loss)}" text-anchor="end">{loss.ToString("0.00", CultureInfo.InvariantCulture)}</text>""");
        }
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{Width - Right}" y="{Height - 10}" text-anchor="end">update {maxStep}</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="{Line(training)}"/>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <polyline fill="none" stroke="#ff7f0e" stroke-width="2" points="{Line(validation)}"/>""");
        foreach (var p in validation.Where(p => double.IsFinite(p.Loss)))
        {
            svg.AppendLine(CultureInfo.InvariantCulture, $"""  <circle cx="{X(p.Step)}" cy="{Y(p.Loss)}" r="3" fill="#ff7f0e"/>""");
        }
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{Width - Right - 150}" y="{Top}" fill="#1f77b4">training loss</text>""");
        svg.AppendLine(CultureInfo.InvariantCulture, $"""  <text x="{Width - Right - 150}" y="{Top + 16}" fill="#ff7f0e">validation loss</text>""");
        svg.AppendLine("</svg>");
        return svg.ToString();
    }
}
