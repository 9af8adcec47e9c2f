using MathNet.Numerics.LinearAlgebra;

namespace Attention;

/// <summary>Argument checks whose messages state the rule and name both shapes, in the house style.</summary>
internal static class Shapes
{
    /// <summary>"[rows × columns]".</summary>
    public static string Of(Matrix<float> matrix) => $"[{matrix.RowCount} × {matrix.ColumnCount}]";

    /// <summary>"[rows × columns]".</summary>
    public static string Of(int rows, int columns) => $"[{rows} × {columns}]";

    /// <summary>Throws <see cref="ArgumentException"/> on <paramref name="secondName"/> unless the two inner sizes agree.</summary>
    public static void RequireInner(Matrix<float> first, string firstName, Matrix<float> second, string secondName, int firstSize, int secondSize, string rule)
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        if (firstSize != secondSize)
        {
            throw new ArgumentException($"{rule}, but {firstName} is {Of(first)} and {secondName} is {Of(second)}.", secondName);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="matrix"/> has exactly the expected shape.</summary>
    public static void RequireShape(Matrix<float> matrix, string name, int rows, int columns, string what)
    {
        ArgumentNullException.ThrowIfNull(matrix, name);
        if (matrix.RowCount != rows || matrix.ColumnCount != columns)
        {
            throw new ArgumentException($"{name} must be {Of(rows, columns)} ({what}), but it is {Of(matrix)}.", name);
        }
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="matrix"/> has <paramref name="columns"/> columns.</summary>
    public static void RequireColumns(Matrix<float> matrix, string name, int columns, string what)
    {
        ArgumentNullException.ThrowIfNull(matrix, name);
        if (matrix.ColumnCount != columns)
        {
            throw new ArgumentException($"{name} must have {columns} columns ({what}), but it is {Of(matrix)}.", name);
        }
    }

    /// <summary>Throws unless the sizes are non-negative and the span holds a column-major [rows × columns] matrix (extra elements are ignored).</summary>
    public static void RequireSpan(int length, string name, long rows, long columns, string what)
    {
        if (rows < 0 || columns < 0)
        {
            throw new ArgumentOutOfRangeException(name, $"{what} cannot be [{rows} × {columns}]: sizes are never negative.");
        }
        if ((Int128)rows * columns > length)   // 128 bits: no product of two sizes can wrap
        {
            throw new ArgumentException($"{name} must hold {what} [{rows} × {columns}] = {(Int128)rows * columns} floats (column-major), but it has {length}.", name);
        }
    }

    /// <summary>rows × columns as the length of one array, or an <see cref="ArgumentException"/> naming both sizes when the
    /// product is negative or passes <see cref="Array.MaxLength"/> (computed in 64 bits, so it never wraps).</summary>
    /// <param name="rows">Rows of the matrix to be made.</param>
    /// <param name="columns">Columns of the matrix to be made.</param>
    /// <param name="what">What the matrix is, for the message.</param>
    /// <param name="name">The parameter to blame.</param>
    public static int Elements(long rows, long columns, string what, string name)
    {
        if (rows < 0 || columns < 0)
        {
            throw new ArgumentOutOfRangeException(name, $"{what} cannot be [{rows} × {columns}]: sizes are never negative.");
        }
        var count = (Int128)rows * columns;
        if (count > Array.MaxLength)
        {
            throw new ArgumentException(
                $"{what} would be [{rows} × {columns}] = {count} floats, more than one array can hold ({Array.MaxLength}).", name);
        }
        return (int)count;
    }

    /// <summary>Throws <see cref="ArgumentException"/> on <paramref name="outputName"/> when an output span shares memory with an input.</summary>
    public static void RequireSeparate(ReadOnlySpan<float> output, string outputName, ReadOnlySpan<float> input, string inputName)
    {
        if (output.Overlaps(input))
        {
            throw new ArgumentException($"{outputName} must not overlap {inputName}: the kernel reads {inputName} while it writes {outputName}.", outputName);
        }
    }

    /// <summary>The column-major array of <paramref name="result"/>, which a layer overwrites; throws unless the matrix is dense.</summary>
    public static float[] DenseArray(Matrix<float> result, string name) =>
        result.AsColumnMajorArray()
            ?? throw new ArgumentException($"{name} must be a dense matrix (the layer writes its column-major array), but it is a {result.GetType().Name}.", name);

    /// <summary>Throws unless <paramref name="result"/> is a dense matrix, whose column-major array a layer can overwrite.</summary>
    public static void RequireDense(Matrix<float> result, string name) => DenseArray(result, name);
}
