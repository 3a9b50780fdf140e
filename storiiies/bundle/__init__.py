"""Offline bundles: a self-contained copy of the site whose remote images are mirrored as
level-0 Image API trees, holding only the tiles the tours can show. See docs/offline.md.

    mirror.py    remote images → their services' Grids (grid.py) and local info.json
    localize.py  Site → Site with the local copies swapped in
    moves.py     every view and flight of the tour's panels
    plan.py      → the tiles those need, at the configured screen sizes
    download.py  polite, resumable fetching
    stitch.py    overview sizes and crops cut from the tiles
    checksums.py SHA256SUMS, zip, verify
    run.py       bundle_site(): all of it, written by the normal build
"""

from storiiies.bundle.checksums import Verification, verify
from storiiies.bundle.run import BundleReport, bundle_site

__all__ = ["BundleReport", "Verification", "bundle_site", "verify"]
