using Attention.Visualization;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Visualization;

public class AttentionHeatmapTests
{
    private static readonly Matrix<float> Weights = Matrix<float>.Build.DenseOfArray(new float[,] { { 1.0f, 0.0f }, { 0.25f, 0.75f } });

    [Fact]
    public void The_text_heatmap_shades_each_weight_and_prints_it()
    {
        var lines = AttentionHeatmap.ToText(Weights, ["a", "bb"], ["a", "bb"]).Split('\n');
        // weight 1 → █, 0 → blank, 0.25 → ░, 0.75 → ▓ (five shades for 0, ¼, ½, ¾, 1)
        lines[0].Should().Be("   0 1   keys: 0=a 1=bb");
        lines[1].Should().Be(" a ██    1.00 0.00");
        lines[2].Should().Be("bb ░░▓▓  0.25 0.75");
    }

    [Fact]
    public void The_svg_has_one_cell_per_weight_and_escapes_labels()
    {
        var svg = AttentionHeatmap.ToSvg(Weights, ["<sos>", "안녕"], ["x&y", "z"], "Weights");
        svg.Should().StartWith("<svg").And.Contain("&lt;sos&gt;").And.Contain("안녕").And.Contain("x&amp;y").And.Contain("0.75");
        System.Text.RegularExpressions.Regex.Count(svg, "<rect x=").Should().Be(4);
        System.Xml.Linq.XDocument.Parse(svg).Root!.Name.LocalName.Should().Be("svg");
    }

    [Fact]
    public void Labels_must_match_the_shape()
    {
        var draw = () => AttentionHeatmap.ToSvg(Weights, ["a"], ["a", "b"], "t");
        draw.Should().Throw<ArgumentException>().WithParameterName("rowLabels").WithMessage("*[2 × 2]*has 1*");
    }
}
