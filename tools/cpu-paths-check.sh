#!/usr/bin/env bash
# Runs on a machine with no Rust toolchain: takes a calltone binary and its
# unit-test binary (both built elsewhere for the portable x86-64 target), the
# encoder cache and a transcript corpus, and prints
#   1. which kernel paths this CPU runs (`calltone --version`),
#   2. the kernel tests (every path against f64 references; a path the CPU
#      lacks is named as skipped),
#   3. a table of end-to-end `calltone bench` throughput per path, number
#      format (fp32, int8, bf16) and thread count, so paths, formats and core
#      counts compare on one machine.
# Usage: tools/cpu-paths-check.sh CALLTONE TESTBIN CORPUS [THREADS...]
# (TESTBIN: the library's unit tests, the path `cargo test --release --no-run --lib`
# prints after "Executable unittests src/lib.rs".)
# (CALLTONE_HOME must point at the cache `calltone setup` filled; PATHS
# names the kernel paths to time, default "amx avx512 avx2": the portable path
# is tested but too slow to time on the whole corpus; FORMATS the number
# formats, default "fp32 int8 bf16".)
set -uo pipefail
bin="$1"; tests="$2"; corpus="$3"; shift 3
threads=("$@")
[ $# -eq 0 ] && threads=(2 16)
echo "## CPU"
grep -m1 "model name" /proc/cpuinfo; nproc
"$bin" --version
echo "## kernel tests"
if ! "$tests" --list 2>/dev/null | grep -q "^model::fast::"; then
    echo "$tests holds no kernel tests: pass the library's unit-test binary (see Usage)" >&2
    exit 2
fi
"$tests" --test-threads 2 model::fast:: --nocapture 2>&1 | grep -E "seed|skipped|passed|test result|FAILED|panicked"
echo "## bench: real tokens/s end to end (tokenize + encoder + analysis)"
printf "%-18s" "path / format"; for t in "${threads[@]}"; do printf "%12s" "$t thr"; done; echo
for path in ${PATHS:-amx avx512 avx2}; do
    "$bin" --version | grep -q "$path (this CPU lacks it)" && { echo "$path: skipped, this CPU has no $path"; continue; }
    for format in ${FORMATS:-fp32 int8 bf16}; do
        printf "%-18s" "$path / $format"
        for t in "${threads[@]}"; do
            tps=$("$bin" bench "$corpus" --kernel "$path" --precision "$format" --threads "$t" --json 2>/dev/null \
                | python3 -c 'import json,sys; print(round(json.load(sys.stdin)["real_tokens_per_second"]))')
            printf "%12s" "$tps"
        done
        echo
    done
done
