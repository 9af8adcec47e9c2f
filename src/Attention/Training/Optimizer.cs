// An optimizer turns gradients into updates: θ ← θ − lr·(a direction computed from the gradients seen so far).
using MathNet.Numerics.LinearAlgebra;

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

    /// <summary>The optimizer's state for a checkpoint, as PyTorch's <c>optimizer.state_dict()</c> indexes it: for each
    /// parameter i (its position in <see cref="Parameters"/>) and each buffer it has (Adam: <c>exp_avg</c>,
    /// <c>exp_avg_sq</c>; SGD: <c>momentum_buffer</c>), <c>state.{i}.{buffer}</c> shaped as the parameter; and
    /// <c>step</c>, [1 × 1]. Copies.</summary>
    /// <returns>Named matrices, for <see cref="Serialization.SafeTensors.Write(string, IReadOnlyDictionary{string, Matrix{float}})"/>.</returns>
    public Dictionary<string, Matrix<float>> StateDict()
    {
        var state = new Dictionary<string, Matrix<float>>(StringComparer.Ordinal) { ["step"] = Matrix<float>.Build.Dense(1, 1, Steps) };
        foreach (var (name, buffers) in StateBuffers)
        {
            for (var i = 0; i < Parameters.Count; i++)
            {
                if (buffers[i] is { } buffer)
                {
                    state[$"state.{i}.{name}"] = Matrix<float>.Build.Dense(Parameters[i].Value.RowCount, Parameters[i].Value.ColumnCount, (float[])buffer.Clone());
                }
            }
        }
        return state;
    }

    /// <summary>Restores a <see cref="StateDict"/> (copied in), strictly: every name must be one this optimizer has,
    /// with the parameter's shape, and <c>step</c> a whole number; on any mismatch nothing changes.</summary>
    /// <param name="state">Named matrices.</param>
    /// <exception cref="ArgumentException">An unknown name, a wrong shape or a bad step; the message names it.</exception>
    public void LoadStateDict(IReadOnlyDictionary<string, Matrix<float>> state)
    {
        ArgumentNullException.ThrowIfNull(state);
        var buffers = StateBuffers.ToDictionary(b => b.Name, b => b.Buffers, StringComparer.Ordinal);
        var step = state.TryGetValue("step", out var s) && s.RowCount == 1 && s.ColumnCount == 1 ? s[0, 0] : -1;
        if (!(step >= 0 && step == MathF.Floor(step) && step < 1 << 24))
        {
            throw new ArgumentException("The optimizer state needs 'step', a [1 × 1] whole number ≥ 0.", nameof(state));
        }
        var restored = new List<(float[]?[] Buffers, int Index, float[] Values)>();
        foreach (var (name, value) in state.Where(e => e.Key != "step"))
        {
            var parts = name.Split('.');
            if (parts.Length != 3 || parts[0] != "state" || !int.TryParse(parts[1], out var i) || i < 0 || i >= Parameters.Count || !buffers.TryGetValue(parts[2], out var owner))
            {
                throw new ArgumentException($"'{name}' is not a buffer of this {GetType().Name} over {Parameters.Count} parameters (expected state.<index>.<{string.Join("|", buffers.Keys)}>).", nameof(state));
            }
            var p = Parameters[i].Value;
            if (value.RowCount != p.RowCount || value.ColumnCount != p.ColumnCount)
            {
                throw new ArgumentException($"'{name}' is [{value.RowCount} × {value.ColumnCount}], but parameter {i} ({Parameters[i].Name}) is [{p.RowCount} × {p.ColumnCount}].", nameof(state));
            }
            restored.Add((owner, i, value.ToColumnMajorArray()));
        }
        foreach (var list in buffers.Values)
        {
            Array.Clear(list);
        }
        foreach (var (owner, i, values) in restored)
        {
            owner[i] = values;
        }
        Steps = (int)step;
    }

    /// <summary>The per-parameter buffers by PyTorch's state names (an entry is null until the parameter's first update).</summary>
    protected abstract IEnumerable<(string Name, float[]?[] Buffers)> StateBuffers { get; }

    /// <summary>One parameter's update at step <see cref="Steps"/> (1 for the first).</summary>
    /// <param name="index">Its position in <see cref="Parameters"/>, for the optimizer's per-parameter state.</param>
    /// <param name="parameter">The parameter.</param>
    protected abstract void Update(int index, Parameter parameter);
}
