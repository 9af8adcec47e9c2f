// Cross-entropy of next-token logits against the true tokens, as PyTorch's nn.CrossEntropyLoss computes it, with the
// paper's label smoothing (§5.4, ε_ls = 0.1):
//   log p_i = z_i − logsumexp(z_i)                                    (row i of the logits; max subtracted, so ±1e4 stays exact)
//   loss_i  = −(1 − ε)·log p_i[t_i] − (ε/C)·Σ_c log p_i[c]            (0 for a row whose target is ignore_index)
//   mean    = Σ_i loss_i / (number of rows not ignored);   sum = Σ_i loss_i
// and its gradient, written out: ∂loss_i/∂z_ic = p_ic − (1 − ε)·[c = t_i] − ε/C, divided by the count for the mean.
using Attention.Kernels;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Training;

/// <summary>How per-token losses become one number, as PyTorch's <c>reduction</c>.</summary>
public enum LossReduction
{
    /// <summary>The mean over the tokens whose target is not ignored (PyTorch's default).</summary>
    Mean,

    /// <summary>The sum over all tokens.</summary>
    Sum,

    /// <summary>No reduction: one loss per token.</summary>
    None,
}

/// <summary>The loss of one batch of logits: per token, and reduced.</summary>
/// <param name="Loss">The reduced loss (for <see cref="LossReduction.None"/>, the sum).</param>
/// <param name="PerToken">loss_i for every row, [n]; 0 where the target is ignored.</param>
/// <param name="Counted">How many rows were not ignored (the mean's divisor).</param>
/// <param name="NegativeLogLikelihood">−Σ log p_i[t_i] over the counted rows, reduced as the loss: the loss without label
/// smoothing (e to its mean is the perplexity).</param>
public sealed record CrossEntropyOutput(float Loss, Vector<float> PerToken, int Counted, double NegativeLogLikelihood = 0);

/// <summary>PyTorch's <c>nn.CrossEntropyLoss(ignore_index=…, label_smoothing=…, reduction=…)</c> over logits [n × C].</summary>
/// <remarks>Sums run in double and round to float at the end. A batch whose every target is ignored has no mean (PyTorch
/// answers NaN, 0/0): asking for it throws instead.</remarks>
public sealed class CrossEntropyLoss
{
    /// <summary>Creates the loss.</summary>
    /// <param name="ignoreIndex">A target that contributes nothing (padding); PyTorch's default −100.</param>
    /// <param name="labelSmoothing">ε in [0, 1]: the share of the target's weight spread evenly over all C classes (the paper: 0.1).</param>
    /// <param name="reduction">Mean (default), sum or none.</param>
    public CrossEntropyLoss(int ignoreIndex = -100, float labelSmoothing = 0.0f, LossReduction reduction = LossReduction.Mean)
    {
        if (!(labelSmoothing >= 0.0f && labelSmoothing <= 1.0f))
        {
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, "Label smoothing must be in [0, 1].");
        }
        (IgnoreIndex, LabelSmoothing, Reduction) = (ignoreIndex, labelSmoothing, reduction);
    }

    /// <summary>The ignored target.</summary>
    public int IgnoreIndex { get; }

    /// <summary>ε, the label smoothing.</summary>
    public float LabelSmoothing { get; }

    /// <summary>How the per-token losses are reduced.</summary>
    public LossReduction Reduction { get; }

    /// <summary>The loss of <paramref name="logits"/> against <paramref name="targets"/>.</summary>
    /// <param name="logits">[n × C], one row of unnormalised scores per token.</param>
    /// <param name="targets">n class ids in [0, C), or <see cref="IgnoreIndex"/>.</param>
    /// <returns>The reduced loss and the per-token losses.</returns>
    /// <exception cref="ArgumentException">Counts disagree, a target is outside [0, C), or (for the mean) every target is ignored.</exception>
    public CrossEntropyOutput Forward(Matrix<float> logits, IReadOnlyList<int> targets)
    {
        var counted = Check(logits, targets);
        var (n, classes, epsilon) = (logits.RowCount, logits.ColumnCount, (double)LabelSmoothing);
        var logSumExp = RowReductions.LogSumExp(logits);                                 // log Σ_c exp z_ic, per row
        var sums = RowReductions.Sums(logits);                                           // Σ_c z_ic, per row
        var perToken = Vector<float>.Build.Dense(n);
        var (total, nll) = (0.0, 0.0);
        for (var i = 0; i < n; i++)
        {
            if (targets[i] == IgnoreIndex)
            {
                continue;
            }
            var logPTarget = logits.At(i, targets[i]) - logSumExp[i];                  // log p_i[t_i]
            var sumOfLogP = sums[i] - classes * logSumExp[i];                            // Σ_c log p_i[c] = Σ_c z_ic − C·logsumexp
            var loss = -(1 - epsilon) * logPTarget - epsilon / classes * sumOfLogP;
            perToken[i] = (float)loss;
            (total, nll) = (total + loss, nll - logPTarget);
        }
        var divisor = Reduction == LossReduction.Mean ? counted : 1;
        return new CrossEntropyOutput((float)(total / divisor), perToken, counted, nll / divisor);
    }

    /// <summary>∂L/∂logits for the reduced loss L (the sum for <see cref="LossReduction.None"/>).</summary>
    /// <param name="logits">[n × C], as given to <see cref="Forward"/>.</param>
    /// <param name="targets">n targets, as given to <see cref="Forward"/>.</param>
    /// <returns>[n × C]: p_ic − (1 − ε)·[c = t_i] − ε/C per counted row (over the count for the mean), 0 in ignored rows.</returns>
    public Matrix<float> Backward(Matrix<float> logits, IReadOnlyList<int> targets)
    {
        var counted = Check(logits, targets);
        var (n, classes, epsilon) = (logits.RowCount, logits.ColumnCount, LabelSmoothing);
        var scale = Reduction == LossReduction.Mean ? 1.0f / counted : 1.0f;
        var gradient = RowReductions.Softmax(logits);                                       // p_ic
        gradient.Subtract(epsilon / classes, gradient);                                     // − ε/C, the smoothed one-hot's floor
        for (var i = 0; i < n; i++)
        {
            if (targets[i] == IgnoreIndex)
            {
                gradient.ClearRow(i);                                                       // an ignored row gets nothing
            }
            else
            {
                gradient.At(i, targets[i], gradient.At(i, targets[i]) - (1 - epsilon));     // − (1 − ε) at the target
            }
        }
        if (scale != 1.0f)
        {
            gradient.Multiply(scale, gradient);                                             // the mean: over the counted rows
        }
        return gradient;
    }

    /// <summary>The number of rows not ignored, after checking every argument.</summary>
    private int Check(Matrix<float> logits, IReadOnlyList<int> targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count != logits.RowCount)
        {
            throw new ArgumentException($"targets must hold one class per row of the logits [{logits.RowCount} × {logits.ColumnCount}], but it holds {targets.Count}.", nameof(targets));
        }
        var counted = 0;
        for (var i = 0; i < targets.Count; i++)
        {
            if (targets[i] == IgnoreIndex)
            {
                continue;
            }
            if (targets[i] < 0 || targets[i] >= logits.ColumnCount)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), targets[i],
                    $"Target {targets[i]} of row {i} is not a class of the {logits.ColumnCount} logits (nor the ignore index {IgnoreIndex}).");
            }
            counted++;
        }
        if (counted == 0 && Reduction == LossReduction.Mean)
        {
            throw new ArgumentException($"Every target is the ignore index {IgnoreIndex}: the mean over no tokens is 0/0 (PyTorch answers NaN).", nameof(targets));
        }
        return counted;
    }
}
