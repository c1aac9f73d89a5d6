"""Printable documents (A4 PDF) in Chinese, drawn with reportlab.

Text uses the standard CJK font STSong-Light (Adobe-GB1), which every PDF reader provides, so no font
file is shipped or embedded. Coordinates are points from the bottom-left corner, as in PDF.
"""

from __future__ import annotations

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
WIDTH, HEIGHT = A4
pdfmetrics.registerFont(UnicodeCIDFont(FONT))


class Document:
    """Pages drawn one after another; `bytes()` ends the document."""

    def __init__(self, title: str):
        self._out = io.BytesIO()
        self._canvas = canvas.Canvas(self._out, pagesize=A4, pageCompression=0)
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
