// Scratch memory for one call, from a pool the whole process shares, with a stated cap and an owner.
//
// A fresh page costs about 5 µs to touch here, and an inference call needs several matrices of scratch (Q, K, V, the
// concatenated heads, the feed-forward hidden layer): new arrays on every call cost more than the products that fill
// them. So a call rents its scratch here and gives it back when it returns; the next call, on any thread, gets the same
// (already touched) arrays. Concurrent calls each rent their own arrays: nothing is shared, nothing is locked for long.
//
// Bounds: at most MaxArrays arrays are kept, and an array that no call has rented since the previous full (gen-2)
// collection is dropped at the next one: an idle process, or one whose model is gone, holds nothing after two full collections.
using System.Collections.Concurrent;

namespace Attention.Kernels;

/// <summary>The arrays one call rents; dispose it to give them all back.</summary>
internal sealed class Workspace : IDisposable
{
    private const int MaxArrays = 64;

    private static readonly ConcurrentQueue<(float[] Array, int Stamp)> Free = new();
    private static int _freeCount;
    private static int _epoch;

    private readonly List<float[]> _rented = [];

    static Workspace() => _ = new Trimmer();

    /// <summary>An array of at least <paramref name="length"/> floats, contents undefined, owned by this workspace until it is disposed.</summary>
    public Span<float> Rent(int length)
    {
        var array = Take(length) ?? GC.AllocateUninitializedArray<float>(Math.Max(length, 1024), pinned: true);
        _rented.Add(array);
        return array.AsSpan(0, length);
    }

    /// <summary>Gives every rented array back to the pool.</summary>
    public void Dispose()
    {
        var stamp = Volatile.Read(ref _epoch);
        foreach (var array in _rented)
        {
            if (Interlocked.Increment(ref _freeCount) <= MaxArrays)
            {
                Free.Enqueue((array, stamp));
            }
            else
            {
                Interlocked.Decrement(ref _freeCount);   // the pool is full: let the collector have it
            }
        }
        _rented.Clear();
    }

    /// <summary>How many arrays the pool holds now (for tests).</summary>
    internal static int PooledArrays => Volatile.Read(ref _freeCount);

    private static float[]? Take(int length)
    {
        // Look at each pooled array at most once: a fitting one is taken, the others go back.
        for (var tries = Volatile.Read(ref _freeCount); tries > 0 && Free.TryDequeue(out var entry); tries--)
        {
            Interlocked.Decrement(ref _freeCount);
            if (entry.Array.Length >= length)
            {
                return entry.Array;
            }
            Interlocked.Increment(ref _freeCount);
            Free.Enqueue(entry);
        }
        return null;
    }

    /// <summary>At each full collection: drops the arrays that waited in the pool through the whole previous interval.</summary>
    private static void Trim()
    {
        var oldest = Interlocked.Increment(ref _epoch) - 1;
        for (var count = Volatile.Read(ref _freeCount); count > 0 && Free.TryDequeue(out var entry); count--)
        {
            if (entry.Stamp < oldest)
            {
                Interlocked.Decrement(ref _freeCount);   // unused for a whole interval: dropped
            }
            else
            {
                Free.Enqueue(entry);
            }
        }
    }

    /// <summary>An object that is always garbage and always resurrected: its finalizer runs once after every collection
    /// that reaches its generation, which is soon gen 2 (the pattern of .NET's own array pool).</summary>
    private sealed class Trimmer
    {
        ~Trimmer()
        {
            if (Environment.HasShutdownStarted)
            {
                return;
            }
            Trim();
            GC.ReRegisterForFinalize(this);
        }
    }
}
