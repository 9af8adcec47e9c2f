using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Attention.Benchmarks;

/// <summary>Runs a benchmark twice: pinned to one core (so Environment.ProcessorCount is 1 and kernels stay on one thread), and on both cores.
/// Each uses BenchmarkDotNet's short run (3 warm-up and 3 measured iterations, each of many calls), which keeps the suite within minutes;
/// the pilot stage already runs enough calls for tiered compilation to reach optimised code.</summary>
public sealed class OneAndTwoCoresConfig : ManualConfig
{
    public OneAndTwoCoresConfig()
    {
        AddJob(Job.ShortRun.WithAffinity(1).WithId("1 core"));
        AddJob(Job.ShortRun.WithAffinity(3).WithId("2 cores"));
    }
}
