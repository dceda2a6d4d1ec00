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
  against the official STAC 1.1.0 core schemas and the official schema of each extension
  it declares, at the declared version (unmodified copies shipped in
  ``sarbd/export/schemas``, provenance in its README), resolved locally with
  ``referencing`` -- no network; an extension whose schema is not shipped is an error
  (it cannot be checked, so the dataset cannot be called valid); every link and asset
  href resolves;
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
#: Every schema file shipped in ``sarbd/export/schemas``: SHA2-256 of its bytes and where it
#: comes from (copied byte for byte: ``git show <tag>:json-schema/schema.json`` of the
#: extension's repository; STAC core and GeoJSON as pystac ships them, identical to
#: radiantearth/stac-spec at v1.1.0). All Apache-2.0 (``schemas/LICENSE-stac-extensions``).
#: :func:`_schema_files` refuses a file that differs: a validator with edited schemas
#: could pass what the standard rejects.
SCHEMA_SOURCES: dict[str, tuple[str, str]] = {
    "classification-v1.1.0.json": (
        "70a64a6e34495dc3fd3e49a61dd4c7d901d7c1e38fd0f60f3f8be5b012f4a4a4",
        "github.com/stac-extensions/classification v1.1.0 (1ae4641dca1b):json-schema/schema.json",
    ),
    "file-v2.1.0.json": (
        "03567215bb1402f5104ca9919daaa5bbfe9456a499f185606247b4b2d1f23ad1",
        "github.com/stac-extensions/file v2.1.0 (a7ee3e7c5e4c):json-schema/schema.json",
    ),
    "geojson/Feature.json": (
        "3957840b2ff19f9450ea97a12f85944d938c68a7a6bf115a2e69b98e007b9922",
        "geojson.org/schema (pystac 1.15.2 copy)",
    ),
    "geojson/Geometry.json": (
        "152369d7eb6b3314ffc7deca1d66f9d498ed5b614ca38ed4e2c813fed01024fd",
        "geojson.org/schema (pystac 1.15.2 copy)",
    ),
    "label-v1.0.1.json": (
        "729528a1ea57f1aafda67ec821c4f7d8434f3f4a47a27126775ccffa0509959f",
        "github.com/stac-extensions/label v1.0.1 (e13a395aff89):json-schema/schema.json",
    ),
    "ml-aoi-v0.2.0.json": (
        "991a5ff02f77d057a35ed95f0fe777f5591c529c52ed8d9d75c9d088fb457bf0",
        "github.com/stac-extensions/ml-aoi v0.2.0 (2acb60afde02):json-schema/schema.json",
    ),
    "processing-v1.2.0.json": (
        "a245a18ef537b2f1fddc7cbb833d48e1422378db953787c8f62e34bd5b7952fb",
        "github.com/stac-extensions/processing v1.2.0 (e881fbc0d063):json-schema/schema.json",
    ),
    "projection-v2.0.0.json": (
        "77dd829eb10f5ea8b9660cece70020c5f864401e286df638567f33afba5a6fce",
        "github.com/stac-extensions/projection v2.0.0 (f17b5707439e):json-schema/schema.json",
    ),
    "sar-v1.3.0.json": (
        "066b51a21426e8be17190fbf88aed6574e39e80c9de9e2342375d4b1d9655c7c",
        "github.com/stac-extensions/sar v1.3.0 (2bef4833ed05):json-schema/schema.json",
    ),
    "sat-v1.2.0.json": (
        "baf261cf89516f718292b1c38dd2a5510b7a5f62cac063805565ae2d2e7990ea",
        "github.com/stac-extensions/sat v1.2.0 (0b606ca7d486):json-schema/schema.json",
    ),
    "stac-spec-v1.1.0/bands.json": (
        "0a44673eda5cf49ad83247ebf50bffc9eac6cd126d4778c0f17a64b21002818e",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/basics.json": (
        "c11193fa08465b53257e93ea4e8c0c671806485ece9b2482447c792f2e9b7809",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/catalog.json": (
        "d82974d084fb600ec0e92d6962ef536157eda6d36bbb4299e8235a6042efbeed",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/collection.json": (
        "c2106427e6b7a7a2c1b6fef980d9df332c4000e8676efa2aba7a1dbcd1914ccf",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/common.json": (
        "9f1bb9d24a94d7f519cc2c478b6581c0d9a66117518376ac1a71ec5643ad3fd7",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/data-values.json": (
        "5ca5d324272b76188fd70391b6d57fa0438d87fa8dfa5b6f2fd15af57bff9539",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/datetime.json": (
        "2656b4bec14ee63b0c17c7a68caeba4a10a5ba3bfe018e4d23ebd8b6efb5fd9f",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/instrument.json": (
        "09cd369e88c2f7c248683d922fd90e3ab2e7e832b86e6130722d8a0bf27cdd78",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/item.json": (
        "d38ed83cda8c93f5f2f4967ba2be398e9d7407aa1c3210f9c27bbbc4e8ba35e2",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/licensing.json": (
        "b4f882c70c6616698fa3c390d1efbdc59816129f36a6173769fbf07655313726",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "stac-spec-v1.1.0/provider.json": (
        "2db89bb50a352aaece743173742fa450cbb5fb4583fe3a237968054aeaea86ad",
        "schemas.stacspec.org/v1.1.0 (pystac 1.15.2 copy)",
    ),
    "view-v1.1.0.json": (
        "6ac62fa971b486a031b39f8667b09f226257642cc36d7119e9ff02c0a75293d6",
        "github.com/stac-extensions/view v1.1.0 (4cfdd4efafb3):json-schema/schema.json",
    ),
}

#: Core STAC schemas: the files of ``schemas/stac-spec-v1.1.0`` and their canonical URLs.
_CORE_KIND = {"catalog.json": "catalog-spec", "collection.json": "collection-spec"}


def _load_schema(entry: Any, rel: str) -> Any:
    import hashlib

    from sarbd.errors import SarbdError

    raw = entry.read_bytes()
    expected = SCHEMA_SOURCES.get(rel)
    if expected is None or hashlib.sha256(raw).hexdigest() != expected[0]:
        raise SarbdError(
            f"sarbd/export/schemas/{rel}: not one of the official schema files sarbd ships "
            "(unknown or modified); reinstall sarbd"
        )
    return json.loads(raw)


def _schema_files() -> list[tuple[str, Any]]:
    """``(canonical URL, unmodified contents)`` of every schema shipped in ``sarbd/export/schemas``."""
    ours = resources.files("sarbd.export") / "schemas"
    out: list[tuple[str, Any]] = []
    for entry in (ours / "stac-spec-v1.1.0").iterdir():
        if entry.name.endswith(".json"):
            kind = _CORE_KIND.get(entry.name, "item-spec")
            out.append(
                (
                    f"https://schemas.stacspec.org/v1.1.0/{kind}/json-schema/{entry.name}",
                    _load_schema(entry, f"stac-spec-v1.1.0/{entry.name}"),
                )
            )
    for entry in (ours / "geojson").iterdir():
        if entry.name.endswith(".json"):
            out.append(
                (
                    f"https://geojson.org/schema/{entry.name}",
                    _load_schema(entry, f"geojson/{entry.name}"),
                )
            )
    for entry in ours.iterdir():
        if entry.name.endswith(
            ".json"
        ):  # extensions: their $id is the stac_extensions URL (maybe with '#')
            schema = _load_schema(entry, entry.name)
            out.append((str(schema["$id"]).rstrip("#"), schema))
    return out


@lru_cache(maxsize=1)
def _registry() -> Any:
    """A ``referencing`` registry of the official schemas shipped with sarbd (no network).

    Each file is registered, unmodified, under the URL by which STAC objects and other
    schemas refer to it; ``crawl`` also registers it under its own ``$id`` (STAC 1.1.0's
    ``common.json`` declares ``.../commonjson``), so its internal ``#/definitions`` resolve.
    """
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    registry: Any = Registry()
    for uri, contents in _schema_files():
        registry = registry.with_resource(
            uri, Resource.from_contents(contents, default_specification=DRAFT7)
        )
    return registry.crawl()


def _core_uri(stac: dict[str, Any]) -> str:
    kind = {
        "Feature": "item-spec/json-schema/item.json",
        "Collection": "collection-spec/json-schema/collection.json",
        "Catalog": "catalog-spec/json-schema/catalog.json",
    }.get(str(stac.get("type")))
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
_FORMAT_FILES = {
    "zarr": ("dataset.zarr",),
    "netcdf": ("dataset.nc",),
    "stac": ("README.md", "catalog.json"),
    "parquet": ("tables/pixels.parquet",),
}


def _expected_formats(root: Path) -> list[str]:
    """The formats the build wrote (``run_log.json``), else zarr + stac and whatever else is there."""
    try:
        formats = json.loads((root / "run_log.json").read_text())["config"]["outputs"]["formats"]
        if isinstance(formats, list):
            return [str(f) for f in formats]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return [
        "zarr",
        "stac",
        *(f for f in ("netcdf", "parquet") if (root / _FORMAT_FILES[f][0]).exists()),
    ]


def _check_layout(root: Path) -> Iterator[Check]:
    formats = _expected_formats(root)
    if not {"zarr", "netcdf"} & set(formats):
        yield Check(
            "layout",
            "dataset.zarr",
            "error",
            "no data cube (outputs.formats has neither zarr nor netcdf)",
        )
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
            yield Check(
                "layout", "README.md", "error", "no YAML front-matter (--- ... ---) for EOTDL"
            )
            return
        try:
            front = yaml.safe_load(parts[1]) or {}
        except yaml.YAMLError as exc:
            yield Check("layout", "README.md", "error", f"front-matter is not valid YAML: {exc}")
            return
        missing = [k for k in ("name", "authors", "license", "source") if not front.get(k)]
        if missing:
            yield Check(
                "layout",
                "README.md",
                "error",
                f"front-matter lacks {', '.join(missing)} (EOTDL Q1)",
            )
        else:
            yield Check("layout", "README.md", "ok", "EOTDL front-matter complete")


def _compliance_checker(path: Path) -> Iterator[Check]:
    try:
        from compliance_checker.cf import util as cc_util
        from compliance_checker.runner import CheckSuite
    except ImportError:
        yield Check(
            "cf", path.name, "ok", "compliance-checker not installed; sarbd's own CF checks only"
        )
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
    failures = warnings_ = 0
    for r in results:
        value = r.value
        passed = (
            value[0] == value[1]
            if isinstance(value, tuple)
            else bool(value)
            if value is not None
            else True
        )
        if passed:
            continue
        level = "error" if r.weight >= 3 else "warning" if r.weight == 2 else None
        if level is None:
            continue
        failures += level == "error"
        warnings_ += level == "warning"
        msg = (str(r.msgs[0]) if r.msgs else str(r.name))[:240]
        more = f" (+{len(r.msgs) - 1} more)" if len(r.msgs) > 1 else ""
        yield Check("cf", path.name, level, f"compliance-checker {r.name}: {msg}{more}")
    if not failures:
        yield Check(
            "cf",
            path.name,
            "ok",
            "compliance-checker CF-1.10: no high-priority failure"
            + ("" if warnings_ else ", no medium-priority warning"),
        )


def _check_cf(root: Path, compliance_checker: bool = True) -> Iterator[Check]:
    import xarray as xr

    from sarbd.export.cf import check_cf

    for name, opener in (
        ("dataset.nc", lambda p: xr.open_dataset(p, engine="h5netcdf")),
        ("dataset.zarr", lambda p: xr.open_zarr(p)),
    ):
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
                errors.append(f"no official schema shipped for {ext}; cannot validate it offline")
                continue
            errors += [f"{ext.split('/')[-3]}: {e}" for e in _schema_errors(stac, ext)]
        for e in errors:
            yield Check("stac", rel, "error", e)
        if not errors:
            yield Check(
                "stac",
                rel,
                "ok",
                f"{stac['type']} valid (core 1.1.0 + {len(stac.get('stac_extensions', []))} "
                "extensions)",
            )
        for link in stac.get("links", []):
            href = str(link.get("href", ""))
            if "://" in href or os.path.isabs(href):
                if link.get("rel") not in ("license", "about", "cite-as", "via"):
                    yield Check(
                        "stac", rel, "error", f"link {link.get('rel')} -> {href} is not relative"
                    )
                continue
            target = _link_target(path, href)
            if target is None or not target.exists():
                yield Check(
                    "stac", rel, "error", f"link {link.get('rel')} -> {href} does not resolve"
                )
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
            if (
                "file:size" in asset
                and target.is_file()
                and target.stat().st_size != asset["file:size"]
            ):
                yield Check(
                    "file",
                    f"{rel}#{key}",
                    "error",
                    f"size {target.stat().st_size} differs from file:size {asset['file:size']}",
                )
            elif "file:checksum" in asset and target.is_file():
                actual = multihash_sha256(target)
                if actual != asset["file:checksum"]:
                    yield Check(
                        "file",
                        f"{rel}#{key}",
                        "error",
                        f"checksum mismatch: {actual[:16]}… != file:checksum {str(asset['file:checksum'])[:16]}…",
                    )
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
            yield Check(
                "cog", rel, "ok", "valid COG" + (f" ({'; '.join(warns)[:120]})" if warns else "")
            )


def validate_dataset(path: str | os.PathLike[str], compliance_checker: bool = True) -> list[Check]:
    """All checks of the module docstring on the dataset folder ``path``.

    ``compliance_checker=False`` skips the IOOS checker (a few seconds) and keeps sarbd's own CF checks.
    """
    root = Path(path)
    if not root.is_dir():
        raise InputError(
            "dataset folder does not exist", path=root, hint="give the folder sarbd build wrote"
        )
    checks: list[Check] = []
    checks.extend(_check_layout(root))
    checks.extend(_check_cf(root, compliance_checker))
    checks.extend(_check_stac(root))
    checks.extend(_check_cogs(root))
    return checks
