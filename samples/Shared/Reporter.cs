using Attention.Training;

namespace Attention.Samples;

/// <summary>An <see cref="IProgress{T}"/> that runs on the trainer's thread (<c>Progress&lt;T&gt;</c> would post each report
/// to the thread pool, and the progress bar would draw them out of order).</summary>
internal sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
