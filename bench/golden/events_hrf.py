"""Golden HRFs and design matrices from nilearn.

Writes Tests/Fixtures/events/golden.json and Tests/Fixtures/events/motor_events.tsv.
Run from the repository root: python3 bench/golden/events_hrf.py
"""
import base64
import json
import pathlib

import nilearn
import numpy as np
import pandas as pd
from nilearn.glm.first_level import make_first_level_design_matrix
from nilearn.glm.first_level.hemodynamic_models import glover_hrf, spm_hrf

OUT = pathlib.Path("Tests/Fixtures/events")


def exact(array):
    array = np.ascontiguousarray(np.asarray(array, dtype="<f8"))
    return {"shape": list(array.shape), "f64": base64.b64encode(array.tobytes()).decode()}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    # A motor localiser: blocks of 12 s, some impulse events, a modulated condition.
    events = pd.DataFrame({
        "onset": [10.0, 40.0, 70.0, 100.0, 130.0, 25.5, 88.0, 150.0],
        "duration": [12.0, 12.0, 12.0, 12.0, 12.0, 0.0, 0.0, 6.5],
        "trial_type": ["left_hand", "right_hand", "left_hand", "tongue", "right_hand", "button", "button", "tongue"],
        "modulation": [1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 0.5, 1.0],
    })
    events.to_csv(OUT / "motor_events.tsv", sep="\t", index=False)
    out = {"versions": {"nilearn": nilearn.__version__}, "hrf": [], "design": []}
    for name, function in [("glover", glover_hrf), ("spm", spm_hrf)]:
        for t_r, oversampling, length in [(2.0, 1, 20.0), (0.72, 50, 32.0), (2.0, 50, 32.0)]:
            out["hrf"].append({"model": name, "t_r": t_r, "oversampling": oversampling, "time_length": length,
                               "values": exact(function(t_r, oversampling=oversampling, time_length=length))})
    for hrf, t_r, n in [("glover", 2.0, 90), ("spm", 0.72, 250), (None, 2.0, 90)]:
        frame_times = np.arange(n) * t_r
        design = make_first_level_design_matrix(frame_times, events, hrf_model=hrf, drift_model=None)
        design = design.drop(columns=["constant"])
        out["design"].append({"hrf": hrf, "t_r": t_r, "volumes": n, "columns": list(design.columns),
                              "values": exact(design.to_numpy())})
    (OUT / "golden.json").write_text(json.dumps(out))
    print(f"wrote {OUT}/golden.json")


if __name__ == "__main__":
    main()
