// The corpus of samples/Translate/data (made by tools/corpus/make_corpus.py), read from the sample's output folder.
namespace Attention.Samples;

/// <summary>One Korean–English pair of the corpus and, for the test split, which part it belongs to.</summary>
internal sealed record CorpusPair(string Korean, string English, string Origin, string Part);

internal static class Corpus
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "data");

    public static IReadOnlyList<CorpusPair> Read(string file) =>
    [
        .. File.ReadAllLines(Path.Combine(Folder, file)).Skip(1).Select(line => line.Split('\t'))
            .Select(f => new CorpusPair(f[0], f[1], f[4], f.Length > 5 ? f[5] : "")),
    ];
}
