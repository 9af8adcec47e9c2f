// PyTorch's parameter groups: one optimizer, several sets of parameters with their own settings. The usual use is
// weight decay on the weight matrices and embeddings only, not on biases and LayerNorm's γ and β (which would pull the
// norms' gains towards zero): optimizer(params=[{"params": decayed, "weight_decay": λ}, {"params": rest, "weight_decay": 0}]).
namespace Attention.Training;

/// <summary>A set of parameters with its own weight decay (PyTorch's parameter group <c>{"params": …, "weight_decay": λ}</c>).</summary>
public sealed class ParameterGroup
{
    /// <summary>Creates a group.</summary>
    /// <param name="parameters">Its parameters.</param>
    /// <param name="weightDecay">λ ≥ 0 for this group, or null for the optimizer's.</param>
    public ParameterGroup(IEnumerable<Parameter> parameters, float? weightDecay = null)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = [.. parameters];
        if (Parameters.Any(p => p is null))
        {
            throw new ArgumentException("A parameter group holds a null parameter.", nameof(parameters));
        }
        if (weightDecay is { } decay && !(decay >= 0 && float.IsFinite(decay)))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "A group's weight decay must be a finite number ≥ 0.");
        }
        WeightDecay = weightDecay;
    }

    /// <summary>The group's parameters.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>λ for this group, or null for the optimizer's.</summary>
    public float? WeightDecay { get; }

    /// <summary>The usual split: weight matrices and embeddings decay by <paramref name="weightDecay"/>; 1-d parameters
    /// (biases, LayerNorm's γ and β; <see cref="Parameter.IsVector"/>) do not decay. Order is kept within each group.</summary>
    /// <param name="parameters">The parameters, e.g. <c>model.Parameters()</c>.</param>
    /// <param name="weightDecay">λ for the matrices.</param>
    /// <returns>Two groups: the decayed matrices, then the vectors with λ = 0.</returns>
    public static IReadOnlyList<ParameterGroup> DecayMatricesOnly(IEnumerable<Parameter> parameters, float weightDecay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var all = parameters.ToList();
        return [new ParameterGroup(all.Where(p => !p.IsVector), weightDecay), new ParameterGroup(all.Where(p => p.IsVector), 0)];
    }
}
