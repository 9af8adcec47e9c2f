using Attention.Kernels;

namespace Attention.Samples;

/// <summary>The command line every sample takes: <c>--out &lt;folder&gt;</c> for its SVG files and <c>--threads &lt;n&gt;</c>
/// for the kernels' thread count (<see cref="Parallelism.ThreadCount"/>, like <c>torch.set_num_threads</c>).</summary>
internal static class SampleArguments
{
    /// <summary>Reads the arguments, applies <c>--threads</c>, and returns the output folder.</summary>
    /// <param name="args">The program's arguments.</param>
    /// <param name="sample">The sample's name, for the default folder <c>artifacts/&lt;sample&gt;</c>.</param>
    /// <returns>The folder for the SVG files.</returns>
    public static string Apply(string[] args, string sample)
    {
        var folder = Path.Combine("artifacts", sample);
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length:
                    folder = args[++i];
                    break;
                case "--threads" when i + 1 < args.Length && int.TryParse(args[i + 1], out var threads) && threads > 0:
                    Parallelism.ThreadCount = threads;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"Unknown argument '{args[i]}'. Usage: dotnet run --project samples/{sample} [-- --out <folder>] [--threads <n ≥ 1>]");
                    Environment.Exit(2);
                    break;
            }
        }
        return folder;
    }
}
