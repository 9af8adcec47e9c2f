"""PyTorch's times for the shapes of issue 5's targets, on this machine, now.

The issue quotes PyTorch times measured once; this machine's second core is shared, so timings drift from hour to hour.
Run this beside the BenchmarkDotNet suite to compare both in the same session. Debian's torch calls whatever
libblas.so.3 is installed; the generic one is about 30 times slower than OpenBLAS, so install OpenBLAS first:

    apt-get install -y python3-torch libopenblas0-pthread
    OPENBLAS_NUM_THREADS=1 taskset -c 0 /usr/bin/python3 tools/timing/pytorch_times.py 1
    OPENBLAS_NUM_THREADS=2 /usr/bin/python3 tools/timing/pytorch_times.py 2

OpenBLAS keeps its own threads beside torch's OpenMP ones, so its count is set in the environment, to match. OpenBLAS
0.3.21 (Debian 12) does not recognise newer CPUs (Intel family 6, model 207, for one) and falls back to a slow generic
kernel: add OPENBLAS_CORETYPE=SkylakeX (or Haswell on CPUs without AVX-512) to both commands.

Each figure is the median of 100 calls after 2 s of warm-up, under torch.no_grad() in eval mode, float32, batch 1.
"""
import statistics
import sys
import time

import torch


def median_ms(fn, seconds=2.0, calls=100):
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn()
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def main():
    torch.manual_seed(0)
    seq, e, heads, ff = 512, 512, 8, 2048
    x = torch.randn(seq, 1, e)                                                # (seq, batch, E), PyTorch's default layout
    mha = torch.nn.MultiheadAttention(e, heads).eval()
    layer = torch.nn.TransformerEncoderLayer(e, heads, ff, dropout=0.0).eval()
    a, b = torch.randn(512, 512), torch.randn(512, 512)
    q, k, v = torch.randn(2048, 64), torch.randn(2048, 64), torch.randn(2048, 64)
    cases = [
        ("matmul 512x512x512 (torch.mm)", lambda: torch.mm(a, b)),
        ("softmax(Q.K^T/8).V, seq 2048, d 64", lambda: torch.softmax(q @ k.T / 8.0, dim=-1) @ v),
        ("nn.MultiheadAttention(512, 8), seq 512, need_weights=False", lambda: mha(x, x, x, need_weights=False)),
        ("nn.TransformerEncoderLayer(512, 8, 2048), seq 512", lambda: layer(x)),
    ]
    print(f"torch {torch.__version__}")
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    with torch.no_grad():
        for name, fn in cases:
            print(f"{threads} thread(s)  {name:<60} {median_ms(fn):8.3f} ms", flush=True)


if __name__ == "__main__":
    main()
