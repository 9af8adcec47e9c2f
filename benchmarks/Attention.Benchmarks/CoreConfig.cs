using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;

namespace Attention.Benchmarks;

/// <summary>Runs a benchmark twice: pinned to one core (so Environment.ProcessorCount is 1 and kernels stay on one thread), and on both cores.
/// Each uses BenchmarkDotNet's short run (3 warm-up and 3 measured iterations, each of many calls), which keeps the suite within minutes;
/// the pilot stage already runs enough calls for tiered compilation to reach optimised code.</summary>
/// <remarks>These two jobs replace any job given on the command line (<c>--job short</c> would otherwise add a third, redundant run).</remarks>
public sealed class OneAndTwoCoresConfig : ManualConfig
{
    public OneAndTwoCoresConfig()
    {
        UnionRule = ConfigUnionRule.AlwaysUseLocal;
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);   // the local config wins outright, so the class's [MemoryDiagnoser] is restated here
        AddColumn(StatisticColumn.Median);       // the targets are medians; three iterations make the mean jumpy on a shared core
        AddJob(Job.ShortRun.WithAffinity(1).WithId("1 core"));
        AddJob(Job.ShortRun.WithAffinity(3).WithId("2 cores"));
    }
}

/// <summary>For benchmarks whose single call takes seconds (decoding hundreds of tokens without a cache): every call is
/// measured on its own (BenchmarkDotNet's monitoring strategy), 2 warm-up and 6 measured calls, whatever the command line says.</summary>
public sealed class SlowCallsConfig : ManualConfig
{
    public SlowCallsConfig()
    {
        UnionRule = ConfigUnionRule.AlwaysUseLocal;
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddJob(Job.Default.WithStrategy(BenchmarkDotNet.Engines.RunStrategy.Monitoring).WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(6));
    }
}

/// <summary>For a training step (tens to hundreds of milliseconds a call, much of it in code that tiers up only after
/// several calls): one and two cores as <see cref="OneAndTwoCoresConfig"/>, but 10 warm-up and 15 measured iterations,
/// and the median reported, because the shared cores of this machine make single iterations jump.</summary>
public sealed class TrainingConfig : ManualConfig
{
    public TrainingConfig()
    {
        UnionRule = ConfigUnionRule.AlwaysUseLocal;
        Add(DefaultConfig.Instance);
        AddDiagnoser(MemoryDiagnoser.Default);
        AddColumn(StatisticColumn.Median);
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(10).WithIterationCount(15).WithAffinity(1).WithId("1 core"));
        AddJob(Job.Default.WithLaunchCount(1).WithWarmupCount(10).WithIterationCount(15).WithAffinity(3).WithId("2 cores"));
    }
}
