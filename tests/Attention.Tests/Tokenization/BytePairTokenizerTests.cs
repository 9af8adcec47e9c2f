using System.Text;
using Attention.Tokenization;
using CsCheck;

namespace Attention.Tests.Tokenization;

/// <summary>Byte-level BPE: training learns merges, any text encodes and decodes back exactly, the file format is strict.</summary>
public class BytePairTokenizerTests
{
    private static readonly string[] Corpus =
    [
        "안녕하세요, 만나서 반가워요", "hey, good to know you", "안녕하세요", "만나서 반가워요", "good morning", "good to see you",
        "저는 학생이에요", "I am a student", "반가워요", "nice to meet you",
    ];

    [Fact]
    public void The_classic_example_merges_aa_then_ab_then_the_two_new_tokens()
    {
        // "aaabdaaabac" (one chunk): pairs aa ×4 → Z = aa, giving Z a b d Z a b a c; then Za ×2 and ab ×2 tie, and the
        // tie goes to the smaller ids: a = 97 + 3 < Z, so Y = ab, giving Z Y d Z Y a c; then X = Z Y: X d X a c.
        var tokenizer = BytePairTokenizer.Train(["aaabdaaabac"], vocabularySize: 3 + 256 + 3);
        var (a, b, z, y) = (97 + 3, 98 + 3, 259, 260);
        tokenizer.Merges.Should().Equal((a, a), (a, b), (z, y));
        tokenizer.Encode("aaabdaaabac").Should().Equal(261, 100 + 3, 261, a, 99 + 3);   // X d X a c
        tokenizer.Vocabulary[261].Should().Be("aaab");
    }

    [Fact]
    public void Training_on_the_corpus_makes_its_frequent_words_single_tokens()
    {
        // 400 asked for; training stops earlier, at 345, when every chunk of this small corpus is one token.
        var tokenizer = BytePairTokenizer.Train(Corpus, vocabularySize: 400);
        tokenizer.Vocabulary.Count.Should().Be(345);
        Corpus.SelectMany(BytePairTokenizer.Chunks).Should().OnlyContain(chunk => tokenizer.Encode(chunk).Length == 1);
        tokenizer.Vocabulary.Tokens.Take(3).Should().Equal("<pad>", "<sos>", "<eos>");
        var ids = tokenizer.Encode("안녕하세요, 만나서 반가워요");
        ids.Select(id => tokenizer.Vocabulary[id]).Should().Equal("안녕하세요", ",", " 만나서", " 반가워요");
        tokenizer.Decode(ids).Should().Be("안녕하세요, 만나서 반가워요");
    }

    [Theory]
    [InlineData("")]
    [InlineData("hello 🙂 world")]
    [InlineData("Grüße aus Köln — 東京 👩🏽‍💻 ١٢٣")]
    [InlineData("<eos> is five characters here")]
    [InlineData("tabs\tand\nnew lines  and   spaces ")]
    public void Any_text_decodes_to_itself_and_never_yields_a_special_token(string text)
    {
        var tokenizer = BytePairTokenizer.Train(Corpus, vocabularySize: 350);
        var ids = tokenizer.Encode(text);
        ids.Should().NotContain(id => id < tokenizer.SpecialTokenCount || id >= tokenizer.Vocabulary.Count);
        tokenizer.Decode(ids).Should().Be(text);
        ids.Sum(id => tokenizer.BytesOf(id).Count).Should().Be(Encoding.UTF8.GetByteCount(text), "every byte once");
    }

    [Fact]
    public void Every_random_string_of_valid_Unicode_round_trips()
    {
        var tokenizer = BytePairTokenizer.Train(Corpus, vocabularySize: 350);
        // Code points from every plane (surrogates excluded: they are not characters), as strings of up to 30.
        var codePoint = Gen.Int[0, 0x10FFFF].Where(c => c is < 0xD800 or > 0xDFFF);
        Gen.Select(codePoint.Array[0, 30], Gen.Int[0, 3].Select(i => new[] { "", " ", ", ", "반가워요" }[i])).Sample((points, glue) =>
        {
            var text = string.Join(glue, points.Select(char.ConvertFromUtf32));
            tokenizer.Decode(tokenizer.Encode(text)).Should().Be(text);
        }, iter: 2000);
    }

    [Fact]
    public void The_chunks_are_the_whole_text()
    {
        BytePairTokenizer.Chunks("hey, good to know you!  ").Should().Equal("hey", ",", " good", " to", " know", " you", "!", "  ");
        BytePairTokenizer.Chunks("안녕하세요, 만나서").Should().Equal("안녕하세요", ",", " 만나서");
    }

    [Fact]
    public void A_lone_surrogate_is_refused_with_its_position()
    {
        var tokenizer = BytePairTokenizer.Train(Corpus, vocabularySize: 300);
        var act = () => tokenizer.Encode("ok \uD83D then");
        act.Should().Throw<ArgumentException>().WithMessage("*lone UTF-16 surrogate at index 3*");
    }

    [Fact]
    public void Saved_and_loaded_it_encodes_the_same_and_corrupt_files_are_refused()
    {
        var tokenizer = BytePairTokenizer.Train(Corpus, vocabularySize: 330);
        var loaded = BytePairTokenizer.FromJson(tokenizer.ToJson());
        loaded.Vocabulary.Tokens.Should().Equal(tokenizer.Vocabulary.Tokens);
        loaded.Encode("안녕하세요, good to know you").Should().Equal(tokenizer.Encode("안녕하세요, good to know you"));

        var future = """{"Version":1,"Kind":"byte-level BPE","SpecialTokens":["<pad>"],"Merges":[[1,2],[300,1]]}""";
        FluentActions.Invoking(() => BytePairTokenizer.FromJson(future)).Should().Throw<InvalidDataException>().WithMessage("*Merge 1 (300, 1)*");
        var version = """{"Version":2,"Kind":"byte-level BPE","SpecialTokens":[],"Merges":[]}""";
        FluentActions.Invoking(() => BytePairTokenizer.FromJson(version)).Should().Throw<InvalidDataException>().WithMessage("*version 2*");
        FluentActions.Invoking(() => BytePairTokenizer.FromJson("{not json")).Should().Throw<InvalidDataException>();
        var special = """{"Version":1,"Kind":"byte-level BPE","SpecialTokens":["<pad>","<pad>"],"Merges":[]}""";
        FluentActions.Invoking(() => BytePairTokenizer.FromJson(special)).Should().Throw<InvalidDataException>().WithMessage("*not distinct*");
    }

    [Fact]
    public void Decoding_an_id_outside_the_vocabulary_names_it()
    {
        var tokenizer = BytePairTokenizer.Train(Corpus, vocabularySize: 300);
        FluentActions.Invoking(() => tokenizer.Decode([5, 300])).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Token id 300*300 tokens*");
    }
}
