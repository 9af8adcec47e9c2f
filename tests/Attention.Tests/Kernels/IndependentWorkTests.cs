using Attention.Kernels;

namespace Attention.Tests.Kernels;

public class IndependentWorkTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Results_come_back_in_index_order_and_each_piece_keeps_the_kernels_on_its_thread(int threads)
    {
        using var scope = Parallelism.Use(threads);
        var results = IndependentWork.Run(7, i => (Square: i * i, Threads: Parallelism.Threads));
        results.Select(r => r.Square).Should().Equal(0, 1, 4, 9, 16, 25, 36);
        results.Should().OnlyContain(r => r.Threads == 1, "the cores are busy with pieces");
        Parallelism.Threads.Should().Be(threads, "the caller's count is untouched");
    }

    [Fact]
    public void No_pieces_is_an_empty_result_and_a_piece_that_throws_rethrows_as_it_is()
    {
        IndependentWork.Run(0, i => i).Should().BeEmpty();
        var act = () => IndependentWork.Run(3, i => i == 1 ? throw new InvalidOperationException("piece 1") : i);
        act.Should().Throw<InvalidOperationException>().WithMessage("piece 1");
    }
}
