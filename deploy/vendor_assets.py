"""Copy the front-end packages the pages use from ``node_modules`` (installed by
``npm ci`` from ``package-lock.json``) into ``intake_service/web/static/vendor``.

The pages never load a CDN: the files are served by the service itself (its strict
CSP allows 'self' only). Run by ``./dev`` and the image's build; exits 2 naming the
fix when the packages are not installed.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = ROOT / "node_modules"
VENDOR = ROOT / "intake_service" / "web" / "static" / "vendor"
# package → the files (or folders) of it the pages use, relative to the package.
FILES = {
    "leaflet": ["dist/leaflet.js", "dist/leaflet.css", "dist/images", "LICENSE"],
    # The API's docs page (flask-smorest's Swagger UI page loads these three): 5.x, for
    # OpenAPI 3.1.
    "swagger-ui-dist": [
        "swagger-ui-bundle.js",
        "swagger-ui-standalone-preset.js",
        "swagger-ui.css",
        "LICENSE",
        "NOTICE",
    ],
}


def main() -> int:
    missing = [name for name in FILES if not (MODULES / name / "package.json").is_file()]
    if missing:
        print(
            f"error: {', '.join(missing)} not installed in {MODULES}: run `npm ci` first "
            "(Debian: sudo apt-get install -y nodejs npm).",
            file=sys.stderr,
        )
        return 2
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for name, paths in FILES.items():
        for relative in paths:
            source = MODULES / name / relative
            target = VENDOR / name / Path(relative).name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            else:
                shutil.copy2(source, target)
    print(f"vendored {', '.join(FILES)} into {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
