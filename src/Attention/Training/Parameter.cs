// What training changes: a tensor of a layer, the gradient of the loss with respect to it, and its PyTorch name.
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Training;

/// <summary>A trainable tensor: its value, the gradient accumulated for it, and its <c>state_dict</c> name.</summary>
/// <remarks>The value is the layer's own matrix, not a copy: an optimizer step changes the layer. Gradients add up
/// (<see cref="ZeroGradient"/> clears them), as PyTorch's <c>.grad</c> does, so a batch's gradient can be summed
/// sentence by sentence.</remarks>
public sealed class Parameter
{
    /// <summary>Wraps <paramref name="value"/> (held, not copied) with a zero gradient of its shape.</summary>
    /// <param name="name">The PyTorch name, e.g. <c>encoder.layers.0.linear1.weight</c>.</param>
    /// <param name="value">The tensor; a 1-d tensor is a [1 × n] matrix, as in state dicts.</param>
    /// <param name="isVector">True for a 1-d tensor (a bias, a norm's γ or β) held as [1 × n]; weight decay usually skips these.</param>
    public Parameter(string name, Matrix<float> value, bool isVector = false)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (isVector && value.RowCount != 1)
        {
            throw new ArgumentException($"A 1-d parameter is held as [1 × n], but '{name}' is [{value.RowCount} × {value.ColumnCount}].", nameof(value));
        }
        (Name, Value, IsVector) = (name, value, isVector);
        Gradient = Matrix<float>.Build.Dense(value.RowCount, value.ColumnCount);
    }

    /// <summary>The PyTorch name.</summary>
    public string Name { get; }

    /// <summary>True for a 1-d PyTorch tensor (a bias, a norm's γ or β), held as a [1 × n] matrix.</summary>
    public bool IsVector { get; }

    /// <summary>The value the optimizer updates (the layer's own matrix).</summary>
    public Matrix<float> Value { get; }

    /// <summary>∂L/∂Value accumulated since the last <see cref="ZeroGradient"/>, the same shape as the value.</summary>
    public Matrix<float> Gradient { get; }

    /// <summary>False freezes the parameter: optimizers leave it unchanged.</summary>
    public bool RequiresGradient { get; set; } = true;

    /// <summary>Sets the gradient to zero (PyTorch's <c>zero_grad</c>).</summary>
    public void ZeroGradient() => Gradient.Clear();

    /// <inheritdoc />
    public override string ToString() => $"{Name} [{Value.RowCount} × {Value.ColumnCount}]";
}
