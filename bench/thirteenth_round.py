#!/usr/bin/env python3
"""Applies the thirteenth round's rule (docs/recovery.md): the wells read at rest.

Usage: bench/thirteenth_round.py SOURCE...
       bench/thirteenth_round.py results/recovery-starts-tuning.json results/recovery-rest-tuning.json

Each SOURCE is a JSON file with a "cells" list (the recorded node-wells-soft+map=0.1 cells are in
bench/results/recovery-starts-tuning.json, the round's in recovery-rest-tuning.json) or an --out
directory of `fmridyn bench recovery --part tuning` run with any of the models below. Prints per row (mean over seeds) the MAP read-out's BOLD state R^2, recall of the
visited wells under the pre-fixed and the calibrated alignment, stable points per fit, and
the median distance from a stable point to the nearest true well (the multistable and switching
systems' wells are the corners (+-1, ..., +-1)); then per model the means over the cells and the
rule's verdict for the round's variant.
"""
import itertools
import json
import statistics
import sys

from ninth_round import cells as load, mean, row_name, show

BASE = "node-wells-soft+map=0.1"
VARIANT = "node-wells-soft+wells-rest=6+map=0.1"
OTHERS = ["node-wells+wells-rest=6+map=0.1", "node-wells-soft+wells-rest=6+lr=0+map=0.1", "node-wells+wells-rest=6+lr=0+map=0.1"]


def nearest(point, dimension):
    return min(sum((a - b) ** 2 for a, b in zip(point, corner)) ** 0.5
               for corner in itertools.product([-1.0, 1.0], repeat=dimension))


def scores(entry, cell):
    k = cell["cell"]["latent_dimension"]
    distances = [nearest(p, k) for p in entry["fixed_points"]["aligned_stable"]]
    return dict(r2=entry.get("state_r2_bold"), recall=entry["fixed_points"]["recall_of_visited"],
                calibrated=entry["fixed_points_calibrated"]["recall_of_visited"], stable=entry["fixed_points"]["stable"],
                distances=distances)


def main():
    found = []
    for source in sys.argv[1:]:
        if source.endswith(".json"):
            with open(source) as handle:
                found += json.load(handle)["cells"]
        else:
            found += load([source])
    per = {}  # (model, row) -> list of scores
    for cell in found:
        if cell["cell"]["held_out"] or cell["cell"]["system"] not in ("multistable", "switching"):
            continue
        for model in [BASE, VARIANT] + OTHERS:
            entry = cell["methods"].get(model)
            if entry is not None and entry.get("fixed_points"):
                per.setdefault((model, row_name(cell)), []).append(scores(entry, cell))
    print("| model | row | BOLD R^2 | recall visited | recall visited, calibrated | stable per fit | median distance to a well |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    totals = {}
    for (model, row), group in sorted(per.items()):
        distances = [d for s in group for d in s["distances"]]
        print(f"| {model} | {row} | {show(mean([s['r2'] for s in group]))} | {show(mean([s['recall'] for s in group]))} | "
              f"{show(mean([s['calibrated'] for s in group]))} | {mean([s['stable'] for s in group]):.1f} | "
              f"{show(statistics.median(distances) if distances else None)} |")
        totals.setdefault(model, []).extend(group)
    print()
    for model, group in totals.items():
        distances = [d for s in group for d in s["distances"]]
        print(f"{model}: {len(group)} cells, BOLD R^2 {show(mean([s['r2'] for s in group]))}, recall visited "
              f"{show(mean([s['recall'] for s in group]))}, calibrated {show(mean([s['calibrated'] for s in group]))}, "
              f"stable {mean([s['stable'] for s in group]):.2f}, median distance {show(statistics.median(distances) if distances else None)}, "
              f"within 0.25: {sum(d <= 0.25 for d in distances)} of {len(distances)}")
    if BASE in totals and VARIANT in totals and len(totals[VARIANT]) == 24:
        b, v = totals[BASE], totals[VARIANT]
        gain = max(mean([s["recall"] for s in v]) - mean([s["recall"] for s in b]),
                   mean([s["calibrated"] for s in v]) - mean([s["calibrated"] for s in b]))
        drop = mean([s["r2"] for s in b]) - mean([s["r2"] for s in v])
        verdict = "stays" if gain >= 0.15 and drop <= 0.02 else "does not stay"
        print(f"rule: recall gain {gain:+.3f} (needs +0.15), BOLD R^2 drop {drop:+.3f} (at most 0.02): {verdict}")


if __name__ == "__main__":
    main()
