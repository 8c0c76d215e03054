#!/usr/bin/env bash
# Fetches axe-core (the accessibility engine the browser tests inject into Chromium) from the npm
# registry, once: a pinned version, checked against the registry's sha512 before it is unpacked.
set -euo pipefail
cd "$(dirname "$0")"
VERSION=4.14.1
INTEGRITY=sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==
TARGET=.axe-core/axe-$VERSION.min.js
[ -s "$TARGET" ] && exit 0
python3 - "$VERSION" "$INTEGRITY" "$TARGET" <<'PY'
import base64, hashlib, io, pathlib, sys, tarfile, urllib.request

version, integrity, target = sys.argv[1:]
url = f"https://registry.npmjs.org/axe-core/-/axe-core-{version}.tgz"
data = urllib.request.urlopen(url, timeout=60).read()
digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
if digest != integrity:
    sys.exit(f"axe-core {version}: la suma no coincide ({digest})")
with tarfile.open(fileobj=io.BytesIO(data)) as tar:
    script = tar.extractfile("package/axe.min.js").read()
path = pathlib.Path(target)
path.parent.mkdir(exist_ok=True)
path.write_bytes(script)
print(f"axe-core {version} en tests/{target}")
PY
