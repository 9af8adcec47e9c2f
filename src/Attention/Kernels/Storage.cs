using MathNet.Numerics.LinearAlgebra;

namespace Attention.Kernels;

/// <summary>Access to a MathNet matrix's column-major values without copying when it is dense, and new result matrices.</summary>
internal static class Storage
{
    /// <summary>The matrix's own column-major array when it is dense (no copy), otherwise a column-major copy.</summary>
    public static float[] ColumnMajor(Matrix<float> matrix) => matrix.AsColumnMajorArray() ?? matrix.ToColumnMajorArray();

    /// <summary>A new array for a result the caller will overwrite completely (contents undefined until then).</summary>
    /// <remarks>
    /// Results of 512 × 512 floats and more are large objects. On this runtime a 1 MB array from the large object heap
    /// arrives on freshly mapped pages, and touching them costs about 2.3 ms (measured: more than the 512³ product that fills
    /// it). Arrays from the pinned object heap are recycled with their pages still mapped: 0.3 ms on average for 1 MB.
    /// Small arrays stay ordinary ones. Pinning is harmless here: nothing ever needs to move these arrays.
    /// </remarks>
    public static float[] NewArray(int length) =>
        length >= LargeObject ? GC.AllocateUninitializedArray<float>(length, pinned: true) : new float[length];

    /// <summary>A new dense [rows × columns] matrix over <see cref="NewArray"/> (contents undefined until written); every
    /// result the library computes comes from here, and its size is checked in 64 bits first.</summary>
    /// <exception cref="ArgumentException">rows × columns does not fit in one array; the message names both.</exception>
    public static Matrix<float> NewMatrix(int rows, int columns, string what = "The result", string name = "rows") =>
        Wrap(rows, columns, NewArray(Shapes.Elements(rows, columns, what, name)));

    /// <summary>A dense copy of <paramref name="matrix"/>.</summary>
    public static Matrix<float> Copy(Matrix<float> matrix)
    {
        var size = matrix.RowCount * matrix.ColumnCount;
        var values = NewArray(size);
        ColumnMajor(matrix).AsSpan(0, size).CopyTo(values);
        return Wrap(matrix.RowCount, matrix.ColumnCount, values);
    }

    /// <summary>Column-major <paramref name="values"/> (usually from <see cref="NewArray"/>) as a [rows × columns] matrix, without copying.</summary>
    public static Matrix<float> Wrap(int rows, int columns, float[] values) => Matrix<float>.Build.Dense(rows, columns, values);

    private const int LargeObject = 85_000 / sizeof(float);

    /// <summary>The transpose of the column-major [rows × columns] <paramref name="source"/> into <paramref name="destination"/>
    /// (column-major [columns × rows]). Eight source columns at a time: eight sequential read streams, and each row's
    /// eight values written side by side (MathNet's Transpose goes element by element through its storage interface).</summary>
    public static void Transpose(ReadOnlySpan<float> source, int rows, int columns, Span<float> destination)
    {
        if (source.Length < (long)rows * columns || destination.Length < (long)rows * columns)
        {
            throw new ArgumentException($"Transpose needs {(long)rows * columns} floats on both sides.", nameof(destination));
        }
        ref var x = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(source);
        ref var y = ref System.Runtime.InteropServices.MemoryMarshal.GetReference(destination);
        var j = 0;
        for (; j + 8 <= columns; j += 8)
        {
            for (var i = 0; i < rows; i++)
            {
                ref var row = ref System.Runtime.CompilerServices.Unsafe.Add(ref y, j + (nint)i * columns);   // (i, j … j + 7) → row i of the result
                for (var c = 0; c < 8; c++)
                {
                    System.Runtime.CompilerServices.Unsafe.Add(ref row, c) = System.Runtime.CompilerServices.Unsafe.Add(ref x, i + (nint)(j + c) * rows);
                }
            }
        }
        for (; j < columns; j++)
        {
            for (var i = 0; i < rows; i++)
            {
                System.Runtime.CompilerServices.Unsafe.Add(ref y, j + (nint)i * columns) = System.Runtime.CompilerServices.Unsafe.Add(ref x, i + (nint)j * rows);
            }
        }
    }
}
