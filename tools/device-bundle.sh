#!/usr/bin/env bash
# Packs what a GPU machine without a Rust toolchain needs to run
# tools/device-check.sh: the CUDA build of calltone (stripped), the library's
# unit-test binary (for the CPU kernel tests on the host's CPU), and the
# cache `calltone setup --data` filled (encoder, data sets), as one xz
# tarball cut into pieces small enough for one transfer each.
# Usage: tools/device-bundle.sh [CUDA_BINARY] [TEST_BINARY]
#   CUDA_BINARY: default target/cuda-check/release/calltone (.ci/cuda-check)
#   TEST_BINARY: default the newest target/release/deps/calltone-* unit-test
#                binary (`cargo test --release --no-run --lib` builds it)
# Writes target/device/bundle.tar.xz.part-NN (at most 52 MiB each: with the working tree, under the 64 MiB a transfer carries) and
# prints what to run on the device for each piece.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-target/cuda-check/release/calltone}"
# The library's unit tests are the calltone-HASH binary that lists them.
tests="${2:-}"
if [ -z "$tests" ]; then
    for t in $(ls -t target/release/deps/calltone-* 2>/dev/null | grep -v '\.d$'); do
        if [ -x "$t" ] && "$t" --list 2>/dev/null | grep -q '^model::fast::'; then tests="$t"; break; fi
    done
fi
home="${CALLTONE_HOME:-$HOME/.cache/calltone}"
[ -x "$bin" ] || { echo "no CUDA binary at $bin (run .ci/cuda-check)" >&2; exit 2; }
[ -n "$tests" ] && [ -x "$tests" ] || { echo "no unit-test binary (cargo test --release --no-run --lib)" >&2; exit 2; }
[ -d "$home/encoders" ] && [ -d "$home/data" ] || { echo "no cache at $home (calltone setup --data)" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/home"
cp "$bin" "$stage/bin/calltone" && strip "$stage/bin/calltone"
cp "$tests" "$stage/bin/calltone-unit-tests" && strip "$stage/bin/calltone-unit-tests"
cp -r "$home/encoders" "$home/data" "$stage/home/"
rm -rf target/device && mkdir -p target/device
tar -C "$stage" -cf - bin home | xz -T0 -6 | split -b 52M -d - target/device/bundle.tar.xz.part-
ls -l target/device
echo "On the device, one call per piece (each carrying only its piece):"
for p in target/device/bundle.tar.xz.part-*; do
    echo "  carry [\"$p\"]: mkdir -p /tmp/calltone-device && cp $p /tmp/calltone-device/"
done
echo "then, with the last piece: bash tools/device-check.sh /tmp/calltone-device"
