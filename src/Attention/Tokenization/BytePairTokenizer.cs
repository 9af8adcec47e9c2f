// Byte-level byte-pair encoding (Sennrich et al., 2016; GPT-2's byte-level variant; Karpathy's minbpe).
//
// Text is UTF-8 bytes, so the 256 byte values are the first tokens and any text at all can be encoded: nothing is
// ever unknown. Training then learns merges from a corpus: count every pair of neighbouring tokens, merge the most
// frequent pair into a new token, and repeat until the vocabulary has the size asked for. Frequent words and word
// pieces ("반가워요", " good") become single tokens; rare ones stay a few pieces; unseen scripts and emoji fall back to
// bytes. Before counting, text is cut into chunks (GPT-2's pattern: letters with an optional leading space, digits,
// punctuation, white space) and merges never cross a chunk, so " good" and "," stay separate tokens.
//   train:  tokens = bytes;  repeat: (a, b) = most frequent neighbours;  every "a b" → new token
//   encode: bytes, then apply the learned merges in the order they were learned
//   decode: concatenate each token's bytes, then read them as UTF-8
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Attention.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer you can train: special tokens first, then the 256 bytes, then one token per learned merge.
/// <c>Decode(Encode(s)) == s</c> for every string of valid Unicode, including scripts and emoji never seen in training.
/// </summary>
/// <remarks>
/// <para>Special tokens (by default <c>&lt;pad&gt; &lt;sos&gt; &lt;eos&gt;</c>, ids 0–2) are never produced by
/// <see cref="Encode"/>: the text "&lt;eos&gt;" encodes as the bytes of those five characters, so user text cannot forge a
/// control token. Add them to the ids yourself.</para>
/// <para>A token's <see cref="Vocabulary"/> string is its text when its bytes are valid UTF-8 (" good", "반가워요"), or its
/// bytes in hexadecimal otherwise ("&lt;0xEB&gt;&lt;0xB0&gt;", a piece of a character).</para>
/// </remarks>
public sealed partial class BytePairTokenizer : ITokenizer
{
    /// <summary>The format of <see cref="ToJson"/>.</summary>
    public const int FormatVersion = 1;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private readonly byte[][] _bytes;                                  // each token's bytes (empty for special tokens)
    private readonly Dictionary<(int, int), int> _merges;             // (left, right) → the merged token (its id is its rank)

    private BytePairTokenizer(IReadOnlyList<string> specialTokens, IReadOnlyList<(int Left, int Right)> merges)
    {
        SpecialTokenCount = specialTokens.Count;
        var bytes = new List<byte[]>(specialTokens.Select(_ => Array.Empty<byte>()));
        bytes.AddRange(Enumerable.Range(0, 256).Select(b => new[] { (byte)b }));
        _merges = [];
        foreach (var (left, right) in merges)
        {
            _merges[(left, right)] = bytes.Count;
            bytes.Add([.. bytes[left], .. bytes[right]]);
        }
        _bytes = [.. bytes];
        Merges = [.. merges];
        // Two merges may spell the same bytes ("ab"+"c" and "a"+"bc"); the later one's name then carries its id.
        var names = new HashSet<string>(specialTokens, StringComparer.Ordinal);
        Vocabulary = new Vocabulary(specialTokens.Concat(_bytes.Skip(specialTokens.Count).Select((b, i) =>
        {
            var name = Display(b);
            return names.Add(name) ? name : $"{name}#{specialTokens.Count + i}";
        })));
    }

    /// <inheritdoc />
    public Vocabulary Vocabulary { get; }

    /// <summary>How many special tokens come first (ids 0 … count − 1).</summary>
    public int SpecialTokenCount { get; }

    /// <summary>The learned merges in the order they were learned: merge k made token <c>SpecialTokenCount + 256 + k</c>.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }

    /// <summary>Learns merges from a corpus until the vocabulary holds <paramref name="vocabularySize"/> tokens (or no
    /// pair of neighbouring tokens is left to merge).</summary>
    /// <param name="corpus">The training texts.</param>
    /// <param name="vocabularySize">Special tokens + 256 bytes + merges; at least special tokens + 256.</param>
    /// <param name="specialTokens">The special tokens, given ids 0, 1, …; by default <c>&lt;pad&gt; &lt;sos&gt; &lt;eos&gt;</c>.</param>
    /// <returns>The trained tokenizer.</returns>
    /// <remarks>Ties between equally frequent pairs go to the smaller (left, right) ids, so training is deterministic.</remarks>
    public static BytePairTokenizer Train(IEnumerable<string> corpus, int vocabularySize, IReadOnlyList<string>? specialTokens = null)
    {
        ArgumentNullException.ThrowIfNull(corpus);
        specialTokens ??= [SpecialTokens.Pad, SpecialTokens.StartOfSequence, SpecialTokens.EndOfSequence];
        var offset = specialTokens.Count;
        if (vocabularySize < offset + 256)
        {
            throw new ArgumentOutOfRangeException(nameof(vocabularySize), vocabularySize, $"A byte-level vocabulary needs at least {offset} special tokens + 256 bytes = {offset + 256} tokens.");
        }
        // Every distinct chunk of the corpus once, as a list of token ids, with how often it occurs.
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var text in corpus)
        {
            ArgumentNullException.ThrowIfNull(text, nameof(corpus));
            foreach (var chunk in Chunks(text))
            {
                counts[chunk] = counts.GetValueOrDefault(chunk) + 1;
            }
        }
        var words = counts.Select(c => (Ids: Utf8(c.Key).Select(b => b + offset).ToList(), Count: c.Value)).ToList();
        var merges = new List<(int, int)>();
        while (offset + 256 + merges.Count < vocabularySize)
        {
            var pairs = new Dictionary<(int, int), long>();
            foreach (var (ids, count) in words)
            {
                for (var i = 0; i + 1 < ids.Count; i++)
                {
                    pairs[(ids[i], ids[i + 1])] = pairs.GetValueOrDefault((ids[i], ids[i + 1])) + count;
                }
            }
            if (pairs.Count == 0)
            {
                break;                                                  // every chunk is one token already
            }
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1).ThenBy(p => p.Key.Item2).First().Key;
            var merged = offset + 256 + merges.Count;
            merges.Add(best);
            foreach (var (ids, _) in words)
            {
                Replace(ids, best, merged);
            }
        }
        return new BytePairTokenizer(specialTokens, merges);
    }

    /// <summary>The ids of <paramref name="text"/>: its UTF-8 bytes, merged as training learned, chunk by chunk.</summary>
    /// <param name="text">Any valid Unicode text; empty gives no ids.</param>
    /// <returns>The ids, never a special token.</returns>
    /// <exception cref="ArgumentException">The text holds a lone surrogate (half of a UTF-16 pair), which is not Unicode text.</exception>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var result = new List<int>();
        foreach (var chunk in Chunks(text))
        {
            byte[] bytes;
            try
            {
                bytes = StrictUtf8.GetBytes(chunk);
            }
            catch (EncoderFallbackException e)
            {
                throw new ArgumentException($"The text holds a lone UTF-16 surrogate at index {text.IndexOf(chunk, StringComparison.Ordinal) + e.Index}: it is not valid Unicode, so it has no UTF-8 bytes.", nameof(text), e);
            }
            var ids = bytes.Select(b => b + SpecialTokenCount).ToList();
            while (ids.Count > 1)
            {
                // The pair learned earliest (lowest merged id) is merged first, as in training.
                var (rank, at) = (int.MaxValue, -1);
                for (var i = 0; i + 1 < ids.Count; i++)
                {
                    if (_merges.TryGetValue((ids[i], ids[i + 1]), out var id) && id < rank)
                    {
                        (rank, at) = (id, i);
                    }
                }
                if (at < 0)
                {
                    break;
                }
                Replace(ids, (ids[at], ids[at + 1]), rank);
            }
            result.AddRange(ids);
        }
        return [.. result];
    }

    /// <summary>The text of <paramref name="ids"/>: the tokens' bytes read as UTF-8; a special token as its name.</summary>
    /// <param name="ids">Token ids.</param>
    /// <returns>The text. Bytes that are not valid UTF-8 (ids cut in the middle of a character) become U+FFFD.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the vocabulary.</exception>
    public string Decode(IEnumerable<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var text = new StringBuilder();
        var pending = new List<byte>();
        foreach (var id in ids)
        {
            if (id < 0 || id >= _bytes.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} is outside the vocabulary of {_bytes.Length} tokens.");
            }
            if (id < SpecialTokenCount)
            {
                text.Append(Encoding.UTF8.GetString([.. pending])).Append(Vocabulary[id]);
                pending.Clear();
            }
            else
            {
                pending.AddRange(_bytes[id]);
            }
        }
        return text.Append(Encoding.UTF8.GetString([.. pending])).ToString();
    }

    /// <summary>The bytes token <paramref name="id"/> stands for (empty for a special token).</summary>
    /// <param name="id">A token id.</param>
    /// <returns>Its bytes.</returns>
    public IReadOnlyList<byte> BytesOf(int id) =>
        id >= 0 && id < _bytes.Length ? _bytes[id] : throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary of {_bytes.Length} tokens.");

    /// <summary>The tokenizer as JSON: the format version, the special tokens and the merges (the bytes are implied).</summary>
    /// <returns>The JSON text; <see cref="FromJson"/> reads it back.</returns>
    public string ToJson() => JsonSerializer.Serialize(new TokenizerFile(FormatVersion, "byte-level BPE", [.. Vocabulary.Tokens.Take(SpecialTokenCount)],
        [.. Merges.Select(m => new[] { m.Left, m.Right })]));

    /// <summary>Reads a tokenizer written by <see cref="ToJson"/>, strictly.</summary>
    /// <param name="json">The JSON text.</param>
    /// <returns>The tokenizer.</returns>
    /// <exception cref="InvalidDataException">Not such a file: another format or version, a merge of a token that does
    /// not exist yet, a merge learned twice, or a special token that is empty or repeated.</exception>
    public static BytePairTokenizer FromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        TokenizerFile? file;
        try
        {
            file = JsonSerializer.Deserialize<TokenizerFile>(json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"Not a tokenizer file: {e.Message}", e);
        }
        if (file is null || file.Version != FormatVersion || file.Kind != "byte-level BPE" || file.SpecialTokens is null || file.Merges is null)
        {
            throw new InvalidDataException($"Not a byte-level BPE tokenizer of format {FormatVersion} (version {file?.Version}, kind \"{file?.Kind}\").");
        }
        var merges = new List<(int, int)>();
        var seen = new HashSet<(int, int)>();
        var size = file.SpecialTokens.Length + 256;
        foreach (var merge in file.Merges)
        {
            if (merge is not { Length: 2 } || merge.Any(id => id < file.SpecialTokens.Length || id >= size) || !seen.Add((merge[0], merge[1])))
            {
                throw new InvalidDataException($"Merge {merges.Count} ({string.Join(", ", merge ?? [])}) is not a pair of earlier non-special tokens (ids {file.SpecialTokens.Length} to {size - 1}), or repeats one.");
            }
            merges.Add((merge[0], merge[1]));
            size++;
        }
        try
        {
            return new BytePairTokenizer(file.SpecialTokens, merges);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"The tokenizer's tokens are not distinct: {e.Message}", e);
        }
    }

    /// <summary>The chunks merges stay inside (GPT-2's pattern): contractions, letters with an optional leading space,
    /// digits likewise, other symbols likewise, and runs of white space. Together they are the whole text.</summary>
    /// <param name="text">Any text.</param>
    /// <returns>The chunks in order.</returns>
    public static IEnumerable<string> Chunks(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return ChunkPattern().Matches(text).Select(m => m.Value);
    }

    [GeneratedRegex(@"'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex ChunkPattern();

    private static byte[] Utf8(string chunk)
    {
        try
        {
            return StrictUtf8.GetBytes(chunk);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The corpus holds a lone UTF-16 surrogate: it is not valid Unicode text.", nameof(chunk), e);
        }
    }

    /// <summary>Replaces every non-overlapping occurrence of the pair, left to right, by <paramref name="merged"/>.</summary>
    private static void Replace(List<int> ids, (int Left, int Right) pair, int merged)
    {
        var write = 0;
        for (var read = 0; read < ids.Count; read++)
        {
            if (read + 1 < ids.Count && ids[read] == pair.Left && ids[read + 1] == pair.Right)
            {
                ids[write++] = merged;
                read++;
            }
            else
            {
                ids[write++] = ids[read];
            }
        }
        ids.RemoveRange(write, ids.Count - write);
    }

    private static string Display(byte[] bytes)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return string.Concat(bytes.Select(b => $"<0x{b:X2}>"));
        }
    }

    private sealed record TokenizerFile(int Version, string Kind, string[] SpecialTokens, int[][] Merges);
}
