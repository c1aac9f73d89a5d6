"""Every PDF carries its CJK font: a machine without Chinese fonts shows the characters, not blanks."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from shared import pdf


def fonts_of(document: bytes) -> list[dict]:
    fonts = []
    for page in PdfReader(io.BytesIO(document)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            fonts.append(descendants[0].get_object() if descendants else font)
    return fonts


def a_document() -> bytes:
    page = pdf.Document("参保凭证")
    page.new_page()
    page.centered(700, "基本医疗保障参保（合）凭证")
    page.text(50, 650, "姓名：张三  性别：男")
    return page.bytes()


def test_a_documents_chinese_font_is_embedded_as_a_subset() -> None:
    fonts = fonts_of(a_document())
    assert fonts
    for font in fonts:
        descriptor = font["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, f"{font['/BaseFont']} is not embedded"
        # reportlab names an embedded subset with a six-letter tag: AAAAAA+WenQuanYiMicroHei
        assert "+" in str(font["/BaseFont"])
        assert (
            len(descriptor["/FontFile2"].get_object().get_data()) < 1_000_000
        )  # a subset, not the 5 MB font


def test_the_text_extracted_from_a_document_is_the_chinese_that_was_drawn() -> None:
    text = PdfReader(io.BytesIO(a_document())).pages[0].extract_text()
    assert "基本医疗保障参保（合）凭证" in text and "性别：男" in text


def test_a_missing_configured_font_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("YB_PDF_FONT", str(tmp_path / "none.ttf"))
    with pytest.raises(RuntimeError, match="fonts-wqy-microhei"):
        pdf.font_file()
