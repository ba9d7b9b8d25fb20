#!/usr/bin/env python3
"""Applies the fifteenth round's rule (docs/recovery.md): the rollout fit made faithful to numpy.

Usage: bench/fifteenth_round.py [--held-out] BASELINE.json OUT_DIR_OR_JSON...
       bench/fifteenth_round.py results/recovery-starts-tuning.json results/recovery-faithful-tuning.json
       bench/fifteenth_round.py --held-out results/recovery-calibrated-heldout.json results/recovery-faithful-heldout.json

Scores `rollout-wells` (the benchmark's defaults since this round) against the recorded
`node-wells-soft+map=0.1` on the multistable and switching cells of one part, cell by cell (only
cells both have), per row and overall, with the fourteenth round's measures. The rule's verdict is
printed only when the part is complete (24 tuning cells, 12 held-out): rollout-wells stays if its
BOLD R^2 is at least 0.03 higher, or its recall of the visited wells (either alignment) at least
0.15 higher with the BOLD R^2 at most 0.02 lower.
"""
import json
import statistics
import sys

from fourteenth_round import BASE, VARIANT, scores
from ninth_round import cells as load, mean, row_name, show


def key(cell):
    c = cell["cell"]
    return (c["system"], c["latent_dimension"], c["noise"], c["nuisance"], c["seed"], c["held_out"])


def main():
    arguments = sys.argv[1:]
    held_out = "--held-out" in arguments
    arguments = [a for a in arguments if a != "--held-out"]
    found = {BASE: {}, VARIANT: {}}
    for source in arguments:
        if source.endswith(".json"):
            with open(source) as handle:
                listed = json.load(handle)["cells"]
        else:
            listed = load([source])
        for cell in listed:
            if cell["cell"]["held_out"] != held_out or cell["cell"]["system"] not in ("multistable", "switching"):
                continue
            for model in found:
                if model in cell["methods"]:
                    found[model][key(cell)] = (cell, scores(cell["methods"][model], cell))
    shared = sorted(set(found[BASE]) & set(found[VARIANT]))
    print(f"{len(shared)} cells with both models ({'held-out' if held_out else 'tuning'} part)")
    rows = {}
    for k in shared:
        rows.setdefault(row_name(found[VARIANT][k][0]), []).append(k)
    print("| row | seeds | BOLD R^2 rollout / base | neural R^2 | recall visited (calibrated) rollout / base | stable per fit | median distance to a well |")
    print("| --- | --- | --- | --- | --- | --- | --- |")

    def summary(keys, model, field):
        return mean([found[model][k][1][field] for k in keys])

    def distance(keys, model):
        values = [d for k in keys for d in found[model][k][1]["distances"]]
        return show(statistics.median(values) if values else None)

    for row, keys in sorted(rows.items()) + [("all", shared)]:
        print(f"| {row} | {len(keys)} | {show(summary(keys, VARIANT, 'r2'))} / {show(summary(keys, BASE, 'r2'))} | "
              f"{show(summary(keys, VARIANT, 'neural'))} / {show(summary(keys, BASE, 'neural'))} | "
              f"{show(summary(keys, VARIANT, 'recall'))} ({show(summary(keys, VARIANT, 'calibrated'))}) / "
              f"{show(summary(keys, BASE, 'recall'))} ({show(summary(keys, BASE, 'calibrated'))}) | "
              f"{summary(keys, VARIANT, 'stable'):.1f} / {summary(keys, BASE, 'stable'):.1f} | "
              f"{distance(keys, VARIANT)} / {distance(keys, BASE)} |")
    complete = 12 if held_out else 24
    if len(shared) == complete:
        r2_gain = summary(shared, VARIANT, "r2") - summary(shared, BASE, "r2")
        recall_gain = max(summary(shared, VARIANT, "recall") - summary(shared, BASE, "recall"),
                          summary(shared, VARIANT, "calibrated") - summary(shared, BASE, "calibrated"))
        stays = r2_gain >= 0.03 or (recall_gain >= 0.15 and r2_gain >= -0.02)
        print(f"rule: BOLD R^2 gain {r2_gain:+.3f} (stays at +0.03), recall gain {recall_gain:+.3f} (stays at +0.15 with R^2 "
              f"at most 0.02 lower): {'stays' if stays else 'does not stay'}")
    else:
        print(f"rule: not applied ({len(shared)} of {complete} cells)")


if __name__ == "__main__":
    main()
