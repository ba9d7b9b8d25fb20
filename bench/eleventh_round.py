#!/usr/bin/env python3
"""The eleventh round's tables (docs/recovery.md): fixed points under both alignments.

Usage: bench/eleventh_round.py REPORT.json [RECORDED.json ...]

REPORT.json is a `fmridyn bench recovery` recovery.json written after the calibration columns
existed (`--report-only` over all of the round's cells). Each RECORDED.json is an earlier
recovery.json of the same variant; the state R^2 of every cell present in both is compared
(rule 1: the refits must reproduce them). Prints, per row and read-out, the fixed-point scores
under the pre-fixed alignment and under the calibration map, and the seed matches.
"""
import json
import sys

METHODS = ["node-wells-soft+map=0.1+posterior", "node-wells-soft+map=0.1"]
# The same fits' methods in the eighth round's recorded cells (its variant had three q values).
RECORDED = {"node-wells-soft+map=0.1+posterior": "node-wells-soft+map=0.03:0.1:0.3", "node-wells-soft+map=0.1": "node-wells-soft+map=0.1"}


def key(cell):
    c = cell["cell"]
    return (c["system"], c["latent_dimension"], c["noise"], c["nuisance"], c["seed"], c["held_out"])


def show(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}"


def main():
    report = json.load(open(sys.argv[1]))
    recorded = {}
    for path in sys.argv[2:]:
        for cell in json.load(open(path))["cells"]:
            recorded[key(cell)] = cell
    compared, largest, missing = 0, 0.0, []
    for cell in report["cells"]:
        old = recorded.get(key(cell))
        if old is None:
            if sys.argv[2:]:
                missing.append(key(cell))
            continue
        for method in METHODS:
            for score in ["state_r2_bold", "state_r2_neural"]:
                a = cell["methods"].get(method, {}).get(score)
                b = old["methods"].get(RECORDED[method], {}).get(score)
                if a is None or b is None:
                    missing.append((key(cell), method, score))
                    continue
                compared += 1
                largest = max(largest, abs(a - b))
    if sys.argv[2:]:
        print(f"rule 1: {compared} state R^2 compared with the recorded cells, largest difference {largest:.3g};"
              f" not comparable: {missing if missing else 'none'}")
    columns = [("fp_stable", "stable", 1), ("fp_recall", "recall", 2), ("fp_precision", "precision", 2),
               ("fp_recall_visited", "recall visited", 2), ("fp_recall_calibrated", "recall cal.", 2),
               ("fp_precision_calibrated", "precision cal.", 2), ("fp_recall_visited_calibrated", "recall visited cal.", 2),
               ("vector_field_error", "field err", 2), ("vector_field_error_calibrated", "field err cal.", 2),
               ("state_r2_bold", "R2 BOLD", 2)]
    for held_out in [False, True]:
        print("\nheld-out part" if held_out else "tuning part")
        print("| setting | read-out | " + " | ".join(c[1] for c in columns) + " | seed match (null) | seed match cal. (null) |")
        print("|" + " --- |" * (len(columns) + 4))
        for row in report["rows"]:
            if row["held_out"] != held_out or row["method"] not in METHODS:
                continue
            values = [show(row["scores"].get(name, {}).get("mean"), digits) for name, _, digits in columns]
            match = f"{show(row.get('seed_match'))} ({show(row.get('seed_match_null'))})"
            calibrated = f"{show(row.get('seed_match_calibrated'))} ({show(row.get('seed_match_calibrated_null'))})"
            readout = "posterior mean" if row["method"] == METHODS[0] else "MAP q = 0.1"
            print(f"| {row['setting']} | {readout} | " + " | ".join(values) + f" | {match} | {calibrated} |")


if __name__ == "__main__":
    main()
