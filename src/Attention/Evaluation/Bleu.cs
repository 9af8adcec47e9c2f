// BLEU (Papineni et al., 2002), the paper's metric (§6.1), computed as sacreBLEU computes its default corpus score:
// 13a tokenisation (mteval-v13a.pl: punctuation split off, periods and commas kept inside numbers), n-grams of 1 to 4
// counted over the whole corpus and clipped by the reference counts, the "exp" smoothing (an n-gram order with no match
// counts as 1 / (2^k · total), k = 1, 2, … for successive empty orders), and the brevity penalty e^(1 − r/c) when the
// output is shorter than the references.
//   BLEU = BP · exp(¼ Σ_n log p_n) · 100
using System.Text.RegularExpressions;

namespace Attention.Evaluation;

/// <summary>Corpus BLEU with one reference per sentence, equal to <c>sacrebleu.corpus_bleu(hypotheses, [references])</c>.</summary>
public static partial class Bleu
{
    /// <summary>The corpus score, 0 to 100.</summary>
    /// <param name="hypotheses">The system's sentences.</param>
    /// <param name="references">One reference per hypothesis.</param>
    /// <returns>BLEU × 100, as sacreBLEU prints it.</returns>
    /// <exception cref="ArgumentException">The lists differ in length.</exception>
    public static double Corpus(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        if (hypotheses.Count != references.Count)
        {
            throw new ArgumentException($"One reference per hypothesis: {hypotheses.Count} hypotheses, {references.Count} references.", nameof(references));
        }
        var (correct, total) = (new long[4], new long[4]);
        long hypothesisLength = 0, referenceLength = 0;
        for (var s = 0; s < hypotheses.Count; s++)
        {
            var (hypothesis, reference) = (Tokenize(hypotheses[s]), Tokenize(references[s]));
            (hypothesisLength, referenceLength) = (hypothesisLength + hypothesis.Length, referenceLength + reference.Length);
            for (var n = 1; n <= 4; n++)
            {
                var referenceCounts = NGrams(reference, n);
                foreach (var (gram, count) in NGrams(hypothesis, n))
                {
                    correct[n - 1] += Math.Min(count, referenceCounts.GetValueOrDefault(gram));   // clipped
                    total[n - 1] += count;
                }
            }
        }
        var logSum = 0.0;
        var smoothing = 1.0;
        for (var n = 0; n < 4; n++)
        {
            if (total[n] == 0)
            {
                return 0;                                           // sacreBLEU: no n-grams of this order, BLEU 0
            }
            double precision;
            if (correct[n] == 0)
            {
                smoothing *= 2;
                precision = 100.0 / (smoothing * total[n]);           // "exp" smoothing
            }
            else
            {
                precision = 100.0 * correct[n] / total[n];
            }
            logSum += Math.Log(precision);
        }
        var brevity = hypothesisLength >= referenceLength ? 1.0 : Math.Exp(1 - (double)referenceLength / hypothesisLength);
        return brevity * Math.Exp(logSum / 4);
    }

    /// <summary>mteval-v13a's tokenisation, as sacreBLEU's <c>Tokenizer13a</c>.</summary>
    /// <param name="text">A sentence.</param>
    /// <returns>Its tokens.</returns>
    public static string[] Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var line = text.Replace("<skipped>", "", StringComparison.Ordinal).Replace("-\n", "", StringComparison.Ordinal).Replace("\n", " ", StringComparison.Ordinal);
        if (line.Contains('&', StringComparison.Ordinal))
        {
            line = line.Replace("&quot;", "\"", StringComparison.Ordinal).Replace("&amp;", "&", StringComparison.Ordinal)
                .Replace("&lt;", "<", StringComparison.Ordinal).Replace("&gt;", ">", StringComparison.Ordinal);
        }
        line = $" {line} ";
        line = Symbols().Replace(line, " $1 ");                       // punctuation and symbols
        line = PeriodOrCommaAfter().Replace(line, "$1 $2 ");          // . and , unless after a digit
        line = PeriodOrCommaBefore().Replace(line, " $1 $2");         // . and , unless before a digit
        line = DashAfterDigit().Replace(line, "$1 $2 ");              // - after a digit
        return line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    private static Dictionary<string, int> NGrams(string[] tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i + n <= tokens.Length; i++)
        {
            var gram = string.Join('\u0001', tokens, i, n);
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }
        return counts;
    }

    [GeneratedRegex(@"([\{-\~\[-\` -\&\(-\+\:-\@\/])")]
    private static partial Regex Symbols();

    [GeneratedRegex(@"([^0-9])([\.,])")]
    private static partial Regex PeriodOrCommaAfter();

    [GeneratedRegex(@"([\.,])([^0-9])")]
    private static partial Regex PeriodOrCommaBefore();

    [GeneratedRegex(@"([0-9])(-)")]
    private static partial Regex DashAfterDigit();
}
