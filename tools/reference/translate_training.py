"""The translation recipe replayed in PyTorch: same architecture, same initial weights, same batches, same learning
rates, same loss, dropout 0. Compares the losses update by update with the library's.

    dotnet run -c Release --project samples/Translate -- --parity /tmp/parity     # the library's side (about 2 minutes)
    /usr/bin/python3 tools/reference/translate_training.py /tmp/parity             # PyTorch's side

Writes /tmp/parity/losses_pytorch.tsv and prints how far the two runs stay together. The committed result is in
tools/reference/translate_parity/.
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import generate  # noqa: E402  (pins ATEN_CPU_CAPABILITY before importing torch)
import numpy as np  # noqa: E402
import torch  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    length = int.from_bytes(blob[:8], "little")
    header = json.loads(blob[8:8 + length])
    metadata = header.pop("__metadata__")
    data = blob[8 + length:]
    tensors = {name: torch.tensor(np.frombuffer(data[e["data_offsets"][0]:e["data_offsets"][1]], dtype="<f4").reshape(e["shape"]).copy())
               for name, e in header.items()}
    return tensors, metadata


def main(folder):
    torch.set_num_threads(1)
    state, metadata = read_safetensors(os.path.join(folder, "initial.safetensors"))
    options = json.loads(metadata["attention.options"])
    with open(os.path.join(folder, "batches.json"), encoding="utf-8") as f:
        run = json.load(f)
    ns = {}
    exec(generate.TRAINING_SETUP, ns)  # noqa: S102 - the Seq2Seq module of the fixtures
    model = ns["Seq2Seq"](options["SourceVocabularySize"], options["TargetVocabularySize"], options["ModelDim"], options["HeadCount"],
                          options["FeedForwardDim"], options["EncoderLayers"], options["MaxPositions"], tied=True, learned=False)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert list(missing) == ["lm_head.weight"] and not unexpected, (missing, unexpected)
    model.train()                                                   # dropout is 0 everywhere
    decayed = [p for p in model.parameters() if p.dim() >= 2]
    vectors = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.01}, {"params": vectors, "weight_decay": 0.0}],
                                  lr=0.0, betas=(0.9, 0.98), eps=1e-9)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=0.1)
    pad = ns["pad"]
    sos = run["start_token"]
    losses = []
    for update, batch in enumerate(run["batches"], start=1):
        sources = [s for s, _ in batch["pairs"]]
        targets = [t for _, t in batch["pairs"]]
        src = pad(sources, 0)
        tgt_in = pad([[sos] + t[:-1] for t in targets], 0)
        labels = pad(targets, -100)
        optimizer.zero_grad()
        logits = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        for group in optimizer.param_groups:
            group["lr"] = batch["lr"]
        optimizer.step()
        losses.append(loss.item())
        if update % 100 == 0:
            print(f"update {update}: loss {losses[-1]:.4f}", flush=True)
    with open(os.path.join(folder, "losses_pytorch.tsv"), "w", encoding="utf-8") as f:
        f.write("update\tloss\n" + "".join(f"{i}\t{v!r}\n" for i, v in enumerate(losses, start=1)))
    ours = [float(line.split("\t")[1]) for line in open(os.path.join(folder, "losses_csharp.tsv"), encoding="utf-8").read().splitlines()[1:]]
    relative = [abs(a - b) / abs(b) for a, b in zip(ours, losses)]
    print(f"first 20 updates: largest relative difference {max(relative[:20]):.2e}")
    for n in (50, 100, 200, 500, 1000, len(relative)):
        if n <= len(relative):
            print(f"update {n}: library {ours[n - 1]:.4f}, PyTorch {losses[n - 1]:.4f}, relative difference {relative[n - 1]:.2e}")
    print(f"mean of the last 100 losses: library {sum(ours[-100:]) / 100:.4f}, PyTorch {sum(losses[-100:]) / 100:.4f}")
    write_svg(os.path.join(folder, "losses.svg"), ours, losses)


def write_svg(path, ours, theirs):
    """Both loss curves on a log scale (the loss falls from about 84 to about 1)."""
    width, height, left, top, bottom = 720, 360, 60, 40, 40
    low, high = math.log(min(ours + theirs)), math.log(max(ours + theirs))
    def point(i, v, n):
        return f"{left + (width - left - 20) * i / (n - 1):.1f},{height - bottom - (height - top - bottom) * (math.log(v) - low) / (high - low):.1f}"
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<text x="{left}" y="24" font-size="16" font-weight="bold">Training loss per update, library vs PyTorch (log scale)</text>']
    for values, colour, name, y in [(ours, "#1f77b4", "library (C#)", top + 10), (theirs, "#ff7f0e", "PyTorch 1.13", top + 26)]:
        lines.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.2" points="{" ".join(point(i, v, len(values)) for i, v in enumerate(values))}"/>')
        lines.append(f'<text x="{width - 160}" y="{y}" fill="{colour}">{name}</text>')
    lines.append(f'<text x="{left}" y="{height - 12}">update 1</text><text x="{width - 20}" y="{height - 12}" text-anchor="end">update {len(ours)}</text>')
    lines.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{math.exp(high):.0f}</text><text x="{left - 6}" y="{height - bottom}" text-anchor="end">{math.exp(low):.2f}</text>')
    lines.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/parity")
