#!/usr/bin/env python3
"""Applies the ninth round's decision rule (docs/recovery.md) to `fmridyn bench recovery` cells.

Usage: bench/ninth_round.py tuning DIR...   (chooses q and says whether the read-out stays)
       bench/ninth_round.py heldout DIR...  (judges the nuisance goal with the chosen q, --q Q)
       bench/ninth_round.py lowrank DIR...  (the tenth round's rule: chooses r for free=0.3)
       bench/ninth_round.py heldout DIR... --q 0.3 --rank R  (the goal for free=0.3+lowrank=R)

Each DIR is an --out directory of `fmridyn bench recovery`; its cells/*.json are read. Prints
per-row means (over seeds) of test-subject decoding, decoding by folds and BOLD / neural R^2 for
the task-free read-outs and the baselines, then the rule's verdict.
"""
import argparse
import glob
import json
import os
import statistics

BASE = "node-wells-soft"
QS = ["0.1", "0.3", "1.0"]


def cells(directories):
    found = []
    for directory in directories:
        for path in sorted(glob.glob(os.path.join(directory, "cells", "*.json"))):
            with open(path) as handle:
                found.append(json.load(handle))
    return found


def row_name(cell):
    c = cell["cell"]
    name = f"{c['system']}{c['latent_dimension'] if c['system'] == 'multistable' and c['latent_dimension'] != 4 else ''} noise {c['noise']:g}"
    return name + (f", nuisance {c['nuisance']:g}" if c["nuisance"] else "")


RANKS = ["2", "5", "10"]
EXTRA = []


def methods():
    return [f"{BASE}+free={q}" for q in QS] + EXTRA + ["pca", "ica", "raw", "truth"]


def value(cell, method, key):
    entry = cell["methods"].get(method)
    return None if entry is None else entry.get(key)


def mean(values):
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def show(v):
    return "-" if v is None else f"{v:.3f}"


def table(found):
    rows = {}
    for cell in found:
        rows.setdefault(row_name(cell), []).append(cell)
    print("| row | seeds | method | test subj. | folds | R^2 BOLD | R^2 neural | test subj. per seed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, group in sorted(rows.items()):
        group.sort(key=lambda c: c["cell"]["seed"])
        seeds = ",".join(str(c["cell"]["seed"]) for c in group)
        for method in methods():
            held = [value(c, method, "decoding_held_out") for c in group]
            print(f"| {name} | {seeds} | {method} | {show(mean(held))} | {show(mean(value(c, method, 'decoding') for c in group))} | "
                  f"{show(mean(value(c, method, 'state_r2_bold') for c in group))} | {show(mean(value(c, method, 'state_r2_neural') for c in group))} | "
                  f"{', '.join(show(v) for v in held)} |")
    return rows


def nuisance_fits(found):
    return [c for c in found if c["cell"]["nuisance"] == 2 and c["cell"]["noise"] == 1]


def tuning(found):
    table(found)
    fits = nuisance_fits(found)
    print(f"\nRule 1 over {len(fits)} tuning nuisance fits:")
    scores = {}
    for q in QS:
        method = f"{BASE}+free={q}"
        scores[q] = (mean(value(c, method, "decoding_held_out") for c in fits), mean(value(c, method, "state_r2_bold") for c in fits))
        print(f"  q = {q}: test-subject decoding {show(scores[q][0])}, BOLD R^2 {show(scores[q][1])}")
    best = max(scores[q][0] for q in QS)
    tied = [q for q in QS if scores[q][0] >= best - 0.01]
    chosen = max(tied, key=lambda q: scores[q][1])
    print(f"  chosen q = {chosen} (tied within 0.01: {', '.join(tied)})")
    regions = mean(value(c, "raw", "decoding_held_out") for c in fits)
    pca = mean(value(c, "pca", "decoding_held_out") for c in fits)
    stays = scores[chosen][0] >= regions and scores[chosen][0] >= pca
    print(f"Rule 2: {show(scores[chosen][0])} against regions {show(regions)} and PCA {show(pca)}: the read-out {'stays' if stays else 'does not stay'}")


def lowrank(found):
    EXTRA.extend(f"{BASE}+free=0.3+lowrank={r}" for r in RANKS)
    table(found)
    fits = nuisance_fits(found)
    others = [c for c in found if c not in fits]
    diagonal = f"{BASE}+free=0.3"
    base = mean(value(c, diagonal, "decoding_held_out") for c in fits)
    base_others = mean(value(c, diagonal, "decoding_held_out") for c in others)
    print(f"\nTenth round, rule 1 over {len(fits)} nuisance fits (diagonal free=0.3: {show(base)}):")
    scores = {}
    for r in RANKS:
        scores[r] = mean(value(c, f"{BASE}+free=0.3+lowrank={r}", "decoding_held_out") for c in fits)
        print(f"  r = {r}: {show(scores[r])}")
    best = max(scores.values())
    chosen = min((r for r in RANKS if scores[r] >= best - 0.01), key=int)
    other = mean(value(c, f"{BASE}+free=0.3+lowrank={chosen}", "decoding_held_out") for c in others)
    stays = scores[chosen] >= base + 0.02 and other >= base_others - 0.01
    print(f"  chosen r = {chosen}; rule 2: {show(scores[chosen])} against {show(base)} (nuisance), "
          f"{show(other)} against {show(base_others)} over the other {len(others)} fits: {'stays' if stays else 'does not stay'}")


def heldout(found, q, rank=None):
    method = f"{BASE}+free={q}" + (f"+lowrank={rank}" if rank else "")
    if rank:
        EXTRA.append(method)
    rows = table(found)
    print(f"\nRule 3 at q = {q}:")
    for name, group in sorted(rows.items()):
        if not nuisance_fits(group):
            continue
        model = mean(value(c, method, "decoding_held_out") for c in group)
        regions = mean(value(c, "raw", "decoding_held_out") for c in group)
        pca = mean(value(c, "pca", "decoding_held_out") for c in group)
        r2 = mean(value(c, method, "state_r2_bold") for c in group)
        met = model >= regions + 0.05 and model >= pca + 0.15 and r2 >= 0.5
        alone = sum(1 for c in group
                    if value(c, method, "decoding_held_out") >= value(c, "raw", "decoding_held_out") + 0.05
                    and value(c, method, "decoding_held_out") >= value(c, "pca", "decoding_held_out") + 0.15
                    and value(c, method, "state_r2_bold") >= 0.5)
        print(f"  {name} ({len(group)} seeds): decoding {show(model)} vs regions {show(regions)} ({model - regions:+.3f}) and PCA {show(pca)} "
              f"({model - pca:+.3f}), BOLD R^2 {show(r2)}: {'MET' if met else 'missed'}; seeds meeting it alone: {alone} of {len(group)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("part", choices=["tuning", "heldout", "lowrank"])
    parser.add_argument("directories", nargs="+")
    parser.add_argument("--q", default="0.1", help="the q rule 1 chose (heldout)")
    parser.add_argument("--rank", default=None, help="the structured noise's rank (heldout, tenth round)")
    arguments = parser.parse_args()
    found = cells(arguments.directories)
    if arguments.part == "tuning":
        tuning(found)
    elif arguments.part == "lowrank":
        lowrank(found)
    else:
        heldout(found, arguments.q, arguments.rank)


if __name__ == "__main__":
    main()
