"""Class lists and the CF flag attributes of label rasters.

A class list is a sequence of ``{"id": int, "name": str}`` with ids 1..255 (0 is
"unlabelled"); names are CF-safe words (letters, digits, ``_``), because they become
``flag_meanings`` and ``fraction_<name>`` variable names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np
import xarray as xr

from sarbd.errors import ConfigError

__all__ = [
    "CLASS_COLOURS",
    "QUALITY_FLAGS",
    "SPLIT_NAMES",
    "check_classes",
    "class_colour",
    "class_counts",
    "classes_from_attrs",
    "label_attrs",
    "quality_flag_attrs",
    "split_attrs",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

#: Bit flags of ``quality_flags`` (docs/formats.md): why a pixel is not SARbd-L3.
QUALITY_FLAGS: dict[str, int] = {
    "no_reference": 1,
    "mixed": 2,
    "boundary_buffer": 4,
    "layover": 8,
    "shadow": 16,
    "sar_outlier": 32,
    "invalid_signature": 64,
    "region_outlier": 128,
    "border": 256,
}

#: Colours of class ids 1, 2, ... (cycled); 0 (unlabelled) is light grey. Shared by the
#: report's maps and the colour tables of the label COGs.
CLASS_COLOURS: tuple[str, ...] = (
    "#d62728",  # building: red
    "#7f7f7f",  # road: grey
    "#8c564b",  # railway: brown
    "#1f77b4",  # water: blue
    "#2ca02c",  # vegetation: green
    "#bcbd22",  # field: olive
    "#e7ba52",  # bare: sand
    "#9467bd",
    "#17becf",
    "#ff7f0e",
)


def class_colour(class_id: int) -> str:
    """``#rrggbb`` of a class id (0: unlabelled, light grey)."""
    return "#eeeeee" if class_id == 0 else CLASS_COLOURS[(class_id - 1) % len(CLASS_COLOURS)]


#: Values of the ``split`` raster.
SPLIT_NAMES: dict[int, str] = {0: "unassigned", 1: "train", 2: "validation", 3: "test"}


def check_classes(classes: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Validate a class list and return it as plain dicts sorted by id."""
    out = []
    for c in classes:
        try:
            cid, name = int(c["id"]), str(c["name"])
        except (KeyError, TypeError, ValueError):
            raise ConfigError(f"class entry {c!r} needs an integer 'id' and a 'name'") from None
        if not 1 <= cid <= 255:
            raise ConfigError(f"class {name!r}: id {cid} is outside 1..255 (0 means unlabelled)")
        if not _NAME.match(name):
            raise ConfigError(f"class name {name!r} must be a word of letters, digits and '_'")
        out.append({"id": cid, "name": name})
    if not out:
        raise ConfigError("the class list is empty")
    if len({c["id"] for c in out}) != len(out) or len({c["name"] for c in out}) != len(out):
        raise ConfigError("class ids and names must be unique")
    return sorted(out, key=lambda c: c["id"])


def classes_from_attrs(attrs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The class list stored in a dataset's ``sarbd_classes`` attribute (JSON)."""
    if "sarbd_classes" not in attrs:
        raise ConfigError("dataset has no 'sarbd_classes' attribute")
    return check_classes(json.loads(str(attrs["sarbd_classes"])))


def label_attrs(
    classes: Sequence[Mapping[str, Any]], level: str, description: str
) -> dict[str, Any]:
    """CF attributes of a label raster (``flag_values`` / ``flag_meanings``)."""
    classes = check_classes(classes)
    return {
        "long_name": f"SARbd-{level} class label",
        "units": "1",
        "flag_values": np.array([0] + [c["id"] for c in classes], np.uint8),
        "flag_meanings": " ".join(["unlabelled"] + [c["name"] for c in classes]),
        "sarbd_level": level,
        "comment": description,
    }


def quality_flag_attrs() -> dict[str, Any]:
    """CF attributes of ``quality_flags`` (``flag_masks`` / ``flag_meanings``)."""
    return {
        "long_name": "reasons a pixel is not SARbd-L3",
        "units": "1",
        "flag_masks": np.array(list(QUALITY_FLAGS.values()), np.uint16),
        "flag_meanings": " ".join(QUALITY_FLAGS),
    }


def split_attrs() -> dict[str, Any]:
    """CF attributes of the ``split`` raster."""
    return {
        "long_name": "spatially blocked data split",
        "units": "1",
        "flag_values": np.array(list(SPLIT_NAMES), np.uint8),
        "flag_meanings": " ".join(SPLIT_NAMES.values()),
    }


def class_counts(labels: xr.DataArray, classes: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    """Number of pixels per class name (and ``unlabelled``) in a label raster."""
    classes = check_classes(classes)
    data = labels.data
    if isinstance(data, da.Array):  # block by block
        counts = np.asarray(da.bincount(data.astype(np.int64).ravel(), minlength=256).compute())
    else:
        counts = np.bincount(np.asarray(data, dtype=np.int64).ravel(), minlength=256)
    out = {"unlabelled": int(counts[0])}
    out.update({c["name"]: int(counts[c["id"]]) for c in classes})
    return out
