"""Weights move both ways: loads the C#-trained translation checkpoint (samples/Translate/model/translate.safetensors)
into PyTorch's nn.Transformer (the Seq2Seq module of generate.py's training_steps: embeddings with padding_idx 0,
sinusoidal positions, nn.Transformer's encoder and decoder, an LM head tied to the target embedding), runs the articles'
sentence, and writes the logits as a fixture the C# tests compare with the library's own.

    /usr/bin/python3 tools/reference/translate_checkpoint.py

The safetensors file is read from the format's definition (translate_training.read_safetensors), so the script needs
only torch and numpy.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (pins ATEN_CPU_CAPABILITY before importing torch)
import torch  # noqa: E402
from translate_training import read_safetensors  # noqa: E402  (the format, read from its definition)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CHECKPOINT = os.path.join(ROOT, "samples", "Translate", "model", "translate.safetensors")

state, metadata = read_safetensors(CHECKPOINT)
options = json.loads(metadata["attention.options"])

CALLS = f"""
model = Seq2Seq(src_vocab={options['SourceVocabularySize']}, tgt_vocab={options['TargetVocabularySize']}, d={options['ModelDim']},
                heads={options['HeadCount']}, ff={options['FeedForwardDim']}, layers={options['EncoderLayers']},
                max_len={options['MaxPositions']}, tied=True, learned=False)
missing, unexpected = model.load_state_dict(state, strict=False)
assert list(missing) == ["lm_head.weight"] and not unexpected, (missing, unexpected)   # lm_head.weight is the tied embedding
model.train()                                                                          # dropout is 0: PyTorch's reference path
src = torch.tensor([[888, 47, 328, 143, 461, 951, 456, 155, 665, 346, 504]])          # "안녕하세요, 만나서 반가워요" (the checkpoint's BPE)
tgt_in = torch.tensor([[1, 869, 47, 285, 114, 103, 293, 733, 113, 114, 122, 702]])    # <sos> "hey, good to know you"
with torch.no_grad():
    logits = model(src, tgt_in)[0]
"""
ns = {"state": state}
exec(generate.TRAINING_SETUP + CALLS, ns)  # noqa: S102 - our own code, recorded in the fixture
fixture = {
    "description": "The C#-trained translation checkpoint loaded into nn.Transformer (tied LM head, sinusoidal positions): "
                   "logits of the articles' sentence with the target 'hey, good to know you' fed after <sos>.",
    "torch_version": torch.__version__,
    "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
    "torch_calls": ["state = the tensors of samples/Translate/model/translate.safetensors"] + (generate.TRAINING_SETUP + CALLS).splitlines(),
    "tensors": {"src": generate.tensor_json(ns["src"][0].float()), "tgt_in": generate.tensor_json(ns["tgt_in"][0].float()),
                "logits": generate.tensor_json(ns["logits"])},
}
path = os.path.join(generate.OUT, "translate_logits.json")
with open(path, "w", encoding="utf-8") as f:
    json.dump(fixture, f, indent=1)
    f.write("\n")
print("wrote", os.path.relpath(path), "logits", tuple(ns["logits"].shape), "argmax of row 0:", int(ns["logits"][0].argmax()))
