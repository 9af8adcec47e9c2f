using System.Buffers.Binary;
using Encoding = System.Text.Encoding;
using Attention.Mechanisms;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Tests.Support;
using Attention.Transformers;
using MathNet.Numerics.LinearAlgebra;

namespace Attention.Tests.Serialization;

public class SafeTensorsTests
{
    private static string FixturePath => Path.Combine(AppContext.BaseDirectory, "Fixtures", "transformer_2x2.safetensors");

    [Fact]
    public void A_file_written_by_the_PyTorch_script_holds_the_same_parameters_as_the_json_fixture()
    {
        var tensors = SafeTensors.Read(FixturePath);
        var expected = Fixture.Load("transformer_2x2.json").State();
        tensors.Keys.Should().BeEquivalentTo(expected.Keys);
        foreach (var (name, value) in expected)
        {
            Expect.BitExact(tensors[name].ToRowMajorArray(), value.ToRowMajorArray(), name);
            tensors[name].RowCount.Should().Be(value.RowCount, name);
        }
    }

    [Fact]
    public void Layers_loaded_from_the_file_give_PyTorchs_output()
    {
        var torch = Fixture.Load("transformer_2x2.json");
        var tensors = SafeTensors.Read(FixturePath);
        var options = TransformerOptions.Small(10, 10);
        var memory = TransformerEncoder.FromStateDict(tensors, "encoder.", options, new TorchGenerator(0)).Forward(torch.Matrix("src"));
        var output = TransformerDecoder.FromStateDict(tensors, "decoder.", options, new TorchGenerator(0)).Forward(torch.Matrix("tgt"), memory, AttentionMask.Causal);
        Expect.Close(output, torch.Matrix("output"), what: "decoder output from safetensors");
    }

    [Fact]
    public void Writing_then_reading_gives_the_same_tensors_and_vectors_stay_one_dimensional()
    {
        var tensors = new Dictionary<string, Matrix<float>>
        {
            ["w"] = RandomMatrices.Uniform(3, 5, 1),
            ["b"] = RandomMatrices.Uniform(1, 4, 2),
        };
        var bytes = SafeTensors.Write(tensors);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes));
        header.Should().Contain("\"b\":{\"dtype\":\"F32\",\"shape\":[4]").And.Contain("\"w\":{\"dtype\":\"F32\",\"shape\":[3,5]");
        (bytes.Length - 8 - header.Length).Should().Be((15 + 4) * 4);
        header.Length.Should().Be(header.Length / 8 * 8, "the header is padded to a multiple of 8");

        var back = SafeTensors.Read(bytes);
        back["w"].Should().Be(tensors["w"]);
        back["b"].Should().Be(tensors["b"]);
    }

    private static byte[] File(string header, int dataBytes, ulong? declaredLength = null)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declaredLength ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    [Theory]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4, null, "*'t'*outside the 4 bytes*")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8, null, "*'t'*12 bytes*span 8*")]
    [InlineData("{\"t\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2, null, "*'t'*\"I8\"*")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[1,1,2],\"data_offsets\":[0,8]}}", 8, null, "*'t'*rank 3*")]
    [InlineData("{\"t\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8, null, "*'t'*data_offsets*")]
    [InlineData("{\"t\": nonsense", 0, null, "*not valid JSON*")]
    [InlineData("{}", 0, 1000UL, "*header length 1000*")]
    [InlineData("{}", 0, ulong.MaxValue, "*header length 18446744073709551615*")]
    public void A_corrupt_file_is_an_InvalidDataException_that_names_the_problem(string header, int dataBytes, ulong? declaredLength, string message)
    {
        var read = () => SafeTensors.Read(File(header, dataBytes, declaredLength));
        read.Should().Throw<InvalidDataException>().WithMessage(message);
    }

    [Fact]
    public void A_file_shorter_than_its_length_field_is_rejected()
    {
        var read = () => SafeTensors.Read(new byte[] { 1, 2, 3 });
        read.Should().Throw<InvalidDataException>().WithMessage("*only 3 bytes*");
    }

    [Fact]
    public void A_truncated_copy_of_a_real_file_is_rejected()
    {
        var bytes = System.IO.File.ReadAllBytes(FixturePath);
        var read = () => SafeTensors.Read(bytes.AsSpan(0, bytes.Length - 100));
        read.Should().Throw<InvalidDataException>().WithMessage("*data_offsets*outside*");
    }

    [Fact]
    public void Half_precision_tensors_are_widened_to_float32()
    {
        // F16 1.5 = 0x3E00; BF16 −2 = 0xC000 (the top half of float32 −2 = 0xC0000000).
        var bytes = File("{\"h\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]},\"b\":{\"dtype\":\"BF16\",\"shape\":[],\"data_offsets\":[2,4]}}", 4);
        var data = bytes.AsSpan(bytes.Length - 4);
        BinaryPrimitives.WriteUInt16LittleEndian(data, 0x3E00);
        BinaryPrimitives.WriteUInt16LittleEndian(data[2..], 0xC000);
        var tensors = SafeTensors.Read(bytes);
        tensors["h"][0, 0].Should().Be(1.5f);
        tensors["b"][0, 0].Should().Be(-2.0f);
    }
}
