"""The official IIIF Presentation 3 schema (../shared/iiif), as the presentation validator uses
it."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator

#: The position of each document type in the schema's top-level oneOf.
_BRANCHES = {
    "Manifest": 0,
    "Collection": 1,
    "AnnotationCollection": 2,
    "AnnotationPage": 3,
    "Annotation": 4,
}


@cache
def _validator(schema_path: Path) -> Draft7Validator:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)


def schema_errors(document: Any, shared: Path) -> list[str]:
    """Every schema error of `document`, each as 'path: message' (none means it validates)."""
    validator = _validator(shared / "iiif" / "presentation-3.0.schema.json")
    errors = []
    for error in validator.iter_errors(document):
        # The schema's top level is a oneOf of every document type: the useful errors are the
        # deepest ones of the branch that matches this document's type.
        kind = document.get("type") if isinstance(document, dict) else None
        branch = _BRANCHES.get(kind) if isinstance(kind, str) else None
        leaves = [e for e in error.context or () if e.relative_schema_path[0] == branch]
        for leaf in leaves or [error]:
            path = "/".join(str(p) for p in leaf.absolute_path)
            errors.append(f"{path}: {leaf.message[:200]}")
    return errors
