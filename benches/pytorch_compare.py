#!/usr/bin/env python3
"""The same workload through PyTorch eager on a GPU, for issue #20's comparison.

calltone bench --texts-out W.jsonl writes the workload (one JSON string per line);
this script builds the same MiniLM encoder in plain PyTorch from the encoder's
safetensors (no transformers needed), in bf16 on the GPU, and times what a user
would write in a few lines: tokenize (Hugging Face tokenizers), length-sorted
batches of --batch rows padded to their longest, the encoder
(F.scaled_dot_product_attention for attention), mean pooling, the pooled rows back
on the host. Real (unpadded) tokens per second, end to end, the fastest of
--repeat runs after one warm-up run. Prints one JSON object.

    python3 benches/pytorch_compare.py --encoder "$CALLTONE_HOME/encoders/all-minilm-l6-v2" \
        --texts W.jsonl --batch 512

Needs torch (with CUDA) and tokenizers.
"""

import argparse
import json
import struct
import time

import torch
import torch.nn.functional as F
from tokenizers import Tokenizer

DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "I64": torch.int64}


def load_safetensors(path):
    """The safetensors format read directly: an 8-byte header length, a JSON
    header, then the raw tensors."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__" or info["dtype"] not in DTYPES:
            continue
        start, end = info["data_offsets"]
        raw = bytearray(data[8 + n + start:8 + n + end])
        out[name] = torch.frombuffer(raw, dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


class Encoder:
    def __init__(self, directory, device, dtype):
        config = json.load(open(f"{directory}/config.json"))
        w = load_safetensors(f"{directory}/model.safetensors")
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""
        self.w = {k[len(prefix):]: v.to(device=device, dtype=dtype)
                  for k, v in w.items() if k.startswith(prefix) and v.is_floating_point()}
        self.h = config["hidden_size"]
        self.heads = config["num_attention_heads"]
        self.layers = config["num_hidden_layers"]
        self.eps = config.get("layer_norm_eps", 1e-12)
        self.device, self.dtype = device, dtype

    def norm(self, x, base):
        return F.layer_norm(x, (self.h,), self.w[f"{base}.weight"], self.w[f"{base}.bias"], self.eps)

    def linear(self, x, base):
        return F.linear(x, self.w[f"{base}.weight"], self.w[f"{base}.bias"])

    @torch.inference_mode()
    def pooled(self, ids, mask):
        w, (b, t), dh = self.w, ids.shape, self.h // self.heads
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:t]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self.norm(x, "embeddings.LayerNorm")
        keep = mask[:, None, None, :].bool()

        def split(y):
            return y.view(b, t, self.heads, dh).transpose(1, 2)

        for n in range(self.layers):
            p = f"encoder.layer.{n}"
            q = split(self.linear(x, f"{p}.attention.self.query"))
            k = split(self.linear(x, f"{p}.attention.self.key"))
            v = split(self.linear(x, f"{p}.attention.self.value"))
            ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=keep).transpose(1, 2).reshape(b, t, self.h)
            x = self.norm(self.linear(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
            inner = F.gelu(self.linear(x, f"{p}.intermediate.dense"))
            x = self.norm(self.linear(inner, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
        m = mask[..., None].to(x.dtype)
        return (x * m).sum(1).float() / m.sum(1).float()


def run(encoder, tokenizer, texts, batch):
    started = time.perf_counter()
    rows = [e.ids[:512] for e in tokenizer.encode_batch(texts)]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    real = sum(len(r) for r in rows)
    pooled = []
    for at in range(0, len(order), batch):
        idx = order[at:at + batch]
        width = max(len(rows[i]) for i in idx)
        ids = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for r, i in enumerate(idx):
            ids[r, :len(rows[i])] = torch.tensor(rows[i])
            mask[r, :len(rows[i])] = 1
        pooled.append(encoder.pooled(ids.to(encoder.device, non_blocking=True),
                                     mask.to(encoder.device, non_blocking=True)))
    out = torch.cat(pooled).cpu()  # waits for the GPU
    secs = time.perf_counter() - started
    return real / secs, secs, out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", required=True, help="directory with config.json, tokenizer.json, model.safetensors")
    ap.add_argument("--texts", required=True, help="JSON lines from calltone bench --texts-out")
    ap.add_argument("--batch", type=int, default=512, help="rows per batch")
    ap.add_argument("--dtype", choices=["bf16", "f16", "fp32"], default="bf16")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cuda", help="cuda, or cpu to try the script without a GPU")
    args = ap.parse_args()
    dtype = {"bf16": torch.bfloat16, "f16": torch.float16, "fp32": torch.float32}[args.dtype]
    texts = [json.loads(line) for line in open(args.texts, encoding="utf-8")]
    tokenizer = Tokenizer.from_file(f"{args.encoder}/tokenizer.json")
    encoder = Encoder(args.encoder, args.device, dtype)
    run(encoder, tokenizer, texts, args.batch)  # warm-up: kernels, allocator
    best = max((run(encoder, tokenizer, texts, args.batch) for _ in range(args.repeat)), key=lambda r: r[0])
    print(json.dumps({
        "engine": f"PyTorch {torch.__version__} eager {args.dtype}, batches of {args.batch} rows",
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device,
        "texts": len(texts),
        "real_tokens_per_second": best[0],
        "seconds": best[1],
    }))


if __name__ == "__main__":
    main()
