// The KV cache. At decoding step t the decoder adds one token; causal masking means no earlier row of any layer
// changes, so each layer's self-attention keys and values for positions < t can be kept instead of recomputed, and
// the cross-attention keys and values of the encoder memory never change at all. Step t then costs O(t), not O(t²).
using Attention.Mechanisms;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>What a <see cref="TransformerDecoder"/> keeps between decoding steps: per layer, the projected self-attention keys and
/// values of every target token so far, and the projected keys and values of the encoder memory.</summary>
/// <remarks>One cache belongs to one decoder and one sequence being decoded against one memory; <see cref="Clone"/> forks
/// it (beam search). Used with another decoder, or with a memory matrix other than the one it first saw (compared by
/// reference: the cache keeps that memory's projected keys and values), it throws.</remarks>
public sealed class DecoderCache
{
    private readonly LayerCache[] _layers;
    private readonly TransformerDecoder _owner;
    private Matrix<float>? _memory;

    internal DecoderCache(TransformerDecoder owner, int layerCount) : this(owner, [.. Enumerable.Range(0, layerCount).Select(_ => new LayerCache())], null)
    {
    }

    private DecoderCache(TransformerDecoder owner, LayerCache[] layers, Matrix<float>? memory) => (_owner, _layers, _memory) = (owner, layers, memory);

    /// <summary>Whether <paramref name="decoder"/> made this cache.</summary>
    internal bool BelongsTo(TransformerDecoder decoder) => ReferenceEquals(decoder, _owner);

    /// <summary>Throws unless this cache has seen no memory but <paramref name="memory"/>, and remembers it.</summary>
    internal void RequireMemory(Matrix<float> memory)
    {
        if (_memory is not null && !ReferenceEquals(memory, _memory))
        {
            throw new ArgumentException(
                "This cache holds the keys and values of another memory matrix (compared by reference); pass the same memory at every step, or use a new cache per source.", nameof(memory));
        }
        _memory = memory;
    }

    /// <summary>How many target tokens the cache holds.</summary>
    public int Length => _layers.Length == 0 ? 0 : _layers[0].Length;

    internal LayerCache this[int layer] => _layers[layer];

    /// <summary>An independent copy: decoding on from the copy does not change this cache.</summary>
    /// <returns>The copy.</returns>
    public DecoderCache Clone() => new(_owner, [.. _layers.Select(l => l.Clone())], _memory);
}

/// <summary>One decoder layer's cached keys and values, [t × d_model] each, already projected by W_K and W_V.</summary>
internal sealed class LayerCache
{
    private Matrix<float>? _selfKeys;
    private Matrix<float>? _selfValues;
    private Matrix<float>? _memoryKeys;
    private Matrix<float>? _memoryValues;

    public int Length => _selfKeys?.RowCount ?? 0;

    /// <summary>Self-attention of the new rows <paramref name="x"/> [r × d] over all cached rows plus themselves.</summary>
    public MultiHeadAttentionOutput AttendToSelf(MultiHeadAttention attention, Matrix<float> x, bool needWeights)
    {
        var (keys, values, mask) = ExtendSelf(attention, x);
        var queries = attention.QueryProjection.Forward(x);                     // [r × d]
        return attention.Attend((queries, keys, values), mask, needWeights, result: null);
    }

    /// <summary>Adds the new rows' keys and values [r × d] to the cache and returns all of them [t × d], with the mask
    /// under which the new rows see them.</summary>
    public (Matrix<float> Keys, Matrix<float> Values, AttentionMask Mask) ExtendSelf(MultiHeadAttention attention, Matrix<float> x)
    {
        var earlier = Length;
        var keys = attention.KeyProjection.Forward(x);     // [r × d], the new tokens' keys
        var values = attention.ValueProjection.Forward(x);
        _selfKeys = _selfKeys is null ? keys : _selfKeys.Stack(keys);           // [t × d]
        _selfValues = _selfValues is null ? values : _selfValues.Stack(values);
        // New row i stands at position earlier + i: it sees every cached key and the new ones up to itself.
        return (_selfKeys, _selfValues, AttentionMask.CausalFrom(earlier));
    }

    /// <summary>Cross-attention of the new rows over the memory, whose keys and values are projected once.</summary>
    public MultiHeadAttentionOutput AttendToMemory(MultiHeadAttention attention, Matrix<float> x, Matrix<float> memory, AttentionMask? memoryMask, bool needWeights)
    {
        var (keys, values) = MemoryKeysAndValues(attention, memory);
        memoryMask?.RequireFits(x.RowCount, memory.RowCount, nameof(memoryMask));
        return attention.Attend((attention.QueryProjection.Forward(x), keys, values), memoryMask, needWeights, result: null);
    }

    /// <summary>The memory's keys and values [n × d], projected on first use.</summary>
    public (Matrix<float> Keys, Matrix<float> Values) MemoryKeysAndValues(MultiHeadAttention attention, Matrix<float> memory)
    {
        _memoryKeys ??= attention.KeyProjection.Forward(memory);
        _memoryValues ??= attention.ValueProjection.Forward(memory);
        if (_memoryKeys.RowCount != memory.RowCount)
        {
            throw new ArgumentException($"This cache was filled for a memory of {_memoryKeys.RowCount} tokens, but the memory now has {memory.RowCount}; use a new cache per source.", nameof(memory));
        }
        return (_memoryKeys, _memoryValues!);
    }

    // Matrices are replaced, never changed in place, so a clone may share them.
    public LayerCache Clone() => new()
    {
        _selfKeys = _selfKeys,
        _selfValues = _selfValues,
        _memoryKeys = _memoryKeys,
        _memoryValues = _memoryValues,
    };
}
