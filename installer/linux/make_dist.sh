#!/bin/sh
# Build the Linux release from the PyInstaller bundle dist/TEMNetStudio:
#   dist/temnet-studio-VERSION-linux-ARCH.tar.xz  (bundle + install.sh / uninstall.sh)
#   dist/temnet-studio_VERSION_DEBARCH.deb        (installs to /opt/temnet-studio)
# Usage: installer/linux/make_dist.sh VERSION   (run from the repository root; make dist-linux)
set -eu
VERSION=${1:?usage: make_dist.sh VERSION}
ROOT=$(pwd)
BUNDLE=$ROOT/dist/TEMNetStudio
ICONS=$ROOT/build/icons
HERE=$ROOT/installer/linux
STAGE=$ROOT/build/linux
[ -x "$BUNDLE/TEMNetStudio" ] || { echo "make_dist.sh: no bundle at $BUNDLE (make bundle)" >&2; exit 2; }
[ -f "$ICONS/temnet-studio-256.png" ] || { echo "make_dist.sh: no icons (make icons)" >&2; exit 2; }
ARCH=$(uname -m)
DEBARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
rm -rf "$STAGE"
mkdir -p "$STAGE"

# ---- tarball: the bundle, the installer scripts, the desktop files
NAME=temnet-studio-$VERSION-linux-$ARCH
TREE=$STAGE/$NAME
mkdir -p "$TREE/share/icons"
cp -a "$BUNDLE" "$TREE/TEMNetStudio"
cp "$HERE/install.sh" "$HERE/uninstall.sh" "$TREE/"
cp "$HERE/temnet-studio.desktop.in" "$HERE/temnet-studio-mime.xml" "$TREE/share/"
for size in 16 24 32 48 64 128 256; do
    cp "$ICONS/temnet-studio-$size.png" "$TREE/share/icons/"
done
cat > "$TREE/README.txt" <<TXT
TEMNet Studio $VERSION for Linux ($ARCH)

Install for yourself (no administrator rights):   ./install.sh
Then start it from the applications menu, or run temnet-studio.
Check the installation:                           ~/.local/opt/temnet-studio/temnet self-test
Remove it:                                        ~/.local/opt/temnet-studio/uninstall.sh
Run without installing:                           ./TEMNetStudio/TEMNetStudio
TXT
# xz at a low level: a third smaller than gzip for about the same time
tar -C "$STAGE" -cf - "$NAME" | xz -T0 -"${XZ_LEVEL:-1}" > "$ROOT/dist/$NAME.tar.xz"

# ---- .deb: /opt/temnet-studio, desktop entry, icons, MIME type, /usr/bin links
DEB=$STAGE/deb
mkdir -p "$DEB/opt" "$DEB/usr/bin" "$DEB/usr/share/applications" \
         "$DEB/usr/share/mime/packages" "$DEB/DEBIAN"
cp -a "$BUNDLE" "$DEB/opt/temnet-studio"
ln -s /opt/temnet-studio/temnet "$DEB/usr/bin/temnet"
ln -s /opt/temnet-studio/TEMNetStudio "$DEB/usr/bin/temnet-studio"
sed "s|@EXEC@|/opt/temnet-studio/TEMNetStudio|g" "$HERE/temnet-studio.desktop.in" \
    > "$DEB/usr/share/applications/temnet-studio.desktop"
cp "$HERE/temnet-studio-mime.xml" "$DEB/usr/share/mime/packages/temnet-studio.xml"
for size in 16 24 32 48 64 128 256; do
    mkdir -p "$DEB/usr/share/icons/hicolor/${size}x${size}/apps"
    cp "$ICONS/temnet-studio-$size.png" \
       "$DEB/usr/share/icons/hicolor/${size}x${size}/apps/temnet-studio.png"
done
SIZE_KB=$(du -sk "$DEB" | cut -f1)
sed -e "s|@VERSION@|$VERSION|" -e "s|@ARCH@|$DEBARCH|" -e "s|@SIZE@|$SIZE_KB|" \
    "$HERE/deb/control.in" > "$DEB/DEBIAN/control"
cp "$HERE/deb/postinst" "$HERE/deb/postrm" "$DEB/DEBIAN/"
chmod 0755 "$DEB/DEBIAN/postinst" "$DEB/DEBIAN/postrm"
dpkg-deb --root-owner-group -Z"${DEB_COMPRESSION:-xz}" -z"${DEB_LEVEL:-1}" \
    --build "$DEB" "$ROOT/dist/temnet-studio_${VERSION}_$DEBARCH.deb"
echo "wrote dist/$NAME.tar.xz and dist/temnet-studio_${VERSION}_$DEBARCH.deb"
