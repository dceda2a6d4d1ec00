"""Change-detection labels per date pair: L2 from dated reference features, L3 where the SAR evidence agrees.

Input: a simulated scene with land changes (``truth/changes``, written by
:mod:`sarbd.simulate.changes`) whose dates share one radar grid (zero baseline, no
timing error, no grid shift: ``sarbd simulate --changes`` sets this), so the pixels
of two dates are co-registered by construction. A scene with differing grids is
refused (co-registering the simulator's SLCs is the stack's job, not this module's).
For every pair of consecutive dates ``(i, i + 1)``:

Features (looked grid, ``looks`` = azimuth, range samples averaged)
    sigma0 VV and VH of both dates in dB (``|DN|^2 / A^2``, no noise removal); the
    VV coherence ``|<s_i s_j*>| / sqrt(<|s_i|^2><|s_j|^2>)`` over a ``coh_window``
    boxcar of full-resolution samples (Touzi, R. et al. (1999), Coherence estimation
    for SAR imagery, *IEEE TGRS* 37(1), 135-149), then looked; and the log-ratio
    ``10 log10(I_j / I_i)`` per polarisation of the looked intensities after a 3 x 3
    mean (Bazi, Y., Bruzzone, L. & Melgani, F. (2005), An unsupervised approach based
    on the generalized Gaussian model to automatic change detection in multitemporal
    SAR images, *IEEE TGRS* 43(4), 874-887).
L2
    1 where a reference feature of ``reference_changes.geojson`` dated between the two
    acquisitions (``date_index`` in ``(i, j]``) covers the pixel's lon/lat, else 0;
    pixels within ``buffer_px`` looked pixels of an L2 boundary are ignored (-1), as
    for the land-cover labels (the reference polygons have digitising errors).
L3
    L2 where the SAR evidence agrees: an L2 change pixel is kept if ``|log-ratio|`` of
    VV or VH is at least ``ratio_db`` or the coherence is below ``coherence_max``; an
    L2 no-change pixel is kept if neither log-ratio reaches ``ratio_db`` (low
    coherence alone is no evidence of change there: vegetation decorrelates in 12
    days). Everything else is ignored (-1).
Truth
    The simulator's exact change mask of the pair (``change_map.tif``, looked: a
    looked pixel is changed when most of its samples are), for scoring only.

Chips: ``chip_size`` squares of the looked grid; spatial split of whole blocks of
``block`` x ``block`` chips (70/15/15, the same for every pair,
:func:`sarbd.dataset.detection_labels.split_blocks`). Written: ``chips.npz`` (the
training input), ``maps.npz`` (the whole looked maps of every pair, for figures) and
``labels.json`` (settings, pairs, pixel counts per level).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from sarbd.errors import InputError

__all__ = [
    "ChangeChips",
    "PairMaps",
    "build_change_dataset",
    "change_evidence",
    "load_change_dataset",
    "pair_labels",
    "write_change_folder",
]


@dataclass
class ChangeChips:
    """Chips of date pairs.

    Attributes
    ----------
    before, after
        ``(N, 2, S, S)`` float32 sigma0 VV, VH (dB) of the first and second date.
    coherence
        ``(N, S, S)`` float32 VV coherence of the pair.
    l2, l3, truth
        ``(N, S, S)`` int8 labels: 1 change, 0 no change, -1 ignored.
    split, pair, line0, pixel0
        ``(N,)`` split code (1 train, 2 validation, 3 test), pair index, chip origin.
    """

    before: NDArray[np.float32]
    after: NDArray[np.float32]
    coherence: NDArray[np.float32]
    l2: NDArray[np.int8]
    l3: NDArray[np.int8]
    truth: NDArray[np.int8]
    split: NDArray[np.int64]
    pair: NDArray[np.int64]
    line0: NDArray[np.int64]
    pixel0: NDArray[np.int64]

    def subset(self, split: int) -> ChangeChips:
        """The chips of one split."""
        i = np.flatnonzero(self.split == split)
        return ChangeChips(*(getattr(self, f)[i] for f in self.__dataclass_fields__))

    def labels(self, level: str) -> NDArray[np.int8]:
        """The labels of ``level`` (``L2``, ``L3`` or ``truth``)."""
        key = level.lower()
        if key not in ("l2", "l3", "truth"):
            raise ValueError(f"unknown label level {level!r}: use L2, L3 or truth")
        return np.asarray(getattr(self, key))


def change_evidence(
    i1: NDArray[np.floating[Any]],
    i2: NDArray[np.floating[Any]],
    coherence: NDArray[np.floating[Any]],
    ratio_db: float,
    coherence_max: float,
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """``(ratio, any)``: ``|10 log10(I2/I1)| >= ratio_db`` in any polarisation, and that or coherence < max.

    ``i1``, ``i2``: ``(pol, ...)`` linear intensities; ``coherence``: ``(...)``.
    """
    lr = 10.0 * np.log10(np.maximum(i2, 1e-12) / np.maximum(i1, 1e-12))
    ratio = (np.abs(lr) >= ratio_db).any(axis=0)
    return ratio, ratio | (np.asarray(coherence) < coherence_max)


def _look(a: NDArray[Any], looks: tuple[int, int]) -> NDArray[Any]:
    la, lr = looks
    L, W = a.shape[-2] // la * la, a.shape[-1] // lr * lr
    v = a[..., :L, :W].reshape(*a.shape[:-2], L // la, la, W // lr, lr)
    return np.asarray(v.mean(axis=(-3, -1)))


def _read(safe: Path) -> tuple[NDArray[np.complex64], NDArray[np.float64]]:
    """VV and VH complex samples and their sigma0 calibration factors ``1 / A^2``."""
    import sarbd
    from sarbd.products.calibration import calibration_factor

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scene = sarbd.open_product(safe)
        dn = np.stack([np.asarray(scene.slc(p).values) for p in ("VV", "VH")])
        fac = np.stack(
            [
                np.broadcast_to(np.asarray(calibration_factor(scene, p, "sigma0")), dn.shape[1:])
                for p in ("VV", "VH")
            ]
        )
    return dn.astype(np.complex64), fac.astype(np.float64)


def build_change_dataset(
    scene_dir: str | Path,
    out_dir: str | Path,
    *,
    chip_size: int = 16,
    looks: tuple[int, int] = (2, 2),
    block: int = 2,
    buffer_px: int = 1,
    ratio_db: float = 3.0,
    coherence_max: float = 0.3,
    coh_window: int = 5,
    seed: int = 0,
) -> ChangeChips:
    """Write the change labels of a simulated scene with changes (see the module docstring).

    Raises
    ------
    InputError
        No ``truth/changes`` (simulate with ``--changes``), dates on different grids,
        or fewer than two dates.
    """
    import rasterio
    import shapely
    from scipy import ndimage
    from shapely.geometry import shape

    scene_dir = Path(scene_dir)
    folder = scene_dir / "truth" / "changes"
    if not (folder / "changes.json").is_file():
        raise InputError(
            "no change truth (truth/changes/changes.json)",
            path=scene_dir,
            hint="simulate with `sarbd simulate --changes`",
        )
    scene = json.loads((scene_dir / "truth" / "scene.json").read_text())
    cfg = scene["config"]
    if any(
        float(cfg.get(k, 0.0)) != 0.0
        for k in ("max_baseline_m", "radial_offset_m", "timing_error_std_s", "grid_shift_max")
    ):
        raise InputError(
            "the dates are not on one radar grid (non-zero baseline, timing error or grid shift)",
            path=scene_dir / "truth" / "scene.json",
            hint="simulate with `sarbd simulate --changes`",
        )
    safes = sorted(scene_dir.glob("*.SAFE"))
    if len(safes) < 2:
        raise InputError(
            f"{len(safes)} SAFE product(s): a change pair needs two dates", path=scene_dir
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with rasterio.open(folder / "change_map.tif") as src:
            kmap = src.read(2).astype(np.int64)
        with rasterio.open(folder / "lonlat.tif") as src:
            lon, lat = src.read(1), src.read(2)
    feats = json.loads((folder / "reference_changes.geojson").read_text())["features"]
    ref = [(int(f["properties"]["date_index"]), shape(f["geometry"])) for f in feats]
    data = [_read(s) for s in safes]
    if len({d[0].shape for d in data}) != 1 or data[0][0].shape[1:] != kmap.shape:
        raise InputError("the dates' SLCs and the change map differ in shape", path=folder)
    inten = [_look(np.abs(dn) ** 2 * fac, looks) for dn, fac in data]
    win = (coh_window, coh_window)
    pairs = [(i, i + 1) for i in range(len(safes) - 1)]
    pair_maps = []
    for i, j in pairs:
        a, b = data[i][0][0], data[j][0][0]
        cross = a * np.conj(b)
        num = ndimage.uniform_filter(cross.real, win) + 1j * ndimage.uniform_filter(cross.imag, win)
        den = np.sqrt(
            ndimage.uniform_filter(np.abs(a) ** 2, win)
            * ndimage.uniform_filter(np.abs(b) ** 2, win)
        )
        coh = _look(np.abs(num) / np.maximum(den, 1e-30), looks).astype(np.float32)
        inside = np.zeros(kmap.shape, bool)
        for k, geom in ref:
            if i < k <= j:
                inside |= shapely.contains_xy(geom, lon, lat)
        truth = (_look(((kmap > i) & (kmap <= j)).astype(np.float32), looks) >= 0.5).astype(np.int8)
        pair_maps.append(
            pair_labels(
                _look(inside.astype(np.float32), looks),
                inten[i],
                inten[j],
                coh,
                truth=truth,
                buffer_px=buffer_px,
                ratio_db=ratio_db,
                coherence_max=coherence_max,
            )
        )
    meta = {
        "scene": str(scene_dir.resolve()),
        "pairs": pairs,
        "epochs": json.loads((folder / "changes.json").read_text())["epochs"],
        "chip_size": chip_size,
        "looks": list(looks),
        "block": block,
        "buffer_px": buffer_px,
        "ratio_db": ratio_db,
        "coherence_max": coherence_max,
        "coh_window": coh_window,
        "seed": seed,
        "truth": "the simulator's change map (truth/changes/change_map.tif)",
    }
    return write_change_folder(
        Path(out_dir),
        pairs,
        pair_maps,
        chip_size=chip_size,
        block=block,
        seed=seed,
        meta=meta,
        where=scene_dir,
    )


@dataclass
class PairMaps:
    """The looked maps of one date pair: dB of both dates ``(pol, L, W)``, coherence and labels ``(L, W)``."""

    before: NDArray[np.float32]
    after: NDArray[np.float32]
    coherence: NDArray[np.float32]
    l2: NDArray[np.int8]
    l3: NDArray[np.int8]
    truth: NDArray[np.int8]


def pair_labels(
    reference_fraction: NDArray[np.floating[Any]],
    i1: NDArray[np.floating[Any]],
    i2: NDArray[np.floating[Any]],
    coherence: NDArray[np.floating[Any]],
    *,
    truth: NDArray[np.int8] | None = None,
    buffer_px: int = 1,
    ratio_db: float = 3.0,
    coherence_max: float = 0.3,
) -> PairMaps:
    """L2 and L3 of one pair on the looked grid (module docstring).

    Parameters
    ----------
    reference_fraction
        ``(L, W)`` share of each looked pixel covered by the reference features dated
        inside the pair; L2 change where it is at least 0.5.
    i1, i2
        ``(pol, L, W)`` looked linear intensities (sigma0) of the two dates.
    coherence
        ``(L, W)`` coherence of the pair.
    truth
        Known change mask (1/0), or None (real data: all -1, unknown).
    """
    from scipy import ndimage

    sm1 = ndimage.uniform_filter(np.asarray(i1, np.float64), size=(1, 3, 3), mode="nearest")
    sm2 = ndimage.uniform_filter(np.asarray(i2, np.float64), size=(1, 3, 3), mode="nearest")
    ratio, anyev = change_evidence(sm1, sm2, coherence, ratio_db, coherence_max)
    l2 = np.asarray(reference_fraction) >= 0.5
    edge = ndimage.binary_dilation(l2, iterations=buffer_px) & ~ndimage.binary_erosion(
        l2, iterations=buffer_px
    )
    L2 = np.where(edge, -1, l2.astype(np.int8)).astype(np.int8)
    L3 = np.full_like(L2, -1)
    L3[(L2 == 1) & anyev] = 1
    L3[(L2 == 0) & ~ratio] = 0
    db = [10 * np.log10(np.maximum(v, 1e-12)).astype(np.float32) for v in (i1, i2)]
    return PairMaps(
        db[0],
        db[1],
        np.asarray(coherence, np.float32),
        L2,
        L3,
        np.full_like(L2, -1) if truth is None else np.asarray(truth, np.int8),
    )


def write_change_folder(
    out: Path,
    pairs: list[tuple[int, int]],
    maps: list[PairMaps],
    *,
    chip_size: int,
    block: int,
    seed: int,
    meta: dict[str, Any],
    where: str | Path,
) -> ChangeChips:
    """Cut the pairs' maps into chips, split them by blocks and write ``chips.npz``, ``maps.npz``, ``labels.json``.

    Raises
    ------
    InputError
        The looked grid holds no chip (``where`` is named).
    """
    from sarbd.dataset.detection_labels import split_blocks
    from sarbd.utils.files import atomic_output

    Ll, Wl = maps[0].l2.shape
    nl, nw = Ll // chip_size, Wl // chip_size
    if nl == 0 or nw == 0:
        raise InputError(f"the looked grid {Ll} x {Wl} holds no {chip_size}-pixel chip", path=where)
    split = split_blocks((nl, nw), block, np.ones((nl, nw), bool), seed)
    out_maps: dict[str, Any] = {}
    rows = []
    counts: dict[str, Any] = {}
    for p, ((i, j), m) in enumerate(zip(pairs, maps, strict=True)):
        out_maps.update(
            {
                f"before_{p}": m.before,
                f"after_{p}": m.after,
                f"coherence_{p}": m.coherence,
                f"l2_{p}": m.l2,
                f"l3_{p}": m.l3,
                f"truth_{p}": m.truth,
            }
        )
        counts[f"{i}-{j}"] = {
            lev: {
                "change": int((v == 1).sum()),
                "no_change": int((v == 0).sum()),
                "ignored": int((v == -1).sum()),
            }
            for lev, v in (("L2", m.l2), ("L3", m.l3), ("truth", m.truth))
        }
        for r in range(nl):
            for c in range(nw):
                sl = (
                    slice(r * chip_size, (r + 1) * chip_size),
                    slice(c * chip_size, (c + 1) * chip_size),
                )
                rows.append(
                    (
                        m.before[(slice(None), *sl)],
                        m.after[(slice(None), *sl)],
                        m.coherence[sl],
                        m.l2[sl],
                        m.l3[sl],
                        m.truth[sl],
                        int(split[r, c]),
                        p,
                        r * chip_size,
                        c * chip_size,
                    )
                )
    cols = list(zip(*rows, strict=True))
    types = (np.float32,) * 3 + (np.int8,) * 3 + (np.int64,) * 4
    chips = ChangeChips(*(np.stack(v).astype(t) for v, t in zip(cols, types, strict=True)))
    out_maps["split"] = np.kron(split, np.ones((chip_size, chip_size), np.int64))
    meta = {**meta, "pixels": counts}
    with atomic_output(Path(out), directory=True) as tmp:
        np.savez_compressed(
            tmp / "chips.npz", **{f: getattr(chips, f) for f in chips.__dataclass_fields__}
        )
        np.savez_compressed(tmp / "maps.npz", **out_maps)
        (tmp / "labels.json").write_text(json.dumps(meta, indent=1))
    return chips


def load_change_dataset(folder: str | Path) -> ChangeChips:
    """Read ``chips.npz`` written by :func:`build_change_dataset`."""
    f = Path(folder) / "chips.npz"
    if not f.is_file():
        raise InputError("not a change label folder (no chips.npz)", path=folder)
    with np.load(f) as z:
        return ChangeChips(*(z[k] for k in ChangeChips.__dataclass_fields__))
