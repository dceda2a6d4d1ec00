"""How the export stage puts a dataset in place: staged beside it, swapped in by renames.

Everything the export writes goes to a staging folder ``.sarbd-export-*`` inside the
dataset folder first; :func:`swap_into` then moves each entry into place by a rename,
so a failed export (disk full, read-only, killed) leaves the previous dataset as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from sarbd.utils.files import MARKER

__all__ = ["EXPORTED", "EXPORT_STAGING", "remove_stale_staging", "swap_into"]

#: name prefix of the export's staging and trash folders inside the dataset folder
EXPORT_STAGING = ".sarbd-export-"
#: top-level entries of the dataset folder written by the last export (for removing unselected formats)
EXPORTED = ".sarbd-exported.json"


def remove_stale_staging(out: Path) -> None:
    """Remove the staging folders a killed export left in ``out``."""
    for stale in out.glob(f"{EXPORT_STAGING}*"):
        shutil.rmtree(stale, ignore_errors=True)


def swap_into(staging: Path, out: Path, keep: tuple[str, ...] = ()) -> None:
    """Move every entry of ``staging`` into ``out`` by renames; previous entries go to a trash folder.

    Entries the previous export wrote (listed in :data:`EXPORTED`) that this one did not
    (an output format no longer selected) are removed too, except ``keep`` (the cache
    folder) and sarbd's own marker files; nothing else in ``out`` is touched.
    """
    new = sorted(p.name for p in staging.iterdir())
    try:
        previous = set(json.loads((out / EXPORTED).read_text()))
    except (OSError, ValueError, TypeError):
        previous = set()
    trash = Path(tempfile.mkdtemp(prefix=f"{EXPORT_STAGING}old-", dir=out))
    try:
        for name in new:
            if (out / name).exists() or (out / name).is_symlink():
                os.replace(out / name, trash / name)
            os.replace(staging / name, out / name)
        for name in sorted(previous - set(new) - {*keep, MARKER, EXPORTED}):
            if "/" not in name and ((out / name).exists() or (out / name).is_symlink()):
                os.replace(out / name, trash / name)
        (out / EXPORTED).write_text(json.dumps(new) + "\n")
    finally:
        shutil.rmtree(trash, ignore_errors=True)
