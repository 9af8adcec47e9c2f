// "Attention Is All You Need", §3.4: "we use learned embeddings to convert the input tokens … to vectors of dimension d_model."
// An embedding is a lookup table: row i of the weight matrix is the vector of token i.
using Attention.Randomness;
using Attention.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Layers;

/// <summary>
/// A learned lookup table from token id to vector, PyTorch's <c>nn.Embedding</c>: <see cref="Weight"/> is
/// <c>[vocab × d]</c>, and <see cref="Forward"/> picks one row per id.
/// </summary>
public sealed class Embedding
{
    /// <summary>Creates a table drawn from N(0, 1) exactly as <c>torch.nn.Embedding(vocabularySize, dimension)</c> after the same seed.</summary>
    /// <param name="vocabularySize">Number of rows (tokens), at least 1.</param>
    /// <param name="dimension">Length d of each vector, at least 1.</param>
    /// <param name="generator">The random source; advanced by vocab·d values (plus 16 if that is not a multiple of 16), as in PyTorch.</param>
    /// <param name="paddingIndex">PyTorch's <c>padding_idx</c>: that row is set to zero after the draw and never gets a
    /// gradient, so a padding token stays the zero vector through training. Null for none.</param>
    public Embedding(int vocabularySize, int dimension, TorchGenerator generator, int? paddingIndex = null)
    {
        ArgumentNullException.ThrowIfNull(generator);
        Weight = generator.Randn(vocabularySize, dimension);
        WeightParameter = new Parameter("weight", Weight);
        PaddingIndex = CheckPadding(paddingIndex, vocabularySize);
        if (PaddingIndex is { } pad)
        {
            Weight.ClearRow(pad);                                   // torch: weight[padding_idx].fill_(0) in reset_parameters
        }
    }

    /// <summary>Creates a table drawn from N(0, 1) as <c>torch.manual_seed(seed); torch.nn.Embedding(vocabularySize, dimension)</c>.</summary>
    /// <param name="vocabularySize">Number of rows (tokens), at least 1.</param>
    /// <param name="dimension">Length d of each vector, at least 1.</param>
    /// <param name="seed">The seed given to a fresh <see cref="TorchGenerator"/>.</param>
    public Embedding(int vocabularySize, int dimension, long seed)
        : this(vocabularySize, dimension, new TorchGenerator(seed))
    {
    }

    /// <summary>Creates a table holding a copy of <paramref name="weight"/>.</summary>
    /// <param name="weight">[vocab × d], row i being the vector of token i.</param>
    /// <param name="paddingIndex">PyTorch's <c>padding_idx</c>: that row gets no gradient. Its values are kept as given,
    /// as <c>nn.Embedding.from_pretrained(weight, padding_idx=…)</c> keeps them. Null for none.</param>
    public Embedding(Matrix<float> weight, int? paddingIndex = null)
    {
        ArgumentNullException.ThrowIfNull(weight);
        Weight = weight.Clone();
        WeightParameter = new Parameter("weight", Weight);
        PaddingIndex = CheckPadding(paddingIndex, weight.RowCount);
    }

    /// <summary>PyTorch's <c>padding_idx</c>: the row that gets no gradient (zero at initialisation), or null.</summary>
    public int? PaddingIndex { get; }

    private static int? CheckPadding(int? paddingIndex, int vocabularySize) =>
        paddingIndex is not { } pad || (pad >= 0 && pad < vocabularySize)
            ? paddingIndex
            : throw new ArgumentOutOfRangeException(nameof(paddingIndex), pad, $"The padding index must be a row of the table, 0 to {vocabularySize - 1}.");

    /// <summary>The table as a trainable parameter (<c>weight</c>): its value is <see cref="Weight"/> itself.</summary>
    public Parameter WeightParameter { get; }

    /// <summary>The table, [vocab × d]; PyTorch's <c>weight</c>. Mutable, as a trainable parameter is.</summary>
    public Matrix<float> Weight { get; }

    /// <summary>Number of tokens the table covers (its rows).</summary>
    public int VocabularySize => Weight.RowCount;

    /// <summary>Length d of each vector (its columns).</summary>
    public int Dimension => Weight.ColumnCount;

    /// <summary>The vectors of <paramref name="ids"/>, one row per token.</summary>
    /// <param name="ids">n token ids, each in [0, vocab).</param>
    /// <returns>[n × d]. Must have n ≥ 1: MathNet matrices cannot be empty.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An id is outside the table; the message gives the id and the vocabulary size.</exception>
    /// <exception cref="ArgumentException"><paramref name="ids"/> is empty.</exception>
    public Matrix<float> Forward(IReadOnlyList<int> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            throw new ArgumentException("Cannot embed an empty sequence: a [0 × d] matrix does not exist in MathNet. Pass at least one token id.", nameof(ids));
        }
        Shapes.Elements(ids.Count, Dimension, "The embedded sequence", nameof(ids));
        var result = Matrix<float>.Build.Dense(ids.Count, Dimension);
        for (var row = 0; row < ids.Count; row++)
        {
            var id = ids[row];
            if (id < 0 || id >= VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} (position {row}) is outside the embedding table of {VocabularySize} tokens (valid ids: 0 to {VocabularySize - 1}).");
            }
            result.SetRow(row, Weight.Row(id));
        }
        return result;
    }

    /// <summary>The backward pass of <see cref="Forward"/>: row r of ∂L/∂output is added to the gradient of the row of
    /// token ids[r] (a token that occurs twice collects both); rows of unused tokens, and the padding row, get nothing.</summary>
    /// <param name="ids">The ids given to <see cref="Forward"/>.</param>
    /// <param name="outputGradient">∂L/∂output, [n × d].</param>
    public void Backward(IReadOnlyList<int> ids, Matrix<float> outputGradient)
    {
        ArgumentNullException.ThrowIfNull(ids);
        Shapes.RequireShape(outputGradient, nameof(outputGradient), ids.Count, Dimension, "one row per id");
        for (var row = 0; row < ids.Count; row++)
        {
            var id = ids[row];
            if (id < 0 || id >= VocabularySize)
            {
                throw new ArgumentOutOfRangeException(nameof(ids), id, $"Token id {id} (position {row}) is outside the embedding table of {VocabularySize} tokens.");
            }
            if (id != PaddingIndex)
            {
                WeightParameter.Gradient.SetRow(id, WeightParameter.Gradient.Row(id) + outputGradient.Row(row));   // scatter-add
            }
        }
    }
}
