// An optimizer turns gradients into updates: θ ← θ − lr·(a direction computed from the gradients seen so far).
namespace Attention.Training;

/// <summary>What every optimizer shares: the parameters it updates and the learning rate of the next step.</summary>
public abstract class Optimizer
{
    /// <summary>Keeps the parameters and the learning rate.</summary>
    /// <param name="parameters">The parameters to update (frozen ones are skipped at each step).</param>
    /// <param name="learningRate">lr, positive and finite.</param>
    protected Optimizer(IEnumerable<Parameter> parameters, float learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = [.. parameters];
        LearningRate = learningRate;
    }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>lr for the next <see cref="Step"/>; a schedule sets it before each step.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not a finite number ≥ 0.</exception>
    public float LearningRate
    {
        get;
        set => field = value >= 0 && float.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be a finite number ≥ 0.");
    }

    /// <summary>How many steps have been taken.</summary>
    public int Steps { get; private set; }

    /// <summary>Updates every parameter that requires a gradient from its accumulated gradient.</summary>
    public void Step()
    {
        Steps++;
        for (var i = 0; i < Parameters.Count; i++)
        {
            if (Parameters[i].RequiresGradient)
            {
                Update(i, Parameters[i]);
            }
        }
    }

    /// <summary>Zeroes every parameter's gradient.</summary>
    public void ZeroGradients()
    {
        foreach (var parameter in Parameters)
        {
            parameter.ZeroGradient();
        }
    }

    /// <summary>One parameter's update at step <see cref="Steps"/> (1 for the first).</summary>
    /// <param name="index">Its position in <see cref="Parameters"/>, for the optimizer's per-parameter state.</param>
    /// <param name="parameter">The parameter.</param>
    protected abstract void Update(int index, Parameter parameter);
}
