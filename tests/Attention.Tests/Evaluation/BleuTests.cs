using Attention.Evaluation;

namespace Attention.Tests.Evaluation;

public class BleuTests
{
    [Fact]
    public void One_sentence_worked_by_hand()
    {
        // hypothesis "the cat is on the mat", reference "the cat sat on the mat" (6 tokens each, so no brevity penalty):
        //   1-grams: the ×2, cat, on, mat match = 5/6;   2-grams: "the cat", "on the", "the mat" = 3/5;
        //   3-grams: "on the mat" = 1/4;   4-grams: none of 3, so the exp smoothing gives 1/(2·3) = 1/6.
        //   BLEU = (5/6 · 3/5 · 1/4 · 1/6)^(1/4) · 100 = (1/48)^(1/4) · 100 = 37.9918…
        Bleu.Corpus(["the cat is on the mat"], ["the cat sat on the mat"]).Should().BeApproximately(37.99178, 1e-4);
    }

    [Fact]
    public void Counts_add_up_over_the_corpus_and_short_output_pays_the_brevity_penalty()
    {
        Bleu.Corpus(["hey, good to know you", "I am a student"], ["hey, good to know you", "I am a student"]).Should().BeApproximately(100, 1e-9);
        // "good to know you" against "hey , good to know you": 4 tokens for 6, precisions 4/4, 3/3, 2/2, 1/1,
        // brevity penalty e^(1 − 6/4) = e^−0.5 = 0.60653…
        Bleu.Corpus(["good to know you"], ["hey, good to know you"]).Should().BeApproximately(100 * Math.Exp(-0.5), 1e-9);
        Bleu.Corpus(["hey"], ["hey, good to know you"]).Should().Be(0, "no 2-grams at all: sacreBLEU gives 0");
    }

    [Fact]
    public void Tokenisation_is_mteval_13a()
    {
        Bleu.Tokenize("hey, good to know you.").Should().Equal("hey", ",", "good", "to", "know", "you", ".");
        Bleu.Tokenize("it costs 3.50, or 4,000 won (a lot)").Should().Equal("it", "costs", "3.50", ",", "or", "4,000", "won", "(", "a", "lot", ")");
        Bleu.Tokenize("at 7-8 o'clock &amp; later").Should().Equal("at", "7", "-", "8", "o'clock", "&", "later");
    }
}
