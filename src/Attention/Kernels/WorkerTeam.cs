// Threads that stay awake between parallel regions, as OpenMP's worker teams do (OMP_WAIT_POLICY=active, GOMP_SPINCOUNT).
//
// A layer is a chain of short parallel regions (Q, K, V in token blocks; attention by heads; the position-wise tail in
// token blocks), each a few milliseconds. With the .NET thread pool a worker that finds no work soon blocks, and on a
// virtual machine a blocked core may be descheduled by the host: waking it took milliseconds in 7–20% of encoder-layer
// calls here, and a late worker leaves its share to the caller, so such a call ran at one core's speed. Team workers
// spin for a while after each region instead, so the next region finds them running; after SpinTime of idleness they block,
// and after IdleExit of blocking they end: an idle process keeps no spinning thread and, soon, no worker at all. The next
// region starts them again.
using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Attention.Kernels;

internal sealed class WorkerTeam
{
    /// <summary>How long an idle worker spins before it blocks. Longer than the gaps inside a layer call; short enough that
    /// a program that calls the library now and then hardly notices the spinning.</summary>
    public static readonly TimeSpan SpinTime = TimeSpan.FromMilliseconds(2);

    /// <summary>How long a blocked worker waits for a region before its thread ends.</summary>
    public static readonly TimeSpan IdleExit = TimeSpan.FromSeconds(5);

    /// <summary>One team for the process: a worker per core besides the caller's.</summary>
    public static WorkerTeam Shared { get; } = new(Environment.ProcessorCount - 1, SpinTime, IdleExit);

    private readonly int _workerCount;
    private readonly long _spinTicks;
    private readonly TimeSpan _idleExit;
    private int _live;
    private readonly object _gate = new();
    private readonly Lock _startLock = new();
    private Region? _region;
    private int _generation;
    private int _busy;

    public WorkerTeam(int workerCount, TimeSpan spinTime, TimeSpan idleExit)
    {
        _workerCount = Math.Max(0, workerCount);
        _spinTicks = (long)(spinTime.TotalSeconds * Stopwatch.Frequency);
        _idleExit = idleExit;
    }

    /// <summary>How many worker threads are running now (for tests).</summary>
    public int LiveWorkers => Volatile.Read(ref _live);

    /// <summary>
    /// Calls <paramref name="body"/>(i) for i = 0 … <paramref name="count"/> − 1 on the calling thread and at most
    /// <paramref name="threads"/> − 1 workers, each index once, whichever thread comes first taking the next; returns
    /// when all are done. The caller's execution context (its <see cref="AsyncLocal{T}"/> values) flows to the workers,
    /// and the first exception a body throws is rethrown here. Returns false without running anything when the team is
    /// busy with another caller's region (or has no workers): the caller then uses the thread pool.
    /// </summary>
    public bool TryRun(int count, int threads, Action<int> body)
    {
        if (_workerCount == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            return false;
        }
        try
        {
            EnsureStarted();
            var region = new Region(count, Math.Min(threads - 1, _workerCount), body, ExecutionContext.Capture());
            Volatile.Write(ref _region, region);
            Interlocked.Increment(ref _generation);
            lock (_gate)
            {
                Monitor.PulseAll(_gate); // wakes workers that stopped spinning; the spinning ones see the new generation
            }
            region.Work();
            region.WaitForAll();
            region.RethrowFirstError();
            return true;
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void EnsureStarted()
    {
        if (Volatile.Read(ref _live) >= _workerCount)
        {
            return;
        }
        lock (_startLock)
        {
            while (Volatile.Read(ref _live) < _workerCount)
            {
                Interlocked.Increment(ref _live);
                // UnsafeStart: a worker must not keep the first caller's execution context (its frozen-weights scope, say);
                // each region brings its own.
                new Thread(Serve) { IsBackground = true, Name = "Attention worker" }.UnsafeStart(Volatile.Read(ref _generation));
            }
        }
    }

    /// <summary>A worker's life: wait for a new region, take part in it, repeat; end after IdleExit without one.</summary>
    private void Serve(object? firstGeneration)
    {
        var seen = (int)firstGeneration!;
        while (true)
        {
            if (AwaitGeneration(seen) is not { } generation)
            {
                return;   // idle too long: this thread ends (and was already counted out)
            }
            seen = generation;
            var region = Volatile.Read(ref _region)!;
            if (!region.TryJoin())
            {
                continue;
            }
            if (region.Context is { } context)
            {
                ExecutionContext.Run(context, static r => ((Region)r!).Work(), region);
            }
            else
            {
                region.Work();
            }
        }
    }

    /// <summary>Spins until the generation moves past <paramref name="seen"/>, then blocks once it has spun for SpinTime;
    /// null when it has been blocked for IdleExit with nothing new (the worker is then counted out).</summary>
    private int? AwaitGeneration(int seen)
    {
        var deadline = Stopwatch.GetTimestamp() + _spinTicks;
        for (var i = 1; ; i++)
        {
            var generation = Volatile.Read(ref _generation);
            if (generation != seen)
            {
                return generation;
            }
            if (i % 64 == 0 && Stopwatch.GetTimestamp() > deadline)
            {
                break;
            }
            Thread.SpinWait(4);
        }
        lock (_gate)
        {
            while (Volatile.Read(ref _generation) == seen)
            {
                if (!Monitor.Wait(_gate, _idleExit) && Volatile.Read(ref _generation) == seen)
                {
                    Interlocked.Decrement(ref _live);
                    return null;
                }
            }
            return Volatile.Read(ref _generation);
        }
    }

    /// <summary>One parallel region: the indices still to take, the places left for workers, and what went wrong.</summary>
    private sealed class Region(int count, int workerPlaces, Action<int> body, ExecutionContext? context)
    {
        private int _next;
        private int _done;
        private int _places = workerPlaces;
        private ExceptionDispatchInfo? _error;

        public ExecutionContext? Context { get; } = context;

        /// <summary>Claims one of the places for workers (a caller limited to fewer threads than the team has leaves some empty).</summary>
        public bool TryJoin() => Interlocked.Decrement(ref _places) >= 0;

        /// <summary>Takes indices until none are left.</summary>
        public void Work()
        {
            int i;
            while ((i = Interlocked.Increment(ref _next) - 1) < count)
            {
                try
                {
                    body(i);
                }
                catch (Exception e)
                {
                    Interlocked.CompareExchange(ref _error, ExceptionDispatchInfo.Capture(e), null);
                }
                Interlocked.Increment(ref _done);
            }
        }

        public void WaitForAll()
        {
            var spinner = new SpinWait();
            while (Volatile.Read(ref _done) < count)
            {
                spinner.SpinOnce(sleep1Threshold: -1);
            }
        }

        public void RethrowFirstError() => _error?.Throw();
    }
}
