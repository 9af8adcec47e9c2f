// §3.5 again: "We also experimented with using learned positional embeddings instead, and found that the two
// versions produced nearly identical results." A learned encoding is an embedding table indexed by position.
using Attention.Randomness;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>A learned positional encoding: an <see cref="Embedding"/> over positions 0 … max length − 1 (as GPT-2's <c>wpe</c>).</summary>
public sealed class LearnedPositionalEncoding : IPositionalEncoding
{
    /// <summary>Creates the table drawn from N(0, 1), as <c>nn.Embedding(maxPositions, modelDim)</c>.</summary>
    /// <param name="maxPositions">Number of positions, at least 1.</param>
    /// <param name="modelDim">d_model, at least 1.</param>
    /// <param name="generator">The random source.</param>
    public LearnedPositionalEncoding(int maxPositions, int modelDim, TorchGenerator generator)
    {
        Table = new Embedding(maxPositions, modelDim, generator);
    }

    /// <summary>Creates the encoding from a given table (copied).</summary>
    /// <param name="weight">[max length × d_model]; row p is the vector of position p.</param>
    public LearnedPositionalEncoding(Matrix<float> weight)
    {
        Table = new Embedding(weight);
    }

    /// <summary>The embedding over positions; its <see cref="Embedding.Weight"/> is [max length × d_model] and trainable.</summary>
    public Embedding Table { get; }

    /// <inheritdoc />
    public int ModelDim => Table.Dimension;

    /// <inheritdoc />
    public int MaxPositions => Table.VocabularySize;

    /// <inheritdoc />
    public Matrix<float> Encode(int length)
    {
        SinusoidalPositionalEncoding.CheckLength(length, MaxPositions);
        return Table.Weight.SubMatrix(0, length, 0, ModelDim);
    }

    /// <inheritdoc />
    public Matrix<float> Forward(Matrix<float> x) => Forward(x, 0);

    /// <inheritdoc />
    public Matrix<float> Forward(Matrix<float> x, int startPosition)
    {
        Shapes.RequireColumns(x, nameof(x), ModelDim, $"d_model of the positional table {Shapes.Of(MaxPositions, ModelDim)}");
        ArgumentOutOfRangeException.ThrowIfNegative(startPosition);
        SinusoidalPositionalEncoding.CheckPositions(startPosition, x.RowCount, MaxPositions);
        return x + Table.Weight.SubMatrix(startPosition, x.RowCount, 0, ModelDim);
    }

    /// <summary>The backward pass of <see cref="Forward(Matrix{float}, int)"/>: y = x + P[start … start + n), so ∂L/∂x = ∂L/∂y
    /// (returned as it is) and row p of the table gets row p − start of ∂L/∂y added to its gradient.</summary>
    /// <param name="startPosition">The start given to the forward pass.</param>
    /// <param name="outputGradient">∂L/∂y, [n × d_model].</param>
    /// <returns>∂L/∂x, which is <paramref name="outputGradient"/> itself.</returns>
    public Matrix<float> Backward(int startPosition, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        Shapes.RequireColumns(outputGradient, nameof(outputGradient), ModelDim, "d_model");
        SinusoidalPositionalEncoding.CheckPositions(startPosition, outputGradient.RowCount, MaxPositions);
        Table.Backward([.. Enumerable.Range(startPosition, outputGradient.RowCount)], outputGradient);
        return outputGradient;
    }
}
