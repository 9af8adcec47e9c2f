using System.Collections.Concurrent;
using Attention.Kernels;
using FluentAssertions;

namespace Attention.Tests.Kernels;

/// <summary>
/// The worker team runs the kernels' parallel regions: the caller and the workers take indices until none are left. Each
/// index must run exactly once whoever takes it, the caller's async-local settings (thread count, frozen weights, SIMD
/// width) must reach the workers, and a worker that stopped spinning must wake for the next region. These tests make
/// their own small teams, so they do not depend on the machine's core count or on what other tests do with the shared one.
/// </summary>
public class WorkerTeamTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(17, 3)]
    [InlineData(64, 4)]
    public void Every_index_runs_exactly_once(int count, int threads)
    {
        var team = new WorkerTeam(workerCount: 3, TimeSpan.FromMilliseconds(1), WorkerTeam.IdleExit);
        for (var round = 0; round < 20; round++)
        {
            var runs = new int[count];
            team.TryRun(count, threads, i => Interlocked.Increment(ref runs[i])).Should().BeTrue();
            runs.Should().AllBeEquivalentTo(1, $"round {round}: each of the {count} indices once");
        }
    }

    [Fact]
    public void Idle_workers_end_their_threads_and_the_next_region_starts_them_again()
    {
        // A process that has stopped calling the library keeps no worker threads: each ends after IdleExit of waiting.
        var team = new WorkerTeam(workerCount: 2, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
        team.TryRun(8, 3, _ => Thread.Sleep(1)).Should().BeTrue();
        team.LiveWorkers.Should().Be(2);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (team.LiveWorkers > 0 && DateTime.UtcNow < deadline)
        {
            Thread.Sleep(20);
        }
        team.LiveWorkers.Should().Be(0, "both workers waited longer than 50 ms for a region");
        var runs = new int[8];
        team.TryRun(8, 3, i => Interlocked.Increment(ref runs[i])).Should().BeTrue();
        runs.Should().AllBeEquivalentTo(1);
        team.LiveWorkers.Should().Be(2, "the region started them again");
    }

    [Fact]
    public void A_worker_takes_part_and_a_sleeping_worker_wakes_for_the_next_region()
    {
        // Index 0 waits until another thread has started index 1, so the region can only finish if a worker joins. A team
        // that never spins puts its worker to sleep after every region: each round below has to wake it.
        var team = new WorkerTeam(workerCount: 1, TimeSpan.Zero, WorkerTeam.IdleExit);
        for (var round = 0; round < 5; round++)
        {
            using var secondStarted = new ManualResetEventSlim();
            var threadOf = new int[2];
            team.TryRun(2, 2, i =>
            {
                threadOf[i] = Environment.CurrentManagedThreadId;
                if (i == 1)
                {
                    secondStarted.Set();
                }
                else
                {
                    secondStarted.Wait(Patience).Should().BeTrue($"round {round}: the worker should have taken index 1");
                }
            }).Should().BeTrue();
            threadOf[1].Should().NotBe(threadOf[0]);
            Thread.Sleep(5); // the worker is blocked, not spinning, when the next round starts
        }
    }

    [Fact]
    public void A_caller_limited_to_one_thread_runs_every_index_itself()
    {
        var team = new WorkerTeam(workerCount: 2, TimeSpan.FromMilliseconds(1), WorkerTeam.IdleExit);
        var threads = new ConcurrentBag<int>();
        team.TryRun(50, 1, i => { threads.Add(Environment.CurrentManagedThreadId); Thread.SpinWait(1000); }).Should().BeTrue();
        threads.Should().HaveCount(50).And.OnlyContain(id => id == Environment.CurrentManagedThreadId);
    }

    [Fact]
    public void The_callers_async_local_settings_reach_the_workers()
    {
        // The thread count a body sees is Parallelism's async-local setting; a worker that ran outside the caller's flow
        // would see the machine's default instead of 7.
        var team = new WorkerTeam(workerCount: 1, TimeSpan.Zero, WorkerTeam.IdleExit);
        team.TryRun(1, 2, _ => { }).Should().BeTrue(); // the worker starts here, outside the setting below
        using var secondStarted = new ManualResetEventSlim();
        var seen = new int[2];
        using (Parallelism.Use(7))
        {
            team.TryRun(2, 2, i =>
            {
                seen[i] = Parallelism.Threads;
                if (i == 1)
                {
                    secondStarted.Set();
                }
                else
                {
                    secondStarted.Wait(Patience).Should().BeTrue("the worker should have taken index 1");
                }
            }).Should().BeTrue();
        }
        seen.Should().Equal(7, 7);
    }

    [Fact]
    public void The_first_exception_of_a_body_is_rethrown_as_it_is_after_the_other_indices_ran()
    {
        var team = new WorkerTeam(workerCount: 1, TimeSpan.FromMilliseconds(1), WorkerTeam.IdleExit);
        var runs = new int[8];
        var run = () => team.TryRun(8, 2, i =>
        {
            Interlocked.Increment(ref runs[i]);
            if (i == 3)
            {
                throw new InvalidOperationException("index 3 failed");
            }
        });
        run.Should().Throw<InvalidOperationException>().WithMessage("index 3 failed");
        runs.Should().AllBeEquivalentTo(1);
        team.TryRun(4, 2, _ => { }).Should().BeTrue("the team is free again after a failed region");
    }

    [Fact]
    public async Task A_second_caller_finds_the_team_busy_and_is_told_so()
    {
        // While one caller's region runs, another thread's TryRun returns false at once (Parallelism.For then uses the thread pool).
        var team = new WorkerTeam(workerCount: 1, TimeSpan.FromMilliseconds(1), WorkerTeam.IdleExit);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => team.TryRun(1, 1, _ => { inside.Set(); release.Wait(Patience); }));
        inside.Wait(Patience).Should().BeTrue();
        var ran = false;
        team.TryRun(1, 2, _ => ran = true).Should().BeFalse();
        ran.Should().BeFalse();
        release.Set();
        (await first.WaitAsync(Patience)).Should().BeTrue();
    }

    [Fact]
    public void A_team_without_workers_declines()
    {
        new WorkerTeam(workerCount: 0, TimeSpan.Zero, WorkerTeam.IdleExit).TryRun(3, 2, _ => { }).Should().BeFalse();
    }

    [Fact]
    public async Task Parallelism_For_runs_every_index_once_whether_the_shared_team_is_free_or_busy()
    {
        // Several callers at once: at most one has the shared team, the others fall back to the thread pool; each still
        // runs each of its indices once, and an exception arrives unwrapped either way.
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var round = 0; round < 50; round++)
            {
                var runs = new int[9];
                Parallelism.For(9, 3, i => Interlocked.Increment(ref runs[i]));
                runs.Should().AllBeEquivalentTo(1);
                var failing = () => Parallelism.For(5, 2, i => { if (i == 4) { throw new ArgumentException("index 4"); } });
                failing.Should().Throw<ArgumentException>().WithMessage("index 4");
            }
        })).ToArray();
        await Task.WhenAll(tasks).WaitAsync(Patience);
    }
}
