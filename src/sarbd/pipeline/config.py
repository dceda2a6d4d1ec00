"""The build configuration: one YAML file, validated with pydantic.

Unknown keys and impossible values are errors that name the file and the line the
offending value came from. ``resolve_config`` fills in every default, so
``sarbd build --print-config`` shows exactly what a build will do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from sarbd.core.chunks import DEFAULT_CHUNKS, Chunks
from sarbd.errors import ConfigError

__all__ = [
    "AOIConfig",
    "BuildConfig",
    "ChangeLabelsConfig",
    "ChipsConfig",
    "ComputeConfig",
    "CoregistrationConfig",
    "DetectionLabelsConfig",
    "InputsConfig",
    "LabelRule",
    "LabelsConfig",
    "OutputsConfig",
    "ProductSpec",
    "QuantizeConfig",
    "ReferenceLayer",
    "TimeseriesOutput",
    "load_config",
    "product_main",
]


OutputFormat = Literal["zarr", "netcdf", "cog", "stac", "parquet"]
ALL_FORMATS: tuple[OutputFormat, ...] = ("zarr", "netcdf", "cog", "stac", "parquet")
#: Written unless ``outputs.formats`` says otherwise: the primary store and its catalog
#: (netCDF, COGs and the pixel table are exports of the same data, made when asked for).
DEFAULT_FORMATS: tuple[OutputFormat, ...] = ("zarr", "stac")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class ReferenceLayer(_Strict):
    """One layer of reference geodata (vector or raster)."""

    path: Path = Field(
        description="Vector file (GeoPackage, Shapefile, GeoJSON, FlatGeobuf, GeoParquet) or raster."
    )
    layer: str | None = Field(
        None, description="Layer name inside the file (GeoPackage); None: the first/only layer."
    )
    class_name: str | None = Field(
        None, description="Class of every feature of this layer (e.g. 'building')."
    )
    class_field: str | None = Field(None, description="Attribute holding each feature's class.")
    class_map: dict[str, str] = Field(
        default_factory=dict, description="Attribute value (rasters: cell value) -> class name."
    )
    width_field: str | None = Field(None, description="Attribute with line/point widths in metres.")
    height_field: str | None = Field(
        None, description="Attribute with feature heights above ground in metres."
    )


class ProductSpec(_Strict):
    """One date's product given piece by piece (a bare annotation + TIFF crop, or options).

    ``path`` is a SAFE zip/folder, a NISAR/UAVSAR RSLC HDF5 file or a Sentinel-1
    annotation XML; ``annotation`` names the XML of a bare annotation + measurement TIFF
    (the two keys are alternatives). The other keys are the options of
    :func:`sarbd.open_product` for this one product.
    """

    path: Path | None = Field(
        None, description="SAFE zip/folder, RSLC HDF5 file, or annotation XML."
    )
    annotation: Path | None = Field(
        None, description="Sentinel-1 annotation XML (with `measurement`)."
    )
    measurement: Path | None = Field(None, description="Measurement TIFF of a bare annotation XML.")
    offset: tuple[int, int] | None = Field(
        None, description="(first_line, first_pixel) of a crop in the full swath, 0-based."
    )
    orbit: Path | None = Field(
        None,
        description="Orbit file or folder for this product (overrides inputs.orbits): Sentinel-1 "
        "EOF, Envisat/ERS DORIS DOR_VOR/DOR_POR, or what the product's reader takes.",
    )
    frequency: Literal["A", "B"] | None = Field(
        None, description="NISAR/UAVSAR frequency (default A)."
    )
    swath: str | None = Field(None, description="Swath of this product (overrides inputs.swath).")

    @field_validator("frequency", mode="before")
    @classmethod
    def _freq_upper(cls, value: Any) -> Any:
        return value.upper().removeprefix("FREQUENCY") if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> ProductSpec:
        if (self.path is None) == (self.annotation is None):
            raise ValueError(
                "give the product as `path` (SAFE, HDF5 or annotation XML) or as `annotation` "
                "(with `measurement`), not both and not neither"
            )
        if self.annotation is not None and self.measurement is None:
            raise ValueError("an `annotation` entry needs its `measurement` TIFF")
        if self.offset is not None and self.measurement is None:
            raise ValueError("`offset` applies to a measurement TIFF crop: give `measurement` too")
        if self.offset is not None and min(self.offset) < 0:
            raise ValueError("offset must be (first_line, first_pixel) >= 0")
        if self.frequency is not None and (
            self.measurement is not None or self.annotation is not None
        ):
            raise ValueError(
                "`frequency` applies to NISAR/UAVSAR HDF5 products, not to Sentinel-1 annotations"
            )
        return self

    @property
    def main(self) -> Path:
        """The file that names the product (``path`` or ``annotation``)."""
        return self.path if self.path is not None else self.annotation  # type: ignore[return-value]

    def files(self) -> list[Path]:
        """Every file this entry reads (for existence checks and cache fingerprints)."""
        return [p for p in (self.main, self.measurement, self.orbit) if p is not None]


def _entry_kind(value: Any) -> str:
    return "mapping" if isinstance(value, dict | ProductSpec) else "path"


#: One ``inputs.products`` entry: a product path, or a :class:`ProductSpec` mapping.
ProductEntry = Annotated[
    Annotated[Path, Tag("path")] | Annotated[ProductSpec, Tag("mapping")],
    Discriminator(_entry_kind),
]


def product_main(entry: ProductEntry) -> Path:
    """The path that names a product entry (the product, or its annotation XML)."""
    return entry.main if isinstance(entry, ProductSpec) else Path(entry)


class StackSpec(_Strict):
    """Another processor's coregistered stack to start the build from (:mod:`sarbd.stacks`)."""

    path: Path = Field(
        description="ISCE2 topsStack folder, SNAP .dim, GMTSAR folder of .PRM files, Doris stack folder."
    )
    format: Literal["auto", "isce2", "snap", "gmtsar", "doris", "opera_cslc"] = Field(
        "auto", description="Stack format; 'auto' detects it from the layout."
    )
    polarization: str | None = Field(
        None, description="Polarisation of a single-polarisation stack (default VV)."
    )
    reference: str | None = Field(
        None,
        description="GMTSAR: the reference date YYYYMMDD or PRM name "
        "(default: the first entry of align.in / data.in).",
    )

    def options(self) -> dict[str, str]:
        """Reader options that are set (``polarization``, ``reference``)."""
        return {
            k: v
            for k, v in (("polarization", self.polarization), ("reference", self.reference))
            if v is not None
        }


class InputsConfig(_Strict):
    """Where the data come from."""

    stack: StackSpec | None = Field(
        None,
        description="Start after coregistration from another processor's stack instead of `products` "
        "(mapping {path, format, polarization, reference}; docs/products.md).",
    )
    products: list[ProductEntry] = Field(
        default_factory=list,
        description="SLC products, one per date (any number from one up; or `stack`): a path (SAFE zip/folder, "
        "NISAR/UAVSAR RSLC HDF5) or a mapping {annotation, measurement, offset, orbit} "
        "(Sentinel-1 crop) / {path, frequency} (NISAR/UAVSAR). With one date the temporal "
        "signatures that need two or more dates are left out.",
    )
    reference_product: Path | None = Field(
        None, description="Reference date's product; default: the first."
    )
    swath: str | None = Field(
        None, description="Swath to process (IW1/IW2/IW3...); required for multi-swath SAFEs."
    )
    polarizations: list[str] = Field(default_factory=lambda: ["VV", "VH"])
    orbits: Path | None = Field(
        None,
        description="Orbit file or folder of them (Sentinel-1 EOF, Envisat/ERS DORIS DOR_VOR/DOR_POR; "
        "the covering, most precise one is picked); default: the product's annotated orbit.",
    )
    verify_zip: Literal["auto", "always", "never"] = Field(
        "auto",
        description="CRC-32 pass over each SAFE zip's measurement members (one sequential read of "
        "each, docs/reliability.md): 'auto' does it unless an aoi is set (an AOI build "
        "reads only the TIFF strips it needs, unchecked).",
    )
    dem: Path | None = Field(
        None, description="DEM GeoTIFF (heights above EGM96 unless its CRS says otherwise)."
    )
    dem_vertical_datum: Literal["auto", "egm96", "egm2008", "ellipsoid"] = Field(
        "auto",
        description="DEM heights: 'auto' reads the DEM's CRS and, when it does not say, assumes EGM96 "
        "with a warning; 'ellipsoid' for isce3/NISAR DEMs (WGS84 ellipsoidal heights).",
    )
    reference: list[ReferenceLayer] = Field(
        default_factory=list, description="Reference geodata layers."
    )
    classes: list[str] = Field(
        default_factory=list, description="Class names in label order (ids 1..N)."
    )

    @model_validator(mode="after")
    def _products_or_stack(self) -> InputsConfig:
        if (not self.products) == (self.stack is None):
            raise ValueError(
                "give inputs.products (SLC products, one per date) or inputs.stack (a coregistered "
                "stack from another processor), not both and not neither"
            )
        return self

    @field_validator("polarizations")
    @classmethod
    def _upper(cls, value: list[str]) -> list[str]:
        pols = [p.upper() for p in value]
        bad = [p for p in pols if p not in {"VV", "VH", "HH", "HV"}]
        if bad:
            raise ValueError(f"unknown polarisation(s) {bad}; use VV, VH, HH or HV")
        return pols


class AOIConfig(_Strict):
    """Area of interest: a radar window, or a geographic polygon/bbox (WGS84)."""

    window: tuple[int, int, int, int] | None = Field(
        None, description="(first_line, first_pixel, lines, pixels) in the reference grid."
    )
    bbox: tuple[float, float, float, float] | None = Field(
        None, description="(lon_min, lat_min, lon_max, lat_max), degrees."
    )
    polygon: Path | None = Field(
        None, description="Vector file whose geometries' union is the AOI."
    )

    @model_validator(mode="after")
    def _one_of(self) -> AOIConfig:
        given = [name for name in ("window", "bbox", "polygon") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give only one of window, bbox, polygon (got {', '.join(given)})")
        if self.window is not None and (min(self.window[2:]) <= 0 or min(self.window[:2]) < 0):
            raise ValueError("window needs first_line, first_pixel >= 0 and positive lines, pixels")
        if self.bbox is not None and not (
            self.bbox[0] < self.bbox[2] and self.bbox[1] < self.bbox[3]
        ):
            raise ValueError("bbox must be (lon_min, lat_min, lon_max, lat_max) with min < max")
        return self


class CoregistrationConfig(_Strict):
    """Coregistration and InSAR settings."""

    kernel_taps: int = Field(12, ge=4, le=32, description="Resampling kernel length (taps).")
    coherence_window: tuple[int, int] = Field(
        (2, 10), description="(lines, pixels) of the coherence window."
    )
    refine: Literal["off", "report", "apply"] = Field(
        "apply",
        description="Residual constant shift by intensity cross-correlation: ignore, report, or correct.",
    )
    esd: bool = Field(
        True,
        description="TOPS: correct the azimuth misregistration by Enhanced Spectral Diversity.",
    )
    tops_reramp: Literal["secondary", "reference"] = Field(
        "secondary",
        description="TOPS: reramp with the secondary's own ramp (real data) or the reference's.",
    )


class FilterConfig(_Strict):
    """Speckle filter applied to intensities before the signatures."""

    name: Literal["none", "boxcar", "lee", "refined_lee", "quegan"] = "none"
    window: int = Field(5, ge=3, le=31)


class SignaturesConfig(_Strict):
    """Which signatures to compute."""

    select: list[str] | Literal["all"] = "all"
    window: tuple[int, int] = Field(
        (3, 3), description="(lines, pixels) averaging window for covariance terms."
    )
    filter: FilterConfig = Field(
        default_factory=lambda: FilterConfig(name="refined_lee", window=7),
        description="Speckle filter of the intensities behind the backscatter signatures. Default: the "
        "edge-preserving refined Lee filter (Lee 1981), so that the temporal backscatter "
        "statistics (and the L3 consistency test built on them) are not dominated by speckle; "
        "name 'none' keeps single-look values.",
    )


class LabelRule(_Strict):
    """An L1 rule: pixels where ``expression`` holds get ``class_name``."""

    class_name: str
    expression: str = Field(
        description="e.g. 'sigma0_vv_db_mean < -18 and coherence_vv_mean < 0.3'"
    )


class DetectionLabelsConfig(_Strict):
    """Object-detection labels (COCO, YOLO, STAC label item) from a vector file of target outlines."""

    reference: Path = Field(
        description="Vector file of the target outlines (any OGR format and CRS), one feature per object "
        "and acquisition (ships move between dates)."
    )
    layer: str | None = Field(None, description="Layer of a multi-layer file; None: the first.")
    class_field: str = Field("category", description="Attribute with each object's category.")
    categories: list[str] = Field(
        default_factory=list,
        description="Category names in COCO id order (ids 1..N); empty: the values found, sorted.",
    )
    id_field: str | None = Field(
        None,
        description="Attribute with a unique positive integer id per object; None: the feature's row "
        "number + 1.",
    )
    date_field: str | None = Field(
        "datetime",
        description="Attribute with each object's time (ISO 8601, UTC), matched to the nearest "
        "acquisition within date_tolerance_s; None: every object is on every date.",
    )
    date_tolerance_s: float = Field(
        3600.0, gt=0.0, description="Largest |object time - acquisition start|, seconds."
    )
    height_field: str | None = Field(
        None,
        description="Attribute with object heights above the terrain, m (layover of superstructures).",
    )
    grow: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="{category: (lines, pixels)}: elliptical dilation of that category's radar outlines in "
        "samples, e.g. the impulse response's main-lobe half-width around ships.",
    )
    region: Path | None = Field(
        None,
        description="Vector file of the area chips are cut from (e.g. open sea); None: every chip.",
    )
    min_region: float = Field(
        0.5, ge=0.0, le=1.0, description="Least share of a chip inside `region` for it to be kept."
    )
    polarization: str = Field("VV", description="Polarisation of the chip images.")
    chip_size: int = Field(64, ge=8, description="Chip edge, looked pixels.")
    looks: tuple[int, int] = Field((1, 1), description="(azimuth, range) samples averaged.")
    min_fraction: float = Field(
        0.5, gt=0.0, le=1.0, description="Least covered share of a pixel to belong to an object."
    )
    min_pixels: int = Field(
        4, ge=1, description="Least pixels of an object in a chip for it to be labelled there."
    )
    block: int = Field(2, ge=1, description="Split blocks of block x block chips.")

    @field_validator("looks")
    @classmethod
    def _looks(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 1:
            raise ValueError("looks must be >= 1")
        return value


class ChangeLabelsConfig(_Strict):
    """Change labels per consecutive date pair from a vector file of dated features."""

    reference: Path = Field(
        description="Vector file of the changed features (any OGR format and CRS), each with the time it "
        "appeared (new building, clearing, flood)."
    )
    layer: str | None = Field(None, description="Layer of a multi-layer file; None: the first.")
    date_field: str = Field(
        "change_date",
        description="Attribute with the time (ISO 8601) each feature appeared: a change of every pair "
        "(t_i, t_j] holding it.",
    )
    end_field: str | None = Field(
        None,
        description="Attribute with the time a feature disappeared (demolition, flood receding), also a "
        "change of the pair holding it; None: features stay.",
    )
    chip_size: int = Field(16, ge=8, description="Chip edge, looked pixels.")
    looks: tuple[int, int] = Field((2, 2), description="(azimuth, range) samples averaged.")
    block: int = Field(2, ge=1, description="Split blocks of block x block chips.")
    buffer_px: int = Field(1, ge=0, description="Looked pixels about L2 outlines left unlabelled.")
    ratio_db: float = Field(3.0, gt=0.0, description="|log-ratio| (dB) that is change evidence.")
    coherence_max: float = Field(
        0.3, gt=0.0, lt=1.0, description="Coherence below this is change evidence."
    )

    @field_validator("looks")
    @classmethod
    def _looks(cls, value: tuple[int, int]) -> tuple[int, int]:
        if min(value) < 1:
            raise ValueError("looks must be >= 1")
        return value


class LabelsConfig(_Strict):
    """Labelling rules of the three SARbd levels."""

    l1_rules: list[LabelRule] = Field(default_factory=list)
    l1_method: Literal["rules", "wishart_h_alpha"] = Field(
        "rules",
        description="How SARbd-L1 is made: 'rules' (l1_rules on the signatures) or 'wishart_h_alpha', the "
        "unsupervised Wishart H-alpha classification of quad-pol T3 (Lee et al. 1999; needs a "
        "quad-pol build) with its clusters mapped to classes by l1_cluster_classes.",
    )
    l1_cluster_classes: dict[str, list[int]] = Field(
        default_factory=dict,
        description="For l1_method 'wishart_h_alpha': {class name: [H-alpha cluster codes 1-9]}, e.g. "
        "{water: [9], urban: [7, 4]}; unmapped clusters stay unlabelled.",
    )
    l1_wishart_iterations: int = Field(10, ge=0, description="Maximum Wishart reassignment passes.")
    l2_threshold: float = Field(
        0.5, gt=0.0, le=1.0, description="Minimum area fraction of the majority class."
    )
    l3_buffer_m: float = Field(
        5.0,
        ge=0.0,
        description="Boundary buffer excluded from L3, metres: pixels whose centre is closer than this to "
        "where a reference outline can lie (radarcode boundary_distance) are not L3. Set it to the "
        "positional uncertainty of the reference plus the SAR geolocation (a few metres for "
        "topographic maps and Sentinel-1); pixels an outline crosses are always excluded when > 0.",
    )
    l3_outlier_probability: float = Field(
        0.99,
        gt=0.5,
        lt=1.0,
        description="1 - nominal false-rejection rate of the per-class SAR consistency test.",
    )
    l3_outlier_method: Literal["mahalanobis", "mad"] = Field(
        "mahalanobis",
        description="Per-class outlier test (robust Mahalanobis distance or per-feature MAD).",
    )
    l3_region_min_pixels: int = Field(
        10,
        ge=0,
        description="Regions of same-class L3 candidates (about one reference feature inside the buffer) with at "
        "least this many pixels are rejected when their mean signature is nearer to another class; "
        "0 turns the region test off.",
    )
    l3_features: list[str] = Field(
        default_factory=lambda: [
            "backscatter_mean_db_vv",
            "backscatter_mean_db_vh",
            "coherence_mean_vv",
        ],
        description="Signature expressions the L3 consistency test uses (missing ones are skipped). Default: "
        "temporal mean backscatter (dB, speckle-filtered) and mean coherence, which are defined "
        "everywhere and near-Gaussian per class; per-date single-look values are too noisy and "
        "NaN where noise removal goes negative.",
    )

    detection: DetectionLabelsConfig | None = Field(
        None,
        description="Object-detection labels (COCO, YOLO, STAC label item) in DATASET/detection; None: none.",
    )
    change: ChangeLabelsConfig | None = Field(
        None, description="Change labels per consecutive date pair in DATASET/change; None: none."
    )

    @model_validator(mode="after")
    def _l1_method(self) -> LabelsConfig:
        if self.l1_method == "wishart_h_alpha":
            if self.l1_rules:
                raise ValueError("l1_rules and l1_method 'wishart_h_alpha' exclude each other")
            if not self.l1_cluster_classes:
                raise ValueError(
                    "l1_method 'wishart_h_alpha' needs l1_cluster_classes ({class: [cluster codes]})"
                )
        elif self.l1_cluster_classes:
            raise ValueError("l1_cluster_classes applies to l1_method 'wishart_h_alpha' only")
        return self


class ChipsConfig(_Strict):
    """Chips and spatially blocked splits."""

    sizes: list[int] = Field(default_factory=lambda: [64], description="Chip edge lengths, pixels.")
    block: int = Field(128, ge=16, description="Split block size, pixels.")
    buffer: int = Field(
        8, ge=0, description="Unassigned pixels between blocks of different splits."
    )
    fractions: tuple[float, float, float] = Field(
        (0.7, 0.15, 0.15), description="train, validation, test."
    )
    seed: int = 0

    @field_validator("fractions")
    @classmethod
    def _sum_to_one(cls, value: tuple[float, float, float]) -> tuple[float, float, float]:
        if any(v < 0 for v in value) or abs(sum(value) - 1.0) > 1e-6:
            raise ValueError(f"split fractions must be >= 0 and sum to 1, got {value}")
        return value

    @field_validator("sizes")
    @classmethod
    def _positive(cls, value: list[int]) -> list[int]:
        if not value or any(v < 8 for v in value):
            raise ValueError("chip sizes must be >= 8 pixels")
        return value


class QuantizeConfig(_Strict):
    """Lossy storage of the float signatures (docs/outputs.md, "Quantisation"); give one of the two."""

    keepbits: int | None = Field(
        None,
        ge=1,
        le=23,
        description="Bit rounding to this many float32 mantissa bits: relative error <= 2^-(keepbits+1).",
    )
    absolute: float | None = Field(
        None,
        gt=0.0,
        description="Rounding to a power-of-two step <= 2 x this value: absolute error <= absolute "
        "(in each variable's units; suits dB, phases, coherence -- not linear intensities).",
    )
    variables: list[str] | None = Field(
        None, description="Signatures to quantise; None: every float signature."
    )

    @model_validator(mode="after")
    def _one(self) -> QuantizeConfig:
        if (self.keepbits is None) == (self.absolute is None):
            raise ValueError("give exactly one of keepbits and absolute")
        return self


class TimeseriesOutput(_Strict):
    """The time-series layout ``timeseries.zarr`` (docs/ml.md, "Time series")."""

    previous_coherence: bool = Field(
        True,
        description="Add the coherence to the previous date (coherence_prev_<p>; the coregistration "
        "computes the consecutive-date coherence of the stack for it).",
    )
    chunk: int = Field(64, ge=8, description="Chunk edge (lines = pixels) of timeseries.zarr.")


class OutputsConfig(_Strict):
    """Where and what to write."""

    directory: Path = Field(Path("sarbd-dataset"), description="Dataset folder.")
    formats: list[OutputFormat] = Field(
        default_factory=lambda: list(DEFAULT_FORMATS),
        description="Outputs: zarr (the primary store), stac (catalog + README), and the exports "
        "netcdf (dataset.nc), cog (cog/*.tif), parquet (tables/pixels.parquet).",
    )
    quantize: QuantizeConfig | None = Field(
        None, description="Lossy storage of the signatures (default: lossless float32)."
    )
    cache: Literal["compact", "keep"] = Field(
        "compact",
        description="compact: after the export, drop the per-date rasters of the coregistered stack "
        "(SLCs, interferograms) from .sarbd-cache; a later build whose signature settings "
        "changed coregisters again. keep: keep them (faster iterations on signature settings).",
    )
    cog_geocode: bool = Field(False, description="Also write COGs geocoded to a map CRS.")
    cog_variables: list[str] | None = Field(
        None,
        description="Variables written as COGs (one per date for per-date ones); None: every variable.",
    )
    table_features: Literal["temporal", "all"] | list[str] = Field(
        "temporal",
        description="Signature columns of tables/pixels.parquet: 'temporal' (no per-date columns), 'all' "
        "(one column per date too; as large as the cube) or variable names.",
    )
    timeseries: TimeseriesOutput | None = Field(
        None,
        description="Also write DATASET/timeseries.zarr, the per-pixel time series for sequence models "
        "(`true` or a mapping {previous_coherence, chunk}); None: not written.",
    )
    name: str = Field("sarbd-dataset", description="Dataset name (STAC collection id, README).")
    license: str = "CC-BY-4.0"
    authors: list[str] = Field(default_factory=lambda: ["sarbd user"])

    @field_validator("timeseries", mode="before")
    @classmethod
    def _timeseries_flag(cls, value: Any) -> Any:
        # `timeseries: true` turns the layout on with its defaults, `false` off
        if value is True:
            return {}
        return None if value is False else value


class ComputeConfig(_Strict):
    """How to compute."""

    chunks: Chunks = Field(DEFAULT_CHUNKS, description="(lines, pixels) Dask chunk shape.")
    scheduler: str | None = Field(
        None, description="Address of an existing Dask scheduler; None: local."
    )

    @field_validator("chunks")
    @classmethod
    def _positive(cls, value: Chunks) -> Chunks:
        value = Chunks(*value)
        if min(value) < 16:
            raise ValueError("chunks must be at least 16 x 16")
        return value


class BuildConfig(_Strict):
    """The whole build: inputs -> SARbd dataset."""

    inputs: InputsConfig
    aoi: AOIConfig = Field(default_factory=AOIConfig)
    coregistration: CoregistrationConfig = Field(default_factory=CoregistrationConfig)
    signatures: SignaturesConfig = Field(default_factory=SignaturesConfig)
    labels: LabelsConfig = Field(default_factory=LabelsConfig)
    chips: ChipsConfig = Field(default_factory=ChipsConfig)
    outputs: OutputsConfig = Field(default_factory=OutputsConfig)
    compute: ComputeConfig = Field(default_factory=ComputeConfig)

    def resolved(self) -> dict[str, Any]:
        """The configuration with every default filled in, JSON-compatible."""
        return self.model_dump(mode="json")


# -- YAML with line numbers ----------------------------------------------------------


class _LineLoader(yaml.SafeLoader):
    """A safe YAML loader that remembers the line of every mapping value."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":  # ``<<: *base`` may be overridden on purpose
            continue
        key = loader.construct_object(key_node, deep=True)
        try:
            first = lines.get(key)
        except TypeError:  # an unhashable key (a list or mapping)
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                "a key is a list or mapping",
                key_node.start_mark,
            ) from None
        if first is not None:
            # YAML 1.2 requires unique keys; PyYAML would silently keep the last one
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"duplicate key {key!r} (first given at line {first})",
                key_node.start_mark,
            )
        lines[key] = key_node.start_mark.line + 1
    mapping = loader.construct_mapping(node, deep=True)
    return _LineDict(mapping, lines)


class _LineDict(dict):  # type: ignore[type-arg]
    def __init__(self, data: dict[Any, Any], lines: dict[Any, int]):
        super().__init__(data)
        self.lines = lines

    @staticmethod
    def check_depth(data: Any, limit: int = 50) -> Any:
        """``data`` unchanged; nesting deeper than ``limit`` raises RecursionError (no config is that deep)."""
        stack = [(data, 0)]
        seen: set[int] = set()
        while stack:
            node, depth = stack.pop()
            if depth > limit:
                raise RecursionError
            if isinstance(node, dict | list) and id(node) not in seen:  # aliases are visited once
                seen.add(id(node))
                stack.extend(
                    (v, depth + 1) for v in (node.values() if isinstance(node, dict) else node)
                )
        return data


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _line_of(data: Any, loc: tuple[Any, ...]) -> int | None:
    line = None
    node = data
    for key in loc:
        if isinstance(node, _LineDict) and key in node:
            line = node.lines.get(key, line)
            node = node[key]
        elif isinstance(node, list) and isinstance(key, int) and key < len(node):
            node = node[key]
            if isinstance(node, _LineDict) and node.lines:
                line = min(node.lines.values())
        else:
            break
    return line


def _plain(data: Any, memo: dict[int, Any] | None = None) -> Any:
    """Plain dicts/lists; a YAML alias stays one shared object (no exponential copies)."""
    memo = {} if memo is None else memo
    if id(data) in memo:
        return memo[id(data)]
    if isinstance(data, dict):
        out: Any = memo.setdefault(id(data), {})
        out.update({k: _plain(v, memo) for k, v in data.items()})
        return out
    if isinstance(data, list):
        out = memo.setdefault(id(data), [])
        out.extend(_plain(v, memo) for v in data)
        return out
    return data


def load_config(path: str | Path, overrides: dict[str, Any] | None = None) -> BuildConfig:
    """Read and validate a build configuration.

    Relative paths in the file are resolved against the file's folder.

    Raises
    ------
    ConfigError
        The file is missing, not YAML, or invalid; the message names the line.
    """
    path = Path(path)
    if path.is_dir():
        raise ConfigError(
            "is a folder, not a configuration file",
            path=path,
            hint="give the YAML file, e.g. examples/groningen.yaml",
        )
    if not path.is_file():
        raise ConfigError("configuration file not found", path=path)
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError("the configuration must be a YAML mapping (key: value)", path=path)
    plain = _plain(data)
    for key, value in (overrides or {}).items():
        plain[key] = value
    try:
        config = BuildConfig.model_validate(plain)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        line = _line_of(data, loc)
        where = f"line {line}: " if line else ""
        key = ".".join(str(p) for p in loc)
        msg = first["msg"]
        hint = None
        if first["type"] == "extra_forbidden":
            msg = f"unknown key {loc[-1]!r}"
            hint = "check the spelling; `sarbd build CONFIG --print-config` and examples/ show the valid keys"
        raise ConfigError(" ".join(f"{where}{key}: {msg}".split()), path=path, hint=hint) from None
    try:
        return _resolve_paths(config, path.parent)
    except (ValueError, OSError) as exc:  # e.g. a path with a NUL character
        raise ConfigError(f"a path in the configuration is unusable ({exc})", path=path) from None


#: the largest configuration file read (a build configuration is a few kB)
MAX_CONFIG_BYTES = 10 << 20


def _read_yaml(path: Path) -> Any:
    """The YAML document of ``path`` with line numbers; every failure is a :class:`ConfigError`.

    Refused: unreadable files, files over :data:`MAX_CONFIG_BYTES`, bytes that are not
    UTF-8 text (binary files), YAML syntax errors, duplicate keys (with both lines),
    and documents nested beyond Python's recursion limit.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the configuration file ({exc.strerror})", path=path
        ) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"the configuration file is {len(raw) / 2**20:.0f} MiB, not a build configuration",
            path=path,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"not a text file (byte {exc.start} is not UTF-8); a YAML configuration was expected",
            path=path,
            hint="give the YAML file, e.g. examples/simulated.yaml",
        ) from None
    try:
        data = yaml.load(text, Loader=_LineLoader)  # a SafeLoader subclass
        return _LineDict.check_depth(data)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            " ".join(f"not valid YAML{where}: {problem}".split()), path=path
        ) from None
    except RecursionError:
        raise ConfigError("the YAML document is nested too deeply", path=path) from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. an impossible date 2021-13-45
        raise ConfigError(" ".join(f"not valid YAML: {exc}".split()), path=path) from None


def _resolve_paths(config: BuildConfig, base: Path) -> BuildConfig:
    def fix(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else (base / p).resolve())

    inputs = config.inputs
    products: list[ProductEntry] = []
    for entry in inputs.products:
        if isinstance(entry, ProductSpec):
            for name in ("path", "annotation", "measurement", "orbit"):
                setattr(entry, name, fix(getattr(entry, name)))
            products.append(entry)
        else:
            products.append(fix(entry))  # type: ignore[arg-type]
    inputs.products = products
    if inputs.stack is not None:
        inputs.stack.path = fix(inputs.stack.path)  # type: ignore[assignment]
    inputs.reference_product = fix(inputs.reference_product)
    inputs.orbits = fix(inputs.orbits)
    inputs.dem = fix(inputs.dem)
    for layer in inputs.reference:
        layer.path = fix(layer.path)  # type: ignore[assignment]
    config.aoi.polygon = fix(config.aoi.polygon)
    if config.labels.detection is not None:
        config.labels.detection.reference = fix(config.labels.detection.reference)  # type: ignore[assignment]
        config.labels.detection.region = fix(config.labels.detection.region)
    if config.labels.change is not None:
        config.labels.change.reference = fix(config.labels.change.reference)  # type: ignore[assignment]
    config.outputs.directory = fix(config.outputs.directory)  # type: ignore[assignment]
    return config
