// Clipping by the global norm, as torch.nn.utils.clip_grad_norm_: if the gradients of all parameters together are longer
// than max_norm, scale them all by max_norm / (‖g‖ + 1e-6), so their direction is kept and their length capped.
namespace Attention.Training;

/// <summary>PyTorch's <c>torch.nn.utils.clip_grad_norm_(parameters, max_norm)</c> (the 2-norm).</summary>
public static class GradientClipping
{
    /// <summary>Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the 2-norm of all gradients together.</summary>
    /// <param name="parameters">The parameters whose gradients are clipped (in place).</param>
    /// <param name="maxNorm">The largest norm allowed, &gt; 0.</param>
    /// <returns>‖g‖ before clipping, as PyTorch returns it.</returns>
    public static float ClipByGlobalNorm(IEnumerable<Parameter> parameters, float maxNorm)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (!(maxNorm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "max_norm must be positive.");
        }
        var list = parameters.ToList();
        var total = GlobalNorm(list);
        var coefficient = maxNorm / (total + 1e-6f);
        if (coefficient < 1)
        {
            foreach (var parameter in list)
            {
                parameter.Gradient.Multiply(coefficient, parameter.Gradient);
            }
        }
        return total;
    }

    /// <summary>‖g‖, the 2-norm of all gradients together: the norm of the parameters' norms, as PyTorch computes it.</summary>
    /// <param name="parameters">The parameters.</param>
    /// <returns>‖g‖ (NaN or ∞ when a gradient holds one).</returns>
    public static float GlobalNorm(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        var squares = 0.0;
        foreach (var parameter in parameters)
        {
            var sum = 0.0;                                                              // ‖g_p‖², then the norm of the norms
            foreach (var g in Kernels.Storage.ColumnMajor(parameter.Gradient))
            {
                sum += (double)g * g;                                                   // (MathNet's FrobeniusNorm forms G·Gᵀ)
            }
            squares += sum;
        }
        return (float)Math.Sqrt(squares);
    }
}
