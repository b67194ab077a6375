#!/usr/bin/env bash
# Runs on the GPU machine (no Rust toolchain): assembles the pieces
# tools/device-bundle.sh made (copied into DIR), then runs, each with its own
# time limit and its output under $OUT (or DIR):
#   1. .ci/gpu-check with the CUDA build (issue 20's table: first start,
#      labels and scores against the CPU, eval --dev, bench, PyTorch);
#   2. tools/cpu-paths-check.sh on the host's CPU at 2 and all cores (issue
#      18: every kernel path's tests and speed), and `bench --threads` from 1
#      to all cores (the scaling table).
# Usage: tools/device-check.sh DIR
set -uo pipefail
cd "$(dirname "$0")/.."
dir="$1"
out="${OUT:-$dir}"
cat "$dir"/bundle.tar.xz.part-* | xz -d | tar -C "$dir" -xf - || { echo "could not unpack" >&2; exit 2; }
export CALLTONE_HOME="$dir/home"
export LD_LIBRARY_PATH="/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}"
bin="$dir/bin/calltone"
cores=$(nproc)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$out/gpu.txt"
timeout 420 bash .ci/gpu-check "$bin" 2>&1 | tee "$out/gpu-check.txt"
steps=(1 2 4 8)
[ "$cores" -gt 8 ] && steps+=("$cores")
timeout 240 "$bin" bench --device cpu --threads "$(IFS=,; echo "${steps[*]}")" 2>&1 | tee "$out/cpu-scaling.txt"
corpus="$dir/corpus.jsonl"
# The bench's first 8,000 messages as calls of 20 turns, for the per-path
# table (18 runs: the whole 20,000 would not fit a lent machine's time).
"$bin" bench --device cpu --messages 8000 --texts-out "$dir/texts.jsonl" >/dev/null 2>&1
python3 -c 'import json,sys
for i, l in enumerate(open(sys.argv[1])):
    speaker = "Caller" if i % 2 else "Agent"
    print(json.dumps({"call_id": f"c{i // 20}", "speaker": speaker, "text": json.loads(l)}))' \
    "$dir/texts.jsonl" > "$corpus"
PATHS="amx avx512 avx2" timeout 300 bash tools/cpu-paths-check.sh "$bin" "$dir/bin/calltone-unit-tests" \
    "$corpus" 2 "$cores" 2>&1 | tee "$out/cpu-paths.txt"
