// A checkpoint is a folder of three files: the model's parameters (a safetensors file that Transformer.Load reads), the
// optimizer's buffers (safetensors, PyTorch's optimizer.state_dict() layout) and the trainer's position and history
// (trainer.json), plus the loss curve as a picture. The folder is written beside the old one and swapped in at the end,
// so a crash or an error while saving never leaves a half-written checkpoint where the last good one was.
using System.Text.Json;
using Attention.Serialization;
using Attention.Transformers;
using Attention.Visualization;

namespace Attention.Training;

/// <summary>Saving and restoring a training run: model, optimizer and trainer state, all or nothing.</summary>
public static class Checkpoint
{
    /// <summary>The model's parameters, readable by <see cref="Transformer.Load(string)"/> and Python's <c>safetensors</c>.</summary>
    public const string ModelFile = "model.safetensors";

    /// <summary>The optimizer's buffers and step (<see cref="Optimizer.StateDict"/>).</summary>
    public const string OptimizerFile = "optimizer.safetensors";

    /// <summary>The trainer's position and losses (<see cref="TrainerState"/>) as JSON.</summary>
    public const string StateFile = "trainer.json";

    /// <summary>The training and validation losses drawn as an SVG line chart.</summary>
    public const string LossCurveFile = "loss.svg";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    /// <summary>Writes the checkpoint into <paramref name="directory"/>, replacing what was there only once every file is written.</summary>
    /// <param name="directory">The checkpoint's folder (created if needed).</param>
    /// <param name="model">The model.</param>
    /// <param name="optimizer">Its optimizer.</param>
    /// <param name="state">The trainer's state.</param>
    public static void Save(string directory, Transformer model, Optimizer optimizer, TrainerState state)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(state);
        var full = Path.GetFullPath(directory).TrimEnd(Path.DirectorySeparatorChar);
        var (partial, old) = (full + ".partial", full + ".old");
        DeleteIfThere(partial);
        Directory.CreateDirectory(partial);
        model.Save(Path.Combine(partial, ModelFile));
        SafeTensors.Write(Path.Combine(partial, OptimizerFile), optimizer.StateDict());
        File.WriteAllText(Path.Combine(partial, StateFile), JsonSerializer.Serialize(state, Json));
        File.WriteAllText(Path.Combine(partial, LossCurveFile), LossCurve.ToSvg(state.TrainingLosses, state.ValidationLosses, $"Loss after {state.Step} updates"));
        DeleteIfThere(old);
        if (Directory.Exists(full))
        {
            Directory.Move(full, old);                  // the last good checkpoint steps aside …
        }
        Directory.Move(partial, full);                  // … the new one takes its place …
        DeleteIfThere(old);                             // … and only then is the old one gone
    }

    /// <summary>Restores a checkpoint into <paramref name="model"/> and <paramref name="optimizer"/> and returns the
    /// trainer's state. Everything is read and checked before anything changes.</summary>
    /// <param name="directory">The checkpoint's folder.</param>
    /// <param name="model">A model of the checkpoint's shape.</param>
    /// <param name="optimizer">An optimizer of the same kind over the model's parameters.</param>
    /// <param name="expectedSeed">When given, the seed the checkpoint must have been trained with (resuming with another
    /// seed would shuffle differently from the run that wrote it).</param>
    /// <returns>The trainer's state.</returns>
    /// <exception cref="InvalidDataException">A file is missing, corrupt or of another shape or kind; the message names it.</exception>
    public static TrainerState Load(string directory, Transformer model, Optimizer optimizer, long? expectedSeed = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        var (modelPath, optimizerPath, statePath) = (Path.Combine(directory, ModelFile), Path.Combine(directory, OptimizerFile), Path.Combine(directory, StateFile));
        foreach (var path in new[] { modelPath, optimizerPath, statePath })
        {
            if (!File.Exists(path))
            {
                throw new InvalidDataException($"{path} is missing: a checkpoint folder holds {ModelFile}, {OptimizerFile} and {StateFile}.");
            }
        }
        var (weights, metadata) = SafeTensors.ReadWithMetadata(modelPath);
        Transformer.RequireSameOptions(metadata, model.Options, modelPath);
        var buffers = SafeTensors.Read(optimizerPath);
        TrainerState state;
        try
        {
            state = JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(statePath)) ?? throw new InvalidDataException($"{statePath} holds null.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{statePath} is not a trainer state: {e.Message}", e);
        }
        if (state.Version != 1 || state.Step < 0 || state.Epoch < 0 || state.Batch < 0)
        {
            throw new InvalidDataException($"{statePath}: format version {state.Version}, epoch {state.Epoch}, batch {state.Batch}, update {state.Step} is not a state this version (1) can resume.");
        }
        if (expectedSeed is { } seed && state.Seed != seed)
        {
            throw new InvalidDataException($"{statePath} was trained with seed {state.Seed}, but this trainer's seed is {seed}; resume with the same seed.");
        }
        Expect(modelPath, () => Transformer.FromStateDict(weights, model.Options));     // a check only: nothing changes yet
        Expect(optimizerPath, () => optimizer.LoadStateDict(buffers));                    // checks, then changes the optimizer
        model.LoadStateDict(weights);                                                      // already checked
        return state;
    }

    private static void Expect(string path, Action load)
    {
        try
        {
            load();
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
    }

    private static void DeleteIfThere(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
