"""The platform's one JSON wire form for timestamps: UTC, ISO 8601, ending in ``Z``.

Pydantic writes an aware UTC datetime as ``2026-07-01T02:30:00Z`` while ``datetime.isoformat()``
(used for history steps kept in JSON columns, and by FastAPI for routes without a response model)
writes ``+00:00``. Apps should not need two parsers, so every JSON answer of every service passes
through ``ApiJSONResponse``, which rewrites any timestamp string with an offset to the one form:
``YYYY-MM-DDTHH:MM:SS[.ffffff]Z`` (the fraction only when it is not zero, as pydantic does).
Dates (``2026-07-01``) and months (``2026-07``) are left as they are.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi.responses import JSONResponse

TIMESTAMP_FORM = "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"

# A full timestamp with an explicit offset; anything else (dates, free text) never matches.
_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})", re.ASCII)


def timestamp_text(moment: datetime) -> str:
    """``moment`` (aware) in the wire form: UTC with ``Z``."""
    if moment.tzinfo is None:
        raise ValueError("a timestamp on the wire must carry its offset")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


# A JSON string that is exactly such a timestamp, found in the written bytes.
_QUOTED_TIMESTAMP = re.compile(rb'"(' + _WITH_OFFSET.pattern.encode() + rb')"')


def _in_wire_form(text: str) -> bool:
    """``text`` (a timestamp with an offset) is already what `_canonical_text` would write: UTC with ``Z``,
    the fraction six digits and not zero, or none."""
    return text[-1] == "Z" and (
        len(text) == 20 or (len(text) == 27 and text[19] == "." and text[20:26] != "000000")
    )


def _canonical_text(text: str) -> str:
    # Cheap test first: most strings are not 20-32 characters with a "T" at position 10.
    if not 20 <= len(text) <= 32 or text[10:11] != "T" or not _WITH_OFFSET.fullmatch(text):
        return text
    return timestamp_text(datetime.fromisoformat(text))


def canonical_timestamps(node: Any) -> Any:
    """``node`` (JSON-ready data) with every timestamp string in the wire form."""
    if isinstance(node, str):
        return _canonical_text(node)
    if isinstance(node, dict):
        return {key: canonical_timestamps(value) for key, value in node.items()}
    if isinstance(node, list):
        return [canonical_timestamps(value) for value in node]
    if isinstance(node, datetime) and node.tzinfo is not None:
        return timestamp_text(node)
    return node


class ApiJSONResponse(JSONResponse):
    """JSON with the platform's timestamp form; every service's default response class."""

    def render(self, content: Any) -> bytes:
        # orjson writes what json.dumps(ensure_ascii=False, separators=(",", ":")) would, several
        # times faster; non-string keys become strings as json.dumps makes them.
        written = orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
        if all(_in_wire_form(found.decode()) for found in _QUOTED_TIMESTAMP.findall(written)):
            return written  # the usual answer (pydantic's timestamps are in the form): nothing to rewrite
        return orjson.dumps(canonical_timestamps(content), option=orjson.OPT_NON_STR_KEYS)
