#!/usr/bin/env python3
"""Writes a tiny llama model (2 layers, 64 wide) as GGUF, with the tokenizer
of a llama.cpp vocab file, for integration tests against a real
llama-server.

Its weights are random but for one thing: the attention and feed-forward
outputs are zero and every token embeds alike, so the last hidden state is
the same at every step and the model's ranking of tokens never changes. The
output matrix ranks " yes" first and "true" next, then noise: greedy
answers are " yes yes ...", and under a json_schema grammar the judge
writes well-formed verdicts with every criterion met. (Fully random
weights emit byte tokens that are not UTF-8, which llama-server's reply
parser refuses.)

usage: tiny_gguf.py --vocab models/ggml-vocab-llama-spm.gguf --out DIR
"""
import argparse
import os

import numpy as np
import gguf

CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n"
    "{% if m['content'] is string %}{{ m['content'] }}"
    "{% else %}{% for p in m['content'] %}{% if p['type'] == 'text' %}{{ p['text'] }}{% endif %}{% endfor %}{% endif %}"
    "<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def save(w, path):
    """Writes w, opened on path + ".tmp", and renames it to path: a killed
    run never leaves a half-written model where llama-server looks."""
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    os.replace(path + ".tmp", path)
    print(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", default="tiny-model")
    ap.add_argument("--seed", type=int, default=7)
    a = ap.parse_args()

    src = gguf.GGUFReader(a.vocab)
    field = lambda k: src.fields[k]
    tokens = [bytes(field("tokenizer.ggml.tokens").parts[i]) for i in field("tokenizer.ggml.tokens").data]
    scores = [float(field("tokenizer.ggml.scores").parts[i][0]) for i in field("tokenizer.ggml.scores").data]
    types = [int(field("tokenizer.ggml.token_type").parts[i][0]) for i in field("tokenizer.ggml.token_type").data]
    scalar = lambda k: field(k).parts[field(k).data[0]][0]
    n_vocab, n_embd, n_ff, n_layer, n_head, n_ctx = len(tokens), 64, 128, 2, 4, 4096

    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "tiny.gguf")
    w = gguf.GGUFWriter(path + ".tmp", "llama")
    w.add_name(a.name)
    w.add_context_length(n_ctx)
    w.add_embedding_length(n_embd)
    w.add_block_count(n_layer)
    w.add_feed_forward_length(n_ff)
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_dimension_count(n_embd // n_head)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_bos_token_id(int(scalar("tokenizer.ggml.bos_token_id")))
    w.add_eos_token_id(int(scalar("tokenizer.ggml.eos_token_id")))
    w.add_unk_token_id(int(scalar("tokenizer.ggml.unknown_token_id")))
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    w.add_chat_template(CHATML)

    rng = np.random.default_rng(a.seed)
    rnd = lambda *shape: (rng.standard_normal(shape) * 0.02).astype(np.float32)
    ones = lambda n: np.ones(n, dtype=np.float32)
    zeros = lambda *shape: np.zeros(shape, dtype=np.float32)
    # The output row of a token is its score times the constant hidden
    # direction; all others are small noise.
    out = rnd(n_vocab, n_embd)
    index = {t.decode("utf-8", "replace"): i for i, t in enumerate(tokens)}
    for text, score in (("\u2581yes", 3.0), ("true", 2.0), ("\u2581true", 2.0)):
        if text in index:
            out[index[text]] = score
    w.add_tensor("token_embd.weight", np.ones((n_vocab, n_embd), dtype=np.float32))
    w.add_tensor("output_norm.weight", ones(n_embd))
    w.add_tensor("output.weight", out)
    for i in range(n_layer):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", ones(n_embd))
        for t in ("attn_q", "attn_k", "attn_v"):
            w.add_tensor(p + t + ".weight", rnd(n_embd, n_embd))
        w.add_tensor(p + "attn_output.weight", zeros(n_embd, n_embd))
        w.add_tensor(p + "ffn_norm.weight", ones(n_embd))
        w.add_tensor(p + "ffn_gate.weight", rnd(n_ff, n_embd))
        w.add_tensor(p + "ffn_up.weight", rnd(n_ff, n_embd))
        w.add_tensor(p + "ffn_down.weight", zeros(n_embd, n_ff))
    save(w, path)


if __name__ == "__main__":
    main()
