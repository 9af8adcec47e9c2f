"""PyTorch's time for one training step of issue 15's two sizes, on this machine, now (the peer of
benchmarks/Attention.Benchmarks/TrainingStepBenchmarks.cs).

One step: optimizer.zero_grad(); logits = model(src, tgt_in); loss = CrossEntropyLoss(label_smoothing=0.1)(logits, labels);
loss.backward(); optimizer.step(), with Adam(lr 1e-4, betas (0.9, 0.98), eps 1e-9) and dropout 0.1 in training mode.
The model is nn.Transformer (batch_first, post-norm, ReLU, final norms) with two embeddings ·√d_model, sinusoidal
positions and an LM head, as the library's Transformer. Batches are full (every sentence the same length), as in the C# run.

    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=1 taskset -c 0 /usr/bin/python3 tools/timing/train_step.py 1
    OPENBLAS_CORETYPE=SkylakeX OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tools/timing/train_step.py 2

(OPENBLAS_CORETYPE: Debian's OpenBLAS 0.3.21 does not recognise newer Intel CPUs; see pytorch_times.py.)
Each figure is the median of 30 steps after 3 s of warm-up.
"""
import math
import statistics
import sys
import time

import torch


class Seq2Seq(torch.nn.Module):
    def __init__(self, vocab, d, heads, ff, layers, max_len=64):
        super().__init__()
        self.source_embedding = torch.nn.Embedding(vocab, d)
        self.target_embedding = torch.nn.Embedding(vocab, d)
        t = torch.nn.Transformer(d_model=d, nhead=heads, num_encoder_layers=layers, num_decoder_layers=layers,
                                 dim_feedforward=ff, dropout=0.1, batch_first=True)
        self.encoder, self.decoder = t.encoder, t.decoder
        self.lm_head = torch.nn.Linear(d, vocab)
        position = torch.arange(max_len, dtype=torch.float64)[:, None]
        column = torch.arange(d)[None, :]
        angle = position / torch.pow(10000.0, (column - column % 2) / d)
        self.register_buffer("pe", torch.where(column % 2 == 0, torch.sin(angle), torch.cos(angle)).float())
        self.dropout = torch.nn.Dropout(0.1)
        self.d = d

    def embed(self, embedding, ids):
        return self.dropout(embedding(ids) * math.sqrt(self.d) + self.pe[: ids.shape[1]])

    def forward(self, src, tgt_in):
        memory = self.encoder(self.embed(self.source_embedding, src))
        causal = torch.nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
        return self.lm_head(self.decoder(self.embed(self.target_embedding, tgt_in), memory, tgt_mask=causal))


def median_ms(fn, seconds=3.0, steps=30):
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {threads} thread(s)")
    for name, (d, ff, layers, vocab, batch, length) in {"small": (64, 256, 2, 1000, 32, 16), "medium": (256, 1024, 3, 4000, 16, 32)}.items():
        model = Seq2Seq(vocab, d, 4, ff, layers).train()
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-4, betas=(0.9, 0.98), eps=1e-9)
        loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
        src = torch.randint(3, vocab, (batch, length))
        tgt = torch.randint(3, vocab, (batch, length))
        tgt_in = torch.cat([torch.ones(batch, 1, dtype=torch.long), tgt[:, :-1]], dim=1)

        def step():
            optimizer.zero_grad()
            logits = model(src, tgt_in)
            loss = loss_fn(logits.reshape(-1, vocab), tgt.reshape(-1))
            loss.backward()
            optimizer.step()

        print(f"{name:6}  {median_ms(step):8.1f} ms per step")


if __name__ == "__main__":
    main()
