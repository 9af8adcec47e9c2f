// A fully connected layer in PyTorch's layout: y = x·Wᵀ + b, with W stored [out × in].
using Attention.Kernels;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>
/// PyTorch's <c>nn.Linear</c>: y = x·Wᵀ + b, with <see cref="Weight"/> stored <c>[out × in]</c> so that weights
/// move between PyTorch and this library unchanged.
/// </summary>
public sealed class Linear
{
    /// <summary>Creates a layer initialised exactly as <c>torch.nn.Linear(inFeatures, outFeatures, bias)</c> after the same seed.</summary>
    /// <param name="inFeatures">Input size, at least 1.</param>
    /// <param name="outFeatures">Output size, at least 1.</param>
    /// <param name="generator">The random source: W ~ U(−k, k) with k = √3·gain/√in (Kaiming uniform, a = √5), then b ~ U(−1/√in, 1/√in).</param>
    /// <param name="bias">Whether the layer adds a bias.</param>
    public Linear(int inFeatures, int outFeatures, TorchGenerator generator, bool bias = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inFeatures);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        ArgumentNullException.ThrowIfNull(generator);
        // torch.nn.init.kaiming_uniform_(weight, a=math.sqrt(5)), computed in double as PyTorch does.
        var a = Math.Sqrt(5.0);
        var gain = Math.Sqrt(2.0 / (1 + a * a));
        var bound = Math.Sqrt(3.0) * (gain / Math.Sqrt(inFeatures));
        var weight = new float[Shapes.Elements(outFeatures, inFeatures, "The weight", nameof(outFeatures))];
        generator.Uniform(weight, -bound, bound);
        Weight = Matrix<float>.Build.DenseOfRowMajor(outFeatures, inFeatures, weight);
        if (bias)
        {
            var biasBound = 1.0 / Math.Sqrt(inFeatures);
            var b = new float[outFeatures];
            generator.Uniform(b, -biasBound, biasBound);
            Bias = Vector<float>.Build.Dense(b);
        }
        (WeightParameter, BiasParameter) = Parameters(Weight, Bias);
    }

    /// <summary>Creates a layer initialised as <c>torch.manual_seed(seed); torch.nn.Linear(inFeatures, outFeatures, bias)</c>.</summary>
    /// <param name="inFeatures">Input size, at least 1.</param>
    /// <param name="outFeatures">Output size, at least 1.</param>
    /// <param name="seed">The seed given to a fresh <see cref="TorchGenerator"/>.</param>
    /// <param name="bias">Whether the layer adds a bias.</param>
    public Linear(int inFeatures, int outFeatures, long seed, bool bias = true)
        : this(inFeatures, outFeatures, new TorchGenerator(seed), bias)
    {
    }

    /// <summary>Creates a layer holding copies of the given parameters.</summary>
    /// <param name="weight">[out × in].</param>
    /// <param name="bias">[out], or null for no bias.</param>
    public Linear(Matrix<float> weight, Vector<float>? bias = null)
        : this(weight, bias, copy: true)
    {
    }

    private Linear(Matrix<float> weight, Vector<float>? bias, bool copy, Parameter? sharedWeight = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        if (bias is not null && bias.Count != weight.RowCount)
        {
            throw new ArgumentException($"bias must have {weight.RowCount} entries (one per output, weight is {Shapes.Of(weight)}), but it has {bias.Count}.", nameof(bias));
        }
        Weight = copy ? weight.Clone() : weight;
        Bias = copy ? bias?.Clone() : bias;
        (WeightParameter, BiasParameter) = Parameters(Weight, Bias);
        WeightParameter = sharedWeight ?? WeightParameter;
    }

    /// <summary>W as a trainable parameter (<c>weight</c>): its value is <see cref="Weight"/> itself.</summary>
    public Parameter WeightParameter { get; }

    /// <summary>b as a trainable parameter (<c>bias</c>, [1 × out]) sharing <see cref="Bias"/>'s values, or null.</summary>
    public Parameter? BiasParameter { get; }

    /// <summary>The parameters under PyTorch's names: <c>{prefix}weight</c>, then <c>{prefix}bias</c>.</summary>
    /// <param name="prefix">E.g. <c>"encoder.layers.0.linear1."</c>.</param>
    /// <returns>Name and parameter pairs, in state_dict order.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        yield return (prefix + "weight", WeightParameter);
        if (BiasParameter is not null)
        {
            yield return (prefix + "bias", BiasParameter);
        }
    }

    private static (Parameter, Parameter?) Parameters(Matrix<float> weight, Vector<float>? bias) =>
        (new Parameter("weight", weight),
         bias is null ? null : new Parameter("bias", Matrix<float>.Build.Dense(1, bias.Count, bias.AsArray() ?? throw new ArgumentException("The bias must be a dense vector.", nameof(bias))), isVector: true));

    /// <summary>W, [out × in]; PyTorch's <c>weight</c>.</summary>
    public Matrix<float> Weight { get; }

    /// <summary>b, [out], or null; PyTorch's <c>bias</c>.</summary>
    public Vector<float>? Bias { get; }

    /// <summary>Input size (columns of <see cref="Weight"/>).</summary>
    public int InFeatures => Weight.ColumnCount;

    /// <summary>Output size (rows of <see cref="Weight"/>).</summary>
    public int OutFeatures => Weight.RowCount;

    /// <summary>Reads <c>{prefix}weight</c> [out × in] and, when present, <c>{prefix}bias</c> [out].</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">E.g. <c>"lm_head."</c>.</param>
    /// <param name="inFeatures">Expected input size.</param>
    /// <param name="outFeatures">Expected output size.</param>
    /// <returns>The layer.</returns>
    public static Linear FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, int inFeatures, int outFeatures)
    {
        ArgumentNullException.ThrowIfNull(state);
        var bias = state.ContainsKey(prefix + "bias") ? StateDict.Vector(state, prefix + "bias", outFeatures) : null;
        return new Linear(StateDict.Matrix(state, prefix + "weight", outFeatures, inFeatures), bias);
    }

    /// <summary>Writes <c>{prefix}weight</c> and, when there is one, <c>{prefix}bias</c> (as [1 × out]).</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">The name prefix.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        state[prefix + "weight"] = Weight.Clone();
        if (Bias is not null)
        {
            state[prefix + "bias"] = StateDict.Row(Bias);
        }
    }

    /// <summary>A layer that uses <paramref name="weight"/> itself, not a copy: weight tying (the LM head sharing the embedding).</summary>
    /// <remarks>The layer shares the parameter too, so the gradients of both uses add up in one place.</remarks>
    internal static Linear Sharing(Parameter weight, Vector<float>? bias) => new(weight.Value, bias, copy: false, weight);

    /// <summary>y = x·Wᵀ + b.</summary>
    /// <param name="x">[n × in], one row per token.</param>
    /// <returns>[n × out].</returns>
    /// <exception cref="ArgumentException">x does not have in columns; the message names both shapes.</exception>
    public Matrix<float> Forward(Matrix<float> x)
    {
        Shapes.RequireColumns(x, nameof(x), InFeatures, $"in_features of a Linear whose weight is {Shapes.Of(Weight)}");
        return MatrixMultiply.Linear(x, Weight, Bias);                  // y = x·Wᵀ + b   [n × out]
    }

    /// <summary>y = x·Wᵀ + b written into <paramref name="result"/> instead of a new matrix.</summary>
    /// <param name="x">[n × in], one row per token.</param>
    /// <param name="result">[n × out], dense and not <paramref name="x"/>; overwritten.</param>
    /// <exception cref="ArgumentException">A shape does not fit (the message names both shapes), or the result is not dense or is x.</exception>
    public void Forward(Matrix<float> x, Matrix<float> result)
    {
        Shapes.RequireColumns(x, nameof(x), InFeatures, $"in_features of a Linear whose weight is {Shapes.Of(Weight)}");
        MatrixMultiply.Linear(x, Weight, Bias, result);
    }

    /// <summary>The backward pass of <see cref="Forward(Matrix{float})"/>: adds ∂L/∂W and ∂L/∂b into the parameters'
    /// gradients and returns ∂L/∂x.</summary>
    /// <param name="x">[n × in], the input the forward pass saw.</param>
    /// <param name="outputGradient">∂L/∂y, [n × out].</param>
    /// <returns>∂L/∂x, [n × in].</returns>
    /// <remarks>y = x·Wᵀ + b, so ∂L/∂x = ∂L/∂y·W, ∂L/∂W = (∂L/∂y)ᵀ·x and ∂L/∂b = Σ over the rows of ∂L/∂y.</remarks>
    public Matrix<float> Backward(Matrix<float> x, Matrix<float> outputGradient)
    {
        Shapes.RequireColumns(x, nameof(x), InFeatures, $"in_features of a Linear whose weight is {Shapes.Of(Weight)}");
        Shapes.RequireShape(outputGradient, nameof(outputGradient), x.RowCount, OutFeatures, "[n × out], one row per row of x");
        WeightParameter.Gradient.Add(MatrixMultiply.TransposeMultiply(outputGradient, x), WeightParameter.Gradient);   // += (∂L/∂y)ᵀ·x
        BiasParameter?.Gradient.Add(outputGradient.ColumnSums().ToRowMatrix(), BiasParameter.Gradient);                // += Σ_rows ∂L/∂y
        return MatrixMultiply.Multiply(outputGradient, Weight);                                                        // ∂L/∂y·W
    }
}
