// "Attention Is All You Need", §3.3, Eq. (2):  FFN(x) = max(0, x·W₁ + b₁)·W₂ + b₂,  applied to each position alike.
// PyTorch names the two maps linear1 [d_ff × d_model] and linear2 [d_model × d_ff] and puts dropout after the activation.
using Attention.Kernels;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Training;
using MathNet.Numerics;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>The position-wise feed-forward network: Linear(d_model → d_ff), activation, dropout, Linear(d_ff → d_model).</summary>
public sealed class FeedForward
{
    /// <summary>Creates the network with PyTorch's <c>nn.Linear</c> initialisation (linear1, then linear2).</summary>
    /// <param name="modelDim">d_model.</param>
    /// <param name="feedForwardDim">d_ff, the inner width (2048 in the paper).</param>
    /// <param name="activation">ReLU (the paper) or exact GELU.</param>
    /// <param name="generator">The random source for the weights and for dropout.</param>
    /// <param name="dropout">Dropout probability after the activation (active in training mode only).</param>
    public FeedForward(int modelDim, int feedForwardDim, Activation activation, TorchGenerator generator, float dropout = 0.0f)
        : this(new Linear(modelDim, feedForwardDim, generator), new Linear(feedForwardDim, modelDim, generator), activation, new Dropout(dropout, generator))
    {
    }

    private FeedForward(Linear first, Linear second, Activation activation, Dropout dropout)
    {
        if (second.InFeatures != first.OutFeatures || second.OutFeatures != first.InFeatures)
        {
            throw new ArgumentException($"linear2 {Shapes.Of(second.Weight)} must map d_ff back to d_model, the reverse of linear1 {Shapes.Of(first.Weight)}.", nameof(second));
        }
        (Linear1, Linear2, Activation, Dropout) = (first, second, activation, dropout);
    }

    /// <summary>W₁, b₁: [d_ff × d_model], [d_ff] (PyTorch's <c>linear1</c>).</summary>
    public Linear Linear1 { get; }

    /// <summary>W₂, b₂: [d_model × d_ff], [d_model] (PyTorch's <c>linear2</c>).</summary>
    public Linear Linear2 { get; }

    /// <summary>The non-linearity.</summary>
    public Activation Activation { get; }

    /// <summary>Dropout after the activation.</summary>
    public Dropout Dropout { get; }

    /// <summary>Reads <c>{prefix}linear1.weight/bias</c> and <c>{prefix}linear2.weight/bias</c>.</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">E.g. <c>"encoder.layers.0."</c>.</param>
    /// <param name="modelDim">d_model.</param>
    /// <param name="feedForwardDim">d_ff.</param>
    /// <param name="activation">The non-linearity.</param>
    /// <param name="dropout">The dropout layer to use.</param>
    /// <returns>The network.</returns>
    public static FeedForward FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, int modelDim, int feedForwardDim, Activation activation, Dropout dropout) =>
        new(
            new Linear(StateDict.Matrix(state, prefix + "linear1.weight", feedForwardDim, modelDim), StateDict.Vector(state, prefix + "linear1.bias", feedForwardDim)),
            new Linear(StateDict.Matrix(state, prefix + "linear2.weight", modelDim, feedForwardDim), StateDict.Vector(state, prefix + "linear2.bias", modelDim)),
            activation,
            dropout);

    /// <summary>Writes <c>{prefix}linear1.*</c> and <c>{prefix}linear2.*</c>.</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">The name prefix.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        Linear1.AddTo(state, prefix + "linear1.");
        Linear2.AddTo(state, prefix + "linear2.");
    }

    /// <summary>FFN(x) = activation(x·W₁ᵀ + b₁)·W₂ᵀ + b₂.</summary>
    /// <param name="x">[n × d_model].</param>
    /// <returns>[n × d_model].</returns>
    public Matrix<float> Forward(Matrix<float> x)
    {
        Shapes.RequireColumns(x, nameof(x), Linear1.InFeatures, "d_model");
        var hidden = Linear1.Forward(x);                                 // x·W₁ᵀ + b₁                 [n × d_ff]
        hidden = Activation == Activation.ReLU
            ? Elementwise.Relu(hidden, hidden)                           // max(0, ·), in place
            : Elementwise.Gelu(hidden, hidden);                          // x·Φ(x), in place
        return Linear2.Forward(Dropout.Forward(hidden));                 // ·W₂ᵀ + b₂                  [n × d_model]
    }

    /// <summary>The parameters under PyTorch's names: <c>{prefix}linear1.weight</c>, <c>.bias</c>, <c>{prefix}linear2.weight</c>, <c>.bias</c>.</summary>
    /// <param name="prefix">E.g. <c>"encoder.layers.0."</c>.</param>
    /// <returns>Name and parameter pairs, in state_dict order.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "") =>
        Linear1.NamedParameters(prefix + "linear1.").Concat(Linear2.NamedParameters(prefix + "linear2."));

    /// <summary>The forward pass for training: the output and what <see cref="Backward"/> needs.</summary>
    /// <param name="x">[n × d_model].</param>
    /// <returns>The record; its <see cref="FeedForwardRecord.Output"/> is FFN(x).</returns>
    public FeedForwardRecord ForwardRecorded(Matrix<float> x)
    {
        Shapes.RequireColumns(x, nameof(x), Linear1.InFeatures, "d_model");
        var preActivation = Linear1.Forward(x);                                   // z = x·W₁ᵀ + b₁
        var activated = Activation == Activation.ReLU ? Elementwise.Relu(preActivation) : Elementwise.Gelu(preActivation);
        var (hidden, mask) = Dropout.ForwardRecorded(activated);
        return new FeedForwardRecord(x, preActivation, hidden, mask, Linear2.Forward(hidden));
    }

    /// <summary>The backward pass: adds the gradients of W₁, b₁, W₂, b₂ and returns ∂L/∂x.</summary>
    /// <param name="record">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂FFN(x), [n × d_model].</param>
    /// <returns>∂L/∂x, [n × d_model].</returns>
    /// <remarks>Back through linear2, dropout, the activation (ReLU′(z) = [z &gt; 0]; GELU′(z) = Φ(z) + z·φ(z)), linear1.</remarks>
    public Matrix<float> Backward(FeedForwardRecord record, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var dHidden = Linear2.Backward(record.Hidden, outputGradient);              // ∂L/∂h
        var dActivated = Dropout.Backward(record.DropoutMask, dHidden);
        var dPre = dActivated.PointwiseMultiply(record.PreActivation.Map(ActivationDerivative));   // ⊙ f′(z)
        return Linear1.Backward(record.Input, dPre);                              // ∂L/∂x
    }

    private float ActivationDerivative(float z) => Activation == Activation.ReLU
        ? (z > 0 ? 1.0f : 0.0f)
        : (float)(0.5 * (1 + SpecialFunctions.Erf(z / Math.Sqrt(2))) + z * Math.Exp(-0.5 * z * z) / Math.Sqrt(2 * Math.PI));
}

/// <summary>What <see cref="FeedForward.Backward"/> needs from the forward pass.</summary>
/// <param name="Input">x, [n × d_model].</param>
/// <param name="PreActivation">z = x·W₁ᵀ + b₁, [n × d_ff].</param>
/// <param name="Hidden">Dropout(f(z)), the input of linear2, [n × d_ff].</param>
/// <param name="DropoutMask">The dropout mask, or null when dropout was the identity.</param>
/// <param name="Output">FFN(x), [n × d_model].</param>
public sealed record FeedForwardRecord(Matrix<float> Input, Matrix<float> PreActivation, Matrix<float> Hidden, Matrix<float>? DropoutMask, Matrix<float> Output);
