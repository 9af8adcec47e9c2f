namespace Attention.Tests.Corpus;

/// <summary>What can be checked in samples/Translate/data without a Korean reader: particles against the final consonant
/// before them, one politeness level per template, no duplicates, and splits that measure what they say.</summary>
public class CorpusTests
{
    private static readonly string Folder = Path.Combine(AppContext.BaseDirectory, "Corpus");

    private sealed record Pair(string Korean, string English, string Template, string Politeness, string Origin, string Part);

    private static List<Pair> Read(string file) => [.. File.ReadAllLines(Path.Combine(Folder, file)).Skip(1).Select(line =>
    {
        var f = line.Split('\t');
        return new Pair(f[0], f[1], f[2], f[3], f[4], f.Length > 5 ? f[5] : "");
    })];

    /// <summary>The final consonant of a Hangul syllable: (code − 0xAC00) % 28, 0 for none, 8 for ㄹ.</summary>
    private static int Final(char syllable) => syllable is >= '\uAC00' and <= '\uD7A3' ? (syllable - 0xAC00) % 28 : 0;

    /// <summary>The right form of a particle after <paramref name="noun"/>, from its two forms (after a consonant, after a vowel).</summary>
    private static string Particle(string noun, string afterConsonant, string afterVowel) => Final(noun[^1]) != 0 ? afterConsonant : afterVowel;

    [Fact]
    public void The_rule_worked_by_hand()
    {
        // 책 = 0xCC45: (0xCC45 − 0xAC00) % 28 = 1 (ㄱ); 사과 ends in 과 = 0xACFC: 252 % 28 = 0, no final consonant.
        Final('책').Should().Be(1);
        Final('과').Should().Be(0);
        Particle("책", "을", "를").Should().Be("을");
        Particle("사과", "을", "를").Should().Be("를");
        Particle("선생님", "과", "와").Should().Be("과");
        // (으)로: 으로 after a consonant other than ㄹ; 로 after a vowel or ㄹ (서울 ends in ㄹ: 서울로).
        Final('울').Should().Be(8);
    }

    [Fact]
    public void Every_particle_after_a_lexicon_noun_fits_its_final_consonant()
    {
        string[][] particles = [["은", "는"], ["이", "가"], ["을", "를"], ["와", "과"], ["이에요", "예요"]];
        var nouns = File.ReadAllLines(Path.Combine(Folder, "lexicon.tsv")).Skip(1).Select(l => l.Split('\t')[0]).OrderByDescending(n => n.Length).ToList();
        var checkedCount = 0;
        foreach (var pair in Read("pairs.tsv"))
        {
            var words = pair.Korean.Replace(",", "", StringComparison.Ordinal).Replace("?", "", StringComparison.Ordinal);
            foreach (var noun in nouns)
            {
                for (var at = words.IndexOf(noun, StringComparison.Ordinal); at >= 0; at = words.IndexOf(noun, at + 1, StringComparison.Ordinal))
                {
                    if (at > 0 && words[at - 1] != ' ')
                    {
                        continue;                                            // inside another word
                    }
                    var rest = words[(at + noun.Length)..].Split(' ')[0];  // what follows the noun in its word
                    foreach (var forms in particles)
                    {
                        var used = forms.FirstOrDefault(f => rest == f);
                        if (used is not null)
                        {
                            var right = forms[0] is "와" ? Particle(noun, "과", "와") : Particle(noun, forms[0], forms[1]);
                            used.Should().Be(right, $"in \"{pair.Korean}\", {noun} ends in {(Final(noun[^1]) == 0 ? "a vowel" : "a consonant")}");
                            checkedCount++;
                        }
                    }
                }
            }
        }
        checkedCount.Should().BeGreaterThan(3000, "nearly every template sentence has a particle after a lexicon noun");
    }

    [Fact]
    public void The_direction_particle_is_ro_after_a_vowel_or_rieul_and_euro_after_another_consonant()
    {
        var words = Read("pairs.tsv").SelectMany(p => p.Korean.Split(' ')).Where(w => w.Length > 2 && w.EndsWith('로')).Distinct().ToList();
        words.Should().NotBeEmpty();
        foreach (var word in words)
        {
            if (word.EndsWith("으로", StringComparison.Ordinal))
            {
                Final(word[^3]).Should().NotBe(0).And.NotBe(8, $"{word}: 으로 follows a consonant other than ㄹ");
            }
            else
            {
                Final(word[^2]).Should().BeOneOf([0, 8], $"{word}: 로 follows a vowel or ㄹ");
            }
        }
    }

    [Fact]
    public void Each_template_has_one_politeness_level_and_haeyo_sentences_end_in_yo()
    {
        var pairs = Read("pairs.tsv");
        foreach (var template in pairs.GroupBy(p => p.Template))
        {
            template.Select(p => p.Politeness).Distinct().Should().ContainSingle($"template {template.Key}");
        }
        foreach (var pair in pairs.Where(p => p.Politeness == "haeyo"))
        {
            pair.Korean.TrimEnd('?').Should().EndWith("요", "해요체 ends in -요").And.NotContain("니다", "no 합니다체 inside a 해요체 template");
        }
    }

    [Fact]
    public void There_are_at_least_3000_pairs_and_none_twice()
    {
        var pairs = Read("pairs.tsv");
        pairs.Should().HaveCountGreaterThanOrEqualTo(3000);
        pairs.Select(p => p.Korean).Should().OnlyHaveUniqueItems("one English per Korean sentence");
        pairs.Select(p => (p.Korean, p.English)).Should().OnlyHaveUniqueItems();
        pairs.Single(p => p.Korean == "안녕하세요, 만나서 반가워요").English.Should().Be("hey, good to know you");
        pairs.Where(p => p.Korean.Contains("만나서 반가워요", StringComparison.Ordinal)).Should().OnlyContain(p => p.English.Contains("good to know you", StringComparison.Ordinal));
        pairs.Where(p => p.Korean.StartsWith("안녕하세요", StringComparison.Ordinal)).Should().OnlyContain(p => p.English.StartsWith("hey", StringComparison.Ordinal));
    }

    [Fact]
    public void The_splits_cover_the_pairs_once_and_measure_generalisation()
    {
        var (train, valid, test) = (Read("train.tsv"), Read("valid.tsv"), Read("test.tsv"));
        var all = train.Concat(valid).Concat(test).Select(p => p.Korean).ToList();
        all.Distinct().Count().Should().Be(all.Count, "no sentence is in two splits");
        all.ToHashSet().SetEquals(Read("pairs.tsv").Select(p => p.Korean)).Should().BeTrue("the splits are the pairs");
        train.Should().Contain(p => p.Korean == "안녕하세요, 만나서 반가워요", "the articles' sentence is taught");
        test.Select(p => p.Korean).Should().Contain(["안녕하세요, 반가워요", "만나서 반가워요", "안녕하세요"], "its variants are tested");
        test.Count(p => p.Origin == "hand").Should().BeGreaterThanOrEqualTo((int)Math.Ceiling(0.2 * test.Count), "at least 20% of the test split is hand-written");
        test.Where(p => p.Origin == "hand").Should().OnlyContain(p => p.Part == "hand-written", "hand-written pairs are their own part");
        var compositional = test.Where(p => p.Part == "compositional").ToList();
        compositional.Should().HaveCountGreaterThan(50);
        // Subject (first word) with verb (last word): never together in training, each seen there with others.
        var trainCombinations = train.Where(p => p.Template == "subject-object-verb").Select(p => (First(p), Last(p))).ToHashSet();
        foreach (var pair in compositional.Where(p => p.Template == "subject-object-verb"))
        {
            trainCombinations.Contains((First(pair), Last(pair))).Should().BeFalse(pair.Korean);
            train.Any(p => First(p) == First(pair)).Should().BeTrue($"the subject of \"{pair.Korean}\" is seen in training");
            train.Any(p => Last(p) == Last(pair)).Should().BeTrue($"the verb of \"{pair.Korean}\" is seen in training");
        }
    }

    private static string First(Pair p) => p.Korean.Split(' ')[0];

    private static string Last(Pair p) => p.Korean.Split(' ')[^1];
}
