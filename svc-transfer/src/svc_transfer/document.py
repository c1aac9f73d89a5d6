"""The 参保凭证 as a document the app shows and prints (the JSON of the certificate endpoint holds
the same numbers)."""

from __future__ import annotations

from shared.pdf import HEIGHT, WIDTH, Document
from svc_transfer.domain.certificate import SEXES, IssuedCertificate, printed_code
from svc_transfer.domain.transfer import Certificate, arrears_warning

TITLE = "基本医疗保障参保（合）凭证"
VERIFY_PATH = "/api/v1/transfer/public/certificates/"  # under the platform's address (the gateway)
SCHEMES = {
    "employee": "职工基本医疗保险",
    "flexible": "灵活就业人员基本医疗保险",
    "resident": "城乡居民基本医疗保险",
}


def certificate_pdf(c: IssuedCertificate, office_name: str) -> bytes:
    page = Document(TITLE)
    page.new_page()
    left, right, y = 50, WIDTH - 50, HEIGHT - 60
    page.centered(y, TITLE, 16)
    y -= 30
    years, months = divmod(c.contribution_months, 12)
    issuer = office_name if c.office_name in (None, office_name) else f"{office_name} {c.office_name}"
    fields = [
        ("凭证编号", c.number), ("出具机构", f"{issuer}（{c.office_code}）"),
        ("机构地址", c.office_address or "未载明"), ("联系电话", c.office_phone or "未载明"),
        ("姓名", c.person.name), ("性别", SEXES.get(c.sex or "", "未载明")), ("证件号码", c.person.id_number),
        ("险种", SCHEMES.get(c.scheme, c.scheme)), ("中止参保日期", c.coverage_ended_on.isoformat()),
        ("累计缴费", f"{c.contribution_months} 个月（{years} 年 {months} 个月）"),
        ("个人账户余额", f"{c.account_balance:.2f} 元" if c.account_balance_stated else "未载明（见备注）"),
        ("欠费金额", f"{c.arrears:.2f} 元"),
    ]  # fmt: skip
    for label, value in fields:
        page.text(left, y, f"{label}：{value}", 11)
        y -= 18
    y -= 8
    page.text(left, y, "缴费历史", 11)
    y -= 6
    page.line(left, y, right, y)
    for heading, x in (
        ("起始年月", left),
        ("终止年月", left + 90),
        ("月数", left + 180),
        ("缴费单位", left + 230),
    ):
        page.text(x, y - 14, heading, 10)
    y -= 20
    page.line(left, y, right, y)
    for period in c.history:
        y -= 15
        page.text(left, y, period.start, 10)
        page.text(left + 90, y, period.end, 10)
        page.right(left + 205, y, str(period.months), 10)
        page.text(left + 230, y, period.unit_name or "", 10)
    y -= 8
    page.line(left, y, right, y)
    warning = arrears_warning(
        Certificate(
            c.number, c.office_code, c.coverage_ended_on, c.contribution_months, c.account_balance, c.arrears
        )
    )
    y -= 24
    notes = (
        *((c.account_balance_note,) if c.account_balance_note else ()),
        *((f"备注：{c.note}",) if c.note else ()),
        *warning,
        "本凭证用于基本医疗保险关系转移接续，请持本凭证向转入地经办机构申请。",
    )
    for note in notes:
        page.text(left, y, note, 9)
        y -= 14
    y -= 10
    page.text(
        left,
        y,
        f"出具日期：{c.issued_on.isoformat()}" + (f"    补办 {len(c.reissues)} 次" if c.reissues else ""),
        10,
    )
    page.text(right - 150, y, "经办机构（章）", 10)
    y -= 16
    page.text(left, y, f"经办人：{c.clerk or '未载明'}", 10)
    if c.verification_code:
        y -= 22
        page.text(left, y, f"核验码：{printed_code(c.verification_code)}", 11)
        y -= 14
        page.text(left, y, f"凭核验码查验真伪与有效性（无需登录）：{VERIFY_PATH}{c.verification_code}", 8)
    return page.bytes()
