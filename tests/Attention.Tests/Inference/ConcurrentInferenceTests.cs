using Attention.Inference;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Inference;

/// <summary>
/// Inference is thread-safe: a layer keeps no mutable state, scratch memory belongs to the call, and the kernels' worker
/// team serves one caller at a time (others use the thread pool). Several threads running one model at once must give
/// the same bits as one thread running the same calls in turn, on the fast path and off it. The model is large enough
/// that every product runs in parallel inside each call (d_model 256 = 4 heads of 64, d_ff 512, 128 source tokens).
/// </summary>
public class ConcurrentInferenceTests
{
    private static readonly Transformer Model = new(
        TransformerOptions.Small(40, 40) with { ModelDim = 256, HeadCount = 4, FeedForwardDim = 512, MaxPositions = 160 }, new TorchGenerator(5));

    private static readonly int[][] Sources = [.. Enumerable.Range(0, 8).Select(i => Enumerable.Range(0, 128).Select(j => (j * 3 + i * 7) % 40).ToArray())];

    private static readonly int[] Target = [.. Enumerable.Range(0, 64).Select(j => (j * 5 + 2) % 40)];

    public static TheoryData<int, bool> ThreadsAndPath() => new() { { 2, false }, { 2, true }, { 8, false }, { 8, true } };

    [Theory]
    [MemberData(nameof(ThreadsAndPath))]
    public void The_full_forward_pass_on_several_threads_gives_the_sequential_bits(int threads, bool fastPath)
    {
        var expected = Sources.Select(s => OnPath(fastPath, () => Model.Forward(s, Target))).ToArray();
        var actual = Concurrently(threads, fastPath, s => Model.Forward(s, Target));
        for (var i = 0; i < Sources.Length; i++)
        {
            Expect.BitExact(actual[i].ToColumnMajorArray(), expected[i].ToColumnMajorArray(), $"sentence {i} on {threads} threads");
        }
    }

    [Theory]
    [MemberData(nameof(ThreadsAndPath))]
    public void Greedy_and_beam_decoding_with_and_without_the_cache_on_several_threads_give_the_sequential_results(int threads, bool fastPath)
    {
        foreach (var useCache in new[] { false, true })
        {
            var options = new DecodingOptions { StartToken = 2, EndToken = null, MaxNewTokens = 6, UseCache = useCache };
            string Decode(int[] source)
            {
                var generator = new Decoding(Model);
                var greedy = generator.Greedy(source, options);
                var beams = generator.BeamSearch(source, options, beamWidth: 3);
                return string.Join(" | ", new[] { greedy }.Concat(beams).Select(r => $"{string.Join(",", r.Tokens)} {BitConverter.DoubleToInt64Bits(r.LogProbability):X}"));
            }
            var expected = Sources.Select(s => OnPath(fastPath, () => Decode(s))).ToArray();
            var actual = Concurrently(threads, fastPath, Decode);
            actual.Should().Equal(expected, $"greedy and beam search (cache {useCache}) on {threads} threads: tokens and log-probability bits");
        }
    }

    /// <summary>Runs <paramref name="call"/> on every source twice, from <paramref name="threads"/> threads that start
    /// together; fails unless both runs of each source agree, and returns the first.</summary>
    private static T[] Concurrently<T>(int threads, bool fastPath, Func<int[], T> call)
    {
        var results = new T[2 * Sources.Length];
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                for (var i = t; i < results.Length; i += threads)
                {
                    results[i] = OnPath(fastPath, () => call(Sources[i % Sources.Length]));
                }
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToArray();
        foreach (var worker in workers)
        {
            worker.Start();
        }
        foreach (var worker in workers)
        {
            worker.Join();
        }
        errors.Should().BeEmpty();
        for (var i = 0; i < Sources.Length; i++)
        {
            var (first, second) = (results[i], results[i + Sources.Length]);
            if (first is Matrix<float> a && second is Matrix<float> b)
            {
                Expect.BitExact(b.ToColumnMajorArray(), a.ToColumnMajorArray(), $"the two runs of sentence {i}");
            }
            else
            {
                second.Should().Be(first, $"the two runs of sentence {i}");
            }
        }
        return results[..Sources.Length];
    }

    private static T OnPath<T>(bool fastPath, Func<T> call)
    {
        using (FastPath.Use(fastPath))
        {
            return call();
        }
    }
}
