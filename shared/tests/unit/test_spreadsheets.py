"""xlsx for offices: text stays text (months, ID numbers), money is a two-decimal number, and a sheet an
office fills in reads back as the text it typed."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import Workbook, load_workbook

from shared import spreadsheets
from shared.spreadsheets import Sheet


def written(*rows: list) -> list:  # type: ignore[type-arg]
    content = spreadsheets.workbook(Sheet("清单", ["结算月份", "证件号码", "金额"], rows))
    return list(load_workbook(io.BytesIO(content)).worksheets[0].iter_rows())


def test_a_month_and_an_id_number_stay_text_and_money_is_a_two_decimal_number() -> None:
    header, row = written(["2026-07", "120101199003071235", spreadsheets.money(Decimal("1234.5"))])
    assert [c.value for c in header] == ["结算月份", "证件号码", "金额"] and header[0].font.bold
    month, id_number, amount = row
    assert month.value == "2026-07" and month.data_type == "s"
    assert id_number.value == "120101199003071235" and id_number.data_type == "s"
    assert amount.value == 1234.5 and amount.number_format == "#,##0.00"


def test_an_omitted_amount_is_an_empty_cell_not_zero() -> None:
    (_, row) = written(["2026-07", "x", spreadsheets.money(None)])
    assert row[2].value in ("", None)


def test_rows_read_back_as_text_without_a_spurious_decimal() -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["部门", "人数", "金额", None])
    sheet.append(["财务科", 12, 1234.5, None])
    sheet.append([None, None, None, None])
    sheet.append(["后勤科", 3.0, 0.1, None])
    out = io.BytesIO()
    book.save(out)
    content = out.getvalue()
    assert spreadsheets.is_xlsx(content) and not spreadsheets.is_xlsx("部门,人数\n".encode())
    assert spreadsheets.read_rows(content) == [
        ["部门", "人数", "金额", ""],
        ["财务科", "12", "1234.5", ""],
        [],
        ["后勤科", "3", "0.1", ""],
    ]


def test_an_xlsx_upload_reads_as_the_csv_it_stands_for_with_the_sheets_row_numbers() -> None:
    import csv

    content = spreadsheets.workbook(
        Sheet("名单", ["id_number", "name"], [["120101199003071235", "张三"], ["", ""], ["X1", "李四"]])
    )
    reader = csv.DictReader(io.StringIO(spreadsheets.as_csv_text(content)))
    read = [(reader.line_num, record["name"]) for record in reader]
    assert read == [(2, "张三"), (4, "李四")]


def test_a_damaged_xlsx_is_unreadable() -> None:
    import pytest

    with pytest.raises(spreadsheets.Unreadable):
        spreadsheets.read_rows(b"PK\x03\x04 not really a zip")
