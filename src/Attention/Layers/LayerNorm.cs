// "Attention Is All You Need", §3.1: "the output of each sub-layer is LayerNorm(x + Sublayer(x))" (Ba et al., 2016).
//   y = (x − mean(x)) / √(var(x) + ε) · γ + β,   per row, with the biased variance (divide by d, not d − 1).
using Attention.Kernels;
using Attention.Serialization;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>PyTorch's <c>nn.LayerNorm(d)</c>: each row normalised to mean 0 and variance 1, then scaled by γ and shifted by β.</summary>
/// <remarks>The arithmetic is <see cref="LayerNormalization"/>'s: mean and variance accumulated in double (so any finite
/// row gives a finite result), the normalisation in float32.</remarks>
public sealed class LayerNorm
{
    /// <summary>Creates a layer with γ = 1 and β = 0, as PyTorch initialises it.</summary>
    /// <param name="dimension">d, the width of each row.</param>
    /// <param name="epsilon">ε, added to the variance inside the square root.</param>
    public LayerNorm(int dimension, float epsilon = 1e-5f)
        : this(Vector<float>.Build.Dense(dimension, 1.0f), Vector<float>.Build.Dense(dimension), epsilon)
    {
    }

    /// <summary>Creates a layer from given parameters (copied).</summary>
    /// <param name="gain">γ, PyTorch's <c>weight</c>, [d].</param>
    /// <param name="bias">β, PyTorch's <c>bias</c>, [d].</param>
    /// <param name="epsilon">ε.</param>
    public LayerNorm(Vector<float> gain, Vector<float> bias, float epsilon = 1e-5f)
    {
        ArgumentNullException.ThrowIfNull(gain);
        ArgumentNullException.ThrowIfNull(bias);
        ArgumentOutOfRangeException.ThrowIfZero(gain.Count, nameof(gain));
        if (bias.Count != gain.Count)
        {
            throw new ArgumentException($"bias must have {gain.Count} entries like the gain, but has {bias.Count}.", nameof(bias));
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(epsilon);
        Gain = gain.Clone();
        Bias = bias.Clone();
        Epsilon = epsilon;
        GainParameter = new Parameter("weight", Matrix<float>.Build.Dense(1, Gain.Count, Gain.AsArray()!), isVector: true);
        BiasParameter = new Parameter("bias", Matrix<float>.Build.Dense(1, Bias.Count, Bias.AsArray()!), isVector: true);
    }

    /// <summary>γ as a trainable parameter (PyTorch's <c>weight</c>, [1 × d]) sharing <see cref="Gain"/>'s values.</summary>
    public Parameter GainParameter { get; }

    /// <summary>β as a trainable parameter (<c>bias</c>, [1 × d]) sharing <see cref="Bias"/>'s values.</summary>
    public Parameter BiasParameter { get; }

    /// <summary>The parameters under PyTorch's names: <c>{prefix}weight</c>, <c>{prefix}bias</c>.</summary>
    /// <param name="prefix">E.g. <c>"encoder.layers.0.norm1."</c>.</param>
    /// <returns>Name and parameter pairs, in state_dict order.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "") =>
        [(prefix + "weight", GainParameter), (prefix + "bias", BiasParameter)];

    /// <summary>γ, [d] (PyTorch's <c>weight</c>).</summary>
    public Vector<float> Gain { get; }

    /// <summary>β, [d] (PyTorch's <c>bias</c>).</summary>
    public Vector<float> Bias { get; }

    /// <summary>ε, added to the variance.</summary>
    public float Epsilon { get; }

    /// <summary>d, the width of a row.</summary>
    public int Dimension => Gain.Count;

    /// <summary>Reads <c>{prefix}weight</c> and <c>{prefix}bias</c>, each [d].</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">E.g. <c>"encoder.layers.0.norm1."</c>.</param>
    /// <param name="dimension">d.</param>
    /// <param name="epsilon">ε.</param>
    /// <returns>The layer.</returns>
    public static LayerNorm FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, int dimension, float epsilon = 1e-5f) =>
        new(StateDict.Vector(state, prefix + "weight", dimension), StateDict.Vector(state, prefix + "bias", dimension), epsilon);

    /// <summary>Writes <c>{prefix}weight</c> and <c>{prefix}bias</c> as [1 × d].</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">The name prefix.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        state[prefix + "weight"] = StateDict.Row(Gain);
        state[prefix + "bias"] = StateDict.Row(Bias);
    }

    /// <summary>Normalises every row.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <returns>[n × d].</returns>
    public Matrix<float> Forward(Matrix<float> x)
    {
        Shapes.RequireColumns(x, nameof(x), Dimension, "the LayerNorm width d");
        return LayerNormalization.Apply(x, Gain, Bias, Epsilon);       // (x − μ)/√(σ² + ε)·γ + β, row by row
    }

    /// <summary>LayerNorm(x + residual), the "Add &amp; Norm" of Figure 1.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <param name="residual">[n × d], the sub-layer's output added to its input x; not modified.</param>
    /// <returns>[n × d].</returns>
    public Matrix<float> Forward(Matrix<float> x, Matrix<float> residual)
    {
        Shapes.RequireColumns(x, nameof(x), Dimension, "the LayerNorm width d");
        Shapes.RequireShape(residual, nameof(residual), x.RowCount, Dimension, "the same shape as x");
        var sum = Elementwise.Add(x, residual);                          // x + Sublayer(x)
        LayerNormalization.Apply(sum, Gain, Bias, Epsilon, sum);         // LayerNorm(·), in place
        return sum;
    }

    /// <summary>LayerNorm(x + residual) written into <paramref name="result"/>, which may be x or the residual.</summary>
    /// <param name="x">[n × d].</param>
    /// <param name="residual">[n × d].</param>
    /// <param name="result">[n × d], dense; overwritten.</param>
    public void Forward(Matrix<float> x, Matrix<float> residual, Matrix<float> result)
    {
        Shapes.RequireColumns(x, nameof(x), Dimension, "the LayerNorm width d");
        Shapes.RequireShape(residual, nameof(residual), x.RowCount, Dimension, "the same shape as x");
        Elementwise.Add(x, residual, result);                            // x + Sublayer(x)
        LayerNormalization.Apply(result, Gain, Bias, Epsilon, result);   // LayerNorm(·), in place
    }

    /// <summary>The backward pass of <see cref="Forward(Matrix{float})"/>: adds ∂L/∂γ and ∂L/∂β into the parameters'
    /// gradients and returns ∂L/∂x (see <see cref="LayerNormalization.Backward"/> for the derivative).</summary>
    /// <param name="x">[n × d], the input the forward pass normalised (for "Add &amp; Norm", the sum).</param>
    /// <param name="outputGradient">∂L/∂y, [n × d].</param>
    /// <returns>∂L/∂x, [n × d].</returns>
    public Matrix<float> Backward(Matrix<float> x, Matrix<float> outputGradient)
    {
        Shapes.RequireColumns(x, nameof(x), Dimension, "the LayerNorm width d");
        var gradients = LayerNormalization.Backward(x, Gain, Epsilon, outputGradient);
        GainParameter.Gradient.Add(gradients.Gain.ToRowMatrix(), GainParameter.Gradient);
        BiasParameter.Gradient.Add(gradients.Bias.ToRowMatrix(), BiasParameter.Gradient);
        return gradients.Input;
    }
}
