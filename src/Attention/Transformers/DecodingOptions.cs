namespace Attention.Transformers;

/// <summary>How <see cref="Decoding"/> runs the decoding loop.</summary>
public sealed record DecodingOptions
{
    /// <summary>The id of <c>&lt;sos&gt;</c>, the decoder's first input.</summary>
    public required int StartToken { get; init; }

    /// <summary>The id of <c>&lt;eos&gt;</c>; decoding stops after producing it. Null: stop only at <see cref="MaxNewTokens"/>.</summary>
    public int? EndToken { get; init; }

    /// <summary>The most tokens to produce (not counting <c>&lt;sos&gt;</c>).</summary>
    public int MaxNewTokens { get; init; } = 50;

    /// <summary>Keep each layer's keys and values between steps (O(t) per step) instead of re-running the whole prefix (O(t²)). Same result either way.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>Tokens never to produce (typically <c>&lt;pad&gt;</c>, <c>&lt;sos&gt;</c>, <c>&lt;unk&gt;</c>): their probability is set to 0 and the rest renormalised.</summary>
    public IReadOnlyCollection<int> SuppressedTokens { get; init; } = [];

    /// <summary>Record, for every step, the averaged self- and cross-attention weights of the new token in every layer.</summary>
    public bool RecordAttention { get; init; }
}

/// <summary>Sampling settings for <see cref="Decoding.Sample"/>.</summary>
/// <param name="Temperature">Logits are divided by it before the softmax: below 1 sharpens, above 1 flattens. Must be positive.</param>
/// <param name="TopK">Keep only the k most likely tokens (null: all).</param>
/// <param name="TopP">Keep the smallest set of most likely tokens whose probabilities add up to at least p (nucleus sampling; null: all).</param>
public sealed record SamplingOptions(float Temperature = 1.0f, int? TopK = null, float? TopP = null);

/// <summary>One step of decoding: the token fed in, the token chosen, and (when recorded) where the decoder looked.</summary>
/// <param name="Position">t, starting at 0 for the step fed <c>&lt;sos&gt;</c>.</param>
/// <param name="Input">The token fed to the decoder at this step.</param>
/// <param name="Output">The token chosen.</param>
/// <param name="Probability">Its probability under the (temperature-adjusted, filtered) distribution.</param>
/// <param name="SelfAttention">Per layer, the new token's self-attention weights averaged over heads, [1 × (t+1)]; null unless recorded.</param>
/// <param name="CrossAttention">Per layer, its cross-attention weights over the source averaged over heads, [1 × n]; null unless recorded.</param>
public sealed record DecodingStep(int Position, int Input, int Output, float Probability,
    IReadOnlyList<MathNet.Numerics.LinearAlgebra.Matrix<float>>? SelfAttention,
    IReadOnlyList<MathNet.Numerics.LinearAlgebra.Matrix<float>>? CrossAttention);

/// <summary>A decoded sequence.</summary>
/// <param name="Tokens">The produced tokens, without <c>&lt;sos&gt;</c>, with <c>&lt;eos&gt;</c> when it was produced.</param>
/// <param name="LogProbability">The sum of the log-probabilities of the chosen tokens.</param>
/// <param name="Score">The ranking score: for beam search LogProbability / length^α, otherwise LogProbability.</param>
/// <param name="Steps">Every step in order.</param>
public sealed record DecodingResult(IReadOnlyList<int> Tokens, double LogProbability, double Score, IReadOnlyList<DecodingStep> Steps);
