namespace Attention.Tokenization;

/// <summary>Turns text into token ids and back.</summary>
public interface ITokenizer
{
    /// <summary>The tokens this tokenizer can produce, by id.</summary>
    Vocabulary Vocabulary { get; }

    /// <summary>The ids of the tokens of <paramref name="text"/>, in order; an empty text gives an empty array.</summary>
    /// <param name="text">Any Unicode text.</param>
    /// <returns>One id per token, each in [0, <c>Vocabulary.Count</c>).</returns>
    int[] Encode(string text);

    /// <summary>The text of <paramref name="ids"/>.</summary>
    /// <param name="ids">Token ids in [0, <c>Vocabulary.Count</c>).</param>
    /// <returns>The tokens joined back into text.</returns>
    string Decode(IEnumerable<int> ids);
}
