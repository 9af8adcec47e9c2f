namespace Attention.Transformers;

/// <summary>What non-strict loading did, as PyTorch's <c>load_state_dict(strict=False)</c> reports it.</summary>
/// <param name="Model">The model: the checkpoint's values where it had them, fresh ones elsewhere.</param>
/// <param name="MissingKeys">Parameters of the model the checkpoint lacked (they kept fresh values), sorted.</param>
/// <param name="UnexpectedKeys">Tensors of the checkpoint the model has no parameter for (ignored), sorted.</param>
public sealed record StateDictLoad(Transformer Model, IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
