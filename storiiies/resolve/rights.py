"""Readable names for the rights URIs of Creative Commons and RightsStatements.org."""

from __future__ import annotations

import re

_CC = re.compile(
    r"^https?://creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)?", re.IGNORECASE
)
_RS = re.compile(r"^https?://rightsstatements\.org/(?:vocab|page)/([A-Za-z-]+)/", re.IGNORECASE)

_RIGHTS_STATEMENTS = {
    "InC": "In Copyright",
    "InC-OW-EU": "In Copyright – EU Orphan Work",
    "InC-EDU": "In Copyright – Educational Use Permitted",
    "InC-NC": "In Copyright – Non-Commercial Use Permitted",
    "InC-RUU": "In Copyright – Rights-holder(s) Unlocatable or Unidentifiable",
    "NoC-CR": "No Copyright – Contractual Restrictions",
    "NoC-NC": "No Copyright – Non-Commercial Use Only",
    "NoC-OKLR": "No Copyright – Other Known Legal Restrictions",
    "NoC-US": "No Copyright – United States",
    "CNE": "Copyright Not Evaluated",
    "UND": "Copyright Undetermined",
    "NKC": "No Known Copyright",
}

#: Statements that do not allow reuse without asking the rights holder.
RESTRICTIVE = {"InC", "InC-OW-EU", "InC-RUU", "NoC-CR"}


def rights_name(uri: str | None) -> str | None:
    """'CC BY 4.0', 'Public Domain Mark 1.0', 'In Copyright' …; None for other URIs."""
    if not uri:
        return None
    if match := _CC.match(uri):
        kind, code, version = match.groups()
        if kind.lower() == "publicdomain":
            name = {"zero": "CC0", "mark": "Public Domain Mark"}.get(code.lower(), code.upper())
        else:
            name = "CC " + code.upper()
        return f"{name} {version}" if version else name
    if match := _RS.match(uri):
        code = match.group(1)
        return _RIGHTS_STATEMENTS.get(code, code)
    return None


def is_restrictive(uri: str | None) -> bool:
    match = _RS.match(uri or "")
    return bool(match and match.group(1) in RESTRICTIVE)
