#!/bin/sh
# Install TEMNet Studio for the current user (no administrator rights): the program into
# ~/.local/opt/temnet-studio, a menu entry, the icon, the .temnet file type, and `temnet` on
# the PATH (~/.local/bin). Run it from the unpacked release folder: ./install.sh
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
APP=${TEMNET_INSTALL_DIR:-$HOME/.local/opt/temnet-studio}
BIN=$HOME/.local/bin

if [ ! -x "$HERE/TEMNetStudio/TEMNetStudio" ]; then
    echo "install.sh: run me from the unpacked release folder (TEMNetStudio/ not found)" >&2
    exit 2
fi
echo "Installing TEMNet Studio into $APP"
rm -rf "$APP.new"
mkdir -p "$(dirname "$APP")"
cp -a "$HERE/TEMNetStudio" "$APP.new"
rm -rf "$APP"
mv "$APP.new" "$APP"

mkdir -p "$DATA/applications" "$DATA/mime/packages" "$BIN"
sed "s|@EXEC@|$APP/TEMNetStudio|g" "$HERE/share/temnet-studio.desktop.in" \
    > "$DATA/applications/temnet-studio.desktop"
cp "$HERE/share/temnet-studio-mime.xml" "$DATA/mime/packages/temnet-studio.xml"
for png in "$HERE"/share/icons/temnet-studio-*.png; do
    size=$(basename "$png" .png | sed 's/temnet-studio-//')
    mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$DATA/icons/hicolor/${size}x${size}/apps/temnet-studio.png"
done
ln -sf "$APP/temnet" "$BIN/temnet"
ln -sf "$APP/TEMNetStudio" "$BIN/temnet-studio"
cp "$HERE/uninstall.sh" "$APP/uninstall.sh"

command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$DATA/mime" || true
command -v update-desktop-database >/dev/null 2>&1 && \
    update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && \
    gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true

echo "Done. Start TEMNet Studio from the applications menu, or run: temnet-studio"
case ":$PATH:" in
    *":$BIN:"*) ;;
    *) echo "Note: add $BIN to your PATH to run temnet from a terminal." ;;
esac
echo "Check the installation with: $APP/temnet self-test"
echo "Remove it with: $APP/uninstall.sh"
