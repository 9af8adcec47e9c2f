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
# reproduces the avx2 variant (see docs/torch-rng.md), so pin it before importing torch.
os.environ["ATEN_CPU_CAPABILITY"] = "avx2"

import hashlib
import json
import textwrap

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "..", "tests", "Attention.Tests", "Fixtures"))


def number_json(v):
    # JSON has no NaN or infinity: write them as strings, which the C# loader understands.
    if v != v:
        return "NaN"
    if v in (float("inf"), float("-inf")):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def tensor_json(t):
    t = t.detach().to(torch.float32).contiguous()
    return {"shape": list(t.shape), "data": [number_json(float(v)) for v in t.reshape(-1).tolist()]}


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


MHA_SETUP = """
import torch
import torch.nn.functional as F

def make_mha(seed, embed_dim, num_heads, kdim=None, vdim=None):
    # nn.MultiheadAttention zeroes its biases; non-zero biases make bias bugs visible.
    torch.manual_seed(seed)
    mha = torch.nn.MultiheadAttention(embed_dim, num_heads, batch_first=True, dropout=0.0, kdim=kdim, vdim=vdim)
    mha.eval()
    with torch.no_grad():
        mha.in_proj_bias.uniform_(-0.5, 0.5)
        mha.out_proj.bias.uniform_(-0.5, 0.5)
    return mha

def run(mha, query, key, value, **masks):
    # Gradients stay enabled, so PyTorch takes its reference path, not the eval-mode fast path.
    out, per_head = mha(query, key, value, need_weights=True, average_attn_weights=False, **masks)
    _, averaged = mha(query, key, value, need_weights=True, average_attn_weights=True, **masks)
    return out[0], per_head[0], averaged[0]
"""


def mha_case(name, description, body, extra=()):
    params_same = ["in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias"]
    params_split = ["q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias"]
    code = MHA_SETUP + textwrap.dedent(body)
    ns, _ = run(code)
    split = ns["mha"].in_proj_weight is None
    code += "\n" + "\n".join(
        f"{p} = mha.{p.replace('out_proj_', 'out_proj.')}.detach()" for p in (params_split if split else params_same))
    code += "\n" + "\n".join(f"head_{h}_weights = per_head[{h}]" for h in range(ns["mha"].num_heads))
    tensors = ["query", "key", "value", "output", "averaged"] + (params_split if split else params_same)
    tensors += [f"head_{h}_weights" for h in range(ns["mha"].num_heads)] + list(extra)
    write(name, description, code, tensors)


def multi_head():
    mha_case("mha_self_e8_h2.json", "nn.MultiheadAttention(8, 2) self-attention over 5 tokens, non-zero biases.", """
        mha = make_mha(1, 8, 2)
        torch.manual_seed(11)
        query = key = value = torch.randn(1, 5, 8)
        output, per_head, averaged = run(mha, query, key, value)
        """)
    mha_case("mha_self_e16_h4.json", "nn.MultiheadAttention(16, 4) self-attention over 6 tokens, non-zero biases.", """
        mha = make_mha(2, 16, 4)
        torch.manual_seed(12)
        query = key = value = torch.randn(1, 6, 16)
        output, per_head, averaged = run(mha, query, key, value)
        """)
    mha_case("mha_cross_e8_h2.json", "Cross-attention: 3 queries over 5 keys and values, E = 8, h = 2.", """
        mha = make_mha(3, 8, 2)
        torch.manual_seed(13)
        query = torch.randn(1, 3, 8)
        key = value = torch.randn(1, 5, 8)
        output, per_head, averaged = run(mha, query, key, value)
        """)
    mha_case("mha_key_padding.json", "Self-attention over 5 tokens whose last 2 are padding (key_padding_mask).", """
        mha = make_mha(4, 8, 2)
        torch.manual_seed(14)
        query = key = value = torch.randn(1, 5, 8)
        key_padding_mask = torch.tensor([[False, False, False, True, True]])
        output, per_head, averaged = run(mha, query, key, value, key_padding_mask=key_padding_mask)
        """)
    mha_case("mha_causal_bool.json", "Causal boolean attn_mask (True = masked), E = 8, h = 2, 5 tokens.", """
        mha = make_mha(5, 8, 2)
        torch.manual_seed(15)
        query = key = value = torch.randn(1, 5, 8)
        attn_mask = torch.ones(5, 5, dtype=torch.bool).triu(diagonal=1)
        output, per_head, averaged = run(mha, query, key, value, attn_mask=attn_mask)
        """)
    mha_case("mha_causal_float.json", "Causal float attn_mask (0 and -inf), E = 8, h = 2, 5 tokens.", """
        mha = make_mha(5, 8, 2)
        torch.manual_seed(15)
        query = key = value = torch.randn(1, 5, 8)
        attn_mask = torch.zeros(5, 5).masked_fill(torch.ones(5, 5, dtype=torch.bool).triu(diagonal=1), float('-inf'))
        output, per_head, averaged = run(mha, query, key, value, attn_mask=attn_mask)
        """, extra=["attn_mask"])
    mha_case("mha_causal_and_padding.json", "Causal attn_mask together with key_padding_mask (last token padded), 5 tokens.", """
        mha = make_mha(6, 8, 2)
        torch.manual_seed(16)
        query = key = value = torch.randn(1, 5, 8)
        attn_mask = torch.ones(5, 5, dtype=torch.bool).triu(diagonal=1)
        key_padding_mask = torch.tensor([[False, False, False, False, True]])
        output, per_head, averaged = run(mha, query, key, value, attn_mask=attn_mask, key_padding_mask=key_padding_mask)
        """)
    mha_case("mha_kdim_vdim.json", "kdim = 5 and vdim = 7 differ from E = 8: separate q/k/v projection weights; 3 queries, 4 keys.", """
        mha = make_mha(7, 8, 2, kdim=5, vdim=7)
        torch.manual_seed(17)
        query = torch.randn(1, 3, 8)
        key = torch.randn(1, 4, 5)
        value = torch.randn(1, 4, 7)
        output, per_head, averaged = run(mha, query, key, value)
        """)
    mha_case("mha_fully_masked_row.json", "A boolean attn_mask that hides every key from query 1: PyTorch 1.13 gives NaN in that row.", """
        mha = make_mha(8, 8, 2)
        torch.manual_seed(18)
        query = key = value = torch.randn(1, 4, 8)
        attn_mask = torch.tensor([[False, True, False, False],
                                  [True, True, True, True],
                                  [False, False, False, True],
                                  [False, False, False, False]])
        output, per_head, averaged = run(mha, query, key, value, attn_mask=attn_mask)
        """)
    write("mha_init.json", "PyTorch's initialisation of nn.MultiheadAttention: xavier_uniform_ in-projections, nn.Linear out-projection, zero biases.", """
        import torch
        torch.manual_seed(0)
        same = torch.nn.MultiheadAttention(8, 2, batch_first=True)
        same_in_proj_weight = same.in_proj_weight.detach()
        same_out_proj_weight = same.out_proj.weight.detach()
        torch.manual_seed(0)
        split = torch.nn.MultiheadAttention(8, 2, batch_first=True, kdim=5, vdim=7)
        split_q_proj_weight = split.q_proj_weight.detach()
        split_k_proj_weight = split.k_proj_weight.detach()
        split_v_proj_weight = split.v_proj_weight.detach()
        split_out_proj_weight = split.out_proj.weight.detach()
        """, ["same_in_proj_weight", "same_out_proj_weight", "split_q_proj_weight", "split_k_proj_weight",
              "split_v_proj_weight", "split_out_proj_weight"])


def sinusoidal():
    write("sinusoidal_positional_encoding.json",
          "The paper's sinusoidal table, PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(...), "
          "computed in float64 and rounded to float32; d_model = 8 and 7 (odd), 50 positions.", """
        import math
        import torch
        def table(max_len, d_model):
            position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
            pe = torch.zeros(max_len, d_model, dtype=torch.float64)
            for i in range(0, d_model, 2):
                angle = position[:, 0] / (10000.0 ** (i / d_model))
                pe[:, i] = torch.sin(angle)
                if i + 1 < d_model:
                    pe[:, i + 1] = torch.cos(angle)
            return pe.to(torch.float32)
        pe_d8 = table(50, 8)
        pe_d7 = table(50, 7)
        """, ["pe_d8", "pe_d7"])


LAYER_SETUP = """
import torch

def perturb(module, seed):
    # PyTorch initialises biases to 0 and LayerNorm gains to 1, which hides bias and gain bugs: draw them instead.
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if name.endswith('bias'):
                p.uniform_(-0.5, 0.5)
            elif 'norm' in name and name.endswith('weight'):
                p.uniform_(0.5, 1.5)
    # train() with dropout 0 keeps PyTorch on its reference path (no eval-mode fast path), with the same maths.
    module.train()
    return module
"""


def state_tensors(ns, module_name):
    """Adds every parameter of ns[module_name] to ns under its state_dict name, and returns the names."""
    module = ns[module_name]
    names = []
    for name, p in module.state_dict().items():
        ns["param:" + name] = p.detach()
        names.append("param:" + name)
    return names


def write_module(name, description, code, tensors, module_name):
    ns, recorded = run(code)
    names = state_tensors(ns, module_name)
    fixture = {
        "description": description,
        "torch_version": torch.__version__,
        "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "torch_calls": recorded.splitlines(),
        "tensors": {key: tensor_json(ns[key]) for key in list(tensors) + names},
    }
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path))
    return ns


def transformer_layers():
    common = "d_model=16, nhead=4, dim_feedforward=32, dropout=0.0, batch_first=True"
    for tag, extra, seed in [("post_relu", "", 21), ("pre_norm", ", norm_first=True", 22), ("gelu", ", activation='gelu'", 23)]:
        write_module(f"encoder_layer_{tag}.json",
                     f"nn.TransformerEncoderLayer({common}{extra}) on 6 tokens with the last two padded "
                     "(src_key_padding_mask), non-zero biases and LayerNorm gains.", LAYER_SETUP + f"""
torch.manual_seed({seed})
layer = perturb(torch.nn.TransformerEncoderLayer({common}{extra}), {seed + 100})
src = torch.randn(1, 6, 16)
src_key_padding_mask = torch.tensor([[False, False, False, False, True, True]])
output = layer(src, src_key_padding_mask=src_key_padding_mask)[0]
""", ["src", "output"], "layer")
        write_module(f"decoder_layer_{tag}.json",
                     f"nn.TransformerDecoderLayer({common}{extra}): 5 target tokens under a causal mask, attending to a "
                     "memory of 7 tokens whose last one is padded.", LAYER_SETUP + f"""
torch.manual_seed({seed})
layer = perturb(torch.nn.TransformerDecoderLayer({common}{extra}), {seed + 200})
tgt = torch.randn(1, 5, 16)
memory = torch.randn(1, 7, 16)
tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
memory_key_padding_mask = torch.tensor([[False, False, False, False, False, False, True]])
output = layer(tgt, memory, tgt_mask=tgt_mask, memory_key_padding_mask=memory_key_padding_mask)[0]
""", ["tgt", "memory", "output"], "layer")


ENCODER_PARAMS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                  "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias"]


def encoder_layer_backward():
    common = "d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True"
    for tag, extra, seed in [("post", "", 31), ("pre", ", norm_first=True", 32)]:
        write_module(f"encoder_layer_backward_{tag}.json",
                     f"Gradients of nn.TransformerEncoderLayer({common}{extra}) on 5 tokens, the last one padded, from torch.autograd.",
                     LAYER_SETUP + f"""
torch.manual_seed({seed})
layer = perturb(torch.nn.TransformerEncoderLayer({common}{extra}), {seed + 100})
src = torch.randn(1, 5, 8)
src_key_padding_mask = torch.tensor([[False, False, False, False, True]])
dy = torch.randn(5, 8)
src_l = src.clone().requires_grad_(True)
output = layer(src_l, src_key_padding_mask=src_key_padding_mask)[0]
output.backward(dy)
dsrc = src_l.grad[0].clone()
for name, p in layer.named_parameters():
    globals()["grad:" + name] = p.grad.clone()
src = src[0]
output = output.detach()
""", ["src", "dy", "output", "dsrc"] + ["grad:" + n for n in ENCODER_PARAMS], "layer")


DECODER_PARAMS = ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "self_attn.out_proj.bias",
                  "multihead_attn.in_proj_weight", "multihead_attn.in_proj_bias", "multihead_attn.out_proj.weight", "multihead_attn.out_proj.bias",
                  "linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias",
                  "norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias", "norm3.weight", "norm3.bias"]


def decoder_layer_backward():
    common = "d_model=8, nhead=2, dim_feedforward=16, dropout=0.0, batch_first=True"
    for tag, extra, seed in [("post", "", 41), ("pre", ", norm_first=True", 42)]:
        write_module(f"decoder_layer_backward_{tag}.json",
                     f"Gradients of nn.TransformerDecoderLayer({common}{extra}): 4 target tokens under a causal mask, a memory of 6 "
                     "tokens whose last is padded, from torch.autograd.",
                     LAYER_SETUP + f"""
torch.manual_seed({seed})
layer = perturb(torch.nn.TransformerDecoderLayer({common}{extra}), {seed + 100})
tgt, memory = torch.randn(1, 4, 8), torch.randn(1, 6, 8)
tgt_mask = torch.nn.Transformer.generate_square_subsequent_mask(4)
memory_key_padding_mask = torch.tensor([[False, False, False, False, False, True]])
dy = torch.randn(4, 8)
tgt_l, memory_l = tgt.clone().requires_grad_(True), memory.clone().requires_grad_(True)
output = layer(tgt_l, memory_l, tgt_mask=tgt_mask, memory_key_padding_mask=memory_key_padding_mask)[0]
output.backward(dy)
dtgt, dmemory = tgt_l.grad[0].clone(), memory_l.grad[0].clone()
for name, p in layer.named_parameters():
    globals()["grad:" + name] = p.grad.clone()
tgt, memory, output = tgt[0], memory[0], output.detach()
""", ["tgt", "memory", "dy", "output", "dtgt", "dmemory"] + ["grad:" + n for n in DECODER_PARAMS], "layer")


def transformer_backward():
    ns, recorded = run(LAYER_SETUP + """
torch.manual_seed(51)
model = perturb(torch.nn.Transformer(d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                                     dim_feedforward=16, dropout=0.0, batch_first=True), 151)
src, tgt = torch.randn(1, 6, 8), torch.randn(1, 4, 8)
src_key_padding_mask = torch.tensor([[False, False, False, False, False, True]])
tgt_mask = model.generate_square_subsequent_mask(4)
dy = torch.randn(4, 8)
src_l, tgt_l = src.clone().requires_grad_(True), tgt.clone().requires_grad_(True)
output = model(src_l, tgt_l, tgt_mask=tgt_mask, src_key_padding_mask=src_key_padding_mask, memory_key_padding_mask=src_key_padding_mask)[0]
output.backward(dy)
dsrc, dtgt = src_l.grad[0].clone(), tgt_l.grad[0].clone()
src, tgt, output = src[0], tgt[0], output.detach()
""")
    model = ns["model"]
    tensors = {key: tensor_json(ns[key]) for key in ["src", "tgt", "dy", "output", "dsrc", "dtgt"]}
    for name, p in model.named_parameters():
        tensors["param:" + name] = tensor_json(p.detach())
        tensors["grad:" + name] = tensor_json(p.grad)
    fixture = {
        "description": "Gradients of nn.Transformer(d_model 8, nhead 2, 2 + 2 layers, dim_feedforward 16, final norms): a padded source of 6, "
                       "4 target tokens under a causal mask, from torch.autograd; every parameter's gradient as grad:{name}.",
        "torch_version": torch.__version__,
        "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "torch_calls": recorded.splitlines(),
        "tensors": tensors,
    }
    path = os.path.join(OUT, "transformer_backward.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(fixture, f, indent=1)
        f.write("\n")
    print("wrote", os.path.relpath(path))


def full_transformer():
    ns = write_module("transformer_2x2.json",
                      "nn.Transformer(d_model=16, nhead=4, 2 encoder + 2 decoder layers, dim_feedforward=32, dropout 0, "
                      "final norms) with a causal target mask: encoder output (memory) and decoder output.",
                      LAYER_SETUP + """
torch.manual_seed(31)
model = perturb(torch.nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                     dim_feedforward=32, dropout=0.0, batch_first=True), 131)
src = torch.randn(1, 6, 16)
tgt = torch.randn(1, 4, 16)
tgt_mask = model.generate_square_subsequent_mask(4)
memory = model.encoder(src)[0]
output = model(src, tgt, tgt_mask=tgt_mask)[0]
""", ["src", "tgt", "memory", "output"], "model")
    # The same parameters as a safetensors file, written by hand from the format's definition: an 8-byte little-endian
    # header length, a JSON header {name: {dtype, shape, data_offsets}}, then the raw little-endian bytes.
    model = ns["model"]
    header, blobs, offset = {"__metadata__": {"format": "pt", "source": "tools/reference/generate.py"}}, [], 0
    for name, p in model.state_dict().items():
        data = p.detach().contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(p.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * ((8 - len(head) % 8) % 8)  # the format pads the header with spaces to a multiple of 8
    path = os.path.join(OUT, "transformer_2x2.safetensors")
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for blob in blobs:
            f.write(blob)
    print("wrote", os.path.relpath(path))


def cross_entropy():
    write("cross_entropy.json",
          "torch.nn.CrossEntropyLoss with ignore_index and label smoothing, every reduction, and the gradient of the mean.",
          """
          import torch
          torch.manual_seed(0)
          logits = torch.randn(6, 7) * 3
          logits[2] = torch.tensor([1e4, -1e4, 0.0, 5e3, -5e3, 1e4, 1.0])   # a row that overflows exp() unless shifted
          targets = torch.tensor([3, 0, 5, -100, 6, 2])                        # row 3 is ignored (PyTorch's default ignore_index)
          plain = torch.nn.CrossEntropyLoss()(logits, targets)
          plain_sum = torch.nn.CrossEntropyLoss(reduction="sum")(logits, targets)
          plain_none = torch.nn.CrossEntropyLoss(reduction="none")(logits, targets)
          smooth = torch.nn.CrossEntropyLoss(label_smoothing=0.1)(logits, targets)
          smooth_sum = torch.nn.CrossEntropyLoss(label_smoothing=0.1, reduction="sum")(logits, targets)
          smooth_none = torch.nn.CrossEntropyLoss(label_smoothing=0.1, reduction="none")(logits, targets)
          custom_targets = torch.tensor([3, 0, 5, 1, 6, 1])
          custom_ignore = torch.nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)(logits, custom_targets)
          leaf = logits.clone().requires_grad_(True)
          torch.nn.CrossEntropyLoss(label_smoothing=0.1)(leaf, targets).backward()
          smooth_grad = leaf.grad.clone()
          leaf2 = logits.clone().requires_grad_(True)
          torch.nn.CrossEntropyLoss()(leaf2, targets).backward()
          plain_grad = leaf2.grad.clone()
          targets_float = targets.float()
          custom_targets_float = custom_targets.float()
          """,
          ["logits", "targets_float", "custom_targets_float", "plain", "plain_sum", "plain_none", "smooth", "smooth_sum",
           "smooth_none", "custom_ignore", "smooth_grad", "plain_grad"])


def attention_backward():
    write("attention_backward.json",
          "Gradients through scaled dot-product attention (d_k != d_v, n != m, a padding mask that hides a whole query's keys in one case) and through nn.MultiheadAttention cross-attention (E 8, h 2, 3 queries, 5 keys, non-zero biases, key padding), from torch.autograd.",
          """
          import torch
          torch.manual_seed(0)
          q, k, v = torch.randn(4, 6), torch.randn(5, 6), torch.randn(5, 3)
          mask = torch.zeros(4, 5)
          mask[:, 3:] = float("-inf")                                     # keys 3 and 4 are padding
          d_out = torch.randn(4, 3)
          ql, kl, vl = q.clone().requires_grad_(True), k.clone().requires_grad_(True), v.clone().requires_grad_(True)
          weights = torch.softmax(ql @ kl.T / 6 ** 0.5 + mask, dim=-1)
          (weights @ vl).backward(d_out)
          sdpa_dq, sdpa_dk, sdpa_dv = ql.grad.clone(), kl.grad.clone(), vl.grad.clone()
          torch.manual_seed(1)
          mha = torch.nn.MultiheadAttention(8, 2, batch_first=True, dropout=0.0)
          with torch.no_grad():
              mha.in_proj_bias.uniform_(-0.5, 0.5)
              mha.out_proj.bias.uniform_(-0.5, 0.5)
          in_proj_weight, in_proj_bias = mha.in_proj_weight.detach().clone(), mha.in_proj_bias.detach().clone()
          out_proj_weight, out_proj_bias = mha.out_proj.weight.detach().clone(), mha.out_proj.bias.detach().clone()
          query, memory = torch.randn(1, 3, 8), torch.randn(1, 5, 8)
          padding = torch.tensor([[False, False, False, False, True]])
          d_mha = torch.randn(1, 3, 8)
          query_l, memory_l = query.clone().requires_grad_(True), memory.clone().requires_grad_(True)
          out, _ = mha(query_l, memory_l, memory_l, key_padding_mask=padding, need_weights=False)
          out.backward(d_mha)
          mha_dquery, mha_dmemory = query_l.grad[0].clone(), memory_l.grad[0].clone()
          mha_din_proj_weight, mha_din_proj_bias = mha.in_proj_weight.grad.clone(), mha.in_proj_bias.grad.clone()
          mha_dout_proj_weight, mha_dout_proj_bias = mha.out_proj.weight.grad.clone(), mha.out_proj.bias.grad.clone()
          query, memory, d_mha = query[0], memory[0], d_mha[0]
          """,
          ["q", "k", "v", "d_out", "sdpa_dq", "sdpa_dk", "sdpa_dv", "in_proj_weight", "in_proj_bias", "out_proj_weight", "out_proj_bias",
           "query", "memory", "d_mha", "mha_dquery", "mha_dmemory", "mha_din_proj_weight", "mha_din_proj_bias", "mha_dout_proj_weight", "mha_dout_proj_bias"])


def feed_forward_backward():
    write("feed_forward_backward.json",
          "Gradients of PyTorch's position-wise feed-forward (linear1, ReLU or exact GELU, linear2) and of nn.LayerNorm, from torch.autograd.",
          """
          import torch
          torch.manual_seed(0)
          linear1, linear2 = torch.nn.Linear(6, 10), torch.nn.Linear(10, 6)
          w1, b1, w2, b2 = linear1.weight.detach().clone(), linear1.bias.detach().clone(), linear2.weight.detach().clone(), linear2.bias.detach().clone()
          x = torch.randn(5, 6)
          dy = torch.randn(5, 6)
          grads = {}
          for name, act in [("relu", torch.relu), ("gelu", torch.nn.functional.gelu)]:
              for p in (linear1.weight, linear1.bias, linear2.weight, linear2.bias):
                  p.grad = None
              xl = x.clone().requires_grad_(True)
              linear2(act(linear1(xl))).backward(dy)
              grads[name] = (xl.grad.clone(), linear1.weight.grad.clone(), linear1.bias.grad.clone(), linear2.weight.grad.clone(), linear2.bias.grad.clone())
          relu_dx, relu_dw1, relu_db1, relu_dw2, relu_db2 = grads["relu"]
          gelu_dx, gelu_dw1, gelu_db1, gelu_dw2, gelu_db2 = grads["gelu"]
          norm = torch.nn.LayerNorm(6)
          with torch.no_grad():
              norm.weight.copy_(torch.randn(6)); norm.bias.copy_(torch.randn(6))
          norm_weight, norm_bias = norm.weight.detach().clone(), norm.bias.detach().clone()
          xn = x.clone().requires_grad_(True)
          norm(xn).backward(dy)
          norm_dx, norm_dweight, norm_dbias = xn.grad.clone(), norm.weight.grad.clone(), norm.bias.grad.clone()
          """,
          ["w1", "b1", "w2", "b2", "x", "dy", "relu_dx", "relu_dw1", "relu_db1", "relu_dw2", "relu_db2",
           "gelu_dx", "gelu_dw1", "gelu_db1", "gelu_dw2", "gelu_db2", "norm_weight", "norm_bias", "norm_dx", "norm_dweight", "norm_dbias"])


def optimizers():
    write("optimizers.json",
          "torch.optim SGD (momentum, dampening, Nesterov, weight decay), Adam (L2 weight decay) and AdamW over 4 steps with given gradients, and clip_grad_norm_.",
          """
          import torch
          torch.manual_seed(0)
          start_a, start_b = torch.randn(3, 4), torch.randn(5)
          grads = [(torch.randn(3, 4), torch.randn(5)) for _ in range(4)]
          def run(make):
              a, b = start_a.clone().requires_grad_(True), start_b.clone().requires_grad_(True)
              optimizer = make([a, b])
              for ga, gb in grads:
                  a.grad, b.grad = ga.clone(), gb.clone()
                  optimizer.step()
              return a.detach().clone(), b.detach().clone()
          sgd_a, sgd_b = run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01))
          nesterov_a, nesterov_b = run(lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True))
          adam_a, adam_b = run(lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.01))
          adamw_a, adamw_b = run(lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.1))
          clip_a, clip_b = grads[0][0].clone(), grads[0][1].clone()
          pa, pb = torch.nn.Parameter(torch.zeros(3, 4)), torch.nn.Parameter(torch.zeros(5))
          pa.grad, pb.grad = clip_a.clone(), clip_b.clone()
          total_norm = torch.nn.utils.clip_grad_norm_([pa, pb], 1.0)
          clipped_a, clipped_b = pa.grad.clone(), pb.grad.clone()
          grad_a = torch.stack([g[0] for g in grads])
          grad_b = torch.stack([g[1] for g in grads])
          """,
          ["start_a", "start_b", "grad_a", "grad_b", "sgd_a", "sgd_b", "nesterov_a", "nesterov_b", "adam_a", "adam_b",
           "adamw_a", "adamw_b", "total_norm", "clipped_a", "clipped_b"])


def backward_primitives():
    write("backward_primitives.json",
          "Gradients through softmax over rows and through layer_norm, from torch.autograd, for the kernels' backward passes.",
          """
          import torch
          torch.manual_seed(0)
          scores = torch.randn(5, 7, dtype=torch.float32) * 2
          scores[1, 4:] = float("-inf")                                  # a masked row keeps its hidden keys at weight 0
          upstream = torch.randn(5, 7)
          leaf = scores.clone().requires_grad_(True)
          weights = torch.softmax(leaf, dim=-1)
          weights.backward(upstream)
          softmax_weights = weights.detach()
          softmax_grad = leaf.grad.clone()
          softmax_grad = torch.nan_to_num(softmax_grad)                   # -inf inputs: PyTorch gives 0 there already
          x = torch.randn(6, 9) * 3 + 1
          gamma = torch.randn(9)
          beta = torch.randn(9)
          dy = torch.randn(6, 9)
          xl, gl, bl = x.clone().requires_grad_(True), gamma.clone().requires_grad_(True), beta.clone().requires_grad_(True)
          y = torch.nn.functional.layer_norm(xl, (9,), gl, bl, 1e-5)
          y.backward(dy)
          layer_norm_dx, layer_norm_dgamma, layer_norm_dbeta = xl.grad.clone(), gl.grad.clone(), bl.grad.clone()
          """,
          ["scores", "upstream", "softmax_weights", "softmax_grad", "x", "gamma", "beta", "dy",
           "layer_norm_dx", "layer_norm_dgamma", "layer_norm_dbeta"])


TRAINING_SETUP = LAYER_SETUP + """
import math
import numpy as np

class Seq2Seq(torch.nn.Module):
    # The library's Transformer as a PyTorch module with the same state_dict names: embeddings (padding_idx 0),
    # sinusoidal or learned positions, nn.Transformer's encoder and decoder, an LM head (optionally tied).
    def __init__(self, src_vocab, tgt_vocab, d, heads, ff, layers, max_len, tied, learned):
        super().__init__()
        self.source_embedding = torch.nn.Embedding(src_vocab, d, padding_idx=0)
        self.target_embedding = torch.nn.Embedding(tgt_vocab, d, padding_idx=0)
        if learned:
            self.positional_encoding = torch.nn.Embedding(max_len, d)
        t = torch.nn.Transformer(d_model=d, nhead=heads, num_encoder_layers=layers, num_decoder_layers=layers,
                                 dim_feedforward=ff, dropout=0.0, batch_first=True)
        self.encoder, self.decoder = t.encoder, t.decoder
        self.lm_head = torch.nn.Linear(d, tgt_vocab)
        if tied:
            self.lm_head.weight = self.target_embedding.weight
        self.d, self.learned = d, learned
        # PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(…), in float64, then float32.
        pos, col = np.arange(max_len)[:, None], np.arange(d)[None, :]
        angle = pos / np.power(10000.0, (col - col % 2) / d)
        self.register_buffer("pe", torch.tensor(np.where(col % 2 == 0, np.sin(angle), np.cos(angle)), dtype=torch.float32), persistent=False)

    def embed(self, embedding, ids):
        x = embedding(ids) * math.sqrt(self.d)
        n = ids.shape[1]
        return x + (self.positional_encoding.weight[:n] if self.learned else self.pe[:n])

    def forward(self, src, tgt_in):
        src_pad = src == 0
        memory = self.encoder(self.embed(self.source_embedding, src), src_key_padding_mask=src_pad)
        causal = torch.nn.Transformer.generate_square_subsequent_mask(tgt_in.shape[1])
        out = self.decoder(self.embed(self.target_embedding, tgt_in), memory, tgt_mask=causal, memory_key_padding_mask=src_pad)
        return self.lm_head(out)

def pad(rows, value):
    width = max(len(r) for r in rows)
    return torch.tensor([r + [value] * (width - len(r)) for r in rows])
"""


def training_steps():
    # Two models: sinusoidal positions, untied; learned positions with the LM head tied to the target embedding.
    for tag, tied, learned in [("sinusoidal", False, False), ("tied_learned", True, True)]:
        ns, recorded = run(TRAINING_SETUP + f"""
torch.manual_seed(61)
model = perturb(Seq2Seq(src_vocab=11, tgt_vocab=13, d=12, heads=3, ff=20, layers=2, max_len=16, tied={tied}, learned={learned}), 161)
start = {{name: p.detach().clone() for name, p in model.named_parameters()}}
SOS, IGNORE = 1, -100
# Three batches of three pairs of different lengths (sources and targets padded with 0; labels padded with -100).
batches = [
    [([3, 4, 5, 6], [5, 7, 2]), ([7, 8], [9, 10, 11, 12, 2]), ([9, 10, 3, 4, 5, 6, 7], [3, 2])],
    [([5], [6, 2]), ([4, 4, 8, 9, 10], [12, 11, 10, 2]), ([6, 3, 2], [8, 8, 8, 2])],
    [([10, 9, 8, 7, 6, 5], [4, 5, 6, 7, 2]), ([3, 3], [2]), ([8, 6, 4], [9, 7, 5, 3, 2])],
]
loss_fn = torch.nn.CrossEntropyLoss(ignore_index=IGNORE, label_smoothing=0.1)
decayed = [p for name, p in model.named_parameters() if p.dim() >= 2]
vectors = [p for name, p in model.named_parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW([{{"params": decayed, "weight_decay": 0.1}}, {{"params": vectors, "weight_decay": 0.0}}],
                              lr=0.01, betas=(0.9, 0.98), eps=1e-9)
losses, norms, first_grads = [], [], None
for pairs in batches:
    src = pad([s for s, t in pairs], 0)
    tgt_in = pad([[SOS] + t[:-1] for s, t in pairs], 0)
    labels = pad([t for s, t in pairs], IGNORE)
    optimizer.zero_grad()
    logits = model(src, tgt_in)
    loss = loss_fn(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
    loss.backward()
    if first_grads is None:
        first_grads = {{name: p.grad.detach().clone() for name, p in model.named_parameters()}}
    norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0).item())
    optimizer.step()
    losses.append(loss.item())
after = {{name: p.detach().clone() for name, p in model.named_parameters()}}
""")
        tensors = {"losses": tensor_json(torch.tensor(ns["losses"])), "norms": tensor_json(torch.tensor(ns["norms"]))}
        for name in ns["start"]:
            tensors["param:" + name] = tensor_json(ns["start"][name])
            tensors["grad:" + name] = tensor_json(ns["first_grads"][name])
            tensors["after:" + name] = tensor_json(ns["after"][name])
        fixture = {
            "description": f"Three AdamW steps (lr 0.01, betas (0.9, 0.98), eps 1e-9, weight decay 0.1 on matrices and 0 on vectors, "
                           f"clip_grad_norm_ 1.0) of a 2 + 2 layer model (d_model 12, 3 heads, d_ff 20, vocabularies 11 and 13, "
                           f"{'learned positions, tied LM head' if tied else 'sinusoidal positions'}) on padded batches of three pairs "
                           f"with label smoothing 0.1: the first step's gradients (grad:), the start (param:) and the end (after:), "
                           f"the three losses and gradient norms.",
            "torch_version": torch.__version__,
            "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
            "torch_calls": recorded.splitlines(),
            "tensors": tensors,
        }
        path = os.path.join(OUT, f"training_steps_{tag}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(fixture, f, indent=1)
            f.write("\n")
        print("wrote", os.path.relpath(path))


if __name__ == "__main__":
    import sys
    os.makedirs(OUT, exist_ok=True)
    if len(sys.argv) > 1:                  # e.g. generate.py cross_entropy: only the named fixtures
        for name in sys.argv[1:]:
            globals()[name]()
        sys.exit(0)
    training_steps()
    transformer_backward()
    decoder_layer_backward()
    encoder_layer_backward()
    attention_backward()
    feed_forward_backward()
    optimizers()
    backward_primitives()
    cross_entropy()
    generator_probes()
    article_2024()
    article_2023()
    scaled_dot_product()
    multi_head()
    sinusoidal()
    transformer_layers()
    full_transformer()
