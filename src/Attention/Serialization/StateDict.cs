// PyTorch's state_dict: parameters by name ("in_proj_weight", "out_proj.bias", …). Here it is a dictionary of
// MathNet matrices; a 1-d tensor (a bias) is a one-row matrix [1 × n].
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Serialization;

/// <summary>Reading and writing named parameters the way PyTorch's <c>state_dict</c> names them.</summary>
/// <remarks>Matrices keep PyTorch's layout (a weight is [out × in]); 1-d tensors are one-row matrices [1 × n].
/// Values are copied in both directions, so a model never shares storage with a dictionary.</remarks>
public static class StateDict
{
    /// <summary>The matrix named <paramref name="name"/>, checked to be [rows × columns], as a copy.</summary>
    /// <param name="state">The named parameters.</param>
    /// <param name="name">The full parameter name, e.g. <c>self_attn.in_proj_weight</c>.</param>
    /// <param name="rows">Expected rows.</param>
    /// <param name="columns">Expected columns.</param>
    /// <returns>A copy of the matrix.</returns>
    /// <exception cref="ArgumentException">The name is missing, or the shape differs; the message names the parameter and both shapes.</exception>
    public static Matrix<float> Matrix(IReadOnlyDictionary<string, Matrix<float>> state, string name, int rows, int columns)
    {
        var value = Find(state, name, Shapes.Of(rows, columns));
        if (value.RowCount != rows || value.ColumnCount != columns)
        {
            throw new ArgumentException($"Parameter '{name}' must be {Shapes.Of(rows, columns)} but is {Shapes.Of(value)}.", nameof(state));
        }
        return value.Clone();
    }

    /// <summary>The 1-d tensor named <paramref name="name"/> of length <paramref name="length"/> (stored as [1 × n]; [n × 1] is accepted too), as a copy.</summary>
    /// <param name="state">The named parameters.</param>
    /// <param name="name">The full parameter name, e.g. <c>out_proj.bias</c>.</param>
    /// <param name="length">Expected length n.</param>
    /// <returns>A copy as a vector.</returns>
    /// <exception cref="ArgumentException">The name is missing, or the shape differs; the message names the parameter and both shapes.</exception>
    public static Vector<float> Vector(IReadOnlyDictionary<string, Matrix<float>> state, string name, int length)
    {
        var value = Find(state, name, $"[{length}]");
        if (value.RowCount == 1 && value.ColumnCount == length)
        {
            return value.Row(0);
        }
        if (value.ColumnCount == 1 && value.RowCount == length)
        {
            return value.Column(0);
        }
        throw new ArgumentException($"Parameter '{name}' must be a 1-d tensor [{length}] (a [1 × {length}] matrix) but is {Shapes.Of(value)}.", nameof(state));
    }

    /// <summary>A vector as the one-row matrix [1 × n] that stands for a 1-d tensor in a state dictionary.</summary>
    /// <param name="vector">[n].</param>
    /// <returns>[1 × n], a copy.</returns>
    public static Matrix<float> Row(Vector<float> vector)
    {
        ArgumentNullException.ThrowIfNull(vector);
        return vector.ToRowMatrix();
    }

    private static Matrix<float> Find(IReadOnlyDictionary<string, Matrix<float>> state, string name, string expected)
    {
        ArgumentNullException.ThrowIfNull(state);
        if (!state.TryGetValue(name, out var value) || value is null)
        {
            throw new ArgumentException($"Parameter '{name}' (expected {expected}) is missing; the dictionary has {state.Count} entries.", nameof(state));
        }
        return value;
    }
}
