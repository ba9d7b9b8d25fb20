#!/usr/bin/env python3
"""Applies the twelfth round's rule (docs/recovery.md): three wells starts, one chosen per cell
by the best validation ELBO.

Usage: bench/twelfth_round.py DIR...

Each DIR is an --out directory of `fmridyn bench recovery` run with the models
node-wells-soft+map=0.1, node-wells-soft+map=0.1+wells=4 and node-wells-soft+map=0.1+wells=6.
Prints per row (mean over seeds) the MAP read-out's BOLD and neural R^2 for each start, for the
chosen start and for the start with the best R^2 (read off the truth: a diagnostic only), then
the rule's verdict on the tuning cells.
"""
import statistics
import sys

from ninth_round import cells as load, mean, row_name, show

# The MAP read-out (q = 0.1) of each start, by its number of mixture components.
STARTS = {8: "node-wells-soft+map=0.1", 4: "node-wells-soft+wells=4+map=0.1", 6: "node-wells-soft+wells=6+map=0.1"}


def choose(cell):
    """(chosen n, best-R^2 n) among the starts that were fitted, or (None, None)."""
    fitted = {n: cell["methods"][m] for n, m in STARTS.items() if m in cell["methods"]
              and cell["methods"][m].get("best_validation_elbo") is not None and cell["methods"][m].get("state_r2_bold") is not None}
    if not fitted:
        return None, None
    chosen = max(fitted, key=lambda n: fitted[n]["best_validation_elbo"])
    best = max(fitted, key=lambda n: fitted[n]["state_r2_bold"])
    return chosen, best


def main():
    cells = load(sys.argv[1:])
    rows = {}
    for cell in cells:
        rows.setdefault((cell["cell"]["held_out"], row_name(cell)), []).append(cell)
    picks, hits, total = {4: 0, 6: 0, 8: 0}, 0, 0
    tuning_chosen, tuning_eight = [], []
    print("| part | row | n=4 | n=6 | n=8 | chosen | best start | chosen starts (seeds) | ELBO n=4 / 6 / 8 per seed |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for (held_out, name), group in sorted(rows.items()):
        per_start = {n: mean([c["methods"].get(m, {}).get("state_r2_bold") for c in group]) for n, m in STARTS.items()}
        chosen_values, best_values, labels, elbos = [], [], [], []
        for cell in sorted(group, key=lambda c: c["cell"]["seed"]):
            chosen, best = choose(cell)
            labels.append(f"{chosen}" if chosen else "none")
            elbos.append("/".join(show(cell["methods"].get(STARTS[n], {}).get("best_validation_elbo")) for n in (4, 6, 8)))
            if chosen is None:
                continue
            value = cell["methods"][STARTS[chosen]]["state_r2_bold"]
            chosen_values.append(value)
            best_values.append(cell["methods"][STARTS[best]]["state_r2_bold"])
            picks[chosen] += 1
            hits += chosen == best
            total += 1
            if not held_out:
                tuning_chosen.append(value)
                tuning_eight.append(cell["methods"].get(STARTS[8], {}).get("state_r2_bold"))
        part = "held out" if held_out else "tuning"
        print(f"| {part} | {name} | {show(per_start[4])} | {show(per_start[6])} | {show(per_start[8])} | {show(mean(chosen_values))} |"
              f" {show(mean(best_values))} | {', '.join(labels)} | {'; '.join(elbos)} |")
    print(f"\nchosen starts: {picks}; the chosen start had the cell's best R^2 in {hits} of {total} cells")
    pairs = [(a, b) for a, b in zip(tuning_chosen, tuning_eight) if b is not None]
    if pairs:
        chosen_mean = statistics.fmean(a for a, _ in pairs)
        eight_mean = statistics.fmean(b for _, b in pairs)
        goal = [(c["methods"][STARTS[choose(c)[0]]]["state_r2_bold"], c["methods"].get(STARTS[8], {}).get("state_r2_bold"))
                for (h, n), g in rows.items() if not h and n == "multistable noise 1" for c in g if choose(c)[0] is not None]
        goal_chosen = mean([a for a, _ in goal])
        goal_eight = mean([b for _, b in goal])
        stays = chosen_mean >= eight_mean + 0.02 and goal_chosen is not None and goal_eight is not None and goal_chosen >= goal_eight
        print(f"rule 2 over {len(pairs)} tuning fits: chosen {chosen_mean:.3f} against n = 8 {eight_mean:.3f};"
              f" goal's row chosen {show(goal_chosen)} against {show(goal_eight)}: {'stays' if stays else 'does not stay'}")


if __name__ == "__main__":
    main()
