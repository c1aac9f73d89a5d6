"""Field types for request schemas."""

from __future__ import annotations

import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError


def _printable(text: str) -> str:
    # Control characters (NUL above all, which PostgreSQL refuses) have no place in names or reasons.
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise PydanticCustomError("control_characters", "不能包含控制字符")
    if not text.strip():
        raise PydanticCustomError("blank_text", "不能为空白")
    return text.strip()


Text = Annotated[str, AfterValidator(_printable)]
