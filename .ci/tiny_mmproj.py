#!/usr/bin/env python3
"""Writes a tiny random-weight vision projector (LLaVA's "mlp" type: a
2-layer CLIP-style vision tower and a 2-layer MLP projector) as GGUF, for
llama-server --mmproj beside the tiny text model of tiny_gguf.py, so that
the integration test sends real JPEGs through a real multimodal server.

Images are resized to 32x32 and cut into 16 patches of 8x8, each a token
of the text model's 64-wide embedding space. The weights are random: the
point is that the server accepts images, encodes them and counts their
tokens, not what it makes of them.

usage: tiny_mmproj.py --out DIR [--text-embd 64]
"""
import argparse
import os

import numpy as np
import gguf

from tiny_gguf import save  # beside this script


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--text-embd", type=int, default=64)
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()

    n_embd, n_ff, n_layer, n_head = 32, 64, 2, 2
    image_size, patch = 32, 8
    n_patches = (image_size // patch) ** 2
    hidden = 64

    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, "tiny-mmproj.gguf")
    w = gguf.GGUFWriter(path + ".tmp", "clip")
    w.add_name("tiny-mmproj")
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_bool("clip.has_vision_encoder", True)
    w.add_string("clip.projector_type", "mlp")
    w.add_uint32("clip.vision.embedding_length", n_embd)
    w.add_uint32("clip.vision.feed_forward_length", n_ff)
    w.add_uint32("clip.vision.block_count", n_layer)
    w.add_uint32("clip.vision.projection_dim", a.text_embd)
    w.add_uint32("clip.vision.attention.head_count", n_head)
    w.add_float32("clip.vision.attention.layer_norm_epsilon", 1e-5)
    w.add_uint32("clip.vision.image_size", image_size)
    w.add_uint32("clip.vision.patch_size", patch)
    w.add_array("clip.vision.image_mean", [0.5, 0.5, 0.5])
    w.add_array("clip.vision.image_std", [0.5, 0.5, 0.5])
    w.add_bool("clip.use_gelu", True)

    rng = np.random.default_rng(a.seed)
    rnd = lambda *shape: (rng.standard_normal(shape) * 0.02).astype(np.float32)
    ones = lambda n: np.ones(n, dtype=np.float32)
    zeros = lambda n: np.zeros(n, dtype=np.float32)
    # numpy shapes are GGML's ne reversed.
    w.add_tensor("v.patch_embd.weight", rnd(n_embd, 3, patch, patch))
    w.add_tensor("v.patch_embd.bias", zeros(n_embd))
    w.add_tensor("v.position_embd.weight", rnd(n_patches, n_embd))
    w.add_tensor("v.pre_ln.weight", ones(n_embd))
    w.add_tensor("v.pre_ln.bias", zeros(n_embd))
    for i in range(n_layer):
        p = "v.blk.%d." % i
        for t in ("attn_q", "attn_k", "attn_v", "attn_out"):
            w.add_tensor(p + t + ".weight", rnd(n_embd, n_embd))
            w.add_tensor(p + t + ".bias", zeros(n_embd))
        for t in ("ln1", "ln2"):
            w.add_tensor(p + t + ".weight", ones(n_embd))
            w.add_tensor(p + t + ".bias", zeros(n_embd))
        w.add_tensor(p + "ffn_up.weight", rnd(n_ff, n_embd))
        w.add_tensor(p + "ffn_up.bias", zeros(n_ff))
        w.add_tensor(p + "ffn_down.weight", rnd(n_embd, n_ff))
        w.add_tensor(p + "ffn_down.bias", zeros(n_embd))
    w.add_tensor("mm.0.weight", rnd(hidden, n_embd))
    w.add_tensor("mm.0.bias", zeros(hidden))
    w.add_tensor("mm.2.weight", rnd(a.text_embd, hidden))
    w.add_tensor("mm.2.bias", zeros(a.text_embd))

    save(w, path)


if __name__ == "__main__":
    main()
