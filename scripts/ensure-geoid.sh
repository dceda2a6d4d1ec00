#!/usr/bin/env bash
# Make sure an offline EGM96 geoid grid is available to sarbd.
# sarbd looks for PROJ's `us_nga_egm96_15.tif` or `egm96_15.gtx` (see
# sarbd.geometry.geoid). On Debian/Ubuntu the `proj-data` package from the
# distribution's registry ships `egm96_15.gtx`; install it when we are allowed to.
set -u
for d in "${SARBD_GEOID_DIR:-}" "${PROJ_DATA:-}" "${PROJ_LIB:-}" /usr/share/proj /usr/local/share/proj; do
  [ -n "$d" ] || continue
  if [ -f "$d/us_nga_egm96_15.tif" ] || [ -f "$d/egm96_15.gtx" ]; then
    echo "geoid grid found in $d"; exit 0
  fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "installing the EGM96 geoid grid (Debian package proj-data)"
  (apt-get install -y -qq proj-data >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq proj-data >/dev/null 2>&1; }) \
    && [ -f /usr/share/proj/egm96_15.gtx ] && { echo "geoid grid installed in /usr/share/proj"; exit 0; }
fi
echo "WARNING: no EGM96 geoid grid found. Geoid-referenced DEMs need one:" >&2
echo "  apt-get install proj-data   (or: projsync --file us_nga_egm96_15.tif; or set SARBD_GEOID_DIR)" >&2
exit 0
