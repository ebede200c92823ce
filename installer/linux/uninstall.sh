#!/bin/sh
# Remove a per-user installation made by install.sh (projects and micrographs are not touched).
set -eu
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APP=${TEMNET_INSTALL_DIR:-$HOME/.local/opt/temnet-studio}
BIN=$HOME/.local/bin

rm -f "$DATA/applications/temnet-studio.desktop" "$DATA/mime/packages/temnet-studio.xml"
for icon in "$DATA"/icons/hicolor/*/apps/temnet-studio.png; do
    [ -e "$icon" ] && rm -f "$icon"
done
for link in "$BIN/temnet" "$BIN/temnet-studio"; do
    if [ -L "$link" ] && case "$(readlink "$link")" in "$APP"/*) true ;; *) false ;; esac; then
        rm -f "$link"
    fi
done
rm -rf "$APP"
command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$DATA/mime" || true
command -v update-desktop-database >/dev/null 2>&1 && \
    update-desktop-database -q "$DATA/applications" || true
echo "TEMNet Studio removed (your projects and micrographs are untouched)."
