"""Does cleaner labelling pay? Train the same model on L2 and on L3 labels, test on the same pixels.

Both models are trained on the training split (split 1) at their own level and
evaluated on one fixed set of test pixels: the test split (split 3) where the *truth*
is labelled. ``truth`` is the L3 labels on real data (the cleanest reference we have),
or, on the simulator, the known class map -- then label noise in L2 and L3 is judged
against the real answer rather than against itself.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from sarbd.errors import InputError
from sarbd.ml.data import SPLIT_TEST, SPLIT_TRAIN, SPLIT_VALIDATION, open_sarbd
from sarbd.ml.fit import fit_model, torch_threads
from sarbd.ml.metrics import classification_metrics

__all__ = ["compare_levels", "read_truth_raster"]


def read_truth_raster(path: str | os.PathLike[str], dataset: str | os.PathLike[str]) -> np.ndarray:
    """A class raster on the root radar grid (band 1, row = line, column = pixel), cut to the dataset.

    The dataset's absolute ``line``/``pixel`` coordinates index the raster, so a truth map of
    the whole reference grid (the simulator's ``truth/class_map_radar.tif``) fits a dataset
    built on a window of it.
    """
    import warnings
    from pathlib import Path

    import rasterio
    from rasterio.errors import NotGeoreferencedWarning, RasterioIOError

    path = Path(path)
    if not path.is_file():
        raise InputError(
            "truth raster not found",
            path=path,
            hint="give a level (L1, L2, L3) or a class raster on the radar grid",
        )
    data = open_sarbd(dataset, "all")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            with rasterio.open(path) as src:
                raster = src.read(1)
    except RasterioIOError as exc:
        raise InputError(f"cannot read the truth raster ({exc})", path=path) from exc
    l0, p0 = int(data.line[0]), int(data.pixel[0])
    l1, p1 = int(data.line[-1]) + 1, int(data.pixel[-1]) + 1
    if l0 < 0 or p0 < 0 or l1 > raster.shape[0] or p1 > raster.shape[1]:
        raise InputError(
            f"the truth raster ({raster.shape[0]} x {raster.shape[1]}) does not cover the dataset's "
            f"lines {l0}-{l1 - 1} and pixels {p0}-{p1 - 1}",
            path=path,
            hint="use a class raster on the dataset's root radar grid",
        )
    return np.ascontiguousarray(raster[data.line][:, data.pixel], np.uint8)


def compare_levels(
    dataset: str | os.PathLike[str],
    *,
    model: str = "rf",
    levels: Sequence[str] = ("L2", "L3"),
    truth: str | np.ndarray = "L3",
    seed: int = 0,
    threads: int = 1,
    features: Sequence[str] | str = "temporal",
    **hparams: Any,
):  # type: ignore[no-untyped-def]
    """One table comparing models trained on each of ``levels``, on the same test pixels.

    Parameters
    ----------
    dataset
        SARbd dataset folder.
    model
        ``ann``, ``rf`` or ``unet``.
    levels
        Label levels to train on.
    truth
        Reference for the test pixels: a level name, or a (line, pixel) array of class ids
        (0 = no reference) with the same class ids as the levels.
    seed, threads, features, hparams
        As for :func:`sarbd.ml.fit.fit_model`.

    Returns
    -------
    pandas.DataFrame
        One row per level: ``n_train``, ``n_test``, ``overall_accuracy``, ``cohen_kappa``,
        ``macro_f1`` and ``f1_<class>`` for each class.
    """
    import pandas as pd

    data = open_sarbd(dataset, features)
    ref = data.labels(truth) if isinstance(truth, str) else np.asarray(truth, np.uint8)
    if ref.shape != data.shape:
        raise InputError(f"truth has shape {ref.shape}, the dataset {data.shape}", path=data.zarr)
    classes = data.classes(levels[0])
    for lv in levels[1:]:
        if data.classes(lv).names != classes.names or data.classes(lv).ids != classes.ids:
            raise InputError(f"levels {levels[0]} and {lv} have different classes", path=data.zarr)
    split = data.split()
    test = (split == SPLIT_TEST) & (ref > 0)
    rows = []
    for lv in levels:
        lab = data.labels(lv) > 0
        fitted, record = fit_model(
            data,
            model,
            lv,
            lab & (split == SPLIT_TRAIN),
            lab & (split == SPLIT_VALIDATION),
            seed=seed,
            threads=threads,
            chip_split=SPLIT_TRAIN,
            **hparams,
        )
        with torch_threads(threads):
            pred = fitted.predict_map(data)
        m = classification_metrics(ref[test], pred[test], classes)
        rows.append(
            {
                "level": lv,
                "model": model,
                "n_train": int(record["train_line"].size),
                "n_test": m["n_pixels"],
                "overall_accuracy": m["overall_accuracy"],
                "cohen_kappa": m["cohen_kappa"],
                "macro_f1": m["macro_f1"],
                **{f"f1_{n}": c["f1"] for n, c in m["per_class"].items()},
            }
        )
    return pd.DataFrame(rows).set_index("level")
