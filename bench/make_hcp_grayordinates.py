"""Writes an HCP-sized CIFTI task folder for the whole-grayordinate memory/time measurement.

HCP_DIR/100307/MNINonLinear/Results/tfMRI_MOTOR_{LR,RL}/tfMRI_MOTOR_{LR,RL}_Atlas.dtseries.nii:
91,282 grayordinates (29,696 + 29,716 cortical vertices of 32,492 per hemisphere, 31,870
subcortical voxels on a 91 x 109 x 91 grid), 284 volumes, TR 0.72 s, float32, as HCP's 91k
files; the values are 4 block-driven latent signals mixed into every grayordinate plus noise.
EVs/ holds FSL three-column files for lf, rf, lh, rh, t. Usage: python make_hcp_grayordinates.py HCP_DIR
"""
import os
import sys

import nibabel as nb
import numpy as np

root = sys.argv[1]
rng = np.random.default_rng(20)
volumes, tr = 284, 0.72
left = np.sort(rng.choice(32492, 29696, replace=False))
right = np.sort(rng.choice(32492, 29716, replace=False))
grid = np.array(np.meshgrid(np.arange(20, 70), np.arange(30, 80), np.arange(20, 60), indexing="ij")).reshape(3, -1).T
voxels = grid[np.sort(rng.choice(len(grid), 31870, replace=False))]
affine = np.array([[-2, 0, 0, 90], [0, 2, 0, -126], [0, 0, 2, -72], [0, 0, 0, 1]], dtype=float)
volume = nb.cifti2.BrainModelAxis(name=["CIFTI_STRUCTURE_THALAMUS_LEFT"] * len(voxels), voxel=voxels, affine=affine, volume_shape=(91, 109, 91))

axis = (nb.cifti2.BrainModelAxis.from_surface(left, 32492, "CortexLeft")
        + nb.cifti2.BrainModelAxis.from_surface(right, 32492, "CortexRight") + volume)
assert len(axis) == 91282, len(axis)
series = nb.cifti2.SeriesAxis(start=0, step=tr, size=volumes, unit="SECOND")
conditions = ["lf", "rf", "lh", "rh", "t"]
loadings = rng.standard_normal((4, len(axis))).astype(np.float32)
for direction, shift in (("LR", 0), ("RL", 7)):
    folder = os.path.join(root, "100307", "MNINonLinear", "Results", f"tfMRI_MOTOR_{direction}")
    os.makedirs(os.path.join(folder, "EVs"), exist_ok=True)
    drive = np.zeros((volumes, 4))
    for index, condition in enumerate(conditions):
        onsets = [8 + shift + 12 * (index + 5 * k) for k in range(3)]
        onsets = [o for o in onsets if o + 12 < volumes * tr]
        with open(os.path.join(folder, "EVs", f"{condition}.txt"), "w") as events:
            for onset in onsets:
                events.write(f"{onset:.1f}\t12.0\t1\n")
                start, stop = int(onset / tr), int((onset + 12) / tr)
                drive[start:stop, index % 4] += 1
    latents = np.zeros((volumes, 4))
    for t in range(1, volumes):
        latents[t] = 0.9 * latents[t - 1] + 0.3 * drive[t] + 0.05 * rng.standard_normal(4)
    data = (latents @ loadings + rng.standard_normal((volumes, len(axis))).astype(np.float32)).astype(np.float32)
    image = nb.Cifti2Image(data, header=(series, axis))
    image.nifti_header.set_intent("ConnDenseSeries")
    image.to_filename(os.path.join(folder, f"tfMRI_MOTOR_{direction}_Atlas.dtseries.nii"))
print(root, len(axis), "grayordinates x", volumes, "volumes")
