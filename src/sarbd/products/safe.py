"""Access to the files of a Sentinel-1 SAFE product, zipped or unpacked, through one interface."""

from __future__ import annotations

import os
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from sarbd.errors import InputError, ProductError
from sarbd.products import s1_xml as X

__all__ = ["SafeFiles", "SwathFiles", "check_member_name", "open_safe_files"]

_STEM = re.compile(X.FILE_STEM_PATTERN)

#: what the zipfile module raises on damaged members (bad CRC-32, bad deflate stream, truncation)
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)
_STREAM_BLOCK = 1 << 20
#: zip members whose CRC-32 this process has checked: (path, size, mtime_ns, inode, member)
_VERIFIED: set[tuple[str, int, int, int, str]] = set()


def _member_error(safe: SafeFiles, member: str, exc: BaseException) -> ProductError:
    what = (
        "its CRC-32 does not match (corrupt data)"
        if "CRC" in str(exc)
        else f"{type(exc).__name__}: {exc}"
    )
    return ProductError(
        f"zip member {safe.prefix}{member} is damaged ({what})",
        path=safe.path,
        hint="the zip file is corrupt; download the product again",
    )


def check_member_name(name: str, path: Path) -> None:
    """Refuse a zip member name that is absolute or climbs out of the archive (``../``)."""
    parts = name.replace("\\", "/").split("/")
    if (
        name.startswith(("/", "\\"))
        or re.match(r"[A-Za-z]:", name)
        or ".." in parts
        or "\0" in name
    ):
        raise ProductError(
            f"zip member name {name!r} is absolute or leaves the archive (../)",
            path=path,
            hint="the zip file is not a genuine SAFE product; it is refused for safety",
        )


@dataclass(frozen=True)
class SwathFiles:
    """Member names (relative to the SAFE root) of one swath's files, per polarisation."""

    swath: str
    annotation: dict[str, str] = field(default_factory=dict)
    calibration: dict[str, str] = field(default_factory=dict)
    noise: dict[str, str] = field(default_factory=dict)
    measurement: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SafeFiles:
    """A SAFE product: ``path`` (zip or folder), its name, and the members inside it."""

    path: Path
    name: str
    is_zip: bool
    prefix: str  # "NAME.SAFE/" inside a zip, "" for a folder
    members: frozenset[str]

    def exists(self, member: str) -> bool:
        return member in self.members

    def read_bytes(self, member: str) -> bytes:
        """The bytes of a member (path relative to the SAFE root); a zip member's CRC-32 is checked."""
        if member not in self.members:
            raise ProductError(f"{member} is missing from the product", path=self.path)
        if self.is_zip:
            try:
                with zipfile.ZipFile(self.path) as zf:
                    # ZipFile.read checks the CRC-32 of the whole member against the directory
                    return zf.read(self.prefix + member)
            except _ZIP_ERRORS as exc:
                raise _member_error(self, member, exc) from None
        try:
            return (self.path / member).read_bytes()
        except OSError as exc:
            raise ProductError(
                f"cannot read the file ({exc.strerror})", path=self.path / member
            ) from None

    def verify_member(self, member: str) -> None:
        """Check a zip member's CRC-32 by streaming it once (no copy on disk, constant memory).

        Members read partially later (measurement TIFFs, through GDAL ``/vsizip/``) cannot
        have their CRC checked on the strips read, so the whole member is checked once per
        process and file identity (path, size, modification time, inode): a changed zip
        is checked again. Does nothing for unpacked SAFE folders.
        """
        if not self.is_zip:
            return
        st = self.path.stat()
        key = (str(self.path.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, member)
        if key in _VERIFIED:
            return
        try:
            with zipfile.ZipFile(self.path) as zf, zf.open(self.prefix + member) as f:
                # ZipExtFile compares the running CRC-32 with the directory's at the end of the member
                while f.read(_STREAM_BLOCK):
                    pass
        except _ZIP_ERRORS as exc:
            raise _member_error(self, member, exc) from None
        _VERIFIED.add(key)

    def display(self, member: str) -> str:
        """A path naming the member for messages."""
        return f"{self.path}/{self.prefix}{member}" if self.is_zip else str(self.path / member)

    def raster_path(self, member: str) -> str:
        """A path GDAL can open (``/vsizip/`` inside a zip)."""
        if self.is_zip:
            return f"/vsizip/{self.path.resolve()}/{self.prefix}{member}"
        return str((self.path / member).resolve())

    def swaths(self) -> dict[str, SwathFiles]:
        """The swaths that have product annotations, in name order, with their files."""
        out: dict[str, SwathFiles] = {}
        for member in sorted(self.members):
            folder, _, name = member.rpartition("/")
            if folder != X.ANNOTATION_DIR or not name.endswith(".xml"):
                continue
            m = _STEM.fullmatch(name[:-4])
            if m is None:
                continue
            stem = name[:-4]
            swath, pol = m["swath"].upper(), m["pol"].upper()
            files = out.setdefault(swath, SwathFiles(swath))
            files.annotation[pol] = member
            for kind, target in (("calibration", files.calibration), ("noise", files.noise)):
                cand = f"{X.CALIBRATION_DIR}/{kind}-{stem}.xml"
                if cand in self.members:
                    target[pol] = cand
            for ext in (".tiff", ".tif"):
                cand = f"{X.MEASUREMENT_DIR}/{stem}{ext}"
                if cand in self.members:
                    files.measurement[pol] = cand
        return out


def open_safe_files(path: str | os.PathLike[str]) -> SafeFiles:
    """Index a SAFE zip, a ``*.SAFE`` folder, or its ``manifest.safe``."""
    p = Path(path)
    if p.name == X.MANIFEST and p.is_file():
        p = p.parent
    if not p.exists():
        raise InputError("no such file or folder", path=p)
    if p.is_dir():
        members = frozenset(
            str(f.relative_to(p)).replace(os.sep, "/") for f in p.rglob("*") if f.is_file()
        )
        if not any(m.startswith(X.ANNOTATION_DIR + "/") for m in members):
            raise ProductError(
                "folder is not a Sentinel-1 SAFE product (no annotation/ folder)",
                path=p,
                hint="give the *.SAFE folder, its zip, or an annotation XML file",
            )
        return SafeFiles(p, p.name.removesuffix(".SAFE"), False, "", members)
    if not zipfile.is_zipfile(p):
        raise ProductError(
            "not a zip file, SAFE folder or annotation XML",
            path=p,
            hint="give a Sentinel-1 SAFE zip or folder, an annotation XML, or a NISAR HDF5 file",
        )
    try:
        with zipfile.ZipFile(p) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
    except _ZIP_ERRORS as exc:
        raise ProductError(
            f"cannot read the zip file ({exc})", path=p, hint="download it again"
        ) from None
    for n in names:
        check_member_name(n, p)
    manifests = [n for n in names if n.rsplit("/", 1)[-1] == X.MANIFEST]
    prefix = manifests[0][: -len(X.MANIFEST)] if manifests else ""
    if not manifests:
        annotations = [n for n in names if f"/{X.ANNOTATION_DIR}/" in f"/{n}"]
        if not annotations:
            raise ProductError(
                "zip holds no Sentinel-1 SAFE product (no manifest.safe, no annotation/)", path=p
            )
        prefix = annotations[0].split(X.ANNOTATION_DIR + "/")[0]
    members = frozenset(n[len(prefix) :] for n in names if n.startswith(prefix))
    name = prefix.rstrip("/").rsplit("/", 1)[-1].removesuffix(".SAFE") or p.name.removesuffix(
        ".zip"
    )
    return SafeFiles(p, name.removesuffix(".SAFE"), True, prefix, members)
