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
}
