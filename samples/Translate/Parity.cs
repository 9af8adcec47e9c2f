// `-- --parity <folder>`: the recipe with dropout 0, written out so that PyTorch can replay it exactly
// (tools/reference/translate_training.py): the initial weights, every update's batch (token ids) and learning rate, and
// this library's loss at every update.
using System.Text.Json;
using Attention.Tokenization;
using Attention.Training;

namespace Attention.Samples;

internal static class Parity
{
    public static void Run(string folder)
    {
        Directory.CreateDirectory(folder);
        var train = Corpus.Read("train.tsv");
        var tokenizer = Recipe.Tokenizer(train.Select(p => (p.Korean, p.English)));
        var (sos, eos) = (tokenizer.Vocabulary.IdOf(SpecialTokens.StartOfSequence), tokenizer.Vocabulary.IdOf(SpecialTokens.EndOfSequence));
        var pairs = train.Select(p => new SentencePair(tokenizer.Encode(p.Korean), [.. tokenizer.Encode(p.English), eos])).ToArray();
        var options = Recipe.Options(tokenizer.Vocabulary.Count) with { Dropout = 0 };
        var model = Recipe.Model(options);
        model.Save(Path.Combine(folder, "initial.safetensors"));
        var steps = Recipe.Steps(pairs.Length, Recipe.Epochs);
        var schedule = Recipe.Schedule(steps);
        var trainer = new Trainer(model, Recipe.Optimizer(model), schedule, Recipe.Trainer(Recipe.Epochs, sos, null));
        var batches = new List<object>();
        for (var epoch = 0; epoch < Recipe.Epochs; epoch++)
        {
            var order = trainer.EpochOrder(pairs.Length, epoch);
            for (var first = 0; first < order.Length; first += Recipe.BatchSize)
            {
                batches.Add(new
                {
                    lr = schedule(batches.Count + 1),
                    pairs = order.Skip(first).Take(Recipe.BatchSize).Select(i => new[] { pairs[i].Source.ToArray(), pairs[i].Target.ToArray() }).ToArray(),
                });
            }
        }
        File.WriteAllText(Path.Combine(folder, "batches.json"), JsonSerializer.Serialize(new { start_token = sos, batches }));
        Print.Line($"{batches.Count} updates written to {Path.GetFullPath(Path.Combine(folder, "batches.json"))}; training with dropout 0 …");
        trainer.Fit(pairs);
        File.WriteAllLines(Path.Combine(folder, "losses_csharp.tsv"), ["update\tloss", .. trainer.State.TrainingLosses.Select(l => $"{l.Step}\t{l.Loss:R}")]);
        Print.Line($"losses written to {Path.GetFullPath(Path.Combine(folder, "losses_csharp.tsv"))}");
    }
}
