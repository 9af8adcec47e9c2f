using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Attention.Benchmarks;

/// <summary>Runs a benchmark twice: pinned to one core (so Environment.ProcessorCount is 1 and kernels stay on one thread), and on both cores.</summary>
public sealed class OneAndTwoCoresConfig : ManualConfig
{
    public OneAndTwoCoresConfig()
    {
        AddJob(Job.Default.WithAffinity(1).WithId("1 core"));
        AddJob(Job.Default.WithAffinity(3).WithId("2 cores"));
    }
}
