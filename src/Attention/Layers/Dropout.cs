// Dropout (Srivastava et al., 2014), used by the paper on every sub-layer output and on the embeddings (§5.4).
using Attention.Randomness;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>Zeroes each entry with probability p and scales the rest by 1/(1 − p), in training mode only; the identity otherwise.</summary>
/// <remarks>
/// <para>The mask comes from a seeded <see cref="TorchGenerator"/> (uniform u &lt; p drops), so a run is repeatable;
/// it is not PyTorch's mask, which comes from its own bernoulli_ kernel.</para>
/// <para>Several threads may run one model in training mode. By default every dropout layer draws from the generator it
/// was built with (under its lock), so which thread gets which mask depends on timing. For repeatable data parallelism
/// give each thread or sentence its own seeded stream with <see cref="UseGenerator"/>: every dropout layer in that async
/// flow then draws from it, in the order the flow's forward pass reaches them.</para>
/// </remarks>
public sealed class Dropout
{
    private static readonly AsyncLocal<TorchGenerator?> FlowGenerator = new();

    private readonly TorchGenerator _generator;

    /// <summary>Makes every dropout layer draw its masks from <paramref name="generator"/> in this async flow (and the
    /// tasks it starts) until the scope is disposed: one seeded stream per thread or per sentence.</summary>
    /// <param name="generator">The stream for this flow.</param>
    /// <returns>The scope; disposing it restores the stream before it.</returns>
    public static IDisposable UseGenerator(TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(generator);
        var previous = FlowGenerator.Value;
        FlowGenerator.Value = generator;
        return new Scope(previous);
    }

    /// <summary>Creates a dropout layer.</summary>
    /// <param name="probability">p, in [0, 1).</param>
    /// <param name="generator">The source of the masks.</param>
    public Dropout(float probability, TorchGenerator generator)
    {
        if (!(probability >= 0.0f && probability < 1.0f))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "Dropout probability must be in [0, 1).");
        }
        ArgumentNullException.ThrowIfNull(generator);
        Probability = probability;
        _generator = generator;
    }

    /// <summary>p, the probability of zeroing an entry.</summary>
    public float Probability { get; }

    /// <summary>When false (the default, evaluation), <see cref="Forward"/> returns its input unchanged.</summary>
    public bool Training { get; set; }

    /// <summary>Applies dropout in training mode.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <returns>x itself when not training or p = 0; otherwise a new [n × d] with dropped entries zero and the rest scaled by 1/(1 − p).</returns>
    public Matrix<float> Forward(Matrix<float> x) => ForwardRecorded(x).Output;

    /// <summary>The same as <see cref="Forward"/>, also returning the mask its backward pass needs: each entry 0 (dropped)
    /// or 1/(1 − p) (kept); null when the layer is the identity.</summary>
    /// <param name="x">[n × d]; not modified.</param>
    /// <returns>The output and the mask, [n × d] or null.</returns>
    public (Matrix<float> Output, Matrix<float>? Mask) ForwardRecorded(Matrix<float> x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (IsIdentity)
        {
            return (x, null);
        }
        var scale = 1.0f / (1.0f - Probability);
        var mask = new float[x.RowCount * x.ColumnCount];
        (FlowGenerator.Value ?? _generator).Rand(mask);     // one draw per entry, column by column, in one call (so one lock)
        var values = x.ToColumnMajorArray();
        for (var i = 0; i < values.Length; i++)
        {
            mask[i] = mask[i] < Probability ? 0.0f : scale;                  // u < p drops
            values[i] = mask[i] == 0.0f ? 0.0f : values[i] * scale;         // a dropped entry is 0, whatever it held
        }
        return (Matrix<float>.Build.Dense(x.RowCount, x.ColumnCount, values), Matrix<float>.Build.Dense(x.RowCount, x.ColumnCount, mask));
    }

    /// <summary>The backward pass: ∂L/∂x = ∂L/∂y ⊙ mask (the identity when there was no mask).</summary>
    /// <param name="mask">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂y.</param>
    /// <returns>∂L/∂x.</returns>
    public static Matrix<float> Backward(Matrix<float>? mask, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        return mask is null ? outputGradient : outputGradient.PointwiseMultiply(mask);
    }

    /// <summary>True when <see cref="Forward"/> returns its input unchanged: not training, or p = 0.</summary>
    internal bool IsIdentity => !Training || Probability == 0.0f;

    private sealed class Scope(TorchGenerator? previous) : IDisposable
    {
        public void Dispose() => FlowGenerator.Value = previous;
    }
}
