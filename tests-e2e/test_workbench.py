"""The staff workbench (经办工作台, /workbench) in a real browser (headless Chromium through Selenium)
against the running platform, every call through the gateway with the signed-in clerk's token.

A 和平区 clerk enrolls a person at the counter: the first submission is refused with the materials
checklist (the missing ID document flagged), the paper is ticked and the enrollment goes through. The
clerk finds the person by ID number (shown masked), receives a reimbursement and reviews it receipt by
receipt; the city reviewer approves it (the district clerk is offered no approval); the clerk pays it,
ends the person's current coverage and prints the 参保凭证 PDF. A 河西区 clerk sees neither the case nor
the person. A 河西区 clerk takes a pharmacy's 定点申请 from the office's list through acceptance and the
start of its expert review; the city reads it with no step offered, a 和平区 clerk cannot open it.
A 和平区 clerk accepts a veteran's transfer case filed at the counter and completes it.
Screenshots go to tests-e2e/screenshots/ (git-ignored), at 1280 px and at a tablet's width.
The ops dashboard's browser test (test_ops_dashboard.py) is the model: same driver, same waiting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from shared.testing.browser import headless_chromium
from shared.testing.e2e import bearer, business_today, new_resident_id, poll
from yb_deploy.platform import PlatformConfig

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).parent / "screenshots"
WORKBENCH = Path(__file__).parents[1] / "workbench"
OFFICE = "120101"
HOSPITAL = "H12010100002"  # a level-3 hospital of the sample registry
SPECIAL_DISEASE_HOSPITAL = "H12010100001"  # level 2, designated for special diseases (sample registry)


@pytest.fixture(scope="module")
def built() -> Path:
    """The built workbench the gateway serves (make up and make test build it; built here when missing)."""
    if not (WORKBENCH / "dist" / "index.html").is_file():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed: the workbench cannot be built (Node.js 20.19 or later)")
        for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
            subprocess.run(command, cwd=WORKBENCH, check=True, timeout=600)
    return WORKBENCH / "dist"


@pytest.fixture(scope="module")
def browser(built: Path) -> Iterator[object]:
    SCREENSHOTS.mkdir(exist_ok=True)
    with headless_chromium("1280,1400") as driver:
        yield driver


def wait_for(driver, condition, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    ignored = (NoSuchElementException, StaleElementReferenceException)
    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.1, ignored_exceptions=ignored).until(
            condition
        )
    except TimeoutException:
        # What the page told the user instead, and a picture of it.
        driver.save_screenshot(str(SCREENSHOTS / "workbench-failure.png"))
        alerts = driver.execute_script(
            "return [...document.querySelectorAll('[role=alert]')].map(e => e.innerText)"
        )
        pytest.fail(f"waiting for {what} on {driver.current_url}; the page says: {alerts}")


def by_id(driver, element_id: str):  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    return wait_for(driver, lambda d: d.find_element(By.ID, element_id), 15, f"#{element_id}")


def type_into(driver, element_id: str, text: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.keys import Keys

    field = by_id(driver, element_id)
    # Selected and overwritten as a user would: clear() bypasses the input events the page listens to.
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE, text)


def tick(driver, element_id: str) -> None:  # type: ignore[no-untyped-def]
    """An Element Plus checkbox: its input is visually hidden inside the label the user clicks."""
    by_id(driver, element_id).find_element("xpath", "./ancestor::label[1]").click()


def shot(driver, name: str) -> None:  # type: ignore[no-untyped-def]
    driver.save_screenshot(str(SCREENSHOTS / f"workbench-{name}.png"))


def sign_in(driver, gateway_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    driver.get(f"{gateway_url}/workbench/login")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{gateway_url}/workbench/login")
    type_into(driver, "username", username)
    type_into(driver, "password", "Demo@2026")
    by_id(driver, "login-button").click()
    wait_for(driver, lambda d: d.find_elements("id", "who"), 15, f"{username} signed in")


def go(driver, gateway_url: str, path: str) -> None:  # type: ignore[no-untyped-def]
    """Within the signed-in tab: the token is in sessionStorage, the page restores the session."""
    driver.get(f"{gateway_url}/workbench{path}")


def claim_status(driver) -> str | None:  # type: ignore[no-untyped-def]
    return driver.execute_script("const c = document.getElementById('claim'); return c && c.dataset.status")


def search_person(driver, gateway_url: str, id_number: str) -> None:  # type: ignore[no-untyped-def]
    go(driver, gateway_url, "/person")
    type_into(driver, "search-id-number", id_number)
    by_id(driver, "search-button").click()


def test_the_gateway_serves_the_workbench_with_a_fallback_to_its_page_and_nothing_outside_it(
    built: Path, gateway: httpx.Client
) -> None:
    page = gateway.get("/workbench")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (
        "default-src 'self'" in page.headers["content-security-policy"]
        and page.headers["x-frame-options"] == "DENY"
    )
    assert '<div id="app">' in page.text
    # A page of the application (the router of the page shows it) gets the same document.
    assert gateway.get("/workbench/claims/0b7d3c9e-0000-0000-0000-000000000000").text == page.text
    asset = next((built / "assets").glob("*.js")).name
    script = gateway.get(f"/workbench/assets/{asset}")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "immutable" in script.headers["cache-control"]
    assert gateway.get("/workbench/assets/missing.js").status_code == 404
    for outside in (
        "/workbench/..%2f..%2fpyproject.toml",
        "/workbench/%2e%2e/package.json",
        "/workbench/..%2fpackage.json",
    ):
        answer = gateway.get(outside)
        assert "workspace" not in answer.text and '"name": "yb-workbench"' not in answer.text, outside


def test_a_clerk_enrolls_receives_and_reviews_the_city_approves_and_the_clerk_prints_the_certificate(  # type: ignore[no-untyped-def]
    browser, platform: PlatformConfig, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url, heping = platform.gateway_url, bearer(tokens["staff-heping"])
    id_number, name = new_resident_id(OFFICE), "窗口办"

    # Enrollment at the counter (2021, whose benefit rules are on file, as a late record with the tax receipt).
    sign_in(browser, url, "staff-heping")
    by_id(browser, "nav-enroll").click()
    type_into(browser, "enroll-id-number", id_number)
    type_into(browser, "enroll-name", name)
    type_into(browser, "enroll-year", "2021")
    type_into(browser, "enroll-paid-on", "2020-10-15")
    tick(browser, "enroll-late")
    type_into(browser, "enroll-late-reason", "补登2021年度参保（已缴费）")
    type_into(browser, "enroll-late-receipt", f"税缴 2020-{uuid.uuid4().hex[:6]}")
    by_id(browser, "enroll-submit").click()
    missing = wait_for(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, '#checklist [data-code="id_document"]'),
        15,
        "the checklist",
    )
    assert missing.get_attribute("data-missing") == "true" and "缺少：有效身份证件" in missing.text
    assert "申请材料不全" in by_id(browser, "enroll-error").text
    shot(browser, "enroll-missing-paper")
    Select(by_id(browser, "material-id_document")).select_by_value("original")
    by_id(browser, "enroll-submit").click()
    enrolled = by_id(browser, "enrolled")
    person_id = enrolled.get_attribute("data-person-id")
    assert person_id and "2021" in enrolled.text and id_number not in browser.page_source
    shot(browser, "enrolled")

    # The person view: found by ID number (sent in the body), shown masked.
    poll(lambda: gateway.get(f"/api/v1/claims/persons/{person_id}/eligibility", params={"on": "2021-05-15"}, headers=heping).json().get("eligible"),
         what="claims to record the 2021 coverage")  # fmt: skip
    search_person(browser, url, id_number)
    assert by_id(browser, "masked-id").text == id_number[:4] + "*" * 10 + id_number[-4:]
    assert id_number not in browser.page_source and id_number not in browser.current_url

    # A reimbursement received at the counter with its papers, accepted at once.
    by_id(browser, "receive-claim").click()
    assert by_id(browser, "claim-person").get_attribute("value") == person_id
    receipt = f"ZY{uuid.uuid4().hex[:10]}"
    for element_id, text in (("claim-facility", HOSPITAL), ("claim-from", "2021-05-10"), ("claim-to", "2021-05-20"),
                             ("claim-bank", "6222021234567890123"), ("receipt-number-0", receipt), ("receipt-issued-0", "2021-05-20"),
                             ("receipt-amount-0", "42000.00"), ("receipt-in-0", "38000.00"), ("receipt-out-0", "4000.00")):  # fmt: skip
        type_into(browser, element_id, text)
    for paper in ("receipts", "itemised_bill", "diagnosis", "discharge_summary"):
        tick(browser, f"claim-material-{paper}")
    by_id(browser, "claim-submit").click()
    wait_for(browser, lambda d: claim_status(d) == "accepted", 15, "the claim accepted")
    claim_id = by_id(browser, "claim").get_attribute("data-id")
    assert by_id(browser, "claim-due").text >= "2021"  # the 30th working day, from the service

    # Review per receipt: the receipt is reduced with a reason code, the amount the clerk sets.
    Select(by_id(browser, "outcome-0")).select_by_value("reduced")
    type_into(browser, "accepted-0", "37000.00")
    Select(by_id(browser, "reason-0")).select_by_value("out_of_catalogue")
    shot(browser, "review")
    by_id(browser, "review-submit").click()
    wait_for(browser, lambda d: claim_status(d) == "reviewed", 15, "the claim reviewed")
    assert not browser.find_elements(By.ID, "approve"), "a district clerk is offered no city approval"

    # Another district's clerk sees neither the case nor the person.
    sign_in(browser, url, "staff-hexi")
    go(browser, url, f"/claims/{claim_id}")
    assert "不在本经办机构的办理范围内" in by_id(browser, "claim-error").text
    go(browser, url, "/worklist")
    wait_for(
        browser,
        lambda d: d.find_elements(
            By.CSS_SELECTOR, "#worklist .el-table__body, #worklist .el-table__empty-text"
        ),
        15,
        "the worklist",
    )
    wait_for(
        browser,
        lambda d: not d.find_elements(By.CSS_SELECTOR, ".el-loading-mask:not([style*='display: none'])"),
        30,
        "the worklist loaded",
    )
    assert not browser.find_elements(By.CSS_SELECTOR, f'[data-id="{claim_id}"]')
    search_person(browser, url, id_number)
    assert "未找到该参保人" in by_id(browser, "person-error").text
    shot(browser, "hexi-sees-nothing")

    # The city reviewer approves; the bill is shown.
    sign_in(browser, url, "staff-city")
    assert not browser.find_elements(By.ID, "nav-enroll") and not browser.find_elements(By.ID, "nav-receive")
    go(browser, url, f"/claims/{claim_id}")
    by_id(browser, "approve").click()
    wait_for(browser, lambda d: claim_status(d) == "approved", 15, "the claim approved")
    assert by_id(browser, "bill").text
    shot(browser, "approved")

    # The 和平区 clerk finds it in the worklist (due date order) and pays it.
    sign_in(browser, url, "staff-heping")
    link = wait_for(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, f'#worklist [data-id="{claim_id}"]'),
        30,
        "the claim on the worklist",
    )
    assert "手工报销" in link.text
    dues = browser.execute_script(
        "return [...document.querySelectorAll('#worklist .el-table__body tr')].map(r => r.cells[4].innerText.slice(0, 10)).filter(t => /^\\d{4}-/.test(t))"
    )
    assert dues == sorted(dues)
    shot(browser, "worklist")
    go(browser, url, f"/claims/{claim_id}")
    type_into(browser, "pay-reference", "BANK-WB-0001")
    by_id(browser, "pay").click()
    wait_for(browser, lambda d: claim_status(d) == "paid", 15, "the claim paid")

    # The 参保凭证: the person's current coverage ends (中止参保) and the certificate is printed.
    year = business_today().year
    current = gateway.post("/api/v1/registration/enrollments/residents", headers=heping, json={
        "person": {"id_number": id_number, "name": name}, "office_code": OFFICE, "tier": "adult_middle", "coverage_year": year,
        "paid_on": f"{year - 1}-10-15", "materials": {"id_document": "original"}})  # fmt: skip
    assert current.status_code == 201, current.text
    assert (
        gateway.post(
            f"/api/v1/registration/enrollments/{current.json()['id']}/approve",
            json={"version": 1},
            headers=heping,
        ).status_code
        == 200
    )
    search_person(browser, url, id_number)
    certify = f'#enrollments button.certify[data-year="{year}"]'
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, certify), 15, "the certify button")
    browser.find_element(By.CSS_SELECTOR, certify).click()
    wait_for(
        browser,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#certificates button.print"),
        30,
        "the certificate listed",
    )
    browser.find_element(By.CSS_SELECTOR, "#certificates button.print").click()
    printed = wait_for(
        browser, lambda d: d.find_element(By.ID, "printed-certificate"), 15, "the certificate PDF"
    )
    number = printed.get_attribute("data-printed")
    pdf = gateway.get(f"/api/v1/transfer/certificates/{number}/document.pdf", headers=heping)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert str(len(pdf.content)) in printed.text
    shot(browser, "certificate-printed")


def test_the_workbench_fits_a_tablet_and_is_used_with_the_keyboard(browser, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.set_window_size(800, 1200)
    try:
        browser.get(f"{platform.gateway_url}/workbench/login")
        browser.execute_script("sessionStorage.clear()")
        browser.get(f"{platform.gateway_url}/workbench/login")
        by_id(browser, "username")  # the form shows once the page knows the development sign-in runs
        # Every field has a label; sign-in by keyboard alone (Tab to the fields, Enter to submit).
        for field in ("username", "password"):
            assert browser.find_elements(By.CSS_SELECTOR, f'label[for="{field}"]'), field
        by_id(browser, "username").send_keys("staff-heping", Keys.TAB)
        browser.switch_to.active_element.send_keys("Demo@2026", Keys.ENTER)
        wait_for(browser, lambda d: d.find_elements(By.ID, "who"), 15, "signed in by keyboard")
        wait_for(browser, lambda d: d.find_elements(By.ID, "worklist"), 15, "the worklist")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 800, f"the page is {width} px wide on an 800 px tablet"
        shot(browser, "tablet-worklist")
    finally:
        browser.set_window_size(1280, 1400)


def test_a_city_reviewer_lists_the_clearing_tables_and_saves_a_month_as_xlsx_with_the_api_name(  # type: ignore[no-untyped-def]
    browser, platform: PlatformConfig, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    url = platform.gateway_url
    period = business_today().strftime("%Y-%m")
    city = bearer(tokens["staff-city"])
    sign_in(browser, url, "staff-city")
    by_id(browser, "nav-clearings").click()
    listed = gateway.get("/api/v1/settlement/clearings", params={"size": 100}, headers=city)
    assert listed.status_code == 200, listed.text
    wait_for(browser, lambda d: d.find_element(By.ID, "clearings-total").text == f"共 {listed.json()['total']} 张清算表",
             15, "the clearing tables listed")  # fmt: skip

    # Without a month the bulk export is not sent; with one, the file the API answers is saved.
    by_id(browser, "export-xlsx").click()
    wait_for(
        browser,
        lambda d: "清算月份" in d.find_element(By.ID, "clearings-error").text,
        15,
        "the month asked for",
    )
    type_into(browser, "clearing-period", period)
    by_id(browser, "export-xlsx").click()
    link = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, "#saved-file a"), 15, "the xlsx saved")
    exported = gateway.get(
        "/api/v1/settlement/clearings/export.xlsx", params={"period": period}, headers=city
    )
    assert exported.status_code == 200 and exported.content.startswith(b"PK")
    assert link.get_attribute("data-name") == f"clearing-{period}.xlsx"
    # Two exports of one month differ only in the workbook's creation time, which zips to a few bytes
    # more or less: the size shown is that of the API's file, not of some other document.
    shown = int(re.search(r"（(\d+) 字节）", link.text).group(1))  # type: ignore[union-attr]
    assert abs(shown - len(exported.content)) <= 64, (shown, len(exported.content))
    shot(browser, "clearings-exported")


def test_an_insured_person_is_offered_no_clearing_tables(browser, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    sign_in(browser, platform.gateway_url, "zhangsan")
    assert not browser.find_elements("id", "nav-clearings")


def test_a_district_clerk_files_a_special_disease_registration_for_a_person_found_at_the_counter(  # type: ignore[no-untyped-def]
    browser, platform: PlatformConfig, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    import time

    from selenium.webdriver.common.by import By

    url, heping = platform.gateway_url, bearer(tokens["staff-heping"])
    id_number, year = new_resident_id(OFFICE), business_today().year
    body = {"person": {"id_number": id_number, "name": "门特测试"}, "office_code": OFFICE, "tier": "adult_middle",
            "coverage_year": year, "paid_on": f"{year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = gateway.post("/api/v1/registration/enrollments/residents", json=body, headers=heping)
    assert created.status_code == 201, created.text
    approve = f"/api/v1/registration/enrollments/{created.json()['id']}/approve"
    assert gateway.post(approve, json={"version": 1}, headers=heping).status_code == 200
    person_id = created.json()["person_id"]

    sign_in(browser, url, "staff-heping")
    search_person(browser, url, id_number)
    by_id(browser, "register-benefit").click()
    wait_for(
        browser,
        lambda d: d.find_element(By.ID, "benefit-person").text == "门特测试",
        15,
        "the person carried over",
    )
    # An Element Plus select opens by its wrapper (the input inside is covered by the placeholder).
    by_id(browser, "benefit-disease").find_element(
        By.XPATH, "./ancestor::div[contains(@class,'el-select__wrapper')][1]"
    ).click()
    # The option exists before the list has opened (a transition): clicked once it shows.
    dialysis = "//li[contains(@class,'el-select-dropdown__item')][normalize-space()='肾透析治疗']"
    wait_for(
        browser,
        lambda d: (e := d.find_element(By.XPATH, dialysis)).is_displayed() and e,
        15,
        "the disease listed",
    ).click()
    # The list closes with a transition: the next field takes keys once it has gone.
    wait_for(browser, lambda d: not any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, ".el-select-dropdown")),
             15, "the disease list closed")  # fmt: skip
    type_into(browser, "benefit-certified-by", SPECIAL_DISEASE_HOSPITAL)
    type_into(browser, "benefit-treatment", SPECIAL_DISEASE_HOSPITAL)
    # The registration service learns the hospital registry by events: submitted again until it knows it.
    for _ in range(40):
        by_id(browser, "benefit-submit").click()
        wait_for(browser, lambda d: d.find_elements(By.ID, "benefit-done") or d.find_elements(By.ID, "benefit-error"),
                 15, "the registration's answer")  # fmt: skip
        if browser.find_elements(By.ID, "benefit-done"):
            break
        time.sleep(0.5)
    done = by_id(browser, "benefit-done")
    assert "肾透析治疗" in done.text
    shot(browser, "benefit-registered")
    filed = gateway.get(
        f"/api/v1/registration/benefit-registrations/{done.get_attribute('data-id')}", headers=heping
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["person_id"] == person_id and filed.json()["details"]["disease"] == "dialysis"
    assert filed.json()["facility_codes"] == [SPECIAL_DISEASE_HOSPITAL]


def test_a_unit_adds_an_employee_on_the_workbench_and_its_employee_list_holds_them(  # type: ignore[no-untyped-def]
    browser, platform: PlatformConfig, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    unit_code, id_number = "91120101MA05K8Q4X9", new_resident_id(OFFICE)  # the unit-demo account's unit
    unit = {"code": unit_code, "name": "天津示例科技有限公司", "legal_representative": "赵某", "office_code": OFFICE,
            "materials": {"credit_code_certificate": "copy", "unit_registration_form": "original",
                          "legal_representative_id_copy": "copy"}}  # fmt: skip
    registered = gateway.post("/api/v1/registration/units", json=unit, headers=bearer(tokens["staff-heping"]))
    assert registered.status_code in (201, 409), registered.text  # registered once per platform run
    sign_in(browser, platform.gateway_url, "unit-demo")
    by_id(browser, "nav-employee").click()
    type_into(browser, "employee-unit", unit_code)
    type_into(browser, "employee-id-number", id_number)
    type_into(browser, "employee-name", "增员测试")
    by_id(browser, "employee-submit").click()
    enrolled = by_id(browser, "employee-enrolled")
    shot(browser, "employee-enrolled")
    listed = gateway.get(f"/api/v1/registration/units/{unit_code}/employees", params={"size": 100},
                         headers=bearer(tokens["unit-demo"]))  # fmt: skip
    assert listed.status_code == 200, listed.text
    assert enrolled.get_attribute("data-person-id") in {e.get("person_id") for e in listed.json()["items"]}


def complete_pharmacy_application(gateway: httpx.Client, token: str, name: str) -> dict:  # type: ignore[type-arg]
    """A 河西区 pharmacy meeting every condition files with every paper the office asks for (the list
    learnt from a first, empty filing), so the clerk may accept it at once."""
    from datetime import timedelta

    today = business_today()
    facts = {
        "kind": "retail_pharmacy", "institution_type": None, "opened_on": (today - timedelta(days=400)).isoformat(),
        "pharmacists": [{"registered_here": True, "contract_months": 24}],
        "insurance_staff": [{"registered_here": False, "contract_months": 24}, {"registered_here": False, "contract_months": 18}],
        "systems": ["insurance", "finance", "statistics", "quality", "insurance_drugs", "insurance_personnel", "settlement"],
        "information_system_connected": True, "uses_national_codes": True, "purchasing_platform": True,
        "equipment": ["video", "biometric", "drug_tracing"], "drug_zoning_and_labels": True,
    }  # fmt: skip
    body = {"name": name, "district_code": "120103", "office_code": "120103", "facts": facts, "materials": []}
    first = gateway.post("/api/v1/facility/applications", json=body, headers=bearer(token))
    assert first.status_code == 201, first.text
    body["materials"] = first.json()["missing_materials"]
    filed = gateway.post("/api/v1/facility/applications", json=body, headers=bearer(token))
    assert filed.status_code == 201, filed.text
    assert filed.json()["missing_materials"] == [] and filed.json()["unmet_conditions"] == []
    return dict(filed.json())


def test_a_district_clerk_accepts_a_facility_application_and_starts_its_expert_review_on_the_workbench(  # type: ignore[no-untyped-def]
    browser, platform: PlatformConfig, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    url, hexi = platform.gateway_url, bearer(tokens["staff-hexi"])
    application = complete_pharmacy_application(
        gateway, tokens["pharmacy-applicant"], f"工作台示例药房{uuid.uuid4().hex[:6]}"
    )
    app_id = application["application"]["id"]

    def status(driver) -> str | None:  # type: ignore[no-untyped-def]
        return driver.execute_script(
            "const a = document.getElementById('facility-application'); return a && a.dataset.status"
        )

    sign_in(browser, url, "staff-hexi")
    go(browser, url, "/facility")
    wait_for(
        browser,
        lambda d: d.find_element(By.CSS_SELECTOR, f"a[data-id='{app_id}']"),
        15,
        "the application listed",
    ).click()
    wait_for(browser, lambda d: status(d) == "received", 15, "the received application")
    assert "剩余" in by_id(browser, "facility-clock").text
    assert not browser.find_elements(By.ID, "do-start_review"), "a step of a later state is offered too early"
    by_id(browser, "do-accept").click()
    wait_for(browser, lambda d: status(d) == "accepted", 15, "the application accepted")
    type_into(browser, "start_review-reviewers", "专家甲\n专家乙")
    by_id(browser, "do-start_review").click()
    wait_for(browser, lambda d: status(d) == "expert_review", 15, "the expert review started")
    assert by_id(browser, "do-record_review").is_displayed()
    shot(browser, "facility-expert-review")

    held = gateway.get(f"/api/v1/facility/applications/{app_id}", headers=hexi)
    assert held.status_code == 200, held.text
    assert held.json()["application"]["status"] == "expert_review"
    assert [s["action"] for s in held.json()["application"]["steps"]][-2:] == ["accept", "start_review"]

    # The city centre oversees: it reads the application and is offered no step.
    sign_in(browser, url, "staff-city")
    go(browser, url, f"/facility/{app_id}")
    wait_for(browser, lambda d: status(d) == "expert_review", 15, "the application for the city")
    assert not browser.find_elements(By.ID, "step-actions-title")

    # Another district's clerk is told the application does not exist (404), and nothing is shown.
    sign_in(browser, url, "staff-heping")
    go(browser, url, f"/facility/{app_id}")
    assert "不存在" in by_id(browser, "facility-error").text
    assert not browser.find_elements(By.ID, "facility-application")


def test_a_district_clerk_accepts_and_completes_a_veterans_transfer_on_the_workbench(  # type: ignore[no-untyped-def]
    browser, platform: PlatformConfig, gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By

    url, heping = platform.gateway_url, bearer(tokens["staff-heping"])
    id_number, year = new_resident_id(OFFICE), business_today().year
    body = {"person": {"id_number": id_number, "name": "退役军人"}, "office_code": OFFICE, "tier": "adult_middle",
            "coverage_year": year, "paid_on": f"{year - 1}-10-15", "materials": {"id_document": "original"}}  # fmt: skip
    created = gateway.post("/api/v1/registration/enrollments/residents", json=body, headers=heping)
    assert created.status_code == 201, created.text
    approve = f"/api/v1/registration/enrollments/{created.json()['id']}/approve"
    assert gateway.post(approve, json={"version": 1}, headers=heping).status_code == 200
    # The army's certificate needs no peer office: accepted, the case waits only to be completed.
    army = {"kind": "army", "number": "JZ2026-00917", "army_kind": "军人退役医疗保险个人账户转移凭证",
            "coverage_ended_on": f"{year - 1}-09-30", "contribution_months": 48, "account_balance": "8800.00"}  # fmt: skip
    application = {"person": {"id_number": id_number, "name": "退役军人"}, "certificate": army}
    case = poll(
        lambda: (
            (r := gateway.post("/api/v1/transfer/transfers", json=application, headers=heping)).status_code
            == 201
            and r.json()
        ),
        what="the counter's application (after the enrollment reaches transfer)",
    )

    def status(driver) -> str | None:  # type: ignore[no-untyped-def]
        return driver.execute_script(
            "const c = document.getElementById('transfer'); return c && c.dataset.status"
        )

    sign_in(browser, url, "staff-heping")
    go(browser, url, f"/transfers/{case['id']}")
    wait_for(browser, lambda d: status(d) == "submitted", 15, "the submitted case")
    assert browser.find_elements(By.ID, "do-refuse") and not browser.find_elements(By.ID, "do-complete")
    by_id(browser, "do-accept").click()
    wait_for(browser, lambda d: status(d) == "awaiting_completion", 15, "the case accepted")
    by_id(browser, "do-complete").click()
    wait_for(browser, lambda d: status(d) == "completed", 15, "the case completed")
    assert not browser.find_elements(By.ID, "step-actions-title")
    shot(browser, "transfer-completed")

    held = gateway.get(f"/api/v1/transfer/transfers/{case['id']}", headers=heping)
    assert held.status_code == 200 and held.json()["status"] == "completed", held.text
