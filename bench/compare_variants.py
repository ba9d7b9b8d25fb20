#!/usr/bin/env python3
"""Side-by-side table of two model variants from `fmridyn bench recovery` JSON files.

usage: bench/compare_variants.py BASE.json[,BASE2.json] BASE_METHOD NEW.json[,NEW2.json] NEW_METHOD

Prints, per setting (tuning part first, then held out), the two methods' mean (sd) over seeds
for the state, field and fixed-point scores, and counts the rows where the new one is higher.
"""
import json
import sys


def rows(paths, method):
    found = {}
    for path in paths.split(","):
        for row in json.load(open(path))["rows"]:
            if row["method"] == method:
                found[(row["held_out"], row["setting"])] = row["scores"]
    return found


def cell(scores, key):
    value = scores.get(key)
    if not value or value.get("mean") is None:
        return "-"
    return "%.2f (%.2f)" % (value["mean"], value.get("sd") or 0)


def main():
    base_paths, base, new_paths, new = sys.argv[1:5]
    a, b = rows(base_paths, base), rows(new_paths, new)
    keys = ["state_r2_neural", "state_r2_bold", "vector_field_error", "fp_recall", "fp_stable"]
    print("| part | setting | " + " | ".join(f"{k} {base} | {k} {new}" for k in keys) + " |")
    print("|" + " --- |" * (2 + 2 * len(keys)))
    wins = {k: [0, 0] for k in keys}
    for key in sorted(set(a) & set(b)):
        held, setting = key
        print(f"| {'held out' if held else 'tuning'} | {setting} | " + " | ".join(f"{cell(a[key], k)} | {cell(b[key], k)}" for k in keys) + " |")
        for k in keys:
            x, y = a[key].get(k, {}).get("mean"), b[key].get(k, {}).get("mean")
            if x is not None and y is not None:
                wins[k][int(held)] += (y < x) if k == "vector_field_error" else (y > x)
    for k, (tuning, held) in wins.items():
        print(f"{new} better on {k}: {tuning} tuning rows, {held} held-out rows")


if __name__ == "__main__":
    main()
