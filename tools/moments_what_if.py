#!/usr/bin/env python3
"""How much better would the per-turn reader have to be to meet the moments bar?

Takes the scored test conversations `calltone eval --moments --save-results FILE`
wrote and reads every calm customer turn (everything but the inserted strongly
negative sentences of the angry set) LAMBDA milder on both of the model's
readings: its negative intensity and its positive negative-class log-odds are
scaled by 1 - LAMBDA. Everything else (the inserted turns, the agent side, the
texts and so the lexical cues) stays as scored. Re-measure the result with the
real analysis:

    calltone eval --moments --save-results /tmp/m.jsonl
    python3 tools/moments_what_if.py /tmp/m.jsonl 0.3 /tmp/m-milder.jsonl
    calltone eval --moments --results /tmp/m-milder.jsonl

Standard library only. The README's "How well it works" table comes from this.
"""

import json
import math
import sys


def inserted(call_id, turn):
    """Whether a turn is one of the inserted sentences: ids of the angry set
    end in `/<first angry turn>-<last angry turn>`."""
    if not call_id.startswith("angry/"):
        return False
    first, last = map(int, call_id.rsplit("/", 1)[1].split("-"))
    return first <= turn <= last


def milder(record, lam):
    if record["intensity"] < 0:
        record["intensity"] *= 1 - lam
    p = min(max(record["negative"], 1e-6), 1 - 1e-6)
    log_odds = math.log(p / (1 - p))
    if log_odds > 0:
        record["negative"] = 1 / (1 + math.exp(-log_odds * (1 - lam)))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    source, lam, target = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    if not 0 <= lam <= 1:
        sys.exit("LAMBDA must be in 0..1")
    with open(source, encoding="utf-8") as inp, open(target, "w", encoding="utf-8") as out:
        for line in inp:
            record = json.loads(line)
            if (
                record.get("type") == "turn"
                and record.get("role") == "customer"
                and record.get("intensity") is not None
                and not inserted(record["call_id"], record["turn"])
            ):
                milder(record, lam)
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
