#!/bin/sh
# One shard of a night's scoring, as a Kubernetes Indexed Job pod or a Slurm
# array task runs it. The shard index comes from the scheduler:
#   JOB_COMPLETION_INDEX  (Kubernetes, completionMode: Indexed)
#   SLURM_ARRAY_TASK_ID   (Slurm, sbatch --array=0-N-1)
# Settings (environment):
#   SHARDS      how many shards in all (= completions / array size)
#   INPUT       transcripts to read (file or folder; every shard reads all of it)
#   OUTPUT_DIR  where shard-K.jsonl goes (shared storage)
#   CALLTONE    the calltone binary (default: calltone on PATH)
#   CALLTONE_ARGS  extra score flags, e.g. "--rules /etc/calltone/rules.toml"
# A retried pod or requeued task resumes its own shard-K.jsonl.partial.
set -eu
INDEX="${JOB_COMPLETION_INDEX:-${SLURM_ARRAY_TASK_ID:-}}"
: "${INDEX:?no shard index: set JOB_COMPLETION_INDEX (Kubernetes) or SLURM_ARRAY_TASK_ID (Slurm)}"
: "${SHARDS:?set SHARDS to the number of shards}"
: "${INPUT:?set INPUT to the transcripts to score}"
: "${OUTPUT_DIR:?set OUTPUT_DIR to where shard outputs go}"
mkdir -p "$OUTPUT_DIR"
# shellcheck disable=SC2086 # CALLTONE_ARGS is a list of flags
exec "${CALLTONE:-calltone}" score "$INPUT" \
    --shard "$INDEX/$SHARDS" --resume \
    -o "$OUTPUT_DIR/shard-$INDEX.jsonl" ${CALLTONE_ARGS:-}
