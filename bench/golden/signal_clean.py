"""Golden values for fmridyn's signal cleaning, from nilearn and scipy.

Writes Tests/Fixtures/signal/golden.json with:
- butter: scipy.signal.butter(5, Wn, btype, output="sos", fs) for low-, high- and band-pass;
- sosfilt_zi and sosfiltfilt of a test signal;
- cubic_spline: scipy.interpolate.CubicSpline (not-a-knot, extrapolating) at query times;
- cosine: nilearn's create_cosine_drift;
- clean: nilearn.signal.clean on the same signals and confounds with various options.

Censoring: nilearn 0.14 interpolates a censored volume only when its mirror index (a bitwise
not on integer indices) is kept. fmridyn interpolates every censored volume, so for the
censoring cases this script patches nilearn's _interpolate_volumes with a boolean mask,
keeping everything else of nilearn.

Run from the repository root: python3 bench/golden/signal_clean.py
"""
import base64
import json
import pathlib

import nilearn
import nilearn.signal as nsignal
import numpy as np
import scipy
from scipy import signal as ssignal
from scipy.interpolate import CubicSpline

OUT = pathlib.Path("Tests/Fixtures/signal/golden.json")


def exact(array):
    """Float64 values as base64 little-endian bytes: JSON number parsers may round by an ulp,
    which would break exact collinearity the tests rely on."""
    array = np.ascontiguousarray(np.asarray(array, dtype="<f8"))
    return {"shape": list(array.shape), "f64": base64.b64encode(array.tobytes()).decode()}


def fixed_interpolate_volumes(volumes, sample_mask, t_r, extrapolate):
    frame_times = np.arange(volumes.shape[0]) * t_r
    keep = np.zeros(volumes.shape[0], dtype=bool)
    keep[sample_mask] = True
    spline = CubicSpline(frame_times[keep], volumes[keep, :], extrapolate=extrapolate)
    volumes[~keep, :] = spline(frame_times)[~keep, :]
    return volumes


def make_inputs(rng, n_time=150, n_signals=5):
    t = np.arange(n_time)
    signals = np.cumsum(rng.standard_normal((n_time, n_signals)), axis=0)
    signals += 5 * np.sin(2 * np.pi * 0.05 * 2.0 * t)[:, None] * rng.uniform(0.5, 2, n_signals)
    signals += 100 + 10 * rng.standard_normal(n_signals)
    confounds = rng.standard_normal((n_time, 3)).cumsum(axis=0)
    confounds = np.column_stack([confounds, confounds[:, 0] * 2.0])  # a collinear column
    return signals, confounds


def main():
    rng = np.random.default_rng(2026)
    signals, confounds = make_inputs(rng)
    t_r = 2.0
    out = {"versions": {"nilearn": nilearn.__version__, "scipy": scipy.__version__, "numpy": np.__version__}}

    out["butter"] = []
    for btype, wn, fs in [("low", 0.1, 0.5), ("high", 0.01, 0.5), ("band", [0.01, 0.1], 0.5), ("band", [0.01, 0.08], 1 / 0.72)]:
        sos = ssignal.butter(5, wn, btype=btype, output="sos", fs=fs)
        out["butter"].append({"btype": btype, "wn": wn, "fs": fs, "sos": exact(sos),
                              "zi": exact(ssignal.sosfilt_zi(sos)),
                              "filtfilt": exact(ssignal.sosfiltfilt(sos, signals[:, 0]))})

    known = np.sort(rng.choice(np.arange(40), size=25, replace=False)).astype(float) * 0.72
    values = np.sin(known) + 0.1 * known
    query = np.arange(40) * 0.72
    out["cubic_spline"] = {"known_times": exact(known), "known_values": exact(values),
                           "query_times": exact(query), "values": exact(CubicSpline(known, values)(query))}

    out["cosine"] = {"high_pass": 0.01, "t_r": t_r, "n": 150,
                     "drift": exact(nsignal.create_cosine_drift(0.01, np.arange(150) * t_r))}

    censor_keep = np.ones(150, dtype=bool)
    censor_keep[[0, 1, 37, 38, 39, 90, 149]] = False
    sample_mask = np.flatnonzero(censor_keep)
    cases = [
        ("detrend", dict(detrend=True, standardize=None)),
        ("detrend_zscore", dict(detrend=True, standardize="zscore_sample")),
        ("band_detrend_zscore", dict(detrend=True, standardize="zscore_sample", filter="butterworth", low_pass=0.1, high_pass=0.01, t_r=t_r)),
        ("highpass", dict(detrend=False, standardize=None, filter="butterworth", high_pass=0.01, t_r=t_r)),
        ("lowpass_zscore", dict(detrend=True, standardize="zscore_sample", filter="butterworth", low_pass=0.08, t_r=t_r)),
        ("confounds_zscore", dict(detrend=True, standardize="zscore_sample", confounds=True)),
        ("confounds_band", dict(detrend=True, standardize="zscore_sample", filter="butterworth", low_pass=0.1, high_pass=0.01, t_r=t_r, confounds=True)),
        ("cosine_confounds", dict(detrend=True, standardize="zscore_sample", filter="cosine", high_pass=0.01, t_r=t_r, confounds=True)),
        ("psc", dict(detrend=True, standardize="psc")),
        ("confounds_unstandardized", dict(detrend=True, standardize=None, confounds=True, standardize_confounds=False)),
        ("censor_band", dict(detrend=True, standardize="zscore_sample", filter="butterworth", low_pass=0.1, high_pass=0.01, t_r=t_r, confounds=True, censor=True)),
        ("censor_nofilter", dict(detrend=True, standardize="zscore_sample", confounds=True, censor=True, filter=False)),
    ]
    original = nsignal._interpolate_volumes
    nsignal._interpolate_volumes = fixed_interpolate_volumes
    out["clean"] = []
    for name, options in cases:
        kwargs = dict(options)
        use_confounds = kwargs.pop("confounds", False)
        censor = kwargs.pop("censor", False)
        if "filter" not in kwargs:
            kwargs["filter"] = False
        result = nsignal.clean(signals.copy(), confounds=confounds.copy() if use_confounds else None,
                               sample_mask=sample_mask.copy() if censor else None, **kwargs)
        out["clean"].append({"name": name, "options": {**options}, "result": exact(result)})
    nsignal._interpolate_volumes = original
    out["inputs"] = {"signals": exact(signals), "confounds": exact(confounds), "t_r": t_r,
                     "keep": censor_keep.astype(int).tolist()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(out))
    print(f"wrote {OUT} ({OUT.stat().st_size // 1024} KB)")


if __name__ == "__main__":
    main()
