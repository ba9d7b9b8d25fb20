#!/usr/bin/env python3
"""Applies the fourteenth round's rule (docs/recovery.md): the wells-first rollout fit in Swift.

Usage: bench/fourteenth_round.py SOURCE...
       bench/fourteenth_round.py results/recovery-starts-tuning.json results/recovery-rollout-tuning.json

Each SOURCE is a JSON file with a "cells" list (the recorded node-wells-soft+map=0.1 cells are in
bench/results/recovery-starts-tuning.json) or an --out directory of `fmridyn bench recovery` run
with `--models rollout-wells`. Prints per row (mean over seeds) the BOLD- and neural-level state
R^2, the recall of the visited wells under the pre-fixed and the calibrated alignment, stable
points per fit and the median distance from a stable point to the nearest true well; then per
model the means over the tuning part's multistable and switching cells and the rule's verdict:
rollout-wells stays if its BOLD R^2 is at least 0.03 higher, or its recall of the visited wells
(either alignment) at least 0.15 higher with the BOLD R^2 at most 0.02 lower.
"""
import json
import statistics
import sys

from ninth_round import cells as load, mean, row_name, show
from thirteenth_round import nearest

BASE = "node-wells-soft+map=0.1"
VARIANT = "rollout-wells"


def scores(entry, cell):
    k = cell["cell"]["latent_dimension"]
    fixed, calibrated = entry.get("fixed_points") or {}, entry.get("fixed_points_calibrated") or {}
    return dict(r2=entry.get("state_r2_bold"), neural=entry.get("state_r2_neural"), recall=fixed.get("recall_of_visited"),
                calibrated=calibrated.get("recall_of_visited"), stable=fixed.get("stable", 0),
                distances=[nearest(p, k) for p in fixed.get("aligned_stable", [])])


def main():
    found = []
    for source in sys.argv[1:]:
        if source.endswith(".json"):
            with open(source) as handle:
                found += json.load(handle)["cells"]
        else:
            found += load([source])
    per = {}
    for cell in found:
        if cell["cell"]["held_out"] or cell["cell"]["system"] not in ("multistable", "switching"):
            continue
        for model in (BASE, VARIANT):
            entry = cell["methods"].get(model)
            if entry is not None:
                per.setdefault((model, row_name(cell)), []).append(scores(entry, cell))
    print("| model | row | BOLD R^2 | neural R^2 | recall visited | recall visited, calibrated | stable per fit | median distance to a well |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    totals = {}
    for (model, row), group in sorted(per.items()):
        distances = [d for s in group for d in s["distances"]]
        print(f"| {model} | {row} | {show(mean([s['r2'] for s in group]))} | {show(mean([s['neural'] for s in group]))} | "
              f"{show(mean([s['recall'] for s in group]))} | {show(mean([s['calibrated'] for s in group]))} | "
              f"{mean([s['stable'] for s in group]):.1f} | {show(statistics.median(distances) if distances else None)} |")
        totals.setdefault(model, []).extend(group)
    print()
    for model, group in totals.items():
        distances = [d for s in group for d in s["distances"]]
        print(f"{model}: {len(group)} cells, BOLD R^2 {show(mean([s['r2'] for s in group]))}, neural "
              f"{show(mean([s['neural'] for s in group]))}, recall visited {show(mean([s['recall'] for s in group]))}, "
              f"calibrated {show(mean([s['calibrated'] for s in group]))}, stable {mean([s['stable'] for s in group]):.2f}, "
              f"median distance {show(statistics.median(distances) if distances else None)}, "
              f"within 0.25: {sum(d <= 0.25 for d in distances)} of {len(distances)}")
    if BASE in totals and VARIANT in totals and len(totals[VARIANT]) == 24:
        b, v = totals[BASE], totals[VARIANT]
        r2_gain = mean([s["r2"] for s in v]) - mean([s["r2"] for s in b])
        recall_gain = max(mean([s["recall"] for s in v]) - mean([s["recall"] for s in b]),
                          mean([s["calibrated"] for s in v]) - mean([s["calibrated"] for s in b]))
        stays = r2_gain >= 0.03 or (recall_gain >= 0.15 and r2_gain >= -0.02)
        print(f"rule: BOLD R^2 gain {r2_gain:+.3f} (stays at +0.03), recall gain {recall_gain:+.3f} (stays at +0.15 with R^2 "
              f"at most 0.02 lower): {'stays' if stays else 'does not stay'}")


if __name__ == "__main__":
    main()
