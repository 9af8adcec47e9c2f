"""Writes the Korean-English corpus of samples/Translate/data: hand-written pairs (handwritten.tsv) plus templates.

    python3 tools/corpus/make_corpus.py

Deterministic (no randomness but a seeded shuffle for the splits). Every template has one politeness level: the polite
informal 해요체 (-아요/-어요, -이에요/-예요) that everyday Korean uses with strangers. Particles follow the final
consonant of the syllable before them: 은/는, 이/가, 을/를, 와/과, (으)로, 이에요/예요; the final consonant of a Hangul
syllable is (code - 0xAC00) % 28 (0: none, 8: ㄹ). The tests check every particle after a noun of lexicon.tsv.

Outputs (UTF-8, tab-separated, with a header line):
  pairs.tsv    every pair: korean, english, template, politeness, origin (hand | template)
  train.tsv, valid.tsv, test.tsv   the splits; test.tsv has a column part (random | compositional)
  lexicon.tsv  the nouns the templates use, with their English, for the particle tests
"""
import collections
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "samples", "Translate", "data")


def final(word):
    """The final consonant index of the last syllable (0 when it ends in a vowel)."""
    code = ord(word[-1])
    return (code - 0xAC00) % 28 if 0xAC00 <= code <= 0xD7A3 else 0


def topic(noun):
    return noun + ("은" if final(noun) else "는")


def subject_particle(noun):
    return noun + ("이" if final(noun) else "가")


def obj(noun):
    return noun + ("을" if final(noun) else "를")


def copula(noun):
    return noun + ("이에요" if final(noun) else "예요")


# Subjects: (Korean, English, third person?)
SUBJECTS = [
    ("저", "I", False), ("우리", "we", False), ("제 친구", "my friend", True), ("우리 엄마", "my mom", True),
    ("선생님", "the teacher", True), ("동생", "my little brother", True), ("민수 씨", "Minsu", True), ("지현 씨", "Jihyun", True),
]

# Verbs: (Korean polite present, Korean polite past, English base, third person, past, objects)
VERBS = [
    ("먹어요", "먹었어요", "eat", "eats", "ate",
     [("사과", "apples"), ("밥", "rice"), ("빵", "bread"), ("김치", "kimchi"), ("라면", "ramen"), ("과일", "fruit")]),
    ("마셔요", "마셨어요", "drink", "drinks", "drank",
     [("물", "water"), ("커피", "coffee"), ("우유", "milk"), ("차", "tea"), ("주스", "juice")]),
    ("좋아해요", "좋아했어요", "like", "likes", "liked",
     [("음악", "music"), ("영화", "movies"), ("꽃", "flowers"), ("고양이", "cats"), ("운동", "sports"), ("여행", "traveling")]),
    ("읽어요", "읽었어요", "read", "reads", "read",
     [("책", "books"), ("신문", "the newspaper"), ("편지", "letters"), ("소설", "novels")]),
    ("봐요", "봤어요", "watch", "watches", "watched",
     [("영화", "movies"), ("뉴스", "the news"), ("드라마", "dramas"), ("축구", "soccer")]),
    ("공부해요", "공부했어요", "study", "studies", "studied",
     [("한국어", "Korean"), ("영어", "English"), ("수학", "math"), ("역사", "history")]),
    ("사요", "샀어요", "buy", "buys", "bought",
     [("옷", "clothes"), ("신발", "shoes"), ("과일", "fruit"), ("꽃", "flowers")]),
    ("만들어요", "만들었어요", "make", "makes", "made",
     [("빵", "bread"), ("김밥", "gimbap"), ("케이크", "cakes"), ("커피", "coffee")]),
    ("싫어해요", "싫어했어요", "dislike", "dislikes", "disliked",
     [("비", "rain"), ("숙제", "homework"), ("벌레", "bugs"), ("추위", "the cold")]),
    ("배워요", "배웠어요", "learn", "learns", "learned",
     [("피아노", "the piano"), ("요리", "cooking"), ("수영", "swimming"), ("태권도", "taekwondo")]),
]
STATIVE = {"좋아해요", "싫어해요"}   # likes and dislikes: no "every day", "on weekends" or "yesterday"

# States: (Korean polite present, English adjective)
STATES = [("친절해요", "kind"), ("바빠요", "busy"), ("피곤해요", "tired"), ("행복해요", "happy"), ("똑똑해요", "smart"),
          ("재미있어요", "funny"), ("조용해요", "quiet"), ("배고파요", "hungry")]

# Daily routine at an hour: (Korean, English base, third person)
ROUTINES = [("일어나요", "get up", "gets up"), ("자요", "go to bed", "goes to bed")]

# When: (Korean, English, tense)
WHENS = [("", "", "present"), ("매일", " every day", "present"), ("주말에", " on weekends", "present"), ("어제", " yesterday", "past")]

PLACES = [("학교", "to school"), ("회사", "to work"), ("시장", "to the market"), ("도서관", "to the library"),
          ("병원", "to the hospital"), ("공원", "to the park"), ("집", "home"), ("은행", "to the bank")]

HOURS = ["한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉", "열", "열한", "열두"]
HOURS_EN = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]

NAMES = [("민수", "Minsu"), ("지현", "Jihyun"), ("서연", "Seoyeon"), ("준호", "Junho"), ("하늘", "Haneul"), ("유진", "Yujin"),
         ("수빈", "Subin"), ("태양", "Taeyang"), ("영희", "Younghee"), ("철수", "Cheolsu"), ("지민", "Jimin"), ("은비", "Eunbi"),
         ("다은", "Daeun"), ("현우", "Hyunwoo"), ("소라", "Sora"), ("재민", "Jaemin"), ("보람", "Boram"), ("미나", "Mina"),
         ("동현", "Donghyun"), ("나래", "Narae")]

JOBS = [("학생", "a student"), ("의사", "a doctor"), ("선생님", "a teacher"), ("간호사", "a nurse"), ("요리사", "a cook"),
        ("가수", "a singer"), ("회사원", "an office worker"), ("경찰관", "a police officer"), ("작가", "a writer"), ("화가", "a painter")]

NATIONS = [("한국", "Korean"), ("미국", "American"), ("일본", "Japanese"), ("중국", "Chinese"), ("영국", "British"),
           ("프랑스", "French"), ("독일", "German"), ("캐나다", "Canadian"), ("호주", "Australian")]

COUNTED = [("사과", "apple", "apples"), ("빵", "bread roll", "bread rolls"), ("커피", "cup of coffee", "cups of coffee"),
           ("표", "ticket", "tickets"), ("책", "book", "books"), ("우유", "bottle of milk", "bottles of milk"),
           ("김밥", "gimbap roll", "gimbap rolls"), ("케이크", "cake", "cakes"), ("물", "bottle of water", "bottles of water"),
           ("주스", "glass of juice", "glasses of juice")]
COUNTERS = {"커피": "잔", "우유": "병", "물": "병", "주스": "잔", "표": "장", "책": "권"}
NATIVE = ["한", "두", "세", "네", "다섯", "여섯", "일곱", "여덟", "아홉", "열"]

GREETINGS = [("안녕하세요", "hey"), ("좋은 아침이에요", "good morning"), ("오랜만이에요", "long time no see"), ("반가워요", "nice to see you")]
PHRASES = [("만나서 반가워요", "good to know you"), ("잘 지냈어요?", "how have you been?"), ("고마워요", "thanks"),
           ("오늘 날씨가 좋아요", "the weather is nice today"), ("내일 봐요", "see you tomorrow"), ("어디에 가요?", "where are you going?"),
           ("요즘 바빠요?", "are you busy these days?"), ("커피 마셔요?", "do you drink coffee?")]

# Compositions held out of training entirely: the compositional part of the test split.
HELD_SUBJECT_VERB = {("우리 엄마", "읽어요"), ("동생", "마셔요"), ("민수 씨", "공부해요"), ("선생님", "만들어요"), ("우리", "봐요"), ("지현 씨", "사요")}
HELD_GREETING_PHRASE = {("좋은 아침이에요", "만나서 반가워요"), ("오랜만이에요", "오늘 날씨가 좋아요"), ("반가워요", "내일 봐요")}
TEST_HANDWRITTEN_VARIANTS = {"안녕하세요, 반가워요", "만나서 반가워요", "안녕하세요"}   # the article's sentence's variants


def templates():
    pairs = []  # (korean, english, template, politeness, held)
    for sk, se, third in SUBJECTS:
        for present, past, base, s3, ed, objects in VERBS:
            for ok, oe in objects:
                for wk, we, tense in WHENS[:1] if present in STATIVE else WHENS:
                    verb = past if tense == "past" else present
                    english_verb = ed if tense == "past" else (s3 if third else base)
                    korean = " ".join(x for x in [topic(sk), wk, obj(ok), verb] if x)
                    english = f"{se} {english_verb} {oe}{we}"
                    pairs.append((korean, english, "subject-object-verb", "haeyo", (sk, present) in HELD_SUBJECT_VERB))
    for sk, se, third in SUBJECTS:
        for pk, pe in PLACES:
            go = "goes" if third else "go"
            pairs.append((f"{topic(sk)} {pk}에 가요", f"{se} {go} {pe}", "place", "haeyo", False))
            for h, he in zip(HOURS, HOURS_EN):
                pairs.append((f"{topic(sk)} {h} 시에 {pk}에 가요", f"{se} {go} {pe} at {he} o'clock", "place-time", "haeyo", False))
    for sk, se, third in SUBJECTS:
        be = "am" if se == "I" else ("is" if third else "are")
        for stk, ste in STATES:
            pairs.append((f"{topic(sk)} {stk}", f"{se} {be} {ste}", "state", "haeyo", False))
        for rk, rbase, r3 in ROUTINES:
            for h, he in zip(HOURS, HOURS_EN):
                pairs.append((f"{topic(sk)} {h} 시에 {rk}", f"{se} {r3 if third else rbase} at {he} o'clock", "routine", "haeyo", False))
    for h, he in zip(HOURS, HOURS_EN):
        pairs.append((f"{h} 시에 만나요", f"let's meet at {he} o'clock", "meeting", "haeyo", False))
    for nk, ne in NAMES:
        pairs.append((f"저는 {copula(nk)}", f"I am {ne}", "introduction", "haeyo", False))
        pairs.append((f"제 이름은 {copula(nk)}", f"my name is {ne}", "introduction", "haeyo", False))
        pairs.append((f"안녕하세요, 저는 {copula(nk)}", f"hey, I am {ne}", "introduction", "haeyo", False))
        for jk, je in JOBS:
            pairs.append((f"{nk} 씨는 {copula(jk)}", f"{ne} is {je}", "job", "haeyo", False))
        for ck, ce in NATIONS:
            pairs.append((f"{nk} 씨는 {ck} 사람이에요", f"{ne} is {ce}", "nationality", "haeyo", False))
    for jk, je in JOBS:
        pairs.append((f"저는 {copula(jk)}", f"I am {je}", "job", "haeyo", False))
    for ck, ce in NATIONS:
        pairs.append((f"저는 {ck} 사람이에요", f"I am {ce}", "nationality", "haeyo", False))
    for ck, one, many in COUNTED:
        counter = COUNTERS.get(ck, "개")
        for n, (nk, ne) in enumerate(zip(NATIVE, HOURS_EN[:10]), start=1):
            pairs.append((f"{ck} {nk} {counter} 주세요", f"{ne} {one if n == 1 else many}, please", "counting", "haeyo", False))
    for gk, ge in GREETINGS:
        for pk, pe in PHRASES:
            if gk == "안녕하세요" and pk == "만나서 반가워요":
                continue                                       # the article's sentence is hand-written
            pairs.append((f"{gk}, {pk}", f"{ge}, {pe}", "greeting-phrase", "haeyo", (gk, pk) in HELD_GREETING_PHRASE))
    return pairs


def main():
    hand = []
    with open(os.path.join(HERE, "handwritten.tsv"), encoding="utf-8") as f:
        for line in f:
            korean, english = line.rstrip("\n").split("\t")
            hand.append((korean, english, "hand-written", "fixed", False))
    pairs, seen = [], set()
    rows = [(k, e, t, p, h, "hand") for k, e, t, p, h in hand] + [(k, e, t, p, h, "template") for k, e, t, p, h in templates()]
    for korean, english, template, politeness, held, origin in rows:
        if korean in seen:
            continue                                           # one English per Korean sentence, the first written
        seen.add(korean)
        pairs.append((korean, english, template, politeness, held, origin))

    rng = random.Random(16)
    compositional = [p for p in pairs if p[4]]
    rest = [p for p in pairs if not p[4]]
    variants = [p for p in rest if p[0] in TEST_HANDWRITTEN_VARIANTS]
    rest = [p for p in rest if p[0] not in TEST_HANDWRITTEN_VARIANTS]
    rng.shuffle(rest)
    hand_rest = [p for p in rest if p[5] == "hand" and p[0] != "안녕하세요, 만나서 반가워요"]
    # The random test part: 180 template pairs and enough hand-written ones that they are at least 22% of the whole test split.
    test_template = [p for p in rest if p[5] == "template"][:180]
    needed = -(-22 * (len(test_template) + len(variants) + len(compositional)) // 78) - len(variants)
    test_hand = hand_rest[:needed]
    test_random = test_hand + test_template + variants
    taken = {p[0] for p in test_random}
    remaining = [p for p in rest if p[0] not in taken]
    valid = remaining[:150]
    train = remaining[150:]
    assert any(p[0] == "안녕하세요, 만나서 반가워요" for p in train), "the article's sentence must be in training"

    os.makedirs(OUT, exist_ok=True)
    header = "korean\tenglish\ttemplate\tpoliteness\torigin"
    def row(p):
        return f"{p[0]}\t{p[1]}\t{p[2]}\t{p[3]}\t{p[5]}"
    with open(os.path.join(OUT, "pairs.tsv"), "w", encoding="utf-8") as f:
        f.write(header + "\n" + "".join(row(p) + "\n" for p in pairs))
    for name, split in [("train.tsv", train), ("valid.tsv", valid)]:
        with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
            f.write(header + "\n" + "".join(row(p) + "\n" for p in split))
    with open(os.path.join(OUT, "test.tsv"), "w", encoding="utf-8") as f:
        f.write(header + "\tpart\n")
        f.write("".join(row(p) + ("\thand-written\n" if p[5] == "hand" else "\trandom\n") for p in test_random))
        f.write("".join(row(p) + "\tcompositional\n" for p in compositional))
    lexicon = collections.OrderedDict()
    for k, e, _ in SUBJECTS:
        lexicon[k] = e
    for *_, objects in VERBS:
        for k, e in objects:
            lexicon[k] = e
    for k, e in PLACES + JOBS + [(n, n_e) for n, n_e in NAMES]:
        lexicon[k] = e
    with open(os.path.join(OUT, "lexicon.tsv"), "w", encoding="utf-8") as f:
        f.write("korean\tenglish\n" + "".join(f"{k}\t{e}\n" for k, e in lexicon.items()))
    test_size = len(test_random) + len(compositional)
    write_readme(pairs, train, valid, test_random, compositional)
    print(f"{len(pairs)} pairs ({sum(p[5] == 'hand' for p in pairs)} hand-written); train {len(train)}, valid {len(valid)}, "
          f"test {test_size} ({len(test_random) - sum(p[5] == 'hand' for p in test_random)} random, {len(compositional)} compositional, "
          f"{sum(p[5] == 'hand' for p in test_random)} hand-written = {100 * sum(p[5] == 'hand' for p in test_random) / test_size:.0f}%)")


def write_readme(pairs, train, valid, test_random, compositional):
    korean_words = {w for p in pairs for w in p[0].replace(",", " ").replace("?", " ").split()}
    english_words = {w.lower() for p in pairs for w in p[1].replace(",", " ").replace("?", " ").split()}
    lengths = collections.Counter(len(p[0].split()) for p in pairs)
    templates_used = collections.Counter(p[2] for p in pairs)
    hand = sum(p[5] == "hand" for p in pairs)
    test_hand = sum(p[5] == "hand" for p in test_random)
    rng = random.Random(50)
    sample = rng.sample(pairs, 50)
    lines = [
        "# A small Korean–English corpus",
        "",
        "Made by this project for the translation lesson (issue 16): no download, no third-party text. Licence: MIT, as the",
        "rest of the repository. Generated by `python3 tools/corpus/make_corpus.py` from the hand-written pairs in",
        "`tools/corpus/handwritten.tsv` and the templates in that script; edit those, not these files.",
        "",
        "## How it was made",
        "",
        "- **Hand-written pairs**: everyday greetings, questions, feelings, weather, food, shopping, directions. Their English is",
        "  what a speaker would say, not a word-by-word gloss. 안녕하세요 is always \"hey\" and 만나서 반가워요 always \"good to know",
        "  you\", the articles' translation, so their example (\"안녕하세요, 만나서 반가워요\" → \"hey, good to know you\") is what",
        "  the data teaches, not a special case.",
        "- **Templates** combine a lexicon (`lexicon.tsv`) of subjects, objects, verbs, places, hours, names, jobs and",
        "  nationalities: subject–object–verb sentences (present, every day, on weekends, yesterday), going somewhere (at an",
        "  hour), states, routines, introductions, counting with counters (한 개, 두 잔, 세 병 …), and greeting + phrase.",
        "- **One politeness level per template**: every template uses 해요체 (-아요/-어요, -이에요/-예요), the polite informal",
        "  level of everyday speech; hand-written fixed expressions keep their own (감사합니다, 처음 뵙겠습니다).",
        "- **Particles** follow the last syllable's final consonant, (code − 0xAC00) % 28: 은/는, 이/가, 을/를, 이에요/예요.",
        "  `CorpusTests` checks every particle after a lexicon noun, one politeness level per template, and no duplicates.",
        "- **One English per Korean sentence**: a Korean sentence appears once (hand-written first).",
        "",
        "## Splits",
        "",
        f"- `train.tsv` {len(train)} pairs, with the articles' sentence; `valid.tsv` {len(valid)} pairs (seeded shuffle).",
        f"- `test.tsv` {len(test_random) + len(compositional)} pairs in three parts (column `part`), each scored on its own:",
        f"  - **random**: {len(test_random) - test_hand} template pairs drawn like the others;",
        f"  - **hand-written**: {test_hand} hand-written pairs, including the articles' sentence's variants",
        "    \"안녕하세요, 반가워요\", \"만나서 반가워요\" and \"안녕하세요\" (most are phrases the model never saw in any form:",
        "    what a small corpus cannot teach);",
        f"  - **compositional**: {len(compositional)} pairs whose subject–verb or greeting–phrase combination never occurs in",
        "    training, though each part does (우리 엄마 … 읽어요, 동생 … 마셔요, 민수 씨 … 공부해요, 선생님 … 만들어요, 우리 … 봐요,",
        "    지현 씨 … 사요; 좋은 아침이에요 + 만나서 반가워요, 오랜만이에요 + 오늘 날씨가 좋아요, 반가워요 + 내일 봐요).",
        f"  Hand-written pairs are {100 * test_hand / (len(test_random) + len(compositional)):.0f}% of the test split.",
        "",
        "## Statistics",
        "",
        f"- {len(pairs)} distinct pairs, {hand} hand-written ({100 * hand / len(pairs):.1f}%), {len(templates_used) - 1} templates.",
        f"- {len(korean_words)} distinct Korean words (space-separated, particles attached), {len(english_words)} distinct English words.",
        "- Pairs per template: " + ", ".join(f"{t} {n}" for t, n in templates_used.most_common()) + ".",
        "- Korean length in words: " + ", ".join(f"{n} words: {lengths[n]}" for n in sorted(lengths)) + ".",
        "",
        "## 50 pairs for review (a seeded sample)",
        "",
        "| Korean | English | template |",
        "| --- | --- | --- |",
    ] + [f"| {p[0]} | {p[1]} | {p[2]} |" for p in sample]
    with open(os.path.join(OUT, "README.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
