namespace Attention.Tokenization;

/// <summary>A fixed list of distinct tokens; a token's id is its position in the list.</summary>
public sealed class Vocabulary
{
    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    /// <summary>Creates a vocabulary whose ids follow the order of <paramref name="tokens"/>.</summary>
    /// <param name="tokens">Distinct, non-empty tokens; the first gets id 0.</param>
    /// <exception cref="ArgumentException">A token is null, empty or repeated.</exception>
    public Vocabulary(IEnumerable<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        _tokens = [.. tokens];
        _ids = new Dictionary<string, int>(_tokens.Length, StringComparer.Ordinal);
        for (var id = 0; id < _tokens.Length; id++)
        {
            var token = _tokens[id];
            if (string.IsNullOrEmpty(token))
            {
                throw new ArgumentException($"Token {id} is null or empty; every token needs at least one character.", nameof(tokens));
            }
            if (!_ids.TryAdd(token, id))
            {
                throw new ArgumentException($"The token \"{token}\" appears twice (ids {_ids[token]} and {id}); tokens must be distinct.", nameof(tokens));
            }
        }
        UnknownId = _ids.TryGetValue(SpecialTokens.Unknown, out var unknown) ? unknown : null;
    }

    /// <summary>Number of tokens; ids run from 0 to <c>Count − 1</c>.</summary>
    public int Count => _tokens.Length;

    /// <summary>The tokens in id order.</summary>
    public IReadOnlyList<string> Tokens => _tokens;

    /// <summary>The id of <see cref="SpecialTokens.Unknown"/>, or null when the vocabulary has none.</summary>
    public int? UnknownId { get; }

    /// <summary>The token with id <paramref name="id"/>.</summary>
    /// <param name="id">An id in [0, <see cref="Count"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">The id is outside the vocabulary; the message gives the id and the size.</exception>
    public string this[int id]
    {
        get
        {
            if (id < 0 || id >= _tokens.Length)
            {
                throw new ArgumentOutOfRangeException(nameof(id), id, $"Token id {id} is outside the vocabulary of {_tokens.Length} tokens (valid ids: 0 to {_tokens.Length - 1}).");
            }
            return _tokens[id];
        }
    }

    /// <summary>Whether <paramref name="token"/> is in the vocabulary (ordinal, case-sensitive).</summary>
    /// <param name="token">The token to look for.</param>
    /// <returns>True when the token has an id.</returns>
    public bool Contains(string token) => _ids.ContainsKey(token);

    /// <summary>Looks up the id of <paramref name="token"/>.</summary>
    /// <param name="token">The token to look for.</param>
    /// <param name="id">Its id, or −1 when absent.</param>
    /// <returns>True when the token has an id.</returns>
    public bool TryGetId(string token, out int id)
    {
        if (_ids.TryGetValue(token, out id))
        {
            return true;
        }
        id = -1;
        return false;
    }

    /// <summary>The id of <paramref name="token"/>, or the id of <c>&lt;unk&gt;</c> when the token is unknown and the vocabulary has one.</summary>
    /// <param name="token">The token to look up.</param>
    /// <returns>Its id.</returns>
    /// <exception cref="KeyNotFoundException">The token is unknown and the vocabulary has no <c>&lt;unk&gt;</c>; the message names the token.</exception>
    public int IdOf(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (_ids.TryGetValue(token, out var id))
        {
            return id;
        }
        return UnknownId ?? throw new KeyNotFoundException(
            $"The word \"{token}\" is not in the vocabulary of {_tokens.Length} tokens, and the vocabulary has no {SpecialTokens.Unknown} token to stand for it.");
    }
}
