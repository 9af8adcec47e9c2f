// The tokenizer of Raschka's self-attention article:
//   dc = {s: i for i, s in enumerate(sorted(sentence.replace(',', '').split()))}
// Punctuation is dropped, the text is split on white space, and the vocabulary is the sorted distinct words.
using System.Text;

namespace Attention.Tokenization;

/// <summary>
/// Splits text into words (punctuation removed, white space as separator) and numbers them with a
/// vocabulary of sorted distinct words, as in the article: "Life is short, eat dessert first" gives
/// ids <c>[0, 4, 5, 2, 1, 3]</c>.
/// </summary>
/// <remarks>
/// Words sort by Unicode code point, as Python's <c>sorted</c> does (so "Life" comes before "dessert").
/// Any script works; "안녕하세요, 만나서 반가워요" splits into three words. Apostrophes are punctuation too,
/// so "don't" becomes "dont". Words are case-sensitive.
/// </remarks>
public sealed class WordTokenizer : ITokenizer
{
    /// <summary>Creates a tokenizer over an existing vocabulary.</summary>
    /// <param name="vocabulary">The words and their ids.</param>
    public WordTokenizer(Vocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        Vocabulary = vocabulary;
    }

    /// <inheritdoc />
    public Vocabulary Vocabulary { get; }

    /// <summary>The article's tokenizer: the vocabulary is the sorted distinct words of <paramref name="text"/>, and nothing else.</summary>
    /// <param name="text">The text whose words make up the vocabulary.</param>
    /// <returns>A tokenizer with no special tokens; encoding a word outside <paramref name="text"/> throws.</returns>
    public static WordTokenizer FromText(string text) => FromCorpus([text], withSpecialTokens: false);

    /// <summary>A tokenizer whose vocabulary is the sorted distinct words of all <paramref name="texts"/>.</summary>
    /// <param name="texts">The corpus.</param>
    /// <param name="withSpecialTokens">When true, <c>&lt;pad&gt; &lt;unk&gt; &lt;sos&gt; &lt;eos&gt;</c> take ids 0–3 and the words follow;
    /// unknown words then encode as <c>&lt;unk&gt;</c>.</param>
    /// <returns>The tokenizer.</returns>
    public static WordTokenizer FromCorpus(IEnumerable<string> texts, bool withSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var words = new SortedSet<string>(CodePointComparer.Instance);
        foreach (var text in texts)
        {
            words.UnionWith(Split(text));
        }
        if (withSpecialTokens)
        {
            words.ExceptWith(SpecialTokens.All);
        }
        var tokens = withSpecialTokens ? SpecialTokens.All.Concat(words) : words;
        return new WordTokenizer(new Vocabulary(tokens));
    }

    /// <summary>The words of <paramref name="text"/>: punctuation removed, then split on white space.</summary>
    /// <param name="text">Any Unicode text.</param>
    /// <returns>The words in order; empty for empty or blank text.</returns>
    public static IReadOnlyList<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var kept = new StringBuilder(text.Length);
        foreach (var rune in text.EnumerateRunes())
        {
            if (!Rune.IsPunctuation(rune))
            {
                kept.Append(rune.ToString());
            }
        }
        return kept.ToString().Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    /// <inheritdoc />
    /// <exception cref="KeyNotFoundException">A word is unknown and the vocabulary has no <c>&lt;unk&gt;</c>; the message names the word.</exception>
    public int[] Encode(string text) => [.. Split(text).Select(Vocabulary.IdOf)];

    /// <inheritdoc />
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary; the message gives the id and the size.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return string.Join(' ', ids.Select(id => Vocabulary[id]));
    }

    /// <summary>Orders strings by Unicode code point, as Python compares str (ordinal UTF-16 order differs above U+FFFF).</summary>
    private sealed class CodePointComparer : IComparer<string>
    {
        public static readonly CodePointComparer Instance = new();

        public int Compare(string? x, string? y)
        {
            if (ReferenceEquals(x, y))
            {
                return 0;
            }
            if (x is null || y is null)
            {
                return x is null ? -1 : 1;
            }
            var left = x.EnumerateRunes();
            var right = y.EnumerateRunes();
            while (true)
            {
                var hasLeft = left.MoveNext();
                var hasRight = right.MoveNext();
                if (!hasLeft || !hasRight)
                {
                    return hasLeft.CompareTo(hasRight);
                }
                var order = left.Current.Value.CompareTo(right.Current.Value);
                if (order != 0)
                {
                    return order;
                }
            }
        }
    }
}
