// How many threads the kernels may use, and the one way layers split work between them by tokens.
//
// A product or an attention call splits itself between the cores (Gemm by C's columns, fused attention by heads). A
// layer can do better for its position-wise part (§3.3: the feed-forward network is "applied to each position
// separately and identically"; so are the residual additions and the layer norms): each core takes a contiguous block
// of tokens through the whole part, and nothing one core writes is read by the other until the join. Inside such a
// block the kernels run on their own thread, as a BLAS does inside an OpenMP region.
namespace Attention.Kernels;

internal static class Parallelism
{
    private static readonly AsyncLocal<int> Count = new();

    /// <summary>The threads a kernel may start now: one per core, one inside <see cref="ForEachBlock"/>, or as set by <see cref="Use"/>.</summary>
    public static int Threads => Count.Value > 0 ? Count.Value : Environment.ProcessorCount;

    /// <summary>Runs kernels in this async flow on <paramref name="threads"/> threads until the scope is disposed. More
    /// threads than cores is allowed: tests use it to split work unevenly, and to compare one thread with many, on any machine.</summary>
    public static IDisposable Use(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(threads);
        var previous = Count.Value;
        Count.Value = threads;
        return new Scope(previous);
    }

    /// <summary>
    /// Calls <paramref name="body"/>(first, count) on contiguous blocks covering rows 0 … <paramref name="rows"/> − 1, one
    /// block per thread, with every kernel inside a block on that block's thread. Runs one block on the calling thread
    /// when there is one thread, or when <paramref name="work"/> (multiply-adds) is too little to pay for a second.
    /// </summary>
    public static void ForEachBlock(int rows, long work, Action<int, int> body)
    {
        var threads = Math.Min(Threads, rows);
        if (threads <= 1 || work < ParallelThreshold)
        {
            body(0, rows);
            return;
        }
        For(threads, threads, t =>
        {
            var (first, last) = (rows * t / threads, rows * (t + 1) / threads);
            using (Use(1))
            {
                body(first, last - first);
            }
        });
    }

    /// <summary>
    /// Calls <paramref name="body"/>(i) once for each i = 0 … <paramref name="count"/> − 1 on at most
    /// <paramref name="threads"/> threads, the calling one among them, and returns when all are done. Runs on the
    /// <see cref="WorkerTeam"/>, whose workers stay awake between regions, or on the thread pool when another caller has
    /// the team. The first exception a body throws is rethrown as it is.
    /// </summary>
    public static void For(int count, int threads, Action<int> body)
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
    public const long ParallelThreshold = 1L << 21;

    private sealed class Scope(int previous) : IDisposable
    {
        public void Dispose() => Count.Value = previous;
    }
}
