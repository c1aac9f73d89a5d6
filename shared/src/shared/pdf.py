"""Printable documents (A4 PDF) in Chinese, drawn with reportlab.

Text uses a TrueType CJK font embedded in the file (reportlab embeds the subset of glyphs drawn), so a
document renders the same on a machine with no Chinese fonts: by default WenQuanYi Micro Hei from
Debian's fonts-wqy-microhei (installed by the Dockerfile and `make test-tools`), or the file named by
YB_PDF_FONT. Coordinates are points from the bottom-left corner, as in PDF.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

FONT = "WenQuanYiMicroHei"
FONT_FILES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # Debian/Ubuntu fonts-wqy-microhei
    Path("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc"),  # Fedora, Alpine
)
WIDTH, HEIGHT = A4


def font_file() -> Path:
    """The CJK TrueType font to embed: YB_PDF_FONT, or the first installed of FONT_FILES."""
    configured = os.environ.get("YB_PDF_FONT")
    candidates = (Path(configured),) if configured else FONT_FILES
    for path in candidates:
        if path.is_file():
            return path
    raise RuntimeError(
        f"no CJK TrueType font for PDFs: install fonts-wqy-microhei or set YB_PDF_FONT (looked at {', '.join(map(str, candidates))})"
    )


_registered = False


def _register_font() -> None:
    """Registered on first use, so importing this module needs no font file."""
    global _registered
    if not _registered:
        pdfmetrics.registerFont(TTFont(FONT, str(font_file()), subfontIndex=0))
        _registered = True


class Document:
    """Pages drawn one after another; `bytes()` ends the document."""

    def __init__(self, title: str):
        _register_font()
        self._out = io.BytesIO()
        self._canvas = canvas.Canvas(
            self._out, pagesize=A4, pageCompression=0, initialFontName=FONT
        )  # no unembedded Helvetica
        self._canvas.setTitle(title)
        self._drawn = False

    def new_page(self) -> None:
        if self._drawn:
            self._canvas.showPage()
        self._drawn = True

    def text(self, x: float, y: float, text: str, size: float = 9) -> None:
        if text:
            self._canvas.setFont(FONT, size)
            self._canvas.drawString(x, y, text)

    def fitted(
        self, x: float, y: float, text: str, width: float, size: float = 9, smallest: float = 4.5
    ) -> None:
        """Text in a column `width` wide: the font shrinks (down to `smallest`) rather than overflow."""
        fitting = min(size, max(smallest, size * width / max(pdfmetrics.stringWidth(text, FONT, size), 1)))
        self.text(x, y, text, fitting)

    def right(self, x: float, y: float, text: str, size: float = 9) -> None:
        """Text ending at x (amounts in a column)."""
        if text:
            self._canvas.setFont(FONT, size)
            self._canvas.drawRightString(x, y, text)

    def centered(self, y: float, text: str, size: float = 14) -> None:
        self._canvas.setFont(FONT, size)
        self._canvas.drawCentredString(WIDTH / 2, y, text)

    def line(self, x1: float, y1: float, x2: float, y2: float, width: float = 0.5) -> None:
        self._canvas.setLineWidth(width)
        self._canvas.line(x1, y1, x2, y2)

    def bytes(self) -> bytes:
        self.new_page()  # an empty document still has one page
        self._canvas.save()
        return self._out.getvalue()
