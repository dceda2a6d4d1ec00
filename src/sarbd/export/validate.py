"""Offline validation of a SARbd dataset folder.

Checks, each giving rows of a report (``error`` fails the dataset, ``warning`` does not):

* **layout**: the files of the formats the build selected (``run_log.json``; without it
  ``dataset.zarr``, ``README.md`` and ``catalog.json``) exist; ``README.md`` has EOTDL front-matter
  (``name``, ``authors``, ``license``, ``source``);
* **cf**: ``dataset.nc`` and ``dataset.zarr`` follow the rules of
  :func:`sarbd.export.cf.check_cf`; when the IOOS ``compliance-checker`` is installed,
  its CF-1.10 suite also runs on ``dataset.nc`` (offline: the packaged standard-name
  table) -- failed high-priority checks are errors, medium ones warnings;
* **stac**: every catalog/collection/item reachable from ``catalog.json`` validates
  against the STAC 1.1.0 core schemas (bundled with pystac) and the schema of each
  extension it declares (bundled with sarbd, ``sarbd/export/schemas``), resolved
  locally with ``referencing`` -- no network; every link and asset href resolves;
* **file**: ``file:size`` and ``file:checksum`` (SHA2-256 multihash) of every asset match;
* **cog**: every GeoTIFF under ``cog/`` passes ``rio_cogeo.cogeo.cog_validate``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from sarbd.errors import InputError

__all__ = ["Check", "validate_dataset"]


@dataclass(frozen=True)
class Check:
    """One row of the validation report."""

    category: str
    target: str
    status: str  # "ok", "warning", "error"
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


# -- schemas -----------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _registry() -> Any:
    """A ``referencing`` registry of the STAC core (pystac's copy) and extension schemas (ours)."""
    import pystac.validation.jsonschemas as core_pkg
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    resources_: list[tuple[str, Any]] = []
    core = Path(core_pkg.__file__).parent
    spec = core / "stac-spec" / "v1.1.0"
    for path in spec.glob("*.json"):
        kind = {"catalog.json": "catalog-spec", "collection.json": "collection-spec"}.get(path.name, "item-spec")
        uri = f"https://schemas.stacspec.org/v1.1.0/{kind}/json-schema/{path.name}"
        resources_.append((uri, json.loads(path.read_text())))
    for path in (core / "geojson").glob("*.json"):
        resources_.append((f"https://geojson.org/schema/{path.name}", json.loads(path.read_text())))
    ours = resources.files("sarbd.export") / "schemas"
    for entry in ours.iterdir():
        if entry.name.endswith(".json"):
            schema = json.loads(entry.read_text())
            resources_.append((schema["$id"], schema))
    registry: Any = Registry()
    for uri, contents in resources_:
        contents = {**contents, "$id": uri}  # pystac's copies carry some odd $ids (e.g. "...commonjson")
        registry = registry.with_resource(uri, Resource.from_contents(contents, default_specification=DRAFT7))
    return registry.crawl()


def _core_uri(stac: dict[str, Any]) -> str:
    kind = {"Feature": "item-spec/json-schema/item.json", "Collection": "collection-spec/json-schema/collection.json",
            "Catalog": "catalog-spec/json-schema/catalog.json"}.get(str(stac.get("type")))
    if kind is None:
        raise ValueError(f"unknown STAC type {stac.get('type')!r}")
    return f"https://schemas.stacspec.org/v1.1.0/{kind}"


def _schema_errors(stac: dict[str, Any], uri: str) -> list[str]:
    from jsonschema import Draft7Validator

    registry = _registry()
    try:
        schema = registry.contents(uri)
    except Exception:
        return []  # caller reports unknown schemas
    validator = Draft7Validator(schema, registry=registry)
    out = []
    for err in sorted(validator.iter_errors(stac), key=lambda e: list(e.absolute_path)):
        best = err
        while best.context:  # oneOf/anyOf: report the deepest cause
            best = max(best.context, key=lambda e: len(list(e.absolute_path)))
        where = "/".join(str(p) for p in best.absolute_path) or "(root)"
        out.append(f"{where}: {best.message[:200]}")
    return out


def _known_schema(uri: str) -> bool:
    try:
        _registry().contents(uri)
        return True
    except Exception:
        return False


# -- checks ------------------------------------------------------------------------------
#: Files each output format puts in the folder (``outputs.formats``).
_FORMAT_FILES = {"zarr": ("dataset.zarr",), "netcdf": ("dataset.nc",), "stac": ("README.md", "catalog.json"),
                 "parquet": ("tables/pixels.parquet",)}


def _expected_formats(root: Path) -> list[str]:
    """The formats the build wrote (``run_log.json``), else zarr + stac and whatever else is there."""
    try:
        formats = json.loads((root / "run_log.json").read_text())["config"]["outputs"]["formats"]
        if isinstance(formats, list):
            return [str(f) for f in formats]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return ["zarr", "stac", *(f for f in ("netcdf", "parquet") if (root / _FORMAT_FILES[f][0]).exists())]


def _check_layout(root: Path) -> Iterator[Check]:
    formats = _expected_formats(root)
    if not {"zarr", "netcdf"} & set(formats):
        yield Check("layout", "dataset.zarr", "error", "no data cube (outputs.formats has neither zarr nor netcdf)")
    for fmt in formats:
        for name in _FORMAT_FILES.get(fmt, ()):
            if (root / name).exists():
                yield Check("layout", name, "ok", "present")
            else:
                yield Check("layout", name, "error", f"missing (output format {fmt} was selected)")
    readme = root / "README.md"
    if readme.is_file():
        import yaml

        text = readme.read_text(encoding="utf-8")
        parts = text.split("---", 2)
        if not text.startswith("---") or len(parts) < 3:
            yield Check("layout", "README.md", "error", "no YAML front-matter (--- ... ---) for EOTDL")
            return
        try:
            front = yaml.safe_load(parts[1]) or {}
        except yaml.YAMLError as exc:
            yield Check("layout", "README.md", "error", f"front-matter is not valid YAML: {exc}")
            return
        missing = [k for k in ("name", "authors", "license", "source") if not front.get(k)]
        if missing:
            yield Check("layout", "README.md", "error", f"front-matter lacks {', '.join(missing)} (EOTDL Q1)")
        else:
            yield Check("layout", "README.md", "ok", "EOTDL front-matter complete")


def _compliance_checker(path: Path) -> Iterator[Check]:
    try:
        from compliance_checker.cf import util as cc_util
        from compliance_checker.runner import CheckSuite
    except ImportError:
        yield Check("cf", path.name, "ok", "compliance-checker not installed; sarbd's own CF checks only")
        return
    import contextlib
    import io
    import warnings

    def offline(*_: Any, **__: Any) -> None:
        raise OSError("offline: using the packaged CF standard-name table")

    original = cc_util.download_cf_standard_name_table
    cc_util.download_cf_standard_name_table = offline
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(io.StringIO()):
            warnings.simplefilter("ignore")
            CheckSuite.load_all_available_checkers()
            suite = CheckSuite()
            ds = suite.load_dataset(str(path))
            groups = suite.run_all(ds, ["cf:1.10"], skip_checks=[])
            with contextlib.suppress(Exception):
                ds.close()
    finally:
        cc_util.download_cf_standard_name_table = original
    if "cf:1.10" not in groups:
        yield Check("cf", path.name, "warning", "compliance-checker has no cf:1.10 suite")
        return
    results, _errors = groups["cf:1.10"]
    failures = 0
    for r in results:
        value = r.value
        passed = value[0] == value[1] if isinstance(value, tuple) else bool(value) if value is not None else True
        if passed:
            continue
        level = "error" if r.weight >= 3 else "warning" if r.weight == 2 else None
        if level is None:
            continue
        failures += level == "error"
        msg = (str(r.msgs[0]) if r.msgs else str(r.name))[:240]
        more = f" (+{len(r.msgs) - 1} more)" if len(r.msgs) > 1 else ""
        yield Check("cf", path.name, level, f"compliance-checker {r.name}: {msg}{more}")
    if not failures:
        yield Check("cf", path.name, "ok", "compliance-checker CF-1.10: no high-priority failure")


def _check_cf(root: Path, compliance_checker: bool = True) -> Iterator[Check]:
    import xarray as xr

    from sarbd.export.cf import check_cf

    for name, opener in (("dataset.nc", lambda p: xr.open_dataset(p, engine="h5netcdf")),
                         ("dataset.zarr", lambda p: xr.open_zarr(p))):
        path = root / name
        if not path.exists():
            continue
        try:
            ds = opener(path)
        except Exception as exc:
            yield Check("cf", name, "error", f"cannot be opened: {exc}")
            continue
        with ds:
            problems = check_cf(ds)
        for p in problems:
            yield Check("cf", name, "error", p)
        if not problems:
            yield Check("cf", name, "ok", "CF-1.10/ACDD-1.3 rules of sarbd hold")
        if name == "dataset.nc" and compliance_checker:
            yield from _compliance_checker(path)


def _link_target(base: Path, href: str) -> Path | None:
    if "://" in href:
        return None
    return (base.parent / href).resolve()


def _check_stac(root: Path) -> Iterator[Check]:
    from sarbd.export.stac import multihash_sha256

    start = root / "catalog.json"
    if not start.is_file():
        return
    seen: set[Path] = set()
    todo = [start.resolve()]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        rel = os.path.relpath(path, root)
        try:
            stac = json.loads(path.read_text(encoding="utf-8"))
            uri = _core_uri(stac)
        except (OSError, ValueError) as exc:
            yield Check("stac", rel, "error", f"not a STAC object: {exc}")
            continue
        errors = [f"core: {e}" for e in _schema_errors(stac, uri)]
        for ext in stac.get("stac_extensions", []):
            if not _known_schema(ext):
                yield Check("stac", rel, "warning", f"no schema shipped for {ext}; not validated")
                continue
            errors += [f"{ext.split('/')[-3]}: {e}" for e in _schema_errors(stac, ext)]
        for e in errors:
            yield Check("stac", rel, "error", e)
        if not errors:
            yield Check("stac", rel, "ok", f"{stac['type']} valid (core 1.1.0 + {len(stac.get('stac_extensions', []))} "
                                           "extensions)")
        for link in stac.get("links", []):
            href = str(link.get("href", ""))
            if "://" in href or os.path.isabs(href):
                if link.get("rel") not in ("license", "about", "cite-as", "via"):
                    yield Check("stac", rel, "error", f"link {link.get('rel')} -> {href} is not relative")
                continue
            target = _link_target(path, href)
            if target is None or not target.exists():
                yield Check("stac", rel, "error", f"link {link.get('rel')} -> {href} does not resolve")
                continue
            if link.get("rel") in ("child", "item") and target.suffix == ".json":
                todo.append(target)
        for key, asset in stac.get("assets", {}).items():
            href = str(asset.get("href", ""))
            target = _link_target(path, href)
            if target is None:
                yield Check("file", f"{rel}#{key}", "error", f"asset href {href} is not relative")
                continue
            if not target.exists():
                yield Check("file", f"{rel}#{key}", "error", f"asset {href} does not exist")
                continue
            if "file:size" in asset and target.is_file() and target.stat().st_size != asset["file:size"]:
                yield Check("file", f"{rel}#{key}", "error",
                            f"size {target.stat().st_size} differs from file:size {asset['file:size']}")
            elif "file:checksum" in asset and target.is_file():
                actual = multihash_sha256(target)
                if actual != asset["file:checksum"]:
                    yield Check("file", f"{rel}#{key}", "error",
                                f"checksum mismatch: {actual[:16]}… != file:checksum {str(asset['file:checksum'])[:16]}…")
                else:
                    yield Check("file", f"{rel}#{key}", "ok", "size and checksum match")


def _read_all_blocks(path: Path) -> str | None:
    """Decode every block of every band and overview; the problem found, or None.

    ``cog_validate`` checks the layout of the header only, so a truncated or damaged file
    can pass it; decoding the tiles finds those.
    """
    import rasterio

    with rasterio.open(path) as src:
        if not src.gcps[0] and src.transform.is_identity:
            return "no georeferencing (neither GCPs nor a geotransform)"
        for band in range(1, src.count + 1):
            for _, window in src.block_windows(band):
                src.read(band, window=window)
        for factor in src.overviews(1):
            src.read(1, out_shape=(max(1, src.height // factor), max(1, src.width // factor)))
    return None


def _check_cogs(root: Path) -> Iterator[Check]:
    import warnings

    from rio_cogeo.cogeo import cog_validate

    for path in sorted((root / "cog").rglob("*.tif")) if (root / "cog").is_dir() else []:
        rel = os.path.relpath(path, root)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                valid, errors, warns = cog_validate(str(path), quiet=True)
                problem = _read_all_blocks(path) if valid else None
        except Exception as exc:
            yield Check("cog", rel, "error", f"not readable as GeoTIFF: {str(exc)[:200]}")
            continue
        if not valid:
            yield Check("cog", rel, "error", "not a valid COG: " + "; ".join(errors)[:300])
        elif problem:
            yield Check("cog", rel, "error", problem)
        else:
            yield Check("cog", rel, "ok", "valid COG" + (f" ({'; '.join(warns)[:120]})" if warns else ""))


def validate_dataset(path: str | os.PathLike[str], compliance_checker: bool = True) -> list[Check]:
    """All checks of the module docstring on the dataset folder ``path``.

    ``compliance_checker=False`` skips the IOOS checker (a few seconds) and keeps sarbd's own CF checks.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError("dataset folder does not exist", path=root, hint="give the folder sarbd build wrote")
    checks: list[Check] = []
    checks.extend(_check_layout(root))
    checks.extend(_check_cf(root, compliance_checker))
    checks.extend(_check_stac(root))
    checks.extend(_check_cogs(root))
    return checks
