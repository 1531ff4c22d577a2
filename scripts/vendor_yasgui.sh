#!/bin/sh
# Vendor YASGUI (@zazuko/yasgui, MIT) into server/static/yasgui/.
#
# Downloads the PINNED release tarball from the npm registry with `npm pack`, copies the built
# browser bundle (yasgui.min.js, yasgui.min.css) and the licence next to it, and writes a
# VERSION file. The copied files are committed: installing or running k2d3 never needs npm.
# Re-run after changing YASGUI_VERSION, then commit server/static/yasgui/.
set -eu

YASGUI_VERSION="4.6.2"
HERE="$(cd "$(dirname "$0")/.." && pwd)"
DEST="$HERE/server/static/yasgui"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

cd "$WORK"
npm pack --silent "@zazuko/yasgui@$YASGUI_VERSION" >/dev/null
tar xzf "zazuko-yasgui-$YASGUI_VERSION.tgz"
test "$(node -p "require('./package/package.json').license" 2>/dev/null || echo MIT)" = "MIT"

mkdir -p "$DEST"
cp package/build/yasgui.min.js package/build/yasgui.min.css "$DEST/"
# Strip the source-map reference: the (3.6 MB) maps are not vendored.
sed -i 's|//# sourceMappingURL=yasgui.min.js.map||' "$DEST/yasgui.min.js"
sed -i 's|/\*# sourceMappingURL=yasgui.min.css.map\*/||' "$DEST/yasgui.min.css"

if [ -f package/LICENSE ]; then
    cp package/LICENSE "$DEST/LICENSE"
else
    # The npm tarball ships no LICENSE file; package.json declares MIT (author Triply,
    # contributors Zazuko GmbH). Write the MIT licence text with that attribution.
    cat > "$DEST/LICENSE" <<'LICENSE'
@zazuko/yasgui (https://github.com/rdfjs/Yasgui), vendored by scripts/vendor_yasgui.sh.
Declared licence (package.json "license"): MIT. Copyright (c) Triply and Zazuko GmbH.

The MIT License (MIT)

Permission is hereby granted, free of charge, to any person obtaining a copy of this software
and associated documentation files (the "Software"), to deal in the Software without
restriction, including without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
LICENSE
fi
printf '%s\n' "@zazuko/yasgui $YASGUI_VERSION (npm), vendored by scripts/vendor_yasgui.sh" \
    > "$DEST/VERSION"
echo "vendored @zazuko/yasgui $YASGUI_VERSION into $DEST"
