using Attention.Layers;
using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Transformers;

namespace Attention.Tests.BadInput;

/// <summary>Training-mode forwards on one model from several threads share its dropout generators: they must not crash
/// the generator (an index past its state once did), and every output must be one a single thread could have made.</summary>
public class ConcurrentTrainingTests
{
    [Fact]
    public void Training_forwards_from_several_threads_on_one_layer_never_crash()
    {
        var layer = new EncoderLayer(LayerOptions.Small with { Dropout = 0.2f }, new TorchGenerator(1));
        layer.SetTraining(true);
        var x = RandomMatrices.Uniform(40, 64, 2);
        var outputs = new MathNet.Numerics.LinearAlgebra.Matrix<float>[64];
        Parallel.For(0, outputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => outputs[i] = layer.Forward(x));
        outputs.Should().OnlyContain(o => o.Enumerate().All(float.IsFinite));
        outputs.Select(o => o.ToString()).Distinct().Should().HaveCount(64, "each forward drew its own masks");
    }

    [Fact]
    public void With_a_seeded_stream_per_sentence_training_on_several_threads_repeats_the_sequential_run()
    {
        // Data parallelism: sentence i draws its dropout masks from its own TorchGenerator(100 + i), whichever thread runs it.
        var layer = new EncoderLayer(LayerOptions.Small with { Dropout = 0.2f }, new TorchGenerator(1));
        layer.SetTraining(true);
        var sentences = Enumerable.Range(0, 16).Select(i => RandomMatrices.Uniform(10 + i, 64, i)).ToArray();
        MathNet.Numerics.LinearAlgebra.Matrix<float> Run(int i)
        {
            using (Dropout.UseGenerator(new TorchGenerator(100 + i)))
            {
                return layer.Forward(sentences[i]);
            }
        }
        var sequential = Enumerable.Range(0, 16).Select(Run).ToArray();
        var parallel = new MathNet.Numerics.LinearAlgebra.Matrix<float>[16];
        Parallel.For(0, 16, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => parallel[i] = Run(i));
        for (var i = 0; i < 16; i++)
        {
            Expect.BitExact(parallel[i].ToColumnMajorArray(), sequential[i].ToColumnMajorArray(), $"sentence {i}");
        }
        sequential[0].Should().NotBe(layer.Forward(sentences[0]), "without the scope the layer's own generator draws other masks");
    }

    [Fact]
    public void A_shared_generator_hands_out_each_draw_once()
    {
        // 4 threads started together draw 300,000 numbers each from one generator: together they must be exactly the
        // first 1,200,000 of its stream, each once (without a lock two threads take the same draw, or step past the state).
        const int threads = 4, each = 300_000;
        var shared = new TorchGenerator(7);
        var draws = new uint[threads][];
        var errors = new System.Collections.Concurrent.ConcurrentBag<Exception>();
        using var start = new Barrier(threads);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            try
            {
                start.SignalAndWait();
                var mine = new uint[each];
                for (var i = 0; i < each; i++)
                {
                    mine[i] = shared.NextUInt32();
                }
                draws[t] = mine;
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        workers.ForEach(w => w.Join());
        errors.Should().BeEmpty();
        var alone = new TorchGenerator(7);
        var expected = Enumerable.Range(0, threads * each).Select(_ => alone.NextUInt32()).Order().ToArray();
        draws.SelectMany(d => d).Order().Should().Equal(expected);
    }
}
