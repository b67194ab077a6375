#!/usr/bin/env python3
"""The same workload through ONNX Runtime, on the same machine, for issue #6's comparison.

calltone bench --texts-out W.jsonl writes the workload (one JSON string per line);
this script builds the same MiniLM encoder as an ONNX graph straight from the
encoder's safetensors (no PyTorch needed), optionally quantizes it with ONNX
Runtime's dynamic int8 quantization, and times tokenize + encoder + mean pooling
over length-sorted batches of 32, counting real (unpadded) tokens per second,
exactly as the issue's table does.

    python3 -m venv /tmp/ort && /tmp/ort/bin/pip install onnxruntime onnx tokenizers safetensors numpy
    calltone bench --texts-out /tmp/w.jsonl
    /tmp/ort/bin/python benches/onnxruntime_compare.py --encoder "$CALLTONE_HOME/encoders/<hash>" \
        --texts /tmp/w.jsonl --threads 2

The graph is written out op by op (Gather, LayerNormalization, MatMul + Add,
Softmax, Erf-GELU); ONNX Runtime's own graph optimizations (ORT_ENABLE_ALL)
fuse what they can, as they would for an exported model.
"""

import argparse
import json
import math
import os
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def build_graph(weights, config):
    h = config["hidden_size"]
    heads = config["num_attention_heads"]
    dh = h // heads
    eps = config.get("layer_norm_eps", 1e-12)
    nodes, inits = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def w(name):
        if not any(i.name == name for i in inits):
            inits.append(numpy_helper.from_array(weights[name], name))
        return name

    counter = [0]

    def node(op, inputs, **attrs):
        counter[0] += 1
        out = f"{op.lower()}_{counter[0]}"
        nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def linear(x, base):
        wt = f"{base}.weight.T"
        inits.append(numpy_helper.from_array(np.ascontiguousarray(weights[f"{base}.weight"].T), wt))
        return node("Add", [node("MatMul", [x, wt]), w(f"{base}.bias")])

    def layer_norm(x, base):
        return node("LayerNormalization", [x, w(f"{base}.weight"), w(f"{base}.bias")], axis=-1, epsilon=eps)

    ids, mask = "input_ids", "attention_mask"
    shape = node("Shape", [ids])
    seq = node("Gather", [shape, const("one", np.array(1, dtype=np.int64))], axis=0)
    positions = node("Range", [const("zero", np.array(0, dtype=np.int64)), seq, const("step", np.array(1, dtype=np.int64))])
    x = node("Add", [node("Gather", [w("embeddings.word_embeddings.weight"), ids]),
                     node("Gather", [w("embeddings.position_embeddings.weight"), positions])])
    x = node("Add", [x, const("tt0", weights["embeddings.token_type_embeddings.weight"][0])])
    x = layer_norm(x, "embeddings.LayerNorm")
    # Additive mask bias [B, 1, 1, T].
    maskf = node("Cast", [mask], to=TensorProto.FLOAT)
    bias = node("Mul", [node("Sub", [maskf, const("onef", np.array(1.0, dtype=np.float32))]),
                        const("big", np.array(1e9, dtype=np.float32))])
    bias = node("Unsqueeze", [bias, const("axes12", np.array([1, 2], dtype=np.int64))])
    split_shape = const("split_shape", np.array([0, 0, heads, dh], dtype=np.int64))
    merge_shape = const("merge_shape", np.array([0, 0, h], dtype=np.int64))
    scale = const("scale", np.array(1.0 / math.sqrt(dh), dtype=np.float32))
    for n in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{n}"

        def heads_of(t):
            return node("Transpose", [node("Reshape", [t, split_shape])], perm=[0, 2, 1, 3])

        q = heads_of(linear(x, f"{p}.attention.self.query"))
        k = node("Transpose", [node("Reshape", [linear(x, f"{p}.attention.self.key"), split_shape])], perm=[0, 2, 3, 1])
        v = heads_of(linear(x, f"{p}.attention.self.value"))
        scores = node("Add", [node("Mul", [node("MatMul", [q, k]), scale]), bias])
        ctx = node("MatMul", [node("Softmax", [scores], axis=-1), v])
        ctx = node("Reshape", [node("Transpose", [ctx], perm=[0, 2, 1, 3]), merge_shape])
        x = layer_norm(node("Add", [linear(ctx, f"{p}.attention.output.dense"), x]), f"{p}.attention.output.LayerNorm")
        inner = linear(x, f"{p}.intermediate.dense")
        gelu = node("Mul", [node("Mul", [inner, const(f"half{n}", np.array(0.5, dtype=np.float32))]),
                            node("Add", [node("Erf", [node("Mul", [inner, const(f"rs2{n}", np.array(1 / math.sqrt(2), dtype=np.float32))])]),
                                         const(f"one{n}", np.array(1.0, dtype=np.float32))])])
        x = layer_norm(node("Add", [linear(gelu, f"{p}.output.dense"), x]), f"{p}.output.LayerNorm")
    m3 = node("Unsqueeze", [maskf, const("axis2", np.array([2], dtype=np.int64))])
    summed = node("ReduceSum", [node("Mul", [x, m3]), const("axis1", np.array([1], dtype=np.int64))], keepdims=0)
    counts = node("ReduceSum", [maskf, const("axis1b", np.array([1], dtype=np.int64))], keepdims=1)
    nodes.append(helper.make_node("Div", [summed, counts], ["pooled"]))
    graph = helper.make_graph(
        nodes, "minilm",
        [helper.make_tensor_value_info(ids, TensorProto.INT64, ["B", "T"]),
         helper.make_tensor_value_info(mask, TensorProto.INT64, ["B", "T"])],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["B", h])],
        inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(path, texts, tokenizer, threads, batch):
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
    sess.run(None, {"input_ids": np.ones((1, 4), np.int64), "attention_mask": np.ones((1, 4), np.int64)})
    started = time.perf_counter()
    encoded = tokenizer.encode_batch(texts)
    rows = [e.ids[:512] for e in encoded]
    order = sorted(range(len(rows)), key=lambda i: len(rows[i]))
    real = sum(len(r) for r in rows)
    pooled = [None] * len(rows)
    for at in range(0, len(order), batch):
        idx = order[at:at + batch]
        width = max(len(rows[i]) for i in idx)
        ids = np.zeros((len(idx), width), np.int64)
        mask = np.zeros((len(idx), width), np.int64)
        for r, i in enumerate(idx):
            ids[r, :len(rows[i])] = rows[i]
            mask[r, :len(rows[i])] = 1
        out = sess.run(None, {"input_ids": ids, "attention_mask": mask})[0]
        for r, i in enumerate(idx):
            pooled[i] = out[r]
    secs = time.perf_counter() - started
    return real / secs, secs, np.stack(pooled)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--encoder", required=True, help="directory with config.json, tokenizer.json, model.safetensors")
    ap.add_argument("--texts", required=True, help="JSON lines from calltone bench --texts-out")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=1, help="runs per engine; the fastest counts")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--per-channel", action="store_true",
                    help="also time ONNX Runtime int8 with weights quantised per output channel")
    args = ap.parse_args()

    config = json.load(open(os.path.join(args.encoder, "config.json")))
    weights = load_file(os.path.join(args.encoder, "model.safetensors"))
    tokenizer = Tokenizer.from_file(os.path.join(args.encoder, "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    texts = [json.loads(line) for line in open(args.texts, encoding="utf-8")]
    texts = [t.strip() for t in texts if t.strip()]

    work = tempfile.mkdtemp(prefix="calltone-ort-")
    fp32 = os.path.join(work, "minilm.onnx")
    onnx.save(build_graph(weights, config), fp32)
    from onnxruntime.quantization import QuantType, quantize_dynamic
    int8 = os.path.join(work, "minilm-int8.onnx")
    quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8)
    engines = [("onnxruntime fp32", fp32), ("onnxruntime int8 dynamic", int8)]
    if args.per_channel:
        int8_pc = os.path.join(work, "minilm-int8-per-channel.onnx")
        quantize_dynamic(fp32, int8_pc, weight_type=QuantType.QInt8, per_channel=True)
        engines.append(("onnxruntime int8 per-channel", int8_pc))

    results = {}
    reference = None
    for name, path in engines:
        best = None
        for _ in range(max(1, args.repeat)):
            tps, secs, pooled = run(path, texts, tokenizer, args.threads, args.batch)
            if best is None or tps > best[0]:
                best = (tps, secs, pooled)
        if reference is None:
            reference = best[2]
        cos = float(np.mean(np.sum(best[2] * reference, 1)
                            / (np.linalg.norm(best[2], axis=1) * np.linalg.norm(reference, axis=1))))
        results[name] = {"real_tokens_per_second": round(best[0]), "seconds": round(best[1], 2),
                         "mean_cosine_to_fp32": round(cos, 5)}
        if not args.json:
            print(f"{name:28} {best[0]:8.0f} real tokens/s  ({best[1]:.1f} s, {len(texts)} texts, "
                  f"cosine to fp32 {cos:.5f})", flush=True)
    if args.json:
        json.dump({"threads": args.threads, "batch": args.batch, "texts": len(texts), "engines": results},
                  sys.stdout, indent=2)
        print()


if __name__ == "__main__":
    main()
