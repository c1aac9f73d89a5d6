"""The platform's PDFs look the same on a machine without any CJK font.

Page 1 of the 参保凭证 (svc-transfer) and of the clearing table (svc-settlement), drawn by the same
functions the API answers with, is rendered with PDFium (pypdfium2) twice, each in a child process:
once as this machine is, once in a mount namespace where an empty tmpfs hides the system font folders
(`unshare --mount --map-root-user`). The two images must be identical, and the title must be ink, not
blank. A control draws a PDF with a CJK font that is NOT embedded (reportlab's CID font STSong-Light):
without system fonts it renders differently, which shows the comparison can fail. The renderings are
kept as PNG in the test's tmp dir.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import uuid
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from PIL import Image, ImageChops
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from shared.pdf import HEIGHT, WIDTH
from svc_settlement.document import clearing_pdf
from svc_settlement.domain.clearing import LINES
from svc_transfer.document import certificate_pdf
from svc_transfer.domain.certificate import IssuedCertificate
from svc_transfer.domain.transfer import Period, Person

SCALE = 1.5  # 108 dpi: enough for the glyphs to be told apart
FONT_FOLDERS = [
    d for d in ("/usr/share/fonts", "/usr/local/share/fonts", "/usr/share/X11/fonts") if Path(d).is_dir()
]
RENDER = """
import sys, pypdfium2
page = pypdfium2.PdfDocument(sys.argv[1])[0]
page.render(scale=float(sys.argv[3])).to_pil().convert("L").save(sys.argv[2])
"""


def _without_fonts_prefix() -> list[str]:
    """The command prefix that runs a child with the font folders hidden, or a skip saying why not."""
    if shutil.which("unshare") is None:
        pytest.skip("unshare (util-linux) is not installed: cannot hide the system fonts from a child")
    hide = " && ".join(f"mount -t tmpfs none {folder}" for folder in FONT_FOLDERS)
    probe = subprocess.run(
        [
            "unshare",
            "--mount",
            "--map-root-user",
            "sh",
            "-c",
            f"{hide} && ! ls -A {FONT_FOLDERS[0]} | grep -q .",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        pytest.skip(
            "user and mount namespaces are not permitted here (unshare --mount --map-root-user "
            f"with a tmpfs over the font folders failed: {probe.stderr.strip() or probe.returncode})"
        )
    return ["unshare", "--mount", "--map-root-user", "sh", "-c", f'{hide} && exec "$0" "$@"']


def render_page_one(document: bytes, folder: Path, name: str, *, fonts: bool) -> Image.Image:
    """Page 1 as a grayscale image, rendered in a child that sees the system fonts or none."""
    source = folder / f"{name}.pdf"
    source.write_bytes(document)
    png = folder / f"{name}-{'fonts' if fonts else 'no-fonts'}.png"
    prefix = [] if fonts else _without_fonts_prefix()
    child = subprocess.run(
        [*prefix, sys.executable, "-c", RENDER, str(source), str(png), str(SCALE)],
        capture_output=True,
        text=True,
    )
    assert child.returncode == 0, f"rendering {name} failed: {child.stderr}"
    return Image.open(png)


def dark_pixels(image: Image.Image, top: float, bottom: float) -> int:
    """Dark pixels in the horizontal band between `top` and `bottom` points from the page's top."""
    band = image.crop((0, int(top * SCALE), image.width, int(bottom * SCALE)))
    return sum(band.point(lambda v: 255 if v < 128 else 0).histogram()[255:])


def a_certificate() -> bytes:
    certificate = IssuedCertificate(
        number="TJ-2026-000123",
        office_code="120100",
        person_id=uuid.uuid4(),
        person=Person("resident_id", "120101199001011234", "张三"),
        scheme="employee",
        coverage_ended_on=date(2026, 6, 30),
        history=(
            Period("2015-07", "2020-12", 66, "天津市和平区某某有限公司"),
            Period("2021-01", "2026-06", 66, "天津市南开区某某科技有限公司"),
        ),
        account_balance=Decimal("12345.67"),
        arrears=Decimal("0"),
        issued_on=date(2026, 7, 2),
        sex="male",
        clerk="李四",
        office_name="天津市医疗保障事业发展中心",
        office_address="天津市河西区某某路 1 号",
        office_phone="022-12345678",
        verification_code="ABCD2345EFGH6789",
    )
    return certificate_pdf(certificate, "天津市医疗保障事业发展中心")


def a_clearing_table() -> bytes:
    clearing = {
        "period": "2026-07",
        "facility_code": "H12010100001",
        "office_code": "120101",
        "insurance_type": "employee",
        "care_type": "inpatient",
        "status": "approved",
        "lines": {str(line.number): f"{1000 * line.number + 0.5:.2f}" for line in LINES},
        "adjustments": [{"period": "2026-06", "amount": "-120.00", "reason": "上月更正"}],
        "steps": [
            {"action": "review", "by": "王五", "at": "2026-08-03T01:30:00+00:00", "note": "无误"},
            {"action": "approve", "by": "赵六", "at": "2026-08-05T02:00:00+00:00", "note": None},
        ],
        "payment": None,
        "reserve_rate": "0.10",
        "computed_at": "2026-08-01T00:15:00+00:00",
    }
    return clearing_pdf([(clearing, "天津市第一中心医院")])


def a_document_with_an_unembedded_font() -> bytes:
    """The control: STSong-Light is a CID font that PDF viewers must find on the machine."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    drawing = canvas.Canvas(buffer, pagesize=(WIDTH, HEIGHT))
    drawing.setFont("STSong-Light", 16)
    drawing.drawCentredString(WIDTH / 2, HEIGHT - 60, "基本医疗保障参保（合）凭证")
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "document"),
    [("certificate", a_certificate), ("clearing-table", a_clearing_table)],
)
def test_a_platform_pdf_renders_identically_on_a_machine_without_cjk_fonts(name, document, tmp_path) -> None:  # type: ignore[no-untyped-def]
    pdf = document()
    without = render_page_one(pdf, tmp_path, name, fonts=False)
    normal = render_page_one(pdf, tmp_path, name, fonts=True)
    assert normal.size == without.size
    assert ImageChops.difference(normal, without).getbbox() is None, f"renderings differ: see {tmp_path}"
    # the centred title is drawn 60 pt below the top edge, at 16 pt (certificate) or 14 pt (table)
    assert dark_pixels(without, 35, 70) > 500, f"the title is blank: see {tmp_path}"


def test_a_pdf_whose_cjk_font_is_not_embedded_renders_differently_without_system_fonts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    pdf = a_document_with_an_unembedded_font()
    without = render_page_one(pdf, tmp_path, "unembedded", fonts=False)
    normal = render_page_one(pdf, tmp_path, "unembedded", fonts=True)
    assert dark_pixels(normal, 35, 70) > 500, "with the system's CJK font the title shows"
    assert ImageChops.difference(normal, without).getbbox() is not None, "the comparison cannot tell"
    # without a CJK font on the machine the title is blank (or boxes): far less ink than the glyphs
    assert dark_pixels(without, 35, 70) < dark_pixels(normal, 35, 70) / 4
