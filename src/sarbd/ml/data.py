"""Reading a SARbd dataset folder for machine learning (the contract is ``docs/formats.md``).

Everything here reads lazily: ``dataset.zarr`` is opened without loading, the
label/split rasters (uint8) are read whole, and signature values are read by row
blocks (:class:`WindowReader`) or windows, so memory stays bounded by one block of
all features.

Features are the dataset's signature variables (those carrying ``sarbd_category``),
minus the reference geodata: ``fraction_<class>`` and category-3 signatures (inherited
from other geodata, ``sarbd.signatures.registry.CATEGORIES``) are, or may be, the label
source and would leak it. A per-date signature ``var(time, line, pixel)`` gives one feature per
date, named ``<var>_<YYYYMMDD>`` (``<var>_t<i>`` when two dates share a day); a
temporal signature ``var(line, pixel)`` gives one feature named ``<var>``. The pixel
table ``tables/pixels.parquet`` uses the same column names.

Feature sets (:data:`FEATURE_SETS`): ``"all"`` is every feature; ``"temporal"`` keeps the
signatures without a time dimension (temporal statistics such as mean backscatter in
dB, coefficient of variation, amplitude dispersion, mean coherence). Those do not depend
on the number or the dates of the acquisitions, so a model trained on one stack applies
to another, and they are a tenth of the per-date columns; the baselines use them by default.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xarray as xr

from sarbd.errors import InputError

__all__ = [
    "FEATURE_SETS",
    "LEVELS",
    "SPLIT_NAMES",
    "SPLIT_TEST",
    "SPLIT_TRAIN",
    "SPLIT_UNASSIGNED",
    "SPLIT_VALIDATION",
    "ClassInfo",
    "FeatureRef",
    "Pixels",
    "SarbdData",
    "WindowReader",
    "chip_windows",
    "open_sarbd",
]

SPLIT_UNASSIGNED, SPLIT_TRAIN, SPLIT_VALIDATION, SPLIT_TEST = 0, 1, 2, 3
SPLIT_NAMES = {0: "unassigned", 1: "train", 2: "validation", 3: "test"}
LEVELS = ("L1", "L2", "L3")

#: named feature sets (module docstring)
FEATURE_SETS = ("all", "temporal")

#: signature categories never used as model inputs (3 = inherited from reference geodata)
EXCLUDED_CATEGORIES = frozenset({"3"})

#: names of classes never used as the headline (reported per class, left out of macro averages)
BACKGROUND_NAMES = frozenset(
    {"background", "unlabelled", "unlabeled", "undefined", "none", "nodata", "other"}
)


@dataclass(frozen=True)
class ClassInfo:
    """The classes of one SARbd level: ids as stored (1..255, 0 = unlabelled) and names."""

    ids: tuple[int, ...]
    names: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.ids)

    def lookup(self) -> np.ndarray:
        """A 256-entry table id -> class index (0..n-1), -1 for unlabelled/unknown ids."""
        table = np.full(256, -1, np.int64)
        table[list(self.ids)] = np.arange(self.n)
        return table

    def headline_ids(self) -> tuple[int, ...]:
        """Class ids averaged in the headline metrics: every class except background-like ones."""
        keep = tuple(
            i
            for i, n in zip(self.ids, self.names, strict=True)
            if n.lower() not in BACKGROUND_NAMES
        )
        return keep or self.ids

    def to_dict(self) -> dict[str, list]:
        return {"ids": list(self.ids), "names": list(self.names)}

    @classmethod
    def from_dict(cls, d: dict) -> ClassInfo:
        return cls(tuple(int(i) for i in d["ids"]), tuple(str(n) for n in d["names"]))


@dataclass(frozen=True)
class FeatureRef:
    """One model input: variable ``var`` of ``dataset.zarr`` at time index ``t`` (None: no time dim)."""

    name: str
    var: str
    t: int | None = None


@dataclass
class Pixels:
    """A set of pixels with their raw (un-normalised) feature vectors and labels.

    ``rows``/``cols`` are array positions in ``dataset.zarr``; ``line``/``pixel`` the
    absolute root-grid coordinates; ``labels`` the class ids (uint8) at the level read.
    """

    X: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    line: np.ndarray
    pixel: np.ndarray
    split: np.ndarray
    features: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.labels.size)

    def subset(self, index: np.ndarray) -> Pixels:
        return Pixels(
            self.X[index],
            self.labels[index],
            self.rows[index],
            self.cols[index],
            self.line[index],
            self.pixel[index],
            self.split[index],
            list(self.features),
        )


def _zarr_path(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """(dataset folder, dataset.zarr) from either of them."""
    p = Path(path)
    if p.suffix == ".zarr":
        return p.parent, p
    return p, p / "dataset.zarr"


def _level_var(level: str) -> str:
    lv = level.upper()
    if lv not in LEVELS:
        raise InputError(f"unknown SARbd level {level!r}", hint="use one of L1, L2, L3")
    return f"label_{lv.lower()}"


class SarbdData:
    """A SARbd dataset folder opened for ML: classes, features, labels, split, lazy signatures.

    Parameters
    ----------
    path
        The dataset folder (holding ``dataset.zarr``) or the ``dataset.zarr`` store itself.
    features
        Feature names to use, or a named set (``"all"``, ``"temporal"``; see the module
        docstring); default: every signature.
    """

    def __init__(
        self, path: str | os.PathLike[str], features: Sequence[str] | str | None = None
    ) -> None:
        self.root, self.zarr = _zarr_path(path)
        if not self.zarr.exists():
            raise InputError(
                "no dataset.zarr found",
                path=self.zarr,
                hint="give a SARbd dataset folder written by `sarbd build`",
            )
        try:
            # chunks=None + cache=False: lazily indexed arrays, only the slices asked for are read
            with warnings.catch_warnings():  # a store without consolidated metadata is fine
                warnings.filterwarnings("ignore", message=".*consolidated metadata.*")
                self.ds = xr.open_dataset(self.zarr, engine="zarr", chunks=None, cache=False)
        except Exception as exc:  # zarr raises many kinds; the user needs one line
            raise InputError(f"cannot open the Zarr store ({exc})", path=self.zarr) from exc
        for var in ("split", "line", "pixel"):
            if var not in self.ds.variables:
                raise InputError(
                    f"dataset.zarr has no {var!r}", path=self.zarr, hint="see docs/formats.md"
                )
        self.line = np.asarray(self.ds["line"].values, np.int64)
        self.pixel = np.asarray(self.ds["pixel"].values, np.int64)
        self.shape = (self.line.size, self.pixel.size)
        all_refs = self._signature_features()
        if features is None or features == "all":
            self.features = all_refs
        elif features == "temporal":
            self.features = [f for f in all_refs if f.t is None]
        elif isinstance(features, str):
            raise InputError(
                f"unknown feature set {features!r}",
                hint=f"use {' or '.join(FEATURE_SETS)}, or a list of feature names",
            )
        else:
            by_name = {f.name: f for f in all_refs}
            missing = [n for n in features if n not in by_name]
            if missing:
                raise InputError(
                    f"features not in the dataset: {', '.join(missing)}",
                    path=self.zarr,
                    hint=f"available: {', '.join(by_name)}",
                )
            self.features = [by_name[n] for n in features]
        if not self.features:
            if all_refs:
                raise InputError(
                    f"dataset.zarr holds no {features} signatures",
                    path=self.zarr,
                    hint="use features='all' (--features all)",
                )
            raise InputError(
                "dataset.zarr holds no signature variables (sarbd_category)", path=self.zarr
            )
        self._split: np.ndarray | None = None
        self._labels: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ metadata
    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    def _signature_features(self) -> list[FeatureRef]:
        refs: list[FeatureRef] = []
        for name in sorted(str(v) for v in self.ds.data_vars):
            da = self.ds[name]
            if "sarbd_category" not in da.attrs or name.startswith("fraction_"):
                continue
            if str(da.attrs["sarbd_category"]) in EXCLUDED_CATEGORIES:
                continue
            if da.dims[-2:] != ("line", "pixel") or da.ndim not in (2, 3):
                continue
            if not np.issubdtype(da.dtype, np.floating) and not np.issubdtype(da.dtype, np.integer):
                continue  # complex or string layers are not model inputs
            if da.ndim == 2:
                refs.append(FeatureRef(name, name))
                continue
            days = np.datetime_as_string(np.asarray(da["time"].values, "datetime64[ns]"), unit="D")
            tags = [d.replace("-", "") for d in days]
            if len(set(tags)) != len(tags):
                tags = [f"t{i}" for i in range(len(tags))]
            # dates where the layer is undefined (reference-date coherence/phase: NaN, see
            # sarbd.dataset.assemble.mask_undefined_dates) are not features
            undefined = set(str(da.attrs.get("sarbd_undefined_dates", "")).split())
            refs.extend(
                FeatureRef(f"{name}_{tag}", name, i)
                for i, tag in enumerate(tags)
                if days[i] not in undefined
            )
        return refs

    def classes(self, level: str) -> ClassInfo:
        """Classes of ``level`` from the label variable's ``flag_values``/``flag_meanings``
        (0 = unlabelled is dropped if listed), else from the ``sarbd_classes`` global attribute."""
        var = _level_var(level)
        if var not in self.ds:
            raise InputError(f"dataset.zarr has no {var}", path=self.zarr)
        attrs = self.ds[var].attrs
        if "flag_values" in attrs and "flag_meanings" in attrs:
            values = [int(v) for v in np.atleast_1d(attrs["flag_values"])]
            names = str(attrs["flag_meanings"]).split()
            if len(values) != len(names):
                raise InputError(
                    f"{var}: flag_values and flag_meanings differ in length", path=self.zarr
                )
            pairs = [(v, n) for v, n in zip(values, names, strict=True) if v != 0]
        elif "sarbd_classes" in self.ds.attrs:
            pairs = [
                (int(c["id"]), str(c["name"])) for c in json.loads(self.ds.attrs["sarbd_classes"])
            ]
        else:
            raise InputError(f"{var} lists no classes (flag_values/flag_meanings)", path=self.zarr)
        pairs.sort()
        return ClassInfo(tuple(v for v, _ in pairs), tuple(n for _, n in pairs))

    def labels(self, level: str) -> np.ndarray:
        """Class ids (uint8, 0 unlabelled) of ``level`` over the whole scene."""
        var = _level_var(level)
        if var not in self._labels:
            if var not in self.ds:
                raise InputError(f"dataset.zarr has no {var}", path=self.zarr)
            self._labels[var] = np.asarray(self.ds[var].values, np.uint8)
        return self._labels[var]

    def split(self) -> np.ndarray:
        """Split codes (uint8: 0 unassigned, 1 train, 2 validation, 3 test) over the whole scene."""
        if self._split is None:
            self._split = np.asarray(self.ds["split"].values, np.uint8)
        return self._split

    def positions(self, line: np.ndarray, pixel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Array positions of absolute (line, pixel) coordinates; error if any is outside the scene."""
        rows = np.searchsorted(self.line, line)
        cols = np.searchsorted(self.pixel, pixel)
        ok = (rows < self.line.size) & (cols < self.pixel.size)
        ok[ok] &= (self.line[rows[ok]] == line[ok]) & (self.pixel[cols[ok]] == pixel[ok])
        if not ok.all():
            raise InputError(
                f"{int((~ok).sum())} (line, pixel) coordinates lie outside dataset.zarr",
                path=self.zarr,
            )
        return rows, cols

    def reader(self, block_lines: int = 256) -> WindowReader:
        return WindowReader(self.ds, self.features, block_lines=block_lines)

    # ------------------------------------------------------------------ pixels
    def pixels(
        self,
        level: str,
        mask: np.ndarray | None = None,
        *,
        splits: Sequence[int] | None = None,
        source: str = "zarr",
    ) -> Pixels:
        """Labelled pixels of ``level`` (label != 0) with their raw feature vectors.

        Parameters
        ----------
        level
            ``L1``, ``L2`` or ``L3``.
        mask
            Optional boolean (line, pixel) mask further restricting the pixels.
        splits
            Keep pixels of these split codes only (default: all, unassigned included).
        source
            ``"zarr"`` (default) or ``"parquet"`` (``tables/pixels.parquet``, whose
            columns must carry the feature names).
        """
        labels = self.labels(level)
        keep = labels > 0
        if splits is not None:
            keep &= np.isin(self.split(), np.asarray(list(splits), np.uint8))
        if mask is not None:
            keep &= mask
        rows, cols = np.nonzero(keep)
        if source == "zarr":
            X = self.reader().gather(rows, cols)
        elif source == "parquet":
            X = self._parquet_features(rows, cols)
        else:
            raise InputError(f"unknown pixel source {source!r}", hint="use zarr or parquet")
        return Pixels(
            X,
            labels[rows, cols],
            rows,
            cols,
            self.line[rows],
            self.pixel[cols],
            self.split()[rows, cols],
            self.feature_names,
        )

    def _parquet_features(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        import pyarrow.parquet as pq

        path = self.root / "tables" / "pixels.parquet"
        if not path.exists():
            raise InputError("no pixel table", path=path, hint="use source='zarr'")
        names = self.feature_names
        schema = pq.read_schema(path)
        missing = [n for n in names if n not in schema.names]
        if missing:
            raise InputError(
                f"pixel table lacks feature columns {', '.join(missing[:5])}",
                path=path,
                hint="read the features from the Zarr store (source='zarr')",
            )
        table = pq.read_table(path, columns=["line", "pixel", *names]).to_pandas()
        trow, tcol = self.positions(
            table["line"].to_numpy(np.int64), table["pixel"].to_numpy(np.int64)
        )
        key = trow.astype(np.int64) * self.shape[1] + tcol
        want = rows.astype(np.int64) * self.shape[1] + cols
        order = np.argsort(key)
        where = np.searchsorted(key[order], want)
        where = np.minimum(where, key.size - 1)
        found = key[order][where] == want
        if not found.all():
            raise InputError(
                f"{int((~found).sum())} labelled pixels are missing from the pixel table", path=path
            )
        values = table[names].to_numpy(np.float32)
        return np.ascontiguousarray(values[order[where]])


class WindowReader:
    """Read raw feature values by windows or by row blocks from a lazily opened dataset.

    ``read(r0, r1, c0, c1)`` returns ``(F, r1-r0, c1-c0)`` float32 for array positions;
    ``gather(rows, cols)`` returns ``(n, F)`` for scattered pixels, reading only the row
    blocks that hold them. Non-finite values become NaN.
    """

    def __init__(
        self, ds: xr.Dataset, features: Sequence[FeatureRef], block_lines: int = 256
    ) -> None:
        self.ds = ds
        self.features = list(features)
        self.block_lines = max(1, int(block_lines))
        self.shape = (ds.sizes["line"], ds.sizes["pixel"])

    def read(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        out = np.empty((len(self.features), r1 - r0, c1 - c0), np.float32)
        cache: dict[str, np.ndarray] = {}
        for k, f in enumerate(self.features):
            if f.var not in cache:
                cache[f.var] = np.asarray(
                    self.ds[f.var].isel(line=slice(r0, r1), pixel=slice(c0, c1)).values, np.float32
                )
            block = cache[f.var]
            out[k] = block if f.t is None else block[f.t]
        out[~np.isfinite(out)] = np.nan
        return out

    def blocks(self) -> list[tuple[int, int]]:
        n = self.shape[0]
        return [(r, min(r + self.block_lines, n)) for r in range(0, n, self.block_lines)]

    def gather(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        X = np.empty((rows.size, len(self.features)), np.float32)
        for r0, r1 in self.blocks():
            sel = np.nonzero((rows >= r0) & (rows < r1))[0]
            if sel.size == 0:
                continue
            block = self.read(r0, r1, 0, self.shape[1])
            X[sel] = block[:, rows[sel] - r0, cols[sel]].T
        return X


def chip_windows(
    data: SarbdData, size: int | None = None
) -> tuple[int, list[tuple[int, int, int]]]:
    """Chip windows ``(row0, col0, split)`` (array positions) from ``chips/chips_<size>.parquet``.

    ``line0``/``pixel0`` in the chip index are absolute coordinates, like every
    ``line``/``pixel`` in the dataset; ``split`` is the split code (0-3) or its name
    (``unassigned``, ``train``, ``validation``, ``test``), the contract names no type.
    ``size`` picks the chip index (default: the smallest present). Returns ``(size, windows)``
    with integer split codes.
    """
    import pandas as pd

    folder = data.root / "chips"
    found = sorted(
        (int(p.stem.split("_", 1)[1]), p)
        for p in folder.glob("chips_*.parquet")
        if p.stem.split("_", 1)[1].isdigit()
    )
    if size is not None:
        found = [(s, p) for s, p in found if s == size]
    if not found:
        raise InputError(
            f"no chip index{'' if size is None else f' for size {size}'}",
            path=folder,
            hint="build the dataset with chips, or give --chip-size matching chips/chips_<size>.parquet",
        )
    size, path = found[0]
    df = pd.read_parquet(path, columns=["line0", "pixel0", "size", "split"])
    codes = _split_codes(df["split"].to_numpy(), path)
    rows, cols = data.positions(df["line0"].to_numpy(np.int64), df["pixel0"].to_numpy(np.int64))
    ok = (rows + size <= data.shape[0]) & (cols + size <= data.shape[1])
    if not ok.all():
        raise InputError(f"{int((~ok).sum())} chips extend beyond the scene", path=path)
    return size, [(int(r), int(c), int(s)) for r, c, s in zip(rows, cols, codes, strict=True)]


def _split_codes(values: np.ndarray, path: Path) -> np.ndarray:
    """Split column of a chip index (codes or names) -> uint8 codes."""
    if np.issubdtype(values.dtype, np.integer):
        return values.astype(np.uint8)
    by_name = {n: c for c, n in SPLIT_NAMES.items()} | {
        "val": SPLIT_VALIDATION,
        "validate": SPLIT_VALIDATION,
    }
    try:
        return np.array(
            [by_name[str(v).lower()] if not str(v).isdigit() else int(v) for v in values], np.uint8
        )
    except KeyError as exc:
        raise InputError(
            f"unknown split {exc.args[0]!r} in the chip index",
            path=path,
            hint=f"use codes 0-3 or {', '.join(SPLIT_NAMES.values())}",
        ) from exc


def open_sarbd(
    path: str | os.PathLike[str], features: Sequence[str] | str | None = None
) -> SarbdData:
    """Open a SARbd dataset folder (or its ``dataset.zarr``) for ML."""
    return SarbdData(path, features)
