// Independent pieces of work spread over the cores: the shards of a batch in data parallelism, the sentences of an
// evaluation. Each piece runs on one thread (the kernels inside it do not split further: the cores are busy with
// pieces), and the results come back in index order, so what the caller does with them never depends on the thread count.
namespace Attention.Kernels;

/// <summary>Runs independent pieces of work on the cores the kernels may use (<see cref="Parallelism.Threads"/>).</summary>
public static class IndependentWork
{
    /// <summary>Computes <paramref name="piece"/>(i) for i = 0 … <paramref name="count"/> − 1, several at a time, each
    /// piece on one thread with the kernels inside it kept on that thread; returns the results in index order.</summary>
    /// <typeparam name="T">What a piece returns.</typeparam>
    /// <param name="count">How many pieces, ≥ 0.</param>
    /// <param name="piece">The work of piece i; pieces must not write to shared state.</param>
    /// <returns>result[i] = piece(i).</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is negative.</exception>
    /// <remarks>The first exception a piece throws is rethrown as it is.</remarks>
    public static T[] Run<T>(int count, Func<int, T> piece)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentNullException.ThrowIfNull(piece);
        var results = new T[count];
        if (count > 0)
        {
            Parallelism.For(count, Math.Min(count, Parallelism.Threads), i =>
            {
                using var oneThread = Parallelism.Use(1);
                results[i] = piece(i);
            });
        }
        return results;
    }
}
