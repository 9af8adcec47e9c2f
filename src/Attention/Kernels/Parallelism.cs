// How many threads the kernels may use: PyTorch's torch.set_num_threads, for this library.
//
// A product splits itself between the threads by C's columns, fused attention by heads or by blocks of queries; each
// result is bit-identical whatever the count (every sum runs in the same order), so the count changes only the speed.
namespace Attention.Kernels;

/// <summary>The number of threads the kernels use, like <c>torch.set_num_threads</c> / <c>torch.get_num_threads</c>.</summary>
/// <remarks>
/// <para>The default is one thread per core (<see cref="Environment.ProcessorCount"/>), or the value of the environment
/// variable <c>ATTENTION_NUM_THREADS</c> when it is set. <see cref="ThreadCount"/> changes it for the whole process;
/// <see cref="Use"/> changes it for one async flow (one test, one request) until the scope ends. Results are the same
/// bits on any count.</para>
/// <example><code>
/// Parallelism.ThreadCount = 1;             // every later call, on every thread
/// using (Parallelism.Use(2)) { ... }       // only this flow, until disposed
/// </code></example>
/// </remarks>
public static class Parallelism
{
    private static readonly AsyncLocal<int> Count = new();
    private static int _processCount = DefaultCount();

    /// <summary>The threads the kernels use in every flow that has not set its own with <see cref="Use"/>; at least 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Set below 1.</exception>
    public static int ThreadCount
    {
        get => Volatile.Read(ref _processCount);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(value);
            Volatile.Write(ref _processCount, value);
        }
    }

    /// <summary>The threads a kernel may use now, in this async flow: the count of the innermost <see cref="Use"/>
    /// scope, or else <see cref="ThreadCount"/>.</summary>
    public static int Threads => Count.Value > 0 ? Count.Value : ThreadCount;

    /// <summary>Runs kernels in this async flow (and the tasks it starts) on <paramref name="threads"/> threads until the
    /// returned scope is disposed; other flows keep theirs. More threads than cores is allowed: tests use it to split work
    /// unevenly, and to compare one thread with many, on any machine.</summary>
    /// <param name="threads">At least 1.</param>
    /// <returns>The scope; disposing it restores the count before it.</returns>
    public static IDisposable Use(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        var previous = Count.Value;
        Count.Value = threads;
        return new Scope(previous);
    }

    /// <summary>
    /// Calls <paramref name="body"/>(i) once for each i = 0 … <paramref name="count"/> − 1 on at most
    /// <paramref name="threads"/> threads, the calling one among them, and returns when all are done. Runs on the
    /// <see cref="WorkerTeam"/>, whose workers stay awake between regions, or on the thread pool when another caller has
    /// the team. The first exception a body throws is rethrown as it is.
    /// </summary>
    internal static void For(int count, int threads, Action<int> body)
    {
        if (WorkerTeam.Shared.TryRun(count, threads, body))
        {
            return;
        }
        try
        {
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = threads }, body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }
    }

    /// <summary>Below this many multiply-adds work stays on the calling thread (starting threads costs more).</summary>
    internal const long ParallelThreshold = 1L << 21;

    private static int DefaultCount() =>
        int.TryParse(Environment.GetEnvironmentVariable("ATTENTION_NUM_THREADS"), out var count) && count > 0 ? count : Environment.ProcessorCount;

    private sealed class Scope(int previous) : IDisposable
    {
        public void Dispose() => Count.Value = previous;
    }
}
