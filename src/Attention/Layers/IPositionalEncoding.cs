using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>
/// Where each token sits: a vector per position, added to the token embeddings ("Attention Is All You Need", §3.5).
/// Attention itself is blind to order (permuting the tokens permutes its output the same way); these vectors are how
/// the model learns that "dog bites man" differs from "man bites dog".
/// </summary>
public interface IPositionalEncoding
{
    /// <summary>d_model, the width of each position vector.</summary>
    int ModelDim { get; }

    /// <summary>How many positions the table holds; positions run from 0 to <c>MaxPositions − 1</c>.</summary>
    int MaxPositions { get; }

    /// <summary>The vectors of positions 0 … length − 1.</summary>
    /// <param name="length">n, at most <see cref="MaxPositions"/>.</param>
    /// <returns>[n × d_model], a copy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">n exceeds the table; the message gives both numbers.</exception>
    Matrix<float> Encode(int length);

    /// <summary>x + PE: adds the vector of position i to row i.</summary>
    /// <param name="x">[n × d_model], one row per token; not modified.</param>
    /// <returns>[n × d_model].</returns>
    /// <exception cref="ArgumentException">x is not d_model wide; the message names both shapes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">n exceeds the table.</exception>
    Matrix<float> Forward(Matrix<float> x);

    /// <summary>x + PE for rows that stand at positions <paramref name="startPosition"/> … start + n − 1 (a decoder
    /// step that adds one token at position t passes t).</summary>
    /// <param name="x">[n × d_model]; not modified.</param>
    /// <param name="startPosition">The position of row 0, ≥ 0.</param>
    /// <returns>[n × d_model].</returns>
    /// <exception cref="ArgumentOutOfRangeException">start + n exceeds the table.</exception>
    Matrix<float> Forward(Matrix<float> x, int startPosition);
}
