// The learning rate as a function of the update number n (1 for the first update).
//
// The paper (§5.3):  lrate = d_model^−0.5 · min(n^−0.5, n · warmup_steps^−1.5): it rises linearly for warmup_steps
// updates, then falls as 1/√n. PyTorch's LambdaLR evaluates its lambda at 0 when it is created and at k after the k-th
// scheduler.step(), so the k-th optimizer update (k from 1) runs with lambda(k − 1): to give it this schedule's rate(k),
// write LambdaLR(optimizer, lambda s: rate(s + 1)) with the optimizer's lr set to 1. (lambda s: rate(s) would make the
// first update use rate(0) = 0.)
namespace Attention.Training;

/// <summary>Learning-rate schedules: n ↦ lr for update n = 1, 2, ….</summary>
public static class LearningRateSchedule
{
    /// <summary>The paper's warm-up: d_model^−0.5 · min(n^−0.5, n · warmup^−1.5).</summary>
    /// <param name="modelDim">d_model.</param>
    /// <param name="warmupSteps">Updates of linear warm-up (the paper: 4000).</param>
    /// <param name="factor">A multiplier (the Annotated Transformer's "factor"; the paper's is 1).</param>
    /// <returns>The schedule; it throws for n &lt; 1.</returns>
    public static Func<int, float> Warmup(int modelDim, int warmupSteps, float factor = 1.0f)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(warmupSteps);
        return n => (float)(factor * Math.Pow(modelDim, -0.5) * Math.Min(Math.Pow(Update(n), -0.5), n * Math.Pow(warmupSteps, -1.5)));
    }

    /// <summary>The same rate at every update.</summary>
    /// <param name="rate">lr.</param>
    /// <returns>The schedule.</returns>
    public static Func<int, float> Constant(float rate) => n =>
    {
        Update(n);
        return rate;
    };

    /// <summary>Cosine decay from <paramref name="peak"/> at update 1 to <paramref name="floor"/> at <paramref name="totalSteps"/>,
    /// then <paramref name="floor"/>: floor + (peak − floor)·(1 + cos(π·(n − 1)/(total − 1)))/2.</summary>
    /// <param name="peak">The first rate.</param>
    /// <param name="floor">The last rate.</param>
    /// <param name="totalSteps">Updates over which it decays, at least 2.</param>
    /// <returns>The schedule.</returns>
    public static Func<int, float> Cosine(float peak, float floor, int totalSteps)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(totalSteps, 2);
        return n => Update(n) >= totalSteps ? floor : (float)(floor + (peak - floor) * (1 + Math.Cos(Math.PI * (n - 1) / (totalSteps - 1))) / 2);
    }

    private static int Update(int n) => n >= 1 ? n : throw new ArgumentOutOfRangeException(nameof(n), n, "Updates are numbered from 1.");
}
