#!/usr/bin/python3
"""Writes the PyTorch reference fixtures that the C# tests compare against.

Run with Debian's interpreter (apt-get install -y python3-torch python3-numpy):

    /usr/bin/python3 tools/reference/generate.py

Each fixture is a JSON file under tests/Attention.Tests/Fixtures/. It records the torch version,
the CPU capability, and the exact Python code that produced every tensor ("torch_calls"), so a
reader can paste the code into a Python prompt and see the same numbers. Tensors are stored as a
shape and a flat row-major list; each float32 is written as the shortest decimal that round-trips
through float64, so parsing it as a double and casting to float gives the same bits back.
"""
import os

# PyTorch's vectorised normal_ and uniform_ paths depend on the CPU capability; the library
# reproduces the avx2 variant (see shared/reference/torch-rng.md), so pin it before importing torch.
os.environ["ATEN_CPU_CAPABILITY"] = "avx2"

import hashlib
import json
import textwrap

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "Attention.Tests", "Fixtures"))


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def run(code):
    """Executes code (dedented) and returns its namespace and the code as recorded."""
    code = textwrap.dedent(code).strip("\n")
    ns = {}
    exec(code, ns)  # noqa: S102 - our own literal code, kept in the fixture verbatim
    return ns, code


def write(name, description, code, tensors, scalars=None):
    ns, recorded = run(code)
    fixture = {
        "description": description,
        "torch_version": torch.__version__,
        "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "torch_calls": recorded.splitlines(),
        "tensors": {key: tensor_json(ns[key]) for key in tensors},
    }
    if scalars:
        fixture["scalars"] = {key: ns[key] for key in scalars}
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path))


def article_2024():
    write(
        "self_attention_2024.json",
        "Raschka (2024), 'Understanding and Coding Self-Attention, Multi-Head Attention, "
        "Causal-Attention, and Cross-Attention in LLMs': every tensor the article prints.",
        """
        import hashlib
        import torch
        import torch.nn.functional as F
        sentence = 'Life is short, eat dessert first'
        dc = {s: i for i, s in enumerate(sorted(sentence.replace(',', '').split()))}
        sentence_int = torch.tensor([dc[s] for s in sentence.replace(',', '').split()])
        torch.manual_seed(123)
        embed = torch.nn.Embedding(50_000, 3)
        embedded_sentence = embed(sentence_int).detach()
        embedding_first_rows = embed.weight[:8].detach()
        embedding_sha256 = hashlib.sha256(embed.weight.detach().numpy().astype('<f4').tobytes()).hexdigest()
        torch.manual_seed(123)
        d = embedded_sentence.shape[1]
        d_q, d_k, d_v = 2, 2, 4
        W_query = torch.rand(d, d_q)
        W_key = torch.rand(d, d_k)
        W_value = torch.rand(d, d_v)
        x_2 = embedded_sentence[1]
        query_2 = x_2 @ W_query
        key_2 = x_2 @ W_key
        value_2 = x_2 @ W_value
        keys = embedded_sentence @ W_key
        values = embedded_sentence @ W_value
        omega_24 = query_2.dot(keys[4])
        omega_2 = query_2 @ keys.T
        attention_weights_2 = F.softmax(omega_2 / d_k**0.5, dim=0)
        context_vector_2 = attention_weights_2 @ values
        queries = embedded_sentence @ W_query
        attn_scores = queries @ keys.T
        attn_weights = torch.softmax(attn_scores / d_k**0.5, dim=1)
        context_vectors = attn_weights @ values
        block_size = attn_scores.shape[0]
        mask_simple = torch.tril(torch.ones(block_size, block_size))
        masked_simple = attn_weights * mask_simple
        masked_simple_norm = masked_simple / masked_simple.sum(dim=1, keepdim=True)
        mask = torch.triu(torch.ones(block_size, block_size), diagonal=1)
        masked = attn_scores.masked_fill(mask.bool(), -torch.inf)
        causal_weights = torch.softmax(masked / d_k**0.5, dim=1)
        causal_context_vectors = causal_weights @ values
        torch.manual_seed(123)
        cross_W_query = torch.rand(3, 2)
        cross_W_key = torch.rand(3, 2)
        cross_W_value = torch.rand(3, 4)
        second_input = torch.rand(8, 3)
        cross_weights = torch.softmax((embedded_sentence @ cross_W_query) @ (second_input @ cross_W_key).T / 2**0.5, dim=-1)
        cross_context_vectors = cross_weights @ (second_input @ cross_W_value)
        """,
        ["sentence_int", "embedded_sentence", "embedding_first_rows", "W_query", "W_key", "W_value",
         "query_2", "key_2", "value_2", "keys", "values", "omega_24", "omega_2", "attention_weights_2",
         "context_vector_2", "queries", "attn_scores", "attn_weights", "context_vectors",
         "masked_simple", "masked_simple_norm", "causal_weights", "causal_context_vectors",
         "second_input", "cross_weights", "cross_context_vectors"],
        ["embedding_sha256"],
    )


def article_2023():
    write(
        "self_attention_2023.json",
        "Raschka (2023), 'Understanding and Coding the Self-Attention Mechanism of Large Language "
        "Models From Scratch': 16-dimensional embeddings, d_q = d_k = 24, d_v = 28, weights of shape "
        "[d_out x d] applied as W.x.",
        """
        import torch
        import torch.nn.functional as F
        sentence_int = torch.tensor([0, 4, 5, 2, 1, 3])
        torch.manual_seed(123)
        embed = torch.nn.Embedding(6, 16)
        embedded_sentence = embed(sentence_int).detach()
        torch.manual_seed(123)
        d = embedded_sentence.shape[1]
        d_q, d_k, d_v = 24, 24, 28
        W_query = torch.rand(d_q, d)
        W_key = torch.rand(d_k, d)
        W_value = torch.rand(d_v, d)
        x_2 = embedded_sentence[1]
        query_2 = W_query.matmul(x_2)
        keys = W_key.matmul(embedded_sentence.T).T
        values = W_value.matmul(embedded_sentence.T).T
        omega_24 = query_2.dot(keys[4])
        omega_2 = query_2.matmul(keys.T)
        attention_weights_2 = F.softmax(omega_2 / d_k**0.5, dim=0)
        context_vector_2 = attention_weights_2.matmul(values)
        """,
        ["embedded_sentence", "W_query", "W_key", "W_value", "query_2", "keys", "values",
         "omega_24", "omega_2", "attention_weights_2", "context_vector_2"],
    )


def generator_probes():
    write(
        "torch_generator.json",
        "Probes of PyTorch's CPU generator: torch.rand, torch.randn (batched path for 16 or more "
        "values, cached double path below), normal_, uniform_ and nn.Linear initialisation.",
        """
        import torch
        torch.manual_seed(0)
        rand_3x5_seed0 = torch.rand(3, 5)
        torch.manual_seed(0)
        randn_5_seed0 = torch.randn(5)
        randn_5_then_randn_5_seed0 = torch.randn(5)
        torch.manual_seed(42)
        randn_16_seed42 = torch.randn(16)
        torch.manual_seed(42)
        randn_17_seed42 = torch.randn(17)
        torch.manual_seed(42)
        randn_100_seed42 = torch.randn(100)
        torch.manual_seed(42)
        randn_100_then_rand_4_seed42 = torch.randn(100)
        rand_4_after_randn_100 = torch.rand(4)
        torch.manual_seed(7)
        normal_mean2_std05_40 = torch.empty(40).normal_(2.0, 0.5)
        normal_mean2_std05_3 = torch.empty(3).normal_(2.0, 0.5)
        torch.manual_seed(7)
        uniform_minus3_5_10 = torch.empty(10).uniform_(-3.0, 5.0)
        torch.manual_seed(123)
        linear_3_to_2 = torch.nn.Linear(3, 2)
        linear_3_to_2_weight = linear_3_to_2.weight.detach()
        linear_3_to_2_bias = linear_3_to_2.bias.detach()
        torch.manual_seed(1)
        linear_10_to_7 = torch.nn.Linear(10, 7)
        linear_10_to_7_weight = linear_10_to_7.weight.detach()
        linear_10_to_7_bias = linear_10_to_7.bias.detach()
        torch.manual_seed(123)
        embedding_6x16 = torch.nn.Embedding(6, 16).weight.detach()
        """,
        ["rand_3x5_seed0", "randn_5_seed0", "randn_5_then_randn_5_seed0", "randn_16_seed42",
         "randn_17_seed42", "randn_100_seed42", "rand_4_after_randn_100", "normal_mean2_std05_40",
         "normal_mean2_std05_3", "uniform_minus3_5_10", "linear_3_to_2_weight", "linear_3_to_2_bias",
         "linear_10_to_7_weight", "linear_10_to_7_bias", "embedding_6x16"],
    )


def scaled_dot_product():
    # torch 1.13 has no F.scaled_dot_product_attention; the formula is written out with torch ops.
    write(
        "scaled_dot_product_attention.json",
        "softmax(Q.K^T / sqrt(d_k) + mask).V with seq_q = 3, seq_k = 5, d_k = 4, d_v = 6: no mask, "
        "causal (top-left aligned, as torch.ones(L, S).tril()), boolean (True = masked) and additive.",
        """
        import torch
        torch.manual_seed(2024)
        q = torch.randn(3, 4)
        k = torch.randn(5, 4)
        v = torch.randn(5, 6)
        scores = q @ k.T
        d_k = 4
        weights_plain = torch.softmax(scores / d_k**0.5, dim=-1)
        output_plain = weights_plain @ v
        causal = torch.ones(3, 5).tril().logical_not()
        weights_causal = torch.softmax((scores / d_k**0.5).masked_fill(causal, float('-inf')), dim=-1)
        output_causal = weights_causal @ v
        boolean_mask = torch.tensor([[False, True, False, False, True],
                                     [True, False, False, True, False],
                                     [False, False, False, False, True]])
        weights_boolean = torch.softmax((scores / d_k**0.5).masked_fill(boolean_mask, float('-inf')), dim=-1)
        output_boolean = weights_boolean @ v
        additive_mask = torch.tensor([[0.0, -1.0, 0.5, 0.0, -2.0],
                                      [1.5, 0.0, 0.0, -0.25, 0.0],
                                      [0.0, 0.0, -3.0, 0.0, 0.75]])
        weights_additive = torch.softmax(scores / d_k**0.5 + additive_mask, dim=-1)
        output_additive = weights_additive @ v
        """,
        ["q", "k", "v", "scores", "weights_plain", "output_plain", "weights_causal", "output_causal",
         "weights_boolean", "output_boolean", "additive_mask", "weights_additive", "output_additive"],
    )


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    generator_probes()
    article_2024()
    article_2023()
    scaled_dot_product()
