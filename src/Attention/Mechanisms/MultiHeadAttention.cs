// "Attention Is All You Need", §3.2.2:
//   MultiHead(Q, K, V) = Concat(head_1, …, head_h)·W^O,   head_i = Attention(Q·W_i^Q, K·W_i^K, V·W_i^V)
// with d_k = d_v = d_model / h. Parameters follow torch.nn.MultiheadAttention, so a state_dict moves over unchanged:
// in_proj_weight [3E × E] stacks W^Q, W^K, W^V (each [E × E], PyTorch's [out × in] layout), and head i owns rows
// i·d_k … (i+1)·d_k − 1 of each; out_proj.weight is W^O.
using Attention.Inference;
using Attention.Kernels;
using Attention.Layers;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Mechanisms;

/// <summary>
/// Multi-head attention, equal to PyTorch's <c>nn.MultiheadAttention</c> (batch_first, dropout 0): h heads of
/// scaled dot-product attention over projections of the inputs, concatenated, then projected by W_O.
/// </summary>
/// <remarks>
/// <para>Shapes: query [n × E], key [m × kdim], value [m × vdim], output [n × E], where E = <see cref="ModelDim"/>,
/// and kdim = vdim = E unless given otherwise. Self-attention passes the same matrix three times; cross-attention takes
/// queries from one sequence and keys and values from another of any length m.</para>
/// <para>A query whose every key is masked gets zero weights, so its heads contribute zero and its output row is the
/// output bias b_O. PyTorch 1.13 gives NaN in that row instead.</para>
/// </remarks>
public sealed class MultiHeadAttention
{
    /// <summary>Creates a layer initialised exactly as <c>torch.nn.MultiheadAttention(modelDim, headCount, kdim=…, vdim=…, bias=…)</c>
    /// after the same seed: out_proj drawn as an <c>nn.Linear</c>, then Xavier-uniform in-projections, then zero biases.</summary>
    /// <param name="modelDim">E = d_model, divisible by <paramref name="headCount"/>.</param>
    /// <param name="headCount">h, the number of heads.</param>
    /// <param name="generator">The random source.</param>
    /// <param name="keyDim">kdim, the width of key inputs (default E).</param>
    /// <param name="valueDim">vdim, the width of value inputs (default E).</param>
    /// <param name="bias">Whether the projections add biases.</param>
    /// <param name="dropout">PyTorch's <c>dropout</c>: the probability of dropping an attention weight in training (no draw at construction).</param>
    public MultiHeadAttention(int modelDim, int headCount, TorchGenerator generator, int? keyDim = null, int? valueDim = null, bool bias = true, float dropout = 0)
    {
        CheckHeads(modelDim, headCount);
        ArgumentNullException.ThrowIfNull(generator);
        HeadCount = headCount;
        var kdim = keyDim ?? modelDim;
        var vdim = valueDim ?? modelDim;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kdim, nameof(keyDim));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(vdim, nameof(valueDim));

        // PyTorch's order of draws: out_proj = Linear(E, E) in __init__, then _reset_parameters().
        OutputProjection = new Linear(modelDim, modelDim, generator, bias);
        Matrix<float> wq, wk, wv;
        if (kdim == modelDim && vdim == modelDim)
        {
            var inProj = XavierUniform(3 * modelDim, modelDim, generator); // one tensor [3E × E]
            (wq, wk, wv) = (inProj.SubMatrix(0, modelDim, 0, modelDim), inProj.SubMatrix(modelDim, modelDim, 0, modelDim), inProj.SubMatrix(2 * modelDim, modelDim, 0, modelDim));
        }
        else
        {
            (wq, wk, wv) = (XavierUniform(modelDim, modelDim, generator), XavierUniform(modelDim, kdim, generator), XavierUniform(modelDim, vdim, generator));
        }
        var zeros = bias ? Vector<float>.Build.Dense(modelDim) : null;
        QueryProjection = new Linear(wq, zeros);
        KeyProjection = new Linear(wk, zeros);
        ValueProjection = new Linear(wv, zeros);
        OutputProjection.Bias?.Clear();
        AttentionDropout = new Dropout(dropout, generator);
    }

    /// <summary>Creates a layer initialised as <c>torch.manual_seed(seed); torch.nn.MultiheadAttention(modelDim, headCount, …)</c>.</summary>
    /// <param name="modelDim">E = d_model, divisible by <paramref name="headCount"/>.</param>
    /// <param name="headCount">h, the number of heads.</param>
    /// <param name="seed">The seed given to a fresh <see cref="TorchGenerator"/>.</param>
    public MultiHeadAttention(int modelDim, int headCount, long seed)
        : this(modelDim, headCount, new TorchGenerator(seed))
    {
    }

    private MultiHeadAttention(int headCount, Linear query, Linear key, Linear value, Linear output)
    {
        (HeadCount, QueryProjection, KeyProjection, ValueProjection, OutputProjection) = (headCount, query, key, value, output);
        AttentionDropout = new Dropout(0, new TorchGenerator(0));
    }

    /// <summary>Dropout on each head's attention weights, PyTorch's <c>dropout</c> argument: in training,
    /// head_i = Dropout(softmax(Q_i·K_iᵀ/√d_k))·V_i. Probability 0 (the default) or evaluation mode leaves it out.</summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public Dropout AttentionDropout
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>h, the number of heads.</summary>
    public int HeadCount { get; }

    /// <summary>E = d_model, the width of queries and of the output.</summary>
    public int ModelDim => OutputProjection.OutFeatures;

    /// <summary>d_k = d_v = E / h, the width of one head.</summary>
    public int HeadDim => ModelDim / HeadCount;

    /// <summary>kdim, the width of the key inputs.</summary>
    public int KeyDim => KeyProjection.InFeatures;

    /// <summary>vdim, the width of the value inputs.</summary>
    public int ValueDim => ValueProjection.InFeatures;

    /// <summary>Q = query·W_Qᵀ + b_Q: weight [E × E], bias [E].</summary>
    public Linear QueryProjection { get; }

    /// <summary>K = key·W_Kᵀ + b_K: weight [E × kdim], bias [E].</summary>
    public Linear KeyProjection { get; }

    /// <summary>V = value·W_Vᵀ + b_V: weight [E × vdim], bias [E].</summary>
    public Linear ValueProjection { get; }

    /// <summary>Output = concat·W_Oᵀ + b_O: weight [E × E] (PyTorch's <c>out_proj.weight</c>), bias [E].</summary>
    public Linear OutputProjection { get; }

    /// <summary>W_Q, [E × E] in PyTorch's layout; head i uses rows i·d_k … (i+1)·d_k − 1.</summary>
    public Matrix<float> WQ => QueryProjection.Weight;

    /// <summary>W_K, [E × kdim].</summary>
    public Matrix<float> WK => KeyProjection.Weight;

    /// <summary>W_V, [E × vdim].</summary>
    public Matrix<float> WV => ValueProjection.Weight;

    /// <summary>W_O, [E × E].</summary>
    public Matrix<float> WO => OutputProjection.Weight;

    /// <summary>Builds a layer from PyTorch state_dict entries (copied): <c>in_proj_weight</c> [3E × E], or
    /// <c>q_proj_weight</c> [E × E], <c>k_proj_weight</c> [E × kdim] and <c>v_proj_weight</c> [E × vdim] when kdim or vdim
    /// differ from E; <c>in_proj_bias</c> [3E]; <c>out_proj.weight</c> [E × E]; <c>out_proj.bias</c> [E]. Biases are optional
    /// only all together (PyTorch's <c>bias=False</c>).</summary>
    /// <param name="state">Named matrices; 1-d tensors as [1 × n].</param>
    /// <param name="headCount">h, which must divide E.</param>
    /// <param name="prefix">Prepended to every name, e.g. <c>"encoder.layers.0.self_attn."</c>.</param>
    /// <returns>The layer.</returns>
    /// <exception cref="ArgumentException">A name is missing or a shape is wrong; the message names the parameter and both shapes.</exception>
    public static MultiHeadAttention FromStateDict(IReadOnlyDictionary<string, Matrix<float>> state, int headCount, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(prefix);
        if (!state.TryGetValue(prefix + "out_proj.weight", out var outWeight))
        {
            throw new ArgumentException($"Parameter '{prefix}out_proj.weight' (expected [E × E]) is missing.", nameof(state));
        }
        var e = outWeight.RowCount;
        CheckHeads(e, headCount);
        Matrix<float> wq, wk, wv;
        if (state.ContainsKey(prefix + "in_proj_weight"))
        {
            var inProj = StateDict.Matrix(state, prefix + "in_proj_weight", 3 * e, e);
            (wq, wk, wv) = (inProj.SubMatrix(0, e, 0, e), inProj.SubMatrix(e, e, 0, e), inProj.SubMatrix(2 * e, e, 0, e));
        }
        else
        {
            wq = StateDict.Matrix(state, prefix + "q_proj_weight", e, e);
            var kdim = state.TryGetValue(prefix + "k_proj_weight", out var k) ? k.ColumnCount : e;
            var vdim = state.TryGetValue(prefix + "v_proj_weight", out var v) ? v.ColumnCount : e;
            wk = StateDict.Matrix(state, prefix + "k_proj_weight", e, kdim);
            wv = StateDict.Matrix(state, prefix + "v_proj_weight", e, vdim);
        }
        var hasBias = state.ContainsKey(prefix + "in_proj_bias");
        if (!hasBias && state.ContainsKey(prefix + "out_proj.bias"))
        {
            throw new ArgumentException(
                $"'{prefix}out_proj.bias' is given without '{prefix}in_proj_bias': PyTorch's biases come all together (bias=True) or not at all.", nameof(state));
        }
        var inBias = hasBias ? StateDict.Vector(state, prefix + "in_proj_bias", 3 * e) : null;
        var outBias = hasBias ? StateDict.Vector(state, prefix + "out_proj.bias", e) : null;
        return new MultiHeadAttention(
            headCount,
            new Linear(wq, inBias?.SubVector(0, e)),
            new Linear(wk, inBias?.SubVector(e, e)),
            new Linear(wv, inBias?.SubVector(2 * e, e)),
            new Linear(StateDict.Matrix(state, prefix + "out_proj.weight", e, e), outBias));
    }

    /// <summary>The parameters under PyTorch's names (copies), as <see cref="FromStateDict"/> reads them.</summary>
    /// <param name="prefix">Prepended to every name.</param>
    /// <returns>Named matrices; biases as [1 × n].</returns>
    public Dictionary<string, Matrix<float>> ToStateDict(string prefix = "")
    {
        var state = new Dictionary<string, Matrix<float>>(StringComparer.Ordinal);
        if (KeyDim == ModelDim && ValueDim == ModelDim)
        {
            state[prefix + "in_proj_weight"] = WQ.Stack(WK).Stack(WV);
        }
        else
        {
            (state[prefix + "q_proj_weight"], state[prefix + "k_proj_weight"], state[prefix + "v_proj_weight"]) = (WQ.Clone(), WK.Clone(), WV.Clone());
        }
        if (QueryProjection.Bias is { } bq && KeyProjection.Bias is { } bk && ValueProjection.Bias is { } bv)
        {
            state[prefix + "in_proj_bias"] = StateDict.Row(Vector<float>.Build.DenseOfEnumerable(bq.Concat(bk).Concat(bv)));
        }
        state[prefix + "out_proj.weight"] = WO.Clone();
        if (OutputProjection.Bias is { } bo)
        {
            state[prefix + "out_proj.bias"] = StateDict.Row(bo);
        }
        return state;
    }

    /// <summary>The trainable parameters in PyTorch's state_dict order, named after the part of PyTorch's tensor each one
    /// is: W_Q, W_K, W_V are <c>in_proj_weight[0:E]</c>, <c>[E:2E]</c>, <c>[2E:3E]</c> (Python's row slices; or
    /// <c>q_proj_weight</c>, <c>k_proj_weight</c>, <c>v_proj_weight</c> when kdim or vdim differ from E), then
    /// <c>in_proj_bias[0:E]</c> …, <c>out_proj.weight</c>, <c>out_proj.bias</c>. <see cref="ToStateDict"/> stacks the
    /// slices back into PyTorch's tensors.</summary>
    /// <param name="prefix">E.g. <c>"encoder.layers.0.self_attn."</c>.</param>
    /// <returns>Name and parameter pairs.</returns>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "")
    {
        var e = ModelDim;
        var stacked = KeyDim == e && ValueDim == e;
        var projections = new[] { QueryProjection, KeyProjection, ValueProjection };
        string[] letters = ["q", "k", "v"];
        for (var i = 0; i < 3; i++)
        {
            yield return (stacked ? $"{prefix}in_proj_weight[{i * e}:{(i + 1) * e}]" : $"{prefix}{letters[i]}_proj_weight", projections[i].WeightParameter);
        }
        for (var i = 0; i < 3; i++)
        {
            if (projections[i].BiasParameter is { } bias)
            {
                yield return ($"{prefix}in_proj_bias[{i * e}:{(i + 1) * e}]", bias);
            }
        }
        foreach (var named in OutputProjection.NamedParameters(prefix + "out_proj."))
        {
            yield return named;
        }
    }

    /// <summary>Writes the parameters under PyTorch's names with <paramref name="prefix"/> (see <see cref="ToStateDict"/>).</summary>
    /// <param name="state">The dictionary to add to.</param>
    /// <param name="prefix">E.g. <c>"encoder.layers.0.self_attn."</c>.</param>
    public void AddTo(IDictionary<string, Matrix<float>> state, string prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        foreach (var (name, value) in ToStateDict(prefix))
        {
            state[name] = value;
        }
    }

    /// <summary>Self-attention: <c>Forward(x, x, x, mask, needWeights)</c>.</summary>
    /// <param name="x">[n × E], one row per token.</param>
    /// <param name="mask">Optional mask fitting [n × n].</param>
    /// <param name="needWeights">Whether to return the weights per head and their average.</param>
    /// <returns>Output [n × E] and, when asked, weights h × [n × n] and their average [n × n].</returns>
    public MultiHeadAttentionOutput Forward(Matrix<float> x, AttentionMask? mask = null, bool needWeights = true) =>
        Forward(x, x, x, mask, needWeights);

    /// <summary>MultiHead(Q, K, V) = Concat(head₁, …, head_h)·W_Oᵀ + b_O with head_i = Attention(Q_i, K_i, V_i).</summary>
    /// <param name="query">[n × E], the tokens that ask.</param>
    /// <param name="key">[m × kdim], the tokens looked at.</param>
    /// <param name="value">[m × vdim], what those tokens hand over.</param>
    /// <param name="mask">Optional mask fitting [n × m], shared by every head.</param>
    /// <param name="needWeights">Whether to return the weights per head and their average. Without them each head runs
    /// the fused kernel (<see cref="ScaledDotProductAttention.ComputeFused"/>), which never holds an [n × m] matrix.</param>
    /// <returns>Output [n × E] and, when asked, weights h × [n × m] and their average [n × m].</returns>
    /// <exception cref="ArgumentException">Shapes do not fit; the message names both shapes.</exception>
    public MultiHeadAttentionOutput Forward(Matrix<float> query, Matrix<float> key, Matrix<float> value, AttentionMask? mask = null, bool needWeights = true)
    {
        CheckInputs(query, key, value, mask);
        if (!needWeights && FastPath.Applies(AttentionDropout))
        {
            return new MultiHeadAttentionOutput(FastPath.Attention(this, query, key, value, mask, Storage.NewMatrix(query.RowCount, ModelDim)), null, null);
        }
        return Attend(Project(query, key, value), mask, needWeights, result: null);
    }

    /// <summary>The same attention without weights, written into <paramref name="result"/> instead of a new matrix
    /// (MathNet's <c>Multiply(other, result)</c> pattern): the last product, by W_O, writes there. For self-attention pass
    /// the same matrix as query, key and value.</summary>
    /// <param name="query">[n × E], the tokens that ask.</param>
    /// <param name="key">[m × kdim], the tokens looked at.</param>
    /// <param name="value">[m × vdim], what those tokens hand over.</param>
    /// <param name="mask">Optional mask fitting [n × m], or null.</param>
    /// <param name="result">[n × E], a dense matrix; overwritten (it may be one of the inputs: it is written last).</param>
    /// <exception cref="ArgumentException">Shapes do not fit (the message names both shapes), or the result is not dense.</exception>
    public void Forward(Matrix<float> query, Matrix<float> key, Matrix<float> value, AttentionMask? mask, Matrix<float> result)
    {
        CheckInputs(query, key, value, mask);
        Shapes.RequireShape(result, nameof(result), query.RowCount, ModelDim, "one row per query token");
        if (FastPath.Applies(AttentionDropout))
        {
            FastPath.Attention(this, query, key, value, mask, result);   // the same steps over reused scratch memory (Inference/FastPath.cs)
            return;
        }
        Attend(Project(query, key, value), mask, needWeights: false, result);
    }

    /// <summary>Step 1: Q = query·W_Qᵀ + b_Q, K = key·W_Kᵀ + b_K, V = value·W_Vᵀ + b_V, all heads at once.</summary>
    private (Matrix<float> Q, Matrix<float> K, Matrix<float> V) Project(Matrix<float> query, Matrix<float> key, Matrix<float> value) =>
        (QueryProjection.Forward(query),                                   // Q   [n × E]
         KeyProjection.Forward(key),                                       // K   [m × E]
         ValueProjection.Forward(value));                                  // V   [m × E]

    /// <summary>Steps 2–4 on projected Q [n × E], K [m × E] and V [m × E]: split into heads, attend, concatenate, then W_O.
    /// The decoder's KV cache calls this directly with the keys and values it has kept.</summary>
    internal MultiHeadAttentionOutput Attend((Matrix<float> Q, Matrix<float> K, Matrix<float> V) projected, AttentionMask? mask, bool needWeights,
        Matrix<float>? result)
    {
        var (q, k, v) = projected;
        var concat = Storage.NewMatrix(q.RowCount, ModelDim);             // Concat(head₁, …, head_h)   [n × E]
        var weights = needWeights ? new Matrix<float>[HeadCount] : null;
        for (var h = 0; h < HeadCount; h++)
        {
            var (qh, kh, vh) = (Head(q, h), Head(k, h), Head(v, h));       // Q_i, K_i, V_i   [n × d_k], [m × d_k], [m × d_v]
            Matrix<float> head;
            if (weights is not null || !AttentionDropout.IsIdentity)
            {
                var (attention, _) = AttendHead(qh, kh, vh, mask);
                head = attention.Output;
                if (weights is not null)
                {
                    weights[h] = attention.Weights;
                }
            }
            else
            {
                head = ScaledDotProductAttention.ComputeFused(qh, kh, vh, mask);  // the same head, never holding [n × m]
            }
            concat.SetSubMatrix(0, h * HeadDim, head);                     // head_i into columns i·d_k … (i+1)·d_k − 1
        }
        var output = result ?? Storage.NewMatrix(q.RowCount, ModelDim);
        OutputProjection.Forward(concat, output);                          // Concat·W_Oᵀ + b_O            [n × E]
        return new MultiHeadAttentionOutput(output, weights, weights is null ? null : Average(weights));
    }

    /// <summary>The forward pass for training: the same computation as <see cref="Forward(Matrix{float}, Matrix{float}, Matrix{float}, AttentionMask?, bool)"/>
    /// on the readable path, keeping what <see cref="Backward"/> needs.</summary>
    /// <param name="query">[n × E].</param>
    /// <param name="key">[m × kdim].</param>
    /// <param name="value">[m × vdim].</param>
    /// <param name="mask">Optional mask fitting [n × m].</param>
    /// <returns>The record; its <see cref="MultiHeadAttentionRecord.Output"/> is the attention's output [n × E].</returns>
    public MultiHeadAttentionRecord ForwardRecorded(Matrix<float> query, Matrix<float> key, Matrix<float> value, AttentionMask? mask = null)
    {
        CheckInputs(query, key, value, mask);
        var (q, k, v) = Project(query, key, value);
        var (blocks, blockMask) = Blocks(mask, q.RowCount, k.RowCount);              // the whole matrix, or one block per stacked sentence
        var heads = new AttentionOutput[HeadCount * blocks.Count];
        var dropoutMasks = new Matrix<float>?[heads.Length];
        var concat = Storage.NewMatrix(q.RowCount, ModelDim);
        for (var h = 0; h < HeadCount; h++)
        {
            foreach (var (b, block) in blocks.Index())
            {
                var i = h * blocks.Count + b;
                (heads[i], dropoutMasks[i]) = AttendHead(Head(q, h, block.FirstQuery, block.QueryCount), Head(k, h, block.FirstKey, block.KeyCount),
                    Head(v, h, block.FirstKey, block.KeyCount), blockMask);
                concat.SetSubMatrix(block.FirstQuery, h * HeadDim, heads[i].Output);
            }
        }
        return new MultiHeadAttentionRecord(query, key, value, q, k, v, heads, concat, OutputProjection.Forward(concat), dropoutMasks, blocks);
    }

    /// <summary>Where attention runs: over the whole [n × m] under the mask, or, for sentences stacked in one matrix
    /// (<see cref="AttentionMask.Sentences"/>), sentence by sentence, each under the causal mask or none: the same
    /// weights the whole-matrix way gives (every other sentence's keys are hidden), without the [n × m] work.</summary>
    private static (IReadOnlyList<SentenceBlock> Blocks, AttentionMask? Mask) Blocks(AttentionMask? mask, int n, int m) =>
        mask?.SentenceBlocks is { } sentences
            ? (sentences, mask.CausalWithinSentences ? AttentionMask.Causal : null)
            : ([new SentenceBlock(0, n, 0, m)], mask);

    /// <summary>One head: α = softmax(Q_i·K_iᵀ/√d_k + mask), then head_i = Dropout(α)·V_i. The returned weights are α
    /// before dropout (what the softmax's backward pass needs); the mask is null when dropout is off.</summary>
    private (AttentionOutput Head, Matrix<float>? DropoutMask) AttendHead(Matrix<float> qh, Matrix<float> kh, Matrix<float> vh, AttentionMask? mask)
    {
        var attention = ScaledDotProductAttention.Compute(qh, kh, vh, mask);
        if (AttentionDropout.IsIdentity)
        {
            return (attention, null);
        }
        var (dropped, dropoutMask) = AttentionDropout.ForwardRecorded(attention.Weights);        // PyTorch's dropout on attn_output_weights
        return (attention with { Output = MatrixMultiply.Multiply(dropped, vh) }, dropoutMask);
    }

    /// <summary>The backward pass: adds the gradients of W_Q, W_K, W_V, W_O and their biases into their parameters and
    /// returns ∂L/∂query, ∂L/∂key and ∂L/∂value (for self-attention, where all three are x, their sum is ∂L/∂x).</summary>
    /// <param name="record">From <see cref="ForwardRecorded"/>.</param>
    /// <param name="outputGradient">∂L/∂output, [n × E].</param>
    /// <returns>The gradients of the three inputs, shaped as they are.</returns>
    /// <remarks>The forward pass in reverse: back through W_O, split ∂L/∂concat into heads, each head's scaled
    /// dot-product attention backwards, put the heads' ∂L/∂Q, ∂L/∂K, ∂L/∂V side by side, then back through the projections.</remarks>
    public AttentionGradients Backward(MultiHeadAttentionRecord record, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(record);
        var dConcat = OutputProjection.Backward(record.Concat, outputGradient);                   // through W_O   [n × E]
        var (dq, dk, dv) = (Storage.NewMatrix(record.Q.RowCount, ModelDim), Storage.NewMatrix(record.K.RowCount, ModelDim), Storage.NewMatrix(record.V.RowCount, ModelDim));
        var blocks = record.Blocks ?? [new SentenceBlock(0, record.Q.RowCount, 0, record.K.RowCount)];
        for (var h = 0; h < HeadCount; h++)
        {
            foreach (var (b, block) in blocks.Index())
            {
                var (i, rows, keys) = (h * blocks.Count + b, (block.FirstQuery, block.QueryCount), (block.FirstKey, block.KeyCount));
                var head = ScaledDotProductAttention.Backward(Head(record.Q, h, rows), Head(record.K, h, keys), Head(record.V, h, keys),
                    record.Heads[i].Weights, Head(dConcat, h, rows), dropoutMask: record.DropoutMasks?[i]);
                dq.SetSubMatrix(block.FirstQuery, h * HeadDim, head.Queries);                     // head h's columns, the block's rows
                dk.SetSubMatrix(block.FirstKey, h * HeadDim, head.Keys);                          // (blocks never share keys)
                dv.SetSubMatrix(block.FirstKey, h * HeadDim, head.Values);
            }
        }
        return new AttentionGradients(
            QueryProjection.Backward(record.Query, dq),                                           // through W_Q, W_K, W_V
            KeyProjection.Backward(record.Key, dk),
            ValueProjection.Backward(record.Value, dv));
    }

    /// <summary>Head i's columns i·d_k … (i+1)·d_k − 1 of a projection (PyTorch's <c>view(n, h, d_k)</c>).</summary>
    private Matrix<float> Head(Matrix<float> projection, int i) => projection.SubMatrix(0, projection.RowCount, i * HeadDim, HeadDim);

    /// <summary>Head i's columns of the rows first … first + count − 1 (one stacked sentence's part).</summary>
    private Matrix<float> Head(Matrix<float> projection, int i, int first, int count) =>
        first == 0 && count == projection.RowCount ? Head(projection, i) : projection.SubMatrix(first, count, i * HeadDim, HeadDim);

    private Matrix<float> Head(Matrix<float> projection, int i, (int First, int Count) rows) => Head(projection, i, rows.First, rows.Count);

    private static Matrix<float> Average(Matrix<float>[] weights)
    {
        var sum = weights[0].Clone();
        for (var h = 1; h < weights.Length; h++)
        {
            sum.Add(weights[h], sum);
        }
        return sum.Divide(weights.Length); // the sum divided by h, as PyTorch
    }

    private void CheckInputs(Matrix<float> query, Matrix<float> key, Matrix<float> value, AttentionMask? mask)
    {
        Shapes.RequireColumns(query, nameof(query), ModelDim, $"E of W_Q {Shapes.Of(WQ)}");
        Shapes.RequireColumns(key, nameof(key), KeyDim, $"kdim of W_K {Shapes.Of(WK)}");
        Shapes.RequireColumns(value, nameof(value), ValueDim, $"vdim of W_V {Shapes.Of(WV)}");
        Shapes.RequireInner(key, nameof(key), value, nameof(value), key.RowCount, value.RowCount, "Keys and values need one row per key token, the same count m");
        mask?.RequireFits(query.RowCount, key.RowCount, nameof(mask));
    }

    private static void CheckHeads(int modelDim, int headCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(modelDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(headCount);
        if (modelDim % headCount != 0)
        {
            throw new ArgumentException($"d_model = {modelDim} is not divisible by h = {headCount} heads; each head needs d_model / h columns.", nameof(headCount));
        }
    }

    /// <summary>torch.nn.init.xavier_uniform_ on a [rows × columns] tensor: U(−a, a) with a = √3·√(2 / (fan_in + fan_out)).</summary>
    private static Matrix<float> XavierUniform(int rows, int columns, TorchGenerator generator)
    {
        var bound = Math.Sqrt(3.0) * Math.Sqrt(2.0 / (columns + rows));
        var values = new float[Shapes.Elements(rows, columns, "A projection weight", nameof(rows))];
        generator.Uniform(values, -bound, bound);
        return Matrix<float>.Build.DenseOfRowMajor(rows, columns, values);
    }
}

/// <summary>What <see cref="MultiHeadAttention.Backward"/> needs from the forward pass.</summary>
/// <param name="Query">The query input, [n × E].</param>
/// <param name="Key">The key input, [m × kdim].</param>
/// <param name="Value">The value input, [m × vdim].</param>
/// <param name="Q">Q = query·W_Qᵀ + b_Q, [n × E].</param>
/// <param name="K">K, [m × E].</param>
/// <param name="V">V, [m × E].</param>
/// <param name="Heads">Each head's output and weights; with sentence blocks, head h's block b is at h·(blocks) + b.</param>
/// <param name="Concat">Concat(head₁, …, head_h), [n × E].</param>
/// <param name="Output">Concat·W_Oᵀ + b_O, [n × E].</param>
/// <param name="DropoutMasks">The attention-dropout mask of each entry of <paramref name="Heads"/> (null entries, or null, when dropout was off).</param>
/// <param name="Blocks">The sentence blocks attention ran on (see <see cref="AttentionMask.Sentences"/>), or null for one block of [n × m].</param>
public sealed record MultiHeadAttentionRecord(Matrix<float> Query, Matrix<float> Key, Matrix<float> Value, Matrix<float> Q, Matrix<float> K,
    Matrix<float> V, IReadOnlyList<AttentionOutput> Heads, Matrix<float> Concat, Matrix<float> Output, IReadOnlyList<Matrix<float>?>? DropoutMasks = null,
    IReadOnlyList<SentenceBlock>? Blocks = null);
