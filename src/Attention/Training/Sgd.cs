// Stochastic gradient descent with momentum, as torch.optim.SGD computes it:
//   d = g + λ·θ                                   (weight decay λ, an L2 term)
//   b = d at the first step, else μ·b + (1 − τ)·d  (momentum μ, dampening τ)
//   d = d + μ·b with Nesterov, else d = b
//   θ = θ − lr·d
namespace Attention.Training;

/// <summary>PyTorch's <c>torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)</c>.</summary>
public sealed class Sgd : Optimizer
{
    private readonly float[]?[] _momentum;

    /// <summary>Creates the optimizer.</summary>
    /// <param name="parameters">The parameters to update.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="momentum">μ ≥ 0 (0: plain gradient descent).</param>
    /// <param name="dampening">τ, the share of each new gradient left out of the momentum.</param>
    /// <param name="weightDecay">λ ≥ 0, added to the gradient as λ·θ.</param>
    /// <param name="nesterov">Nesterov momentum (needs μ &gt; 0 and τ = 0, as PyTorch requires).</param>
    public Sgd(IEnumerable<Parameter> parameters, float learningRate, float momentum = 0, float dampening = 0, float weightDecay = 0, bool nesterov = false)
        : this([new ParameterGroup(parameters ?? throw new ArgumentNullException(nameof(parameters)))], learningRate, momentum, dampening, weightDecay, nesterov)
    {
    }

    /// <summary>Creates the optimizer over parameter groups, each with its own weight decay or this one's.</summary>
    /// <param name="groups">The parameter groups.</param>
    /// <param name="learningRate">lr.</param>
    /// <param name="momentum">μ ≥ 0.</param>
    /// <param name="dampening">τ.</param>
    /// <param name="weightDecay">λ ≥ 0 for groups without their own.</param>
    /// <param name="nesterov">Nesterov momentum.</param>
    public Sgd(IEnumerable<ParameterGroup> groups, float learningRate, float momentum = 0, float dampening = 0, float weightDecay = 0, bool nesterov = false)
        : base(groups, learningRate, weightDecay)
    {
        if (!(momentum >= 0) || !(weightDecay >= 0) || !float.IsFinite(dampening))
        {
            throw new ArgumentOutOfRangeException(nameof(momentum), "Momentum and weight decay must be ≥ 0 and dampening finite.");
        }
        if (nesterov && (momentum <= 0 || dampening != 0))
        {
            throw new ArgumentException("Nesterov momentum requires a momentum > 0 and zero dampening.", nameof(nesterov));
        }
        (Momentum, Dampening, Nesterov) = (momentum, dampening, nesterov);
        _momentum = new float[]?[Parameters.Count];
    }

    /// <summary>μ.</summary>
    public float Momentum { get; }

    /// <summary>τ.</summary>
    public float Dampening { get; }

    /// <summary>Whether the momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc />
    protected override IEnumerable<(string Name, float[]?[] Buffers)> StateBuffers => [("momentum_buffer", _momentum)];

    /// <inheritdoc />
    protected override void Update(int index, Parameter parameter)
    {
        var (theta, gradient) = (parameter.Value.AsColumnMajorArray()!, parameter.Gradient.AsColumnMajorArray()!);
        var decay = WeightDecayOf(index);
        var first = _momentum[index] is null;
        var buffer = _momentum[index] ??= new float[theta.Length];
        for (var i = 0; i < theta.Length; i++)
        {
            var d = gradient[i] + decay * theta[i];                              // g + λ·θ
            if (Momentum != 0)
            {
                buffer[i] = first ? d : Momentum * buffer[i] + (1 - Dampening) * d;     // b
                d = Nesterov ? d + Momentum * buffer[i] : buffer[i];
            }
            theta[i] -= LearningRate * d;                                               // θ − lr·d
        }
    }
}
