using Attention.Visualization;
using MathNet.Numerics.LinearAlgebra;
using Spectre.Console;

namespace Attention.Samples;

/// <summary>What the samples print: step titles, values in PyTorch's format with their shapes, and heatmaps (linked into every sample).</summary>
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

    /// <summary>
    /// A compact table of colored cells (white for 0, dark blue for 1) holding the weight in hundredths, queries as rows
    /// and keys as numbered columns, with a line naming the columns: narrow enough for an 80-column terminal.
    /// </summary>
    public static void Heatmap(string title, Matrix<float> weights, IReadOnlyList<string> rowTokens, IReadOnlyList<string> columnTokens)
    {
        var table = new Table().Title(Markup.Escape(title)).Border(TableBorder.Simple).AddColumn(string.Empty);
        for (var j = 0; j < columnTokens.Count; j++)
        {
            table.AddColumn(new TableColumn(j.ToString(System.Globalization.CultureInfo.InvariantCulture)).Centered().PadLeft(0).PadRight(0));
        }
        for (var i = 0; i < weights.RowCount; i++)
        {
            var cells = new List<Markup> { new($"[bold]{Markup.Escape(rowTokens[i])}[/]") };
            for (var j = 0; j < weights.ColumnCount; j++)
            {
                var w = Math.Clamp(weights[i, j], 0.0f, 1.0f);
                var background = new Color(Blend(255, 8, w), Blend(255, 48, w), Blend(255, 107, w));
                var ink = w > 0.5f ? "white" : "black";
                cells.Add(new Markup($"[{ink} on {background.ToMarkup()}]{MathF.Round(weights[i, j] * 100),3:0} [/]"));
            }
            table.AddRow(cells);
        }
        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("[grey]" + Markup.Escape("weights in hundredths; columns: " + string.Join(" ", columnTokens.Select((t, j) => $"{j}={t}"))) + "[/]");
    }

    private static byte Blend(int from, int to, float t) => (byte)MathF.Round(from + (to - from) * t);
}
