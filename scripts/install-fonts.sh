#!/usr/bin/env bash
# Installs what the PDF settlement statement (结算清单) needs from Debian's packages:
#   fonts-wqy-microhei  the CJK font embedded (subset) in every statement: TrueType outlines, 1.6 MB download,
#                       no dependencies; backend/reports/statement_pdf.py looks for it at the path below.
#   poppler-utils       pdftotext / pdffonts / pdftoppm, which the tests use to read the PDF back.
# Idempotent: does nothing when both are present; runs `apt-get update` only when a package cannot be found.
# Needs root (or passwordless sudo) when something is missing; works non-interactively in CI.
set -euo pipefail

FONT_FILE=/usr/share/fonts/truetype/wqy/wqy-microhei.ttc
packages=()
[ -f "$FONT_FILE" ] || packages+=(fonts-wqy-microhei)
command -v pdftotext >/dev/null 2>&1 && command -v pdffonts >/dev/null 2>&1 \
    && command -v pdftoppm >/dev/null 2>&1 || packages+=(poppler-utils)

if [ ${#packages[@]} -eq 0 ]; then
    echo "install-fonts: fonts-wqy-microhei and poppler-utils already present"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
        echo "install-fonts: need root to install: ${packages[*]}" >&2; exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() { $SUDO apt-get install -y -q --no-install-recommends "${packages[@]}"; }
# A fresh machine may have no (or stale) package lists: update once, only then.
if ! apt-cache show "${packages[@]}" >/dev/null 2>&1 || ! apt_install; then
    $SUDO apt-get update -q
    apt_install
fi
[ -f "$FONT_FILE" ] || { echo "install-fonts: $FONT_FILE missing after install" >&2; exit 1; }
echo "install-fonts: installed ${packages[*]}"
