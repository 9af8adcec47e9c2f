// The safetensors format (Hugging Face), read and written from its definition:
//   8 bytes   little-endian u64 N, the length of the header
//   N bytes   UTF-8 JSON: { "name": { "dtype": "F32", "shape": [r, c], "data_offsets": [begin, end] }, …, "__metadata__": {…} }
//   the rest  raw little-endian tensor data; offsets are relative to the first byte after the header
// Every length and offset is checked against the bytes actually present before anything is read.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Serialization;

/// <summary>Reads and writes safetensors files as dictionaries of named matrices (PyTorch state_dict names and layouts).</summary>
/// <remarks>
/// <para>Reading accepts F32, F64, F16 and BF16 tensors of rank 0, 1 or 2 and converts them to float32; a 1-d tensor [n]
/// becomes a one-row matrix [1 × n], a scalar [1 × 1]. Writing stores F32; one-row matrices are written as 1-d tensors
/// [n], which is what PyTorch expects for biases and norm parameters.</para>
/// <para>A truncated or corrupt file (header length past the end, offsets outside the data, sizes that disagree with the
/// shape, unknown dtype, malformed JSON or UTF-8, a name given twice, tensors whose data overlap, bytes no tensor covers)
/// throws <see cref="InvalidDataException"/> naming the problem and the tensor; nothing is read past the buffer and no
/// allocation is sized by an unchecked header field.</para>
/// </remarks>
public static class SafeTensors
{
    /// <summary>The largest header accepted (100 MB), so a hostile length cannot force a huge allocation.</summary>
    public const int MaxHeaderBytes = 100 * 1024 * 1024;

    /// <summary>Reads every tensor of a file.</summary>
    /// <param name="path">A .safetensors file.</param>
    /// <returns>Named matrices.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file this library can read.</exception>
    public static Dictionary<string, Matrix<float>> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Read(File.ReadAllBytes(path));
    }

    /// <summary>Reads every tensor of safetensors bytes.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <returns>Named matrices.</returns>
    /// <exception cref="InvalidDataException">The bytes are not a valid safetensors file this library can read.</exception>
    public static Dictionary<string, Matrix<float>> Read(ReadOnlySpan<byte> bytes) => ReadWithMetadata(bytes).Tensors;

    /// <summary>Reads every tensor of a file and its <c>__metadata__</c> (string keys and values, as the format defines it).</summary>
    /// <param name="path">A .safetensors file.</param>
    /// <returns>The tensors and the metadata (empty when the file has none).</returns>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file, or its metadata is not an object of strings.</exception>
    public static (Dictionary<string, Matrix<float>> Tensors, Dictionary<string, string> Metadata) ReadWithMetadata(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return ReadWithMetadata(File.ReadAllBytes(path));
    }

    /// <summary>Reads every tensor of safetensors bytes and their <c>__metadata__</c>.</summary>
    /// <param name="bytes">The whole file.</param>
    /// <returns>The tensors and the metadata (empty when the file has none).</returns>
    /// <exception cref="InvalidDataException">The bytes are not a valid safetensors file, or the metadata is not an object of strings.</exception>
    public static (Dictionary<string, Matrix<float>> Tensors, Dictionary<string, string> Metadata) ReadWithMetadata(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 8)
        {
            throw new InvalidDataException($"A safetensors file starts with an 8-byte header length, but this one has only {bytes.Length} bytes.");
        }
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (headerLength > (ulong)(bytes.Length - 8) || headerLength > MaxHeaderBytes)
        {
            throw new InvalidDataException($"The header length {headerLength} is larger than the {bytes.Length - 8} bytes that follow it (or than the {MaxHeaderBytes}-byte limit).");
        }
        var data = bytes[(8 + (int)headerLength)..];
        string text;
        try
        {
            text = StrictUtf8.GetString(bytes.Slice(8, (int)headerLength));
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"The safetensors header is not valid UTF-8 (byte {e.Index} of the header); tensor names must be UTF-8.", e);
        }
        JsonDocument header;
        try
        {
            header = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"The safetensors header is not valid JSON: {e.Message}", e);
        }
        using (header)
        {
            if (header.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException("The safetensors header must be a JSON object of tensors.");
            }
            var tensors = new Dictionary<string, Matrix<float>>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var spans = new List<(string Name, ulong Begin, ulong End)>();
            foreach (var entry in header.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__")
                {
                    ReadMetadata(entry.Value, metadata);
                    continue;
                }
                if (tensors.ContainsKey(entry.Name))
                {
                    throw new InvalidDataException($"Tensor '{entry.Name}' appears twice in the header; each name must be unique.");
                }
                var (matrix, begin, end) = ReadTensor(entry.Name, entry.Value, data);
                tensors[entry.Name] = matrix;
                spans.Add((entry.Name, begin, end));
            }
            RequireEveryByteOnce(spans, (ulong)data.Length);
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        if (value.ValueKind != JsonValueKind.Object || metadata.Count > 0)
        {
            throw new InvalidDataException("__metadata__ must appear once, as a JSON object of strings.");
        }
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String || !metadata.TryAdd(item.Name, item.Value.GetString()!))
            {
                throw new InvalidDataException($"__metadata__ entry '{item.Name}' is not a string, or appears twice; the format allows only string values.");
            }
        }
    }

    /// <summary>Writes tensors to a file as F32.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="tensors">Named matrices; one-row matrices are written as 1-d tensors.</param>
    public static void Write(string path, IReadOnlyDictionary<string, Matrix<float>> tensors) => Write(path, tensors, metadata: null);

    /// <summary>Writes tensors to a file as F32, with extra <c>__metadata__</c> entries.</summary>
    /// <param name="path">The file to create or overwrite.</param>
    /// <param name="tensors">Named matrices; one-row matrices are written as 1-d tensors.</param>
    /// <param name="metadata">String entries added to <c>__metadata__</c> (beside "format": "pt"), or null.</param>
    public static void Write(string path, IReadOnlyDictionary<string, Matrix<float>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(path);
        File.WriteAllBytes(path, Write(tensors, metadata));
    }

    /// <summary>The safetensors bytes of <paramref name="tensors"/>, F32, in name order.</summary>
    /// <param name="tensors">Named matrices; one-row matrices are written as 1-d tensors.</param>
    /// <returns>The whole file.</returns>
    public static byte[] Write(IReadOnlyDictionary<string, Matrix<float>> tensors) => Write(tensors, metadata: null);

    /// <summary>The safetensors bytes of <paramref name="tensors"/>, F32, in name order, with extra <c>__metadata__</c> entries.</summary>
    /// <param name="tensors">Named matrices; one-row matrices are written as 1-d tensors.</param>
    /// <param name="metadata">String entries added to <c>__metadata__</c> (beside "format": "pt"), or null.</param>
    /// <returns>The whole file.</returns>
    public static byte[] Write(IReadOnlyDictionary<string, Matrix<float>> tensors, IReadOnlyDictionary<string, string>? metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var names = tensors.Keys.Where(n => n != "__metadata__").Order(StringComparer.Ordinal).ToArray();
        var entries = new Dictionary<string, string>(StringComparer.Ordinal) { ["format"] = "pt", ["writer"] = "Attention" };
        foreach (var (key, value) in metadata ?? new Dictionary<string, string>())
        {
            entries[key] = value ?? throw new ArgumentException($"Metadata entry '{key}' is null; safetensors metadata values are strings.", nameof(metadata));
        }
        entries["format"] = "pt";                                            // what Python's safetensors expects
        var header = new Dictionary<string, object> { ["__metadata__"] = entries };
        long offset = 0;
        foreach (var name in names)
        {
            var m = tensors[name];
            long size = (long)m.RowCount * m.ColumnCount * sizeof(float);
            header[name] = new
            {
                dtype = "F32",
                shape = m.RowCount == 1 ? new[] { m.ColumnCount } : new[] { m.RowCount, m.ColumnCount },
                data_offsets = new[] { offset, offset + size },
            };
            offset += size;
        }
        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        var padded = (json.Length + 7) / 8 * 8; // pad the header with spaces so the data starts 8-byte aligned
        var file = new byte[8 + padded + offset];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)padded);
        json.CopyTo(file, 8);
        file.AsSpan(8 + json.Length, padded - json.Length).Fill((byte)' ');
        var position = 8 + padded;
        foreach (var name in names)
        {
            foreach (var value in tensors[name].ToRowMajorArray())
            {
                BinaryPrimitives.WriteSingleLittleEndian(file.AsSpan(position, 4), value);
                position += 4;
            }
        }
        return file;
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>As the format's reference reader: the tensors' data ranges, in order, tile the data exactly, with no
    /// overlap and no byte left over.</summary>
    private static void RequireEveryByteOnce(List<(string Name, ulong Begin, ulong End)> spans, ulong dataLength)
    {
        ulong covered = 0;
        string? previous = null;
        foreach (var (name, begin, end) in spans.OrderBy(s => s.Begin).ThenBy(s => s.End))
        {
            if (begin < covered)
            {
                throw new InvalidDataException($"Tensor '{name}' (bytes {begin} to {end}) overlaps '{previous}' (which ends at byte {covered}).");
            }
            if (begin > covered)
            {
                throw new InvalidDataException($"Data bytes {covered} to {begin} belong to no tensor (they come before '{name}').");
            }
            (covered, previous) = (end, name);
        }
        if (covered < dataLength)
        {
            throw new InvalidDataException(previous is null
                ? $"The file holds {dataLength} bytes of data but no tensor."
                : $"The {dataLength - covered} bytes of data after '{previous}' (from byte {covered}) belong to no tensor.");
        }
    }

    private static (Matrix<float> Matrix, ulong Begin, ulong End) ReadTensor(string name, JsonElement entry, ReadOnlySpan<byte> data)
    {
        if (entry.ValueKind != JsonValueKind.Object
            || !entry.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String
            || !entry.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array
            || !entry.TryGetProperty("data_offsets", out var offsetsElement) || offsetsElement.ValueKind != JsonValueKind.Array || offsetsElement.GetArrayLength() != 2)
        {
            throw new InvalidDataException($"Tensor '{name}' needs \"dtype\", \"shape\" and two \"data_offsets\" in the header.");
        }
        var dtype = dtypeElement.GetString();
        var elementSize = dtype switch
        {
            "F32" => 4,
            "F64" => 8,
            "F16" or "BF16" => 2,
            _ => throw new InvalidDataException($"Tensor '{name}' has dtype \"{dtype}\"; this library reads F32, F64, F16 and BF16."),
        };
        var shape = shapeElement.EnumerateArray().Select(d => d.TryGetInt32(out var v) && v >= 0 ? v : throw new InvalidDataException($"Tensor '{name}' has a bad dimension {d}.")).ToArray();
        var (rows, columns) = shape.Length switch
        {
            0 => (1, 1),
            1 => (1, shape[0]),
            2 => (shape[0], shape[1]),
            _ => throw new InvalidDataException($"Tensor '{name}' has rank {shape.Length} [{string.Join(", ", shape)}]; only scalars, vectors and matrices map to Matrix<float>."),
        };
        if (rows == 0 || columns == 0)
        {
            throw new InvalidDataException($"Tensor '{name}' is empty [{string.Join(", ", shape)}]; MathNet matrices need at least one element.");
        }
        if (!offsetsElement[0].TryGetUInt64(out var begin) || !offsetsElement[1].TryGetUInt64(out var end) || begin > end || end > (ulong)data.Length)
        {
            throw new InvalidDataException($"Tensor '{name}' has data_offsets {offsetsElement} outside the {data.Length} bytes of data.");
        }
        var count = (ulong)rows * (ulong)columns;                 // at most (2³¹ − 1)²: fits in 64 bits
        var size = (UInt128)count * (ulong)elementSize;           // may not: computed in 128 bits
        if (end - begin != size)
        {
            throw new InvalidDataException($"Tensor '{name}' is {dtype} [{string.Join(", ", shape)}], which takes {size} bytes, but its data_offsets span {end - begin}.");
        }
        if (count > (ulong)Array.MaxLength)
        {
            throw new InvalidDataException($"Tensor '{name}' has {count} elements, more than one array can hold ({Array.MaxLength}).");
        }
        var bytes = data.Slice((int)begin, (int)(end - begin));
        var values = new float[(int)count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = dtype switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(8 * i)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) << 16), // BF16: the high half of a float32
            };
        }
        return (Matrix<float>.Build.DenseOfRowMajor(rows, columns, values), begin, end);
    }
}
