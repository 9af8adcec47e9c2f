// Adam (Kingma & Ba, 2015), the paper's optimizer (§5.3: β₁ = 0.9, β₂ = 0.98, ε = 1e-9), as torch.optim.Adam computes it:
//   g = g + λ·θ                       (Adam's weight decay is an L2 term on the gradient; AdamW decays θ directly instead)
//   m = β₁·m + (1 − β₁)·g;   v = β₂·v + (1 − β₂)·g²
//   θ = θ − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
namespace Attention.Training;

/// <summary>PyTorch's <c>torch.optim.Adam</c> (and, with <c>decoupled</c>, <c>torch.optim.AdamW</c>).</summary>
public class Adam : Optimizer
{
    private readonly float[]?[] _first;
    private readonly float[]?[] _second;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β₁, the decay of the mean of the gradients.</param>
    /// <param name="beta2">β₂, the decay of the mean of their squares.</param>
    /// <param name="epsilon">ε, added to the root.</param>
    /// <param name="weightDecay">λ ≥ 0.</param>
    public Adam(IEnumerable<Parameter> parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0)
        : this([new ParameterGroup(parameters ?? throw new ArgumentNullException(nameof(parameters)))], learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>Creates the optimizer over parameter groups, each with its own weight decay or this one's.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">λ ≥ 0 for groups without their own.</param>
    public Adam(IEnumerable<ParameterGroup> groups, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0)
        : this(groups, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: false)
    {
    }

    /// <summary>Adam or AdamW.</summary>
    private protected Adam(IEnumerable<ParameterGroup> groups, float learningRate, float beta1, float beta2, float epsilon, float weightDecay, bool decoupled)
        : base(groups, learningRate, weightDecay)
    {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(epsilon >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(beta1), "β₁ and β₂ must be in [0, 1) and ε ≥ 0.");
        }
        (Beta1, Beta2, Epsilon, Decoupled) = (beta1, beta2, epsilon, decoupled);
        (_first, _second) = (new float[]?[Parameters.Count], new float[]?[Parameters.Count]);
    }

    /// <summary>β₁.</summary>
    public float Beta1 { get; }

    /// <summary>β₂.</summary>
    public float Beta2 { get; }

    /// <summary>ε.</summary>
    public float Epsilon { get; }

    /// <summary>True for AdamW: θ ← θ·(1 − lr·λ) before the step, instead of λ·θ added to the gradient.</summary>
    public bool Decoupled { get; }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, float[]?[] Buffers)> StateBuffers => [("exp_avg", _first), ("exp_avg_sq", _second)];

    /// <inheritdoc />
    protected override void Update(int index, Parameter parameter)
    {
        var (theta, gradient) = (parameter.Value.AsColumnMajorArray()!, parameter.Gradient.AsColumnMajorArray()!);
        var m = _first[index] ??= new float[theta.Length];
        var v = _second[index] ??= new float[theta.Length];
        var stepSize = LearningRate / (1 - MathF.Pow(Beta1, Steps));                   // lr / (1 − β₁ᵗ)
        var rootCorrection = MathF.Sqrt(1 - MathF.Pow(Beta2, Steps));                   // √(1 − β₂ᵗ)
        var decay = WeightDecayOf(index);
        for (var i = 0; i < theta.Length; i++)
        {
            var g = gradient[i];
            if (Decoupled)
            {
                theta[i] *= 1 - LearningRate * decay;                             // AdamW: decay θ itself
            }
            else
            {
                g += decay * theta[i];                                            // Adam: L2 on the gradient
            }
            m[i] = Beta1 * m[i] + (1 - Beta1) * g;
            v[i] = Beta2 * v[i] + (1 - Beta2) * g * g;
            theta[i] -= stepSize * m[i] / (MathF.Sqrt(v[i]) / rootCorrection + Epsilon);
        }
    }
}

/// <summary>PyTorch's <c>torch.optim.AdamW</c> (Loshchilov &amp; Hutter, 2019): Adam with the weight decay applied to the
/// parameters, not added to the gradient.</summary>
public sealed class AdamW : Adam
{
    /// <summary>Creates the optimizer; PyTorch's default weight decay is 0.01.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">λ ≥ 0.</param>
    public AdamW(IEnumerable<Parameter> parameters, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
        : base([new ParameterGroup(parameters ?? throw new ArgumentNullException(nameof(parameters)))], learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }

    /// <summary>Creates the optimizer over parameter groups, each with its own weight decay or this one's.</summary>
    /// <param name="groups">The parameter groups, e.g. <see cref="ParameterGroup.DecayMatricesOnly"/>.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="beta1">β₁.</param>
    /// <param name="beta2">β₂.</param>
    /// <param name="epsilon">ε.</param>
    /// <param name="weightDecay">λ ≥ 0 for groups without their own.</param>
    public AdamW(IEnumerable<ParameterGroup> groups, float learningRate, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0.01f)
        : base(groups, learningRate, beta1, beta2, epsilon, weightDecay, decoupled: true)
    {
    }
}
