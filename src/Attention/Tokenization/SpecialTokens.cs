namespace Attention.Tokenization;

/// <summary>The four special tokens of a sequence-to-sequence vocabulary, in the order they take ids 0–3.</summary>
public static class SpecialTokens
{
    /// <summary>Padding, to bring sequences of a batch to one length (id 0 when present).</summary>
    public const string Pad = "<pad>";

    /// <summary>Stands for any word the vocabulary does not know (id 1 when present).</summary>
    public const string Unknown = "<unk>";

    /// <summary>Start of sequence: the decoder's first input (id 2 when present).</summary>
    public const string StartOfSequence = "<sos>";

    /// <summary>End of sequence: decoding stops when it is produced (id 3 when present).</summary>
    public const string EndOfSequence = "<eos>";

    /// <summary><c>&lt;pad&gt; &lt;unk&gt; &lt;sos&gt; &lt;eos&gt;</c>, in id order.</summary>
    public static IReadOnlyList<string> All { get; } = [Pad, Unknown, StartOfSequence, EndOfSequence];
}
