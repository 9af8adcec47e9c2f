using Attention.Visualization;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace LifeIsShort;

/// <summary>The sample's output: step titles, values in PyTorch's format with their shapes, and heatmaps.</summary>
internal static class Print
{
    public static void Title(string text)
    {
        AnsiConsole.WriteLine();
        AnsiConsole.MarkupLine($"[bold yellow]{Markup.Escape(text)}[/]");
    }

    public static void Line(string text) => AnsiConsole.WriteLine(text);

    public static void Note(string text) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(text)}[/]");

    public static void Value(string name, string tensorText, string shape)
    {
        AnsiConsole.MarkupLine($"[aqua]{Markup.Escape(name)}[/] [grey]{Markup.Escape(shape)}[/]");
        AnsiConsole.WriteLine(tensorText);
    }

    /// <summary>A table of colored cells (white for 0, dark blue for 1) with the tokens as labels, and the plain-text shading below it.</summary>
    public static void Heatmap(string title, Matrix<float> weights, IReadOnlyList<string> tokens)
    {
        var table = new Table().Title(title).Border(TableBorder.Rounded).AddColumn(string.Empty);
        foreach (var token in tokens)
        {
            table.AddColumn(new TableColumn(Markup.Escape(token)).Centered());
        }
        for (var i = 0; i < weights.RowCount; i++)
        {
            var cells = new List<Markup> { new($"[bold]{Markup.Escape(tokens[i])}[/]") };
            for (var j = 0; j < weights.ColumnCount; j++)
            {
                var w = Math.Clamp(weights[i, j], 0.0f, 1.0f);
                var background = new Color(Blend(255, 8, w), Blend(255, 48, w), Blend(255, 107, w));
                var ink = w > 0.5f ? "white" : "black";
                cells.Add(new Markup($"[{ink} on {background.ToMarkup()}] {weights[i, j]:0.00} [/]"));
            }
            table.AddRow(cells);
        }
        AnsiConsole.Write(table);
        AnsiConsole.WriteLine(AttentionHeatmap.ToText(weights, tokens, tokens));
    }

    private static byte Blend(int from, int to, float t) => (byte)MathF.Round(from + (to - from) * t);
}
