// An optimizer turns gradients into updates: θ ← θ − lr·(a direction computed from the gradients seen so far).
namespace Attention.Training;

/// <summary>What every optimizer shares: the parameters it updates, their weight decay and the learning rate of the next step.</summary>
public abstract class Optimizer
{
    private readonly float[] _weightDecay;

    /// <summary>Keeps the groups' parameters (in order, group by group), their weight decay and the learning rate.</summary>
    /// <param name="groups">The parameter groups (frozen parameters are skipped at each step).</param>
    /// <param name="learningRate">lr, finite and ≥ 0.</param>
    /// <param name="weightDecay">λ ≥ 0 for groups that do not set their own.</param>
    /// <exception cref="ArgumentException">A parameter appears twice (it would be updated twice per step).</exception>
    protected Optimizer(IEnumerable<ParameterGroup> groups, float learningRate, float weightDecay)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (!(weightDecay >= 0 && float.IsFinite(weightDecay)))
        {
            throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "The weight decay must be a finite number ≥ 0.");
        }
        var list = groups.ToList();
        Parameters = [.. list.SelectMany(g => g?.Parameters ?? throw new ArgumentException("A parameter group is null.", nameof(groups)))];
        _weightDecay = [.. list.SelectMany(g => g.Parameters.Select(_ => g.WeightDecay ?? weightDecay))];
        if (Parameters.Distinct().Count() != Parameters.Count)
        {
            var twice = Parameters.GroupBy(p => p).First(g => g.Count() > 1).Key;
            throw new ArgumentException($"Parameter {twice} is given twice; it would be updated twice per step.", nameof(groups));
        }
        (LearningRate, WeightDecay) = (learningRate, weightDecay);
    }

    /// <summary>The parameters, in the order given.</summary>
    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>λ for parameters whose group does not set its own.</summary>
    public float WeightDecay { get; }

    /// <summary>λ of the parameter at <paramref name="index"/> (its group's, or <see cref="WeightDecay"/>).</summary>
    /// <param name="index">Its position in <see cref="Parameters"/>.</param>
    /// <returns>λ.</returns>
    public float WeightDecayOf(int index) => _weightDecay[index];

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
