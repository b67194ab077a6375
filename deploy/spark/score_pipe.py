"""Score transcripts held as JSONL turns in Spark, with calltone on every executor.

Each element of `turns` is one JSON line, {"call_id", "speaker", "text", ...} (calltone's JSONL
input). The turns of a call are brought into one partition, in order, and each partition is
piped through `calltone score -`, which reads the partition's turns on standard input and writes
its turn and call records (JSON lines) back: Spark's RDD.pipe. calltone must be installed on
every executor with `calltone setup` already run (no network at run time).

    spark-submit --files deploy/spark/score_pipe.py deploy/spark/score_pipe.py \
        s3a://bucket/turns/2026-12-01/ s3a://bucket/results/2026-12-01/ 64
"""

import json
import sys

from pyspark.sql import SparkSession


def main(src, dst, partitions):
    spark = SparkSession.builder.appName("calltone-score").getOrCreate()
    lines = spark.sparkContext.textFile(src)
    # Key every turn by (call id, position in the input) so a call's turns
    # land in one partition, in their order; partition by call id alone.
    keyed = lines.zipWithIndex().map(lambda li: ((json.loads(li[0])["call_id"], li[1]), li[0]))
    ordered = keyed.repartitionAndSortWithinPartitions(
        numPartitions=partitions,
        partitionFunc=lambda key: hash(key[0]),
    )
    records = ordered.values().pipe("calltone score - --quiet")
    records.saveAsTextFile(dst)
    # Call records only, e.g. for a table of the night's worst calls:
    calls = records.map(json.loads).filter(lambda r: r["type"] == "call")
    print(calls.filter(lambda c: any(m["severity"] == "irate" for m in c["moments"])).count(),
          "calls with an irate moment")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 64)
