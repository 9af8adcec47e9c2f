// Training that produces a NaN or an infinite loss has diverged: the trainer stops before the update, so the parameters
// and the last checkpoint keep their last good values.
namespace Attention.Training;

/// <summary>The loss or the gradient norm of an update was not finite; that update was not applied.</summary>
public sealed class TrainingDivergedException : ArithmeticException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="step">The update (from 1) that diverged.</param>
    /// <param name="message">What was not finite, and where.</param>
    public TrainingDivergedException(int step, string message)
        : base(message)
    {
        Step = step;
    }

    /// <summary>The update (from 1) whose loss or gradient was not finite.</summary>
    public int Step { get; }
}
