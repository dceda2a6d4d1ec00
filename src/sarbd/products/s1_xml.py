"""Every XML element path the Sentinel-1 reader uses, in one place.

The reader depends only on these elements, all of which real ESA products
contain (Sentinel-1 Product Specification, S1-RS-MDA-52-7441, sections 6 and
9; XSD ``s1-level-1-product.xsd``, ``s1-level-1-calibration.xsd``,
``s1-level-1-noise.xsd`` shipped in every SAFE's ``support/`` folder). A
simulator that writes products for this reader must write at least these.

Paths are ElementTree/lxml paths relative to the document root. ``LIST_*``
entries name repeated elements; the ``*_FIELDS`` dictionaries map our field
names to child elements of each repeated element.
"""

from __future__ import annotations

# -- product annotation (annotation/s1?-<swath>-slc-<pol>-....xml) -----------------
MISSION = "adsHeader/missionId"  # S1A / S1B / S1C / S1D
PRODUCT_TYPE = "adsHeader/productType"  # SLC
POLARISATION = "adsHeader/polarisation"  # VV, VH, HH, HV
MODE = "adsHeader/mode"  # IW, EW, SM (S1..S6 in the header)
SWATH = "adsHeader/swath"  # IW1, EW3, S3 ...
START_TIME = "adsHeader/startTime"  # UTC, first line
STOP_TIME = "adsHeader/stopTime"  # UTC, last line
ABSOLUTE_ORBIT = "adsHeader/absoluteOrbitNumber"
DATA_TAKE_ID = "adsHeader/missionDataTakeId"  # decimal; the product name has it in hex
IMAGE_NUMBER = "adsHeader/imageNumber"

PASS = "generalAnnotation/productInformation/pass"  # Ascending / Descending
PLATFORM_HEADING = "generalAnnotation/productInformation/platformHeading"  # deg
RANGE_SAMPLING_RATE = "generalAnnotation/productInformation/rangeSamplingRate"  # Hz
RADAR_FREQUENCY = "generalAnnotation/productInformation/radarFrequency"  # Hz
AZIMUTH_STEERING_RATE = "generalAnnotation/productInformation/azimuthSteeringRate"  # deg/s
PRF = "generalAnnotation/downlinkInformationList/downlinkInformation/prf"  # Hz (first entry)

LIST_ORBIT = "generalAnnotation/orbitList/orbit"
ORBIT_FIELDS = {
    "time": "time",
    "x": "position/x",
    "y": "position/y",
    "z": "position/z",
    "vx": "velocity/x",
    "vy": "velocity/y",
    "vz": "velocity/z",
}

LIST_AZIMUTH_FM_RATE = "generalAnnotation/azimuthFmRateList/azimuthFmRate"
AZIMUTH_FM_RATE_FIELDS = {
    "azimuth_time": "azimuthTime",
    "t0": "t0",
    "polynomial": "azimuthFmRatePolynomial",
}
# IPF < 2.43 wrote the FM-rate polynomial as three scalars c0, c1, c2 instead.
AZIMUTH_FM_RATE_LEGACY = ("c0", "c1", "c2")

LIST_TERRAIN_HEIGHT = "generalAnnotation/terrainHeightList/terrainHeight"
TERRAIN_HEIGHT_FIELDS = {"azimuth_time": "azimuthTime", "value": "value"}

IMAGE_INFO = "imageAnnotation/imageInformation"
SLANT_RANGE_TIME = IMAGE_INFO + "/slantRangeTime"  # s, two-way, first pixel
RANGE_PIXEL_SPACING = IMAGE_INFO + "/rangePixelSpacing"  # m
AZIMUTH_PIXEL_SPACING = IMAGE_INFO + "/azimuthPixelSpacing"  # m
AZIMUTH_TIME_INTERVAL = IMAGE_INFO + "/azimuthTimeInterval"  # s
NUMBER_OF_SAMPLES = IMAGE_INFO + "/numberOfSamples"
NUMBER_OF_LINES = IMAGE_INFO + "/numberOfLines"
INCIDENCE_MID_SWATH = IMAGE_INFO + "/incidenceAngleMidSwath"  # deg
PRODUCT_FIRST_LINE_TIME = IMAGE_INFO + "/productFirstLineUtcTime"
PRODUCT_LAST_LINE_TIME = IMAGE_INFO + "/productLastLineUtcTime"

LIST_DOPPLER_CENTROID = "dopplerCentroid/dcEstimateList/dcEstimate"
DOPPLER_CENTROID_FIELDS = {
    "azimuth_time": "azimuthTime",
    "t0": "t0",
    "geometry_polynomial": "geometryDcPolynomial",
    "data_polynomial": "dataDcPolynomial",
}

LINES_PER_BURST = "swathTiming/linesPerBurst"
SAMPLES_PER_BURST = "swathTiming/samplesPerBurst"
LIST_BURST = "swathTiming/burstList/burst"
BURST_FIELDS = {
    "azimuth_time": "azimuthTime",
    "azimuth_anx_time": "azimuthAnxTime",
    "sensing_time": "sensingTime",
    "byte_offset": "byteOffset",
    "first_valid_sample": "firstValidSample",
    "last_valid_sample": "lastValidSample",
    "burst_id": "burstId",
}

LIST_GEOLOCATION = "geolocationGrid/geolocationGridPointList/geolocationGridPoint"
GEOLOCATION_FIELDS = {
    "azimuth_time": "azimuthTime",
    "slant_range_time": "slantRangeTime",
    "line": "line",
    "pixel": "pixel",
    "latitude": "latitude",
    "longitude": "longitude",
    "height": "height",
    "incidence_angle": "incidenceAngle",
    "elevation_angle": "elevationAngle",
}

# -- calibration annotation (annotation/calibration/calibration-....xml) -----------
ABSOLUTE_CALIBRATION_CONSTANT = "calibrationInformation/absoluteCalibrationConstant"
LIST_CALIBRATION_VECTOR = "calibrationVectorList/calibrationVector"
CALIBRATION_FIELDS = {
    "azimuth_time": "azimuthTime",
    "line": "line",
    "pixel": "pixel",
    "sigma0": "sigmaNought",
    "beta0": "betaNought",
    "gamma0": "gamma",
    "dn": "dn",
}

# -- noise annotation (annotation/calibration/noise-....xml) ------------------------
# IPF >= 2.9: separate range and azimuth vectors.
LIST_NOISE_RANGE_VECTOR = "noiseRangeVectorList/noiseRangeVector"
NOISE_RANGE_FIELDS = {
    "azimuth_time": "azimuthTime",
    "line": "line",
    "pixel": "pixel",
    "values": "noiseRangeLut",
}
LIST_NOISE_AZIMUTH_VECTOR = "noiseAzimuthVectorList/noiseAzimuthVector"
NOISE_AZIMUTH_FIELDS = {
    "swath": "swath",
    "first_line": "firstAzimuthLine",
    "first_sample": "firstRangeSample",
    "last_line": "lastAzimuthLine",
    "last_sample": "lastRangeSample",
    "line": "line",
    "values": "noiseAzimuthLut",
}
# IPF < 2.9: range vectors only, under another name.
LIST_NOISE_VECTOR_LEGACY = "noiseVectorList/noiseVector"
NOISE_LEGACY_FIELDS = {
    "azimuth_time": "azimuthTime",
    "line": "line",
    "pixel": "pixel",
    "values": "noiseLut",
}

# -- manifest.safe (namespaced; matched by local name) ------------------------------
MANIFEST = "manifest.safe"
MANIFEST_IPF_SOFTWARE = ".//{*}software[@name='Sentinel-1 IPF']"  # attribute "version"
MANIFEST_RELATIVE_ORBIT = ".//{*}relativeOrbitNumber[@type='start']"
MANIFEST_ABSOLUTE_ORBIT = ".//{*}orbitNumber[@type='start']"
MANIFEST_PASS = ".//{*}pass"
MANIFEST_START_TIME = ".//{*}acquisitionPeriod/{*}startTime"
MANIFEST_STOP_TIME = ".//{*}acquisitionPeriod/{*}stopTime"

# -- SAFE layout ----------------------------------------------------------------------
ANNOTATION_DIR = "annotation"
CALIBRATION_DIR = "annotation/calibration"
MEASUREMENT_DIR = "measurement"
#: ``s1a-iw3-slc-vv-<start>-<stop>-<orbit>-<datatake>-<image>`` (lower case, ESA naming)
FILE_STEM_PATTERN = (
    r"(?P<mission>s1[a-d])-(?P<swath>[a-z]{1,2}\d?)-(?P<type>[a-z]{3})-(?P<pol>[hv]{2})-"
    r"(?P<start>\d{8}t\d{6})-(?P<stop>\d{8}t\d{6})-(?P<orbit>\d{6})-(?P<datatake>[0-9a-f]{6})-(?P<image>\d{3})"
)
