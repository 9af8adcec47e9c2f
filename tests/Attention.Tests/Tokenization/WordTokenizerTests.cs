using Attention.Tokenization;

namespace Attention.Tests.Tokenization;

public class WordTokenizerTests
{
    private const string Sentence = "Life is short, eat dessert first";

    [Fact]
    public void The_article_sentence_gives_ids_0_4_5_2_1_3()
    {
        // sorted(['Life', 'is', 'short', 'eat', 'dessert', 'first']) = ['Life', 'dessert', 'eat', 'first', 'is', 'short']
        // ('L' = U+004C sorts before every lower-case letter), so Life=0, dessert=1, eat=2, first=3, is=4, short=5.
        var tokenizer = WordTokenizer.FromText(Sentence);

        tokenizer.Vocabulary.Tokens.Should().Equal("Life", "dessert", "eat", "first", "is", "short");
        tokenizer.Encode(Sentence).Should().Equal(0, 4, 5, 2, 1, 3);
    }

    [Fact]
    public void Decode_gives_back_the_words_without_punctuation()
    {
        var tokenizer = WordTokenizer.FromText(Sentence);
        tokenizer.Decode([0, 4, 5, 2, 1, 3]).Should().Be("Life is short eat dessert first");
    }

    [Fact]
    public void Punctuation_of_any_script_is_dropped_and_white_space_of_any_kind_splits()
    {
        WordTokenizer.Split("Hello,\tworld!\n  ¿Qué tal?").Should().Equal("Hello", "world", "Qué", "tal");
    }

    [Fact]
    public void Korean_text_splits_into_its_words()
    {
        var tokenizer = WordTokenizer.FromText("안녕하세요, 만나서 반가워요");
        // Hangul syllables sort by code point: 만 (U+B9CC) < 반 (U+BC18) < 안 (U+C548).
        tokenizer.Vocabulary.Tokens.Should().Equal("만나서", "반가워요", "안녕하세요");
        tokenizer.Encode("안녕하세요, 만나서 반가워요").Should().Equal(2, 0, 1);
    }

    [Fact]
    public void Words_sort_by_code_point_as_Python_does_even_beyond_the_basic_plane()
    {
        // "ｚ" is U+FF5A and "😀" is U+1F600: Python puts "ｚ" first. Ordinal UTF-16 order would not,
        // because "😀" is stored as the surrogate pair D83D DE00 and 0xD83D < 0xFF5A.
        var tokenizer = WordTokenizer.FromText("😀 ｚ a");
        tokenizer.Vocabulary.Tokens.Should().Equal("a", "ｚ", "😀");
    }

    [Fact]
    public void A_corpus_vocabulary_puts_the_special_tokens_first_and_maps_unknown_words_to_unk()
    {
        var tokenizer = WordTokenizer.FromCorpus(["I like tea", "you like coffee"]);

        tokenizer.Vocabulary.Tokens.Should().Equal("<pad>", "<unk>", "<sos>", "<eos>", "I", "coffee", "like", "tea", "you");
        tokenizer.Encode("you like cake").Should().Equal(8, 6, 1);
    }

    [Fact]
    public void An_unknown_word_without_unk_throws_and_names_the_word()
    {
        var tokenizer = WordTokenizer.FromText(Sentence);
        var encode = () => tokenizer.Encode("Life is sweet");
        encode.Should().Throw<KeyNotFoundException>().WithMessage("*\"sweet\"*6 tokens*<unk>*");
    }

    [Fact]
    public void Decoding_an_id_outside_the_vocabulary_names_the_id_and_the_size()
    {
        var tokenizer = WordTokenizer.FromText(Sentence);
        var decode = () => tokenizer.Decode([0, 6]);
        decode.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*6*6 tokens*");
        var negative = () => tokenizer.Decode([-1]);
        negative.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*-1*");
    }

    [Fact]
    public void Empty_or_blank_text_gives_no_ids()
    {
        var tokenizer = WordTokenizer.FromText(Sentence);
        tokenizer.Encode("").Should().BeEmpty();
        tokenizer.Encode(" ,;  ").Should().BeEmpty();
        tokenizer.Decode([]).Should().BeEmpty();
    }

    [Fact]
    public void A_vocabulary_rejects_repeated_tokens()
    {
        var build = () => new Vocabulary(["a", "b", "a"]);
        build.Should().Throw<ArgumentException>().WithMessage("*\"a\"*ids 0 and 2*");
    }
}
