#!/usr/bin/env bash
# System tools the test suite uses as independent peers and that the label marks need:
# exiftool (XMP/EXIF interop), ffmpeg/ffprobe (MP4/MKV tag interop), a CJK font for visible
# marks, libexempi for the cntc260 interop peer, espeak-ng for the spoken audio prompt.
# Installed from Debian's packages when running as root with apt-get available; otherwise the
# tests that need them skip and say why.
set -euo pipefail
PKGS="libimage-exiftool-perl ffmpeg fonts-wqy-microhei libexempi8 espeak-ng"
missing=""
for p in $PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
  echo "setup-system: not root or no apt-get; missing:$missing (tests needing them will skip)" >&2
fi
