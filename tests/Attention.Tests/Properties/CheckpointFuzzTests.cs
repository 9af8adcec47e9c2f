using System.Diagnostics;
using System.Text;
using Attention.Randomness;
using Attention.Serialization;
using Attention.Tests.Support;
using Attention.Transformers;

namespace Attention.Tests.Properties;

/// <summary>
/// Fuzzing the checkpoint readers (<see cref="SafeTensors.Read(ReadOnlySpan{byte})"/>, and <see cref="Transformer.Load(string, TransformerOptions)"/> on
/// every 25th case written to a file) with seeded mutations of valid files: bit flips, truncations, bytes spliced in or cut
/// out, header numbers made huge, negative or fractional, keys renamed. Every case must either load (a valid model) or be
/// refused with <see cref="InvalidDataException"/>; never another exception, a hang, or an allocation sized by a hostile
/// field. 5,000 cases each time the tests run; 100,000 with <c>ATTENTION_LONG=1</c>.
/// </summary>
[Trait("Category", "Properties")]
public class CheckpointFuzzTests
{
    private static readonly TransformerOptions Options = TransformerOptions.Small(7, 6) with { MaxPositions = 8 };
    private static readonly byte[] Valid = SafeTensors.Write(new Transformer(Options, new TorchGenerator(3)).ToStateDict());

    [Fact]
    public void Five_thousand_mutated_files_load_or_are_invalid_data() => Fuzz(cases: 5_000, seed: 1);

    [LongFact]
    [Trait("Category", "Long")]
    public void A_hundred_thousand_mutated_files_load_or_are_invalid_data() => Fuzz(cases: 100_000, seed: 2);

    private static void Fuzz(int cases, int seed)
    {
        var random = new Random(seed);
        var (loaded, refused) = (0, 0);
        for (var i = 0; i < cases; i++)
        {
            var file = Mutate(Valid, random);
            var watch = Stopwatch.StartNew();
            var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                var tensors = SafeTensors.Read(file);               // the reader: InvalidDataException or tensors, nothing else
                try
                {
                    Transformer.FromStateDict(tensors, Options);
                    loaded++;
                }
                catch (ArgumentException)
                {
                    refused++;                                      // readable tensors that do not fit the options (Load makes it InvalidDataException)
                }
            }
            catch (InvalidDataException)
            {
                refused++;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"Case {i} (seed {seed}) threw {e.GetType().Name}: {e.Message}\nfile: {Convert.ToBase64String(file)}", e);
            }
            if (i % 25 == 0)
            {
                LoadFromFile(file, i, seed);                      // the file entry point: a model or InvalidDataException
            }
            var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
            allocated.Should().BeLessThan(64L * Valid.Length + (8 << 20), $"case {i}: allocation bounded by the file, not by its fields");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), $"case {i}");
        }
        (loaded + refused).Should().Be(cases);
        refused.Should().BeGreaterThan(cases / 10, "most mutations break the file");
    }

    private static void LoadFromFile(byte[] file, int i, int seed)
    {
        var path = Path.Combine(Path.GetTempPath(), $"attention-fuzz-{Environment.ProcessId}-{seed}.safetensors");
        try
        {
            File.WriteAllBytes(path, file);
            Transformer.Load(path, Options);
        }
        catch (InvalidDataException)
        {
        }
        catch (Exception e)
        {
            throw new InvalidOperationException($"Case {i} (seed {seed}): Transformer.Load threw {e.GetType().Name}: {e.Message}", e);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>One to three random edits of a copy of <paramref name="valid"/>.</summary>
    private static byte[] Mutate(byte[] valid, Random random)
    {
        var bytes = valid.ToList();
        var headerLength = (int)BitConverter.ToUInt64(valid, 0);
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > 0; edits--)
        {
            switch (random.Next(7))
            {
                case 0:                                               // flip a bit anywhere
                    var at = random.Next(bytes.Count);
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1:                                               // flip a bit in the header or its length
                    var inHeader = random.Next(Math.Min(bytes.Count, 8 + headerLength));
                    bytes[inHeader] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:                                               // truncate
                    var keep = random.Next(bytes.Count);
                    bytes.RemoveRange(keep, bytes.Count - keep);
                    break;
                case 3:                                               // splice in or cut out a few bytes
                    var position = random.Next(bytes.Count);
                    if (random.Next(2) == 0)
                    {
                        bytes.InsertRange(position, Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256)));
                    }
                    else
                    {
                        bytes.RemoveRange(position, Math.Min(bytes.Count - position, random.Next(1, 9)));
                    }
                    break;
                default:                                              // edit the header's text: numbers and names
                    bytes = [.. EditHeader([.. bytes], random)];
                    break;
            }
        }
        return [.. bytes];
    }

    private static readonly string[] Numbers = ["18446744073709551615", "9223372036854775808", "4294967296", "2147483648", "-1", "0", "1.5", "1e300", "65537"];

    /// <summary>Replaces one number in the header with a hostile one, or renames one key.</summary>
    private static byte[] EditHeader(byte[] file, Random random)
    {
        if (file.Length < 8)
        {
            return file;
        }
        var length = (int)Math.Min((ulong)(file.Length - 8), BitConverter.ToUInt64(file, 0));
        var header = Encoding.UTF8.GetString(file, 8, length);
        var digits = Enumerable.Range(0, header.Length).Where(i => char.IsDigit(header[i]) && (i == 0 || !char.IsDigit(header[i - 1]))).ToList();
        string edited;
        if (random.Next(3) > 0 && digits.Count > 0)
        {
            var start = digits[random.Next(digits.Count)];
            var end = start;
            while (end < header.Length && char.IsDigit(header[end]))
            {
                end++;
            }
            edited = header[..start] + Numbers[random.Next(Numbers.Length)] + header[end..];
        }
        else
        {
            var quote = header.IndexOf("\"encoder.", random.Next(Math.Max(1, header.Length)), StringComparison.Ordinal);
            edited = quote < 0 ? header : header[..(quote + 1)] + "renamed_" + header[(quote + 1)..];
        }
        var text = Encoding.UTF8.GetBytes(edited);
        var result = new byte[8 + text.Length + (file.Length - 8 - length)];
        BitConverter.GetBytes((ulong)text.Length).CopyTo(result, 0);
        text.CopyTo(result, 8);
        Array.Copy(file, 8 + length, result, 8 + text.Length, file.Length - 8 - length);
        return result;
    }
}
