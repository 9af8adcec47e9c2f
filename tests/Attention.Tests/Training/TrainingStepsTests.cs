using Attention.Randomness;
using Attention.Tests.Support;
using Attention.Training;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Training;

/// <summary>The whole model against PyTorch on padded batches: embeddings (padding_idx 0) ·√d_model, sinusoidal or learned
/// positions, nn.Transformer's stacks, an LM head (tied or not), cross-entropy with label smoothing 0.1 averaged over the
/// real tokens, clip_grad_norm_(1.0) and three AdamW steps with parameter groups (tools/reference/generate.py, training_steps).</summary>
public class TrainingStepsTests
{
    private const int Sos = 1;

    // The three batches of the script; PyTorch pads them (sources and inputs with 0, labels with -100), we need not.
    private static readonly SentencePair[][] Batches =
    [
        [new([3, 4, 5, 6], [5, 7, 2]), new([7, 8], [9, 10, 11, 12, 2]), new([9, 10, 3, 4, 5, 6, 7], [3, 2])],
        [new([5], [6, 2]), new([4, 4, 8, 9, 10], [12, 11, 10, 2]), new([6, 3, 2], [8, 8, 8, 2])],
        [new([10, 9, 8, 7, 6, 5], [4, 5, 6, 7, 2]), new([3, 3], [2]), new([8, 6, 4], [9, 7, 5, 3, 2])],
    ];

    private static (Fixture Torch, Transformer Model) Load(string tag)
    {
        var torch = Fixture.Load($"training_steps_{tag}.json");
        var tied = tag == "tied_learned";
        var options = new TransformerOptions
        {
            ModelDim = 12, HeadCount = 3, FeedForwardDim = 20, EncoderLayers = 2, DecoderLayers = 2, Dropout = 0, SourceVocabularySize = 11,
            TargetVocabularySize = 13, MaxPositions = 16, PaddingIndex = 0, TieOutputToEmbedding = tied, LearnedPositions = tied,
        };
        return (torch, Transformer.FromStateDict(torch.State(), options, new TorchGenerator(0)));
    }

    /// <summary>Our parameters (or gradients) under PyTorch's names: in_proj_weight's slices stacked back into one tensor.</summary>
    private static Dictionary<string, Matrix<float>> AsPyTorch(Transformer model, Func<Parameter, Matrix<float>> pick) =>
        model.NamedParameters().GroupBy(p => p.Name.Split('[')[0]).ToDictionary(g => g.Key, g => g.Select(p => pick(p.Parameter)).Aggregate(
            (a, b) => a.RowCount == 1 ? a.Append(b) : a.Stack(b)));

    private static Matrix<float> Tensor(Fixture torch, string name) => torch.Shape(name).Length == 1 ? torch.Row(name) : torch.Matrix(name);

    /// <summary>The key third of every in_proj_bias: its true gradient is exactly 0 (a constant added to every score of a
    /// query cancels in the softmax). We compute 0 or rounding noise of about 1e-9; PyTorch computes noise too.</summary>
    private static bool IsKeyBias(string name, int column) => name.EndsWith("in_proj_bias", StringComparison.Ordinal) && column is >= 12 and < 24;

    [Theory]
    [InlineData("sinusoidal")]
    [InlineData("tied_learned")]
    public void The_first_loss_and_every_gradient_equal_PyTorchs(string tag)
    {
        var (torch, model) = Load(tag);
        var loss = Batch.ForwardBackward(model, Batches[0], new CrossEntropyLoss(ignoreIndex: -100, labelSmoothing: 0.1f), Sos);

        loss.Should().BeApproximately(torch.Data("losses")[0], 1e-6f * torch.Data("losses")[0], "the mean over 10 real tokens, as PyTorch's over its padded batch");
        var gradients = AsPyTorch(model, p => p.Gradient);
        gradients.Keys.Should().BeEquivalentTo(torch.State().Keys);
        foreach (var (name, gradient) in gradients)
        {
            var expected = Tensor(torch, $"grad:{name}");
            if (name.EndsWith("in_proj_bias", StringComparison.Ordinal))
            {
                // Query and value thirds as any gradient; the key third is noise on both sides (see IsKeyBias).
                Expect.Close(gradient.SubMatrix(0, 1, 0, 12), expected.SubMatrix(0, 1, 0, 12), what: name + "[0:12]");
                Expect.Close(gradient.SubMatrix(0, 1, 24, 12), expected.SubMatrix(0, 1, 24, 12), what: name + "[24:36]");
                gradient.SubMatrix(0, 1, 12, 12).Enumerate().Concat(expected.SubMatrix(0, 1, 12, 12).Enumerate()).Should().OnlyContain(g => Math.Abs(g) < 1e-6f, name + "[12:24]");
            }
            else
            {
                Expect.Close(gradient, expected, what: name);
            }
        }
        gradients["target_embedding.weight"].Row(0).Enumerate().Should().OnlyContain(g => tag == "tied_learned" ? g != 0f : g == 0f,
            "padding_idx blocks the lookup's gradient; a tied LM head still sends its own into row 0");
    }

    [Theory]
    [InlineData("sinusoidal")]
    [InlineData("tied_learned")]
    public void Three_clipped_AdamW_steps_with_parameter_groups_move_every_parameter_as_PyTorchs_do(string tag)
    {
        var (torch, model) = Load(tag);
        const float lr = 0.01f;
        var optimizer = new AdamW(ParameterGroup.DecayMatricesOnly(model.Parameters(), 0.1f), lr, 0.9f, 0.98f, 1e-9f);
        var lossFunction = new CrossEntropyLoss(ignoreIndex: -100, labelSmoothing: 0.1f);
        for (var step = 0; step < 3; step++)
        {
            optimizer.ZeroGradients();
            var loss = Batch.ForwardBackward(model, Batches[step], lossFunction, Sos);
            loss.Should().BeApproximately(torch.Data("losses")[step], 1e-5f * torch.Data("losses")[step], $"loss of step {step + 1}");
            var norm = GradientClipping.ClipByGlobalNorm(model.Parameters(), 1.0f);
            norm.Should().BeApproximately(torch.Data("norms")[step], 1e-5f * torch.Data("norms")[step], $"gradient norm of step {step + 1}");
            optimizer.Step();
        }
        // Compare each parameter's total update in units of lr. Adam's step is m/(√v + ε) per entry: where the gradient is
        // well above rounding noise it matches to about 1e-5 relative; where it is noise (the key biases) Adam turns the
        // noise into a full step of its sign, so those entries are only held to |update| ≤ 3·lr (three steps).
        var after = AsPyTorch(model, p => p.Value);
        var start = torch.State();
        foreach (var (name, value) in after)
        {
            var (ours, theirs) = ((value - start[name]) / lr, (Tensor(torch, $"after:{name}") - start[name]) / lr);
            for (var i = 0; i < ours.RowCount; i++)
            {
                for (var j = 0; j < ours.ColumnCount; j++)
                {
                    if (IsKeyBias(name, j))
                    {
                        Math.Abs(ours[i, j]).Should().BeLessThanOrEqualTo(3.001f, $"{name}[{j}] moves at most lr per step");
                        continue;
                    }
                    ours[i, j].Should().BeApproximately(theirs[i, j], 2e-3f + 1e-3f * Math.Abs(theirs[i, j]), $"{name}[{i}, {j}]'s update / lr");
                }
            }
        }
    }
}
