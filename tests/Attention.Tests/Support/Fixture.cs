using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Support;

/// <summary>
/// A JSON file written by tools/reference/generate.py: tensors from PyTorch with the exact torch calls that made them.
/// Floats are stored as the shortest decimal of their float64 value, so (float)double.Parse gives the same bits back.
/// </summary>
public sealed class Fixture
{
    private readonly JsonElement _root;

    private Fixture(JsonElement root) => _root = root;

    public static Fixture Load(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Fixtures", fileName);
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        return new Fixture(document.RootElement.Clone());
    }

    public IReadOnlyList<string> TorchCalls => [.. _root.GetProperty("torch_calls").EnumerateArray().Select(e => e.GetString()!)];

    public int[] Shape(string name) => [.. Tensor(name).GetProperty("shape").EnumerateArray().Select(e => e.GetInt32())];

    public float[] Data(string name) => [.. Tensor(name).GetProperty("data").EnumerateArray().Select(ParseFloat)];

    /// <summary>A 2-d tensor, or a 3-d one with a batch of 1 ([1, r, c] as [r × c]).</summary>
    public Matrix<float> Matrix(string name)
    {
        var shape = Shape(name);
        if (shape.Length == 3 && shape[0] == 1)
        {
            shape = shape[1..];
        }
        shape.Should().HaveCount(2, $"{name} should be a 2-d tensor");
        return Matrix<float>.Build.DenseOfRowMajor(shape[0], shape[1], Data(name));
    }

    public Vector<float> Vector(string name)
    {
        Shape(name).Should().HaveCount(1, $"{name} should be a 1-d tensor");
        return Vector<float>.Build.Dense(Data(name));
    }

    public float Scalar(string name)
    {
        Shape(name).Should().BeEmpty($"{name} should be a 0-d tensor");
        return Data(name).Single();
    }

    public bool Has(string name) => _root.GetProperty("tensors").TryGetProperty(name, out _);

    /// <summary>A 1-d tensor as the one-row matrix a state dictionary holds ([n] as [1 × n]).</summary>
    public Matrix<float> Row(string name) => Vector(name).ToRowMatrix();

    /// <summary>The module parameters the script stored as "param:{state_dict name}", 1-d tensors as [1 × n].</summary>
    public Dictionary<string, Matrix<float>> State()
    {
        var state = new Dictionary<string, Matrix<float>>(StringComparer.Ordinal);
        foreach (var tensor in _root.GetProperty("tensors").EnumerateObject().Where(t => t.Name.StartsWith("param:", StringComparison.Ordinal)))
        {
            state[tensor.Name["param:".Length..]] = Shape(tensor.Name).Length == 1 ? Row(tensor.Name) : Matrix(tensor.Name);
        }
        return state;
    }

    public string Text(string scalarName) => _root.GetProperty("scalars").GetProperty(scalarName).GetString()!;

    private JsonElement Tensor(string name) => _root.GetProperty("tensors").GetProperty(name);

    private static float ParseFloat(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Number => (float)element.GetDouble(),
        _ => element.GetString() switch
        {
            "Infinity" => float.PositiveInfinity,
            "-Infinity" => float.NegativeInfinity,
            _ => float.NaN,
        },
    };
}
