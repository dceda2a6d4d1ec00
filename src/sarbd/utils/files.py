"""Atomic output: write to a temporary name next to the target, rename into place.

An interrupted run therefore never leaves a half-written file or folder where a
finished one is expected, and a failed write (disk full, read-only folder) leaves
the previous output as it was.

sarbd never removes or replaces what it did not create:

* a file output replaces only a regular file (never a folder, a link or a device);
* a folder output replaces only an empty folder or one that sarbd wrote, which
  carries the marker file :data:`MARKER` (written into every folder made here), or, for a
  Zarr v2 store, the root attribute :data:`ZARR_CLAIM`;
* anything else at the target is an :class:`~sarbd.errors.OutputError`, raised
  before any work is done.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sarbd.errors import OutputError

__all__ = [
    "MARKER",
    "ZARR_CLAIM",
    "atomic_output",
    "check_replaceable",
    "claim_folder",
    "is_environment_error",
    "is_sarbd_folder",
    "output_error",
]

#: Marker file inside every folder :func:`atomic_output` writes: "sarbd created this, it may replace it".
MARKER = ".sarbd-output"

#: errno values that mean "the environment refuses the write", not a bug
_ENVIRONMENT_ERRNOS = {
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EFBIG: "file too large for the file system or the process's file-size limit",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def is_environment_error(exc: BaseException) -> bool:
    """Whether ``exc`` is an OS refusal to write (disk full, quota, read-only, permissions)."""
    return isinstance(exc, OSError) and exc.errno in _ENVIRONMENT_ERRNOS


def output_error(exc: OSError, target: str | os.PathLike[str]) -> OutputError:
    """The one-line :class:`OutputError` for an OS refusal to write ``target``."""
    what = _ENVIRONMENT_ERRNOS.get(exc.errno or -1, exc.strerror or str(exc))
    where = exc.filename if exc.filename else target
    return OutputError(
        f"cannot write the output: {what}",
        path=where,
        hint="free some space or choose another output folder; the previous output is unchanged",
    )


#: Root attribute of a Zarr v2 store that carries the claim instead of :data:`MARKER` (a file
#: zarr-python does not know would be reported as "not recognized" on every unconsolidated open).
ZARR_CLAIM = "sarbd_output"


def is_sarbd_folder(path: str | os.PathLike[str]) -> bool:
    """Whether sarbd wrote the folder ``path``: it holds :data:`MARKER`, or it is a Zarr v2
    store whose root attributes carry :data:`ZARR_CLAIM`."""
    p = Path(path)
    if (p / MARKER).is_file():
        return True
    try:
        attrs = json.loads((p / ".zattrs").read_text()) if (p / ".zgroup").is_file() else {}
    except (OSError, ValueError):
        return False
    return isinstance(attrs, dict) and ZARR_CLAIM in attrs


def _replace_json(path: Path, value: object) -> None:
    """Write ``value`` as JSON into a new file at ``path`` (renamed over it: a hard-linked
    original, e.g. a stage-cache file, is left untouched)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    tmp.write_text(json.dumps(value, indent=4, sort_keys=True) + "\n")
    os.replace(tmp, path)


def _mark(folder: Path, claim: dict[str, str]) -> None:
    """Claim a finished folder: a Zarr v2 store in its root attributes (and its consolidated
    metadata, kept consistent), any other folder with the :data:`MARKER` file."""
    if not (folder / ".zgroup").is_file():
        (folder / MARKER).write_text(json.dumps(claim) + "\n")
        return
    attrs_file = folder / ".zattrs"
    attrs = json.loads(attrs_file.read_text()) if attrs_file.is_file() else {}
    attrs[ZARR_CLAIM] = json.dumps(claim)  # a string: attributes stay netCDF-writable
    _replace_json(attrs_file, attrs)
    consolidated = folder / ".zmetadata"
    if consolidated.is_file():
        meta = json.loads(consolidated.read_text())
        meta.setdefault("metadata", {})[".zattrs"] = attrs
        _replace_json(consolidated, meta)


def check_replaceable(target: str | os.PathLike[str], *, directory: bool) -> None:
    """Raise :class:`OutputError` unless ``target`` is absent or may be replaced by a new output.

    Parameters
    ----------
    target
        The output path.
    directory
        Whether the new output is a folder.
    """
    p = Path(target)
    if p.is_symlink():
        raise OutputError(
            "exists and is a symbolic link; sarbd does not replace links",
            path=p,
            hint="remove it or choose another output name",
        )
    if not p.exists():
        return
    if directory:
        if not p.is_dir():
            raise OutputError(
                "exists and is not a folder; a folder output would replace it",
                path=p,
                hint="remove it or choose another output name",
            )
        if is_sarbd_folder(p) or not any(p.iterdir()):
            return
        raise OutputError(
            "exists and holds files sarbd did not write; it is not replaced",
            path=p,
            hint="remove it yourself or choose another output name",
        )
    if p.is_dir():
        raise OutputError(
            "exists and is a folder; sarbd writes a file here and never replaces a folder",
            path=p,
            hint="choose a file name (e.g. with the right suffix) or remove the folder",
        )
    if not p.is_file():
        raise OutputError(
            "exists and is not a regular file", path=p, hint="choose another output name"
        )


def claim_folder(
    path: str | os.PathLike[str], *, accept: tuple[str, ...] = (), what: str = "output folder"
) -> Path:
    """Create ``path`` as a folder sarbd writes into, or accept it if sarbd made it.

    An existing folder is accepted when it is empty, carries :data:`MARKER`, or holds one
    of the entries named in ``accept`` (what older sarbd versions left there); anything
    else is an :class:`OutputError`: sarbd does not write into folders it did not create.
    """
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OutputError(
            f"exists and is a file, the {what} was expected here",
            path=p,
            hint="choose another output folder",
        )
    if (
        p.is_dir()
        and any(p.iterdir())
        and not is_sarbd_folder(p)
        and not any((p / name).exists() for name in accept)
    ):
        raise OutputError(
            f"exists and is not a sarbd {what}; sarbd does not write into it",
            path=p,
            hint="choose a new or empty output folder",
        )
    try:
        p.mkdir(parents=True, exist_ok=True)
        if not (p / MARKER).exists():
            (p / MARKER).write_text(json.dumps({"written_by": "sarbd", "kind": what}) + "\n")
    except OSError as exc:
        if is_environment_error(exc):
            raise output_error(exc, p) from None
        raise
    return p


@contextlib.contextmanager
def atomic_output(target: str | os.PathLike[str], *, directory: bool = False) -> Iterator[Path]:
    """Yield a temporary path; on success move it to ``target`` (replacing it), else remove it.

    Parameters
    ----------
    target
        Final file or folder path.
    directory
        If true, the temporary path is a fresh empty folder (for Zarr stores, SAFE folders).

    Raises
    ------
    OutputError
        ``target`` holds something sarbd may not replace (see the module docstring), or
        the OS refused a write (disk full, quota, read-only, permissions). Either way the
        previous ``target`` is left as it was and no temporary file remains.
    """
    target = Path(target)
    check_replaceable(target, directory=directory)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if directory:
            tmp = Path(
                tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            )
        else:
            fd, name = tempfile.mkstemp(
                prefix=f".{target.name}.", suffix=".tmp" + target.suffix, dir=target.parent
            )
            os.close(fd)
            tmp = Path(name)
    except OSError as exc:
        if is_environment_error(exc):
            raise output_error(exc, target) from None
        raise
    try:
        yield tmp
        if directory:
            _mark(tmp, {"written_by": "sarbd", "name": target.name})
        # mkstemp/mkdtemp create private (0600/0700) entries; outputs get the usual umask-based modes
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, (0o777 if tmp.is_dir() else 0o666) & ~umask)
        check_replaceable(target, directory=directory)  # something may have appeared meanwhile
        if directory and target.is_dir():
            # swap by renames, so the target is never missing nor half-deleted
            trash = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old.tmp")
            os.replace(target, trash)
            os.replace(tmp, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)  # atomic over an existing file
    except BaseException as exc:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if is_environment_error(exc):
            raise output_error(exc, target) from None  # type: ignore[arg-type]
        raise
