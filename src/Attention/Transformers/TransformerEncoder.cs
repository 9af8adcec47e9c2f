// Figure 1, left: "The encoder is composed of a stack of N = 6 identical layers" (§3.1).
using Attention.Kernels;
using Attention.Layers;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Transformers;

/// <summary>The encoder stack, PyTorch's <c>nn.TransformerEncoder</c>: N <see cref="EncoderLayer"/>s, then an optional final LayerNorm (<c>encoder.norm</c>).</summary>
public sealed class TransformerEncoder
{
    /// <summary>Creates N freshly initialised layers (and the final norm when <see cref="TransformerOptions.FinalNorm"/>).</summary>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The random source.</param>
    public TransformerEncoder(TransformerOptions options, TorchGenerator generator)
        : this(TransformerOptions.Required(options), [.. Enumerable.Range(0, options.EncoderLayers).Select(_ => new EncoderLayer(options, generator))],
               options.FinalNorm ? new LayerNorm(options.ModelDim, options.LayerNormEpsilon) : null)
    {
    }

    private TransformerEncoder(TransformerOptions options, EncoderLayer[] layers, LayerNorm? norm) => (Options, Layers, Norm) = (options, layers, norm);

    /// <summary>The sizes and switches.</summary>
    public TransformerOptions Options { get; }

    /// <summary>The N layers, in order (<c>encoder.layers.0</c> first).</summary>
    public IReadOnlyList<EncoderLayer> Layers { get; }

    /// <summary>The final LayerNorm (<c>encoder.norm</c>), or null.</summary>
    public LayerNorm? Norm { get; }

    /// <summary>Reads <c>{prefix}layers.{i}.*</c> for i &lt; N and, with a final norm, <c>{prefix}norm.*</c>.</summary>
    /// <param name="state">Named parameters.</param>
    /// <param name="prefix">Usually <c>"encoder."</c>.</param>
    /// <param name="options">Sizes and switches.</param>
    /// <param name="generator">The source for dropout masks.</param>
    /// <returns>The encoder.</returns>
    public static TransformerEncoder FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, string prefix, TransformerOptions options, TorchGenerator generator)
    {
        ArgumentNullException.ThrowIfNull(options);
        var layers = Enumerable.Range(0, options.EncoderLayers).Select(i => EncoderLayer.FromStateDict(state, $"{prefix}layers.{i}.", options, generator)).ToArray();
        var norm = options.FinalNorm ? LayerNorm.FromStateDict(state, prefix + "norm.", options.ModelDim, options.LayerNormEpsilon) : null;
        return new TransformerEncoder(options, layers, norm);
    }

    /// <summary>The trainable parameters in <c>nn.TransformerEncoder</c>'s state_dict order and names: the layers, then the final norm.</summary>
    /// <param name="prefix">E.g. <c>"encoder."</c>.</param>
    /// <returns>Name and parameter pairs.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "") =>
        Layers.SelectMany((layer, i) => layer.NamedParameters($"{prefix}layers.{i}."))
            .Concat(Norm?.NamedParameters(prefix + "norm.") ?? []);

    /// <summary>Writes the parameters under <c>nn.TransformerEncoder</c> names.</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">Usually <c>"encoder."</c>.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        for (var i = 0; i < Layers.Count; i++)
        {
            Layers[i].AddTo(state, $"{prefix}layers.{i}.");
        }
        Norm?.AddTo(state, prefix + "norm.");
    }

    /// <summary>memory = Norm(layer_N(… layer_1(x))).</summary>
    /// <param name="x">[n × d_model], embedded source tokens with positions; not modified.</param>
    /// <param name="mask">Optional mask fitting [n × n], usually source key padding.</param>
    /// <returns>The memory the decoder attends to, [n × d_model]: a new matrix.</returns>
    public Matrix<float> Forward(Matrix<float> x, AttentionMask? mask = null)
    {
        Check(x, mask);
        var h = x;
        foreach (var layer in Layers)
        {
            h = layer.Forward(h, mask);                                      // h = layer_i(h)
        }
        return Norm?.Forward(h) ?? (ReferenceEquals(h, x) ? x.Clone() : h);  // Norm(h), when the stack has a final norm
    }

    /// <summary>The same stack, copied into <paramref name="result"/>: a convenience for callers that keep one output
    /// matrix. It saves no work: every layer's output is still a new matrix.</summary>
    /// <param name="x">[n × d_model], embedded source tokens with positions; not modified.</param>
    /// <param name="mask">Optional mask fitting [n × n], or null.</param>
    /// <param name="result">[n × d_model]; overwritten (it may be <paramref name="x"/>).</param>
    public void Forward(Matrix<float> x, AttentionMask? mask, Matrix<float> result)
    {
        Check(x, mask);
        Shapes.RequireShape(result, nameof(result), x.RowCount, Options.ModelDim, "one row per token of x");
        Forward(x, mask).CopyTo(result);
    }

    /// <summary>The forward pass for training: every layer's record, and the final norm's input.</summary>
    /// <param name="x">[n × d_model].</param>
    /// <param name="mask">Optional mask fitting [n × n].</param>
    /// <returns>The records, in layer order, and the memory.</returns>
    public TransformerEncoderRecord ForwardRecorded(Matrix<float> x, AttentionMask? mask = null)
    {
        Check(x, mask);
        var records = new List<EncoderLayerRecord>();
        var h = x;
        foreach (var layer in Layers)
        {
            records.Add(layer.ForwardRecorded(h, mask));
            h = records[^1].Output;                                                  // h = layer_i(h)
        }
        return new TransformerEncoderRecord(records, h, Norm?.Forward(h) ?? h);
    }

    /// <summary>The backward pass: through the final norm, then the layers in reverse; returns ∂L/∂x.</summary>
    /// <param name="record">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂memory, [n × d_model].</param>
    /// <returns>∂L/∂x, [n × d_model].</returns>
    public Matrix<float> Backward(TransformerEncoderRecord record, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var gradient = Norm?.Backward(record.BeforeNorm, outputGradient) ?? outputGradient;
        for (var i = Layers.Count - 1; i >= 0; i--)
        {
            gradient = Layers[i].Backward(record.Layers[i], gradient);               // layer N first
        }
        return gradient;
    }

    private void Check(Matrix<float> x, AttentionMask? mask)
    {
        Shapes.RequireColumns(x, nameof(x), Options.ModelDim, "d_model");
        mask?.RequireFits(x.RowCount, x.RowCount, nameof(mask));
    }

    /// <summary>Switches dropout on (training) or off (evaluation) in every layer.</summary>
    /// <param name="training">True for training mode.</param>
    public void SetTraining(bool training)
    {
        foreach (var layer in Layers)
        {
            layer.SetTraining(training);
        }
    }
}

/// <summary>What <see cref="TransformerEncoder.Backward"/> needs: each layer's record and the final norm's input.</summary>
/// <param name="Layers">The layers' records, first layer first.</param>
/// <param name="BeforeNorm">The last layer's output, which the final norm (if any) normalised.</param>
/// <param name="Output">The memory.</param>
public sealed record TransformerEncoderRecord(IReadOnlyList<EncoderLayerRecord> Layers, Matrix<float> BeforeNorm, Matrix<float> Output);
