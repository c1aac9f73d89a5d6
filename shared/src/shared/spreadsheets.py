"""Spreadsheets (xlsx, openpyxl) for offices that work in Excel or WPS.

A CSV loses its types on opening: "2026-07" becomes a date, an ID number loses its last digits. Here
every cell is typed on purpose: text stays text (ID numbers, months, codes), money is a number shown
with two decimals (so a column can be summed), and the first row is a frozen bold header.
Reading accepts the same layout back (the enrollment drive's department lists), as text cells.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
TEXT_FORMAT = "@"


@dataclass(frozen=True)
class Money:
    """A cell written as a number with two decimals; its text form (`"1234.50"`) is what is passed."""

    text: str


def money(value: Decimal | str | None) -> Money | str:
    return Money(format(Decimal(value), ".2f")) if value not in (None, "") else ""


@dataclass(frozen=True)
class Sheet:
    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


def _write(sheet: Sheet, worksheet: Any) -> None:
    worksheet.title = sheet.title[:31]  # Excel's limit on a sheet name
    worksheet.append(list(sheet.header))
    for cell in worksheet[1]:
        cell.font = Font(bold=True)
    widths = [len(str(h)) * 2 for h in sheet.header]
    for r, row in enumerate(sheet.rows, start=2):
        for c, value in enumerate(row, start=1):
            cell = worksheet.cell(row=r, column=c)
            if isinstance(value, Money):
                cell.value, cell.number_format = float(value.text), MONEY_FORMAT
            elif isinstance(value, int | float) and not isinstance(value, bool):
                cell.value = value
            else:
                cell.value, cell.number_format = ("" if value is None else str(value)), TEXT_FORMAT
            if c <= len(widths):
                widths[c - 1] = max(widths[c - 1], len(str(cell.value)) + 2)
    for c, width in enumerate(widths, start=1):
        worksheet.column_dimensions[get_column_letter(c)].width = min(max(width, 8), 40)
    worksheet.freeze_panes = "A2"


def workbook(*sheets: Sheet) -> bytes:
    """An xlsx file with one worksheet per sheet, in order."""
    book = Workbook()
    _write(sheets[0], book.active)
    for sheet in sheets[1:]:
        _write(sheet, book.create_sheet())
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def is_xlsx(content: bytes) -> bool:
    """An xlsx file is a zip archive: it starts with PK\\x03\\x04."""
    return content[:4] == b"PK\x03\x04"


class Unreadable(ValueError):
    """Not an xlsx file openpyxl can read."""


def read_rows(content: bytes) -> list[list[str]]:
    """The first worksheet's rows as text, header included; an empty row stays (as []) so row numbers
    are the sheet's, trailing empty rows are dropped. Numbers an office typed into a cell come back
    without a spurious `.0`."""
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zip, XML and key errors alike for a damaged file
        raise Unreadable(str(exc)) from exc
    rows: list[list[str]] = []
    for row in book.worksheets[0].iter_rows(values_only=True):
        texts = [_text(v) for v in row]
        rows.append(texts if any(texts) else [])
    book.close()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def as_csv_text(content: bytes) -> str:
    """An xlsx upload as the CSV text a CSV upload would have been: one parser for both, same row numbers."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in read_rows(content):
        writer.writerow(row)
    return out.getvalue()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        try:
            as_decimal = Decimal(repr(value))
        except InvalidOperation:
            return str(value)
        return (
            str(int(as_decimal)) if as_decimal == as_decimal.to_integral_value() else format(as_decimal, "f")
        )
    return str(value).strip()
