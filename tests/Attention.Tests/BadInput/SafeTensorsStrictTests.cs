using System.Buffers.Binary;
using System.Text;
using Attention.Serialization;

namespace Attention.Tests.BadInput;

/// <summary>safetensors read as strictly as the format's reference reader: every byte of data belongs to exactly one
/// tensor, names are unique and valid UTF-8, and no size computation can wrap. Each refusal names the tensor.</summary>
public class SafeTensorsStrictTests
{
    /// <summary>A file from a header written by hand and <paramref name="dataBytes"/> bytes of data (all zero).</summary>
    private static byte[] File(string header, int dataBytes) => File(Encoding.UTF8.GetBytes(header), dataBytes);

    private static byte[] File(byte[] header, int dataBytes)
    {
        var file = new byte[8 + header.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)header.Length);
        header.CopyTo(file, 8);
        return file;
    }

    [Fact]
    public void A_valid_hand_written_file_reads()
    {
        var tensors = SafeTensors.Read(File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12));
        tensors.Keys.Should().BeEquivalentTo(["a", "b"]);
    }

    [Fact]
    public void A_size_that_overflows_64_bits_is_invalid_data()
    {
        // (2³¹ − 1)² elements of 8 bytes: about 3.7e19 bytes, past 2⁶⁴.
        var act = () => SafeTensors.Read(File("""{"huge":{"dtype":"F64","shape":[2147483647,2147483647],"data_offsets":[0,8]}}""", 8));
        act.Should().Throw<InvalidDataException>().WithMessage("*'huge'*36893488113059364872*");
    }

    [Fact]
    public void Overlapping_data_is_refused_naming_both_tensors()
    {
        var act = () => SafeTensors.Read(File("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 12));
        act.Should().Throw<InvalidDataException>().WithMessage("*'b'*overlaps*'a'*");
    }

    [Fact]
    public void Bytes_that_no_tensor_covers_are_refused()
    {
        var gap = () => SafeTensors.Read(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", 12));
        gap.Should().Throw<InvalidDataException>().WithMessage("*bytes 4 to 8*'b'*");
        var tail = () => SafeTensors.Read(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", 16));
        tail.Should().Throw<InvalidDataException>().WithMessage("*12 bytes*after*'a'*");
    }

    [Fact]
    public void A_duplicate_tensor_name_is_refused()
    {
        var act = () => SafeTensors.Read(File("""{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", 8));
        act.Should().Throw<InvalidDataException>().WithMessage("*'a'*twice*");
    }

    [Fact]
    public void A_name_that_is_not_valid_UTF8_is_refused()
    {
        var header = Encoding.UTF8.GetBytes("""{"aX":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""");
        header[3] = 0xFF;                                             // "a\xFF": not UTF-8
        var act = () => SafeTensors.Read(File(header, 4));
        act.Should().Throw<InvalidDataException>().WithMessage("*UTF-8*");
    }
}
