"""storiiies: turn Markdown into guided deep-zoom tours of IIIF images."""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# Loaded on first use, so `storiiies --help` does not import libvips, httpx and the theme engine.
_EXPORTS = {
    "BuildFailed": "storiiies.errors",
    "Problem": "storiiies.errors",
    "SourceLocation": "storiiies.errors",
    "StoriiiesError": "storiiies.errors",
    "build_site": "storiiies.build",
    "check_site": "storiiies.build",
    "load_config": "storiiies.config",
}

__all__ = sorted([*_EXPORTS, "__version__"])


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'storiiies' has no attribute {name!r}")
