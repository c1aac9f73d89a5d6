"""The ops dashboard in a real browser (headless Chromium through Selenium) against the running platform.

An `ops` user signs in at /ops and sees every service ready; a service is stopped and the page
shows it not ready within its refresh interval; a service that cannot reach its broker stays ready
and the page flags it degraded (broker disconnected, consumer detached); a poison event lands in a dead-letter queue, is
shown with its personal fields masked, and an `admin` replays it, which the owning service records.
Screenshots go to tests-e2e/screenshots/ (git-ignored). Nothing on the page or in the status API
may show an ID number or a name.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aio_pika
import asyncpg
import httpx
import pytest

from shared.events.relay import asyncpg_dsn
from shared.events.topology import Names
from shared.migrations import service_database_url
from shared.testing.browser import headless_chromium
from shared.testing.e2e import bearer
from shared.testing.servers import free_port
from yb_deploy.platform import PlatformConfig, start_process, stop_process, wait_until_ready

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).parent / "screenshots"
REFRESH_S = 2
STOPPED = "settlement"
# Personal data the poison event carries; none of it may reach the page or the status API.
ID_NUMBER, NAME = "120101199003071235", "张三"
DEMO_PERSONAL = ("120101199003071235", "120103198511122420", "张三", "李四")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    SCREENSHOTS.mkdir(exist_ok=True)
    with headless_chromium("1400,1800") as driver:
        yield driver


def wait_for(driver, condition, timeout_s: float, what: str):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws its tables on every refresh: an element found a moment ago may be gone.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout_s, poll_frequency=0.1, ignored_exceptions=ignored).until(
        condition, message=f"waiting for {what}"
    )


def sign_in(driver, gateway_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    driver.get(f"{gateway_url}/ops?refresh={REFRESH_S}")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{gateway_url}/ops?refresh={REFRESH_S}")
    driver.find_element(By.ID, "username").send_keys(username)
    driver.find_element(By.ID, "password").send_keys("Demo@2026")
    driver.find_element(By.ID, "login-button").click()
    wait_for(
        driver,
        lambda d: d.find_elements(By.CSS_SELECTOR, "#services tr[data-service]"),
        15,
        "the services table",
    )


def readiness(driver) -> dict[str, str]:  # type: ignore[no-untyped-def]
    # Read in one script: the rows are redrawn between two WebDriver calls.
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('#services tr[data-service]')].map(r => [r.dataset.service, r.dataset.ready]))"
    )


def degraded_flags(driver, service: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The flags shown on a service's row: state → the text a reader sees."""
    return driver.execute_script(
        "const row = document.querySelector(`#services tr[data-service='${arguments[0]}']`);"
        "return row ? Object.fromEntries([...row.querySelectorAll('.flag')].map(f => [f.dataset.flag, f.innerText])) : {}",
        service,
    )


def dead_letters_shown(driver, service: str) -> str | None:  # type: ignore[no-untyped-def]
    return driver.execute_script(
        "const row = document.querySelector(`#event-flow tr[data-service='${arguments[0]}']`); return row && row.dataset.deadLetters",
        service,
    )


def assert_no_personal_data(text: str) -> None:
    for value in DEMO_PERSONAL:
        assert value not in text, f"personal data on the ops page or API: {value}"


async def publish_poison(platform: PlatformConfig) -> str:
    """An event no handler of svc-facility takes, straight onto its queue, with personal fields."""
    event_id = str(uuid.uuid4())
    envelope = {
        "event_id": event_id, "event_type": "facility.test_poison", "event_version": 1,
        "occurred_at": datetime.now(UTC).isoformat(), "producer": "e2e", "correlation_id": event_id, "causation_id": None,
        "payload": {"person": {"id_number": ID_NUMBER, "name": NAME}, "diagnosis": "2型糖尿病", "note": f"证件 {ID_NUMBER}"},
    }  # fmt: skip
    connection = await aio_pika.connect(platform.broker_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        body = json.dumps(envelope, ensure_ascii=False).encode()
        message = aio_pika.Message(body, message_id=event_id, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)
        await channel.default_exchange.publish(
            message, routing_key=Names(platform.broker_namespace, "facility").queue, mandatory=True
        )
    finally:
        await connection.close()
    return event_id


async def replay_audit(platform: PlatformConfig, message_id: str) -> list[tuple]:
    conn = await asyncpg.connect(asyncpg_dsn(service_database_url(platform.admin_database_url, "facility")))
    try:
        rows = await conn.fetch(
            "SELECT replayed_by, role, reason, replayed FROM dead_letter_replays WHERE message_id = $1",
            message_id,
        )
    finally:
        await conn.close()
    return [tuple(row) for row in rows]


def test_the_status_api_is_for_ops_and_admin_only_and_shows_no_personal_data(
    gateway: httpx.Client, tokens: dict[str, str]
) -> None:
    for username in ("zhangsan", "unit-demo", "facility-demo", "staff-heping", "staff-city"):
        response = gateway.get("/api/v1/ops/status", headers=bearer(tokens[username]))
        assert response.status_code == 403, username
        assert response.json()["code"] == "forbidden"
    assert gateway.get("/api/v1/ops/status").status_code == 401
    for username in ("ops", "admin"):
        response = gateway.get("/api/v1/ops/status", headers=bearer(tokens[username]))
        assert response.status_code == 200
        assert_no_personal_data(response.text)
    status = response.json()
    assert {s["service"] for s in status["services"]} == {
        "registration",
        "claims",
        "settlement",
        "transfer",
        "facility",
    }
    deadlines = {d["kind"]: d for d in status["deadlines"]}
    reporters = {
        "facility_reply": "facility",
        "transfer_step": "transfer",
        "settlement_payment": "settlement",
        "claim_payment": "claims",
    }
    for kind, service in reporters.items():
        assert deadlines[kind]["available"] is True and deadlines[kind]["service"] == service, deadlines[kind]


def test_ops_sees_a_stopped_service_within_the_refresh_interval(browser, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    sign_in(browser, platform.gateway_url, "ops")
    wait_for(
        browser,
        lambda d: set(readiness(d).values()) == {"true"} and len(readiness(d)) == 5,
        30,
        "all five services ready",
    )
    # No peer unless the transfer tests of this run already configured Tangshan (130200).
    assert browser.find_element(By.ID, "peers").text.strip() == "未配置外省经办机构" or browser.find_elements(
        By.CSS_SELECTOR, '[data-peer="130200"]'
    )
    browser.save_screenshot(str(SCREENSHOTS / "ops-all-ready.png"))

    assert stop_process(platform, STOPPED)
    stopped_at = time.monotonic()
    try:
        # One refresh interval, plus the time one status read may take.
        wait_for(
            browser,
            lambda d: readiness(d).get(STOPPED) == "false",
            REFRESH_S + 3,
            f"{STOPPED} shown not ready",
        )
        shown_after = time.monotonic() - stopped_at
        reason = browser.find_element(
            By.CSS_SELECTOR, f'#services tr[data-service="{STOPPED}"] td.reason'
        ).text
        assert "无响应" in reason, reason
        assert readiness(browser) | {STOPPED: "true"} == dict.fromkeys(
            readiness(browser), "true"
        )  # only that one
        browser.save_screenshot(str(SCREENSHOTS / "ops-service-stopped.png"))
        assert_no_personal_data(browser.page_source)
        print(f"{STOPPED} shown not ready {shown_after:.1f} s after it stopped (refresh every {REFRESH_S} s)")
    finally:
        start_process(platform, STOPPED)
        wait_until_ready(platform, timeout_s=60)
    wait_for(browser, lambda d: readiness(d).get(STOPPED) == "true", REFRESH_S + 10, f"{STOPPED} ready again")


def test_a_poison_event_is_shown_masked_and_replayed_by_admin(browser, platform: PlatformConfig) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    message_id = asyncio.run(publish_poison(platform))

    sign_in(browser, platform.gateway_url, "ops")
    wait_for(browser, lambda d: dead_letters_shown(d, "facility") == "1", 30, "the dead letter counted")
    browser.find_element(By.CSS_SELECTOR, 'button.inspect[data-service="facility"]').click()
    letter = (By.CSS_SELECTOR, f'#dead-letters-list .letter[data-message-id="{message_id}"]')
    wait_for(browser, lambda d: d.find_elements(*letter), 10, "the dead letter listed")
    payload = browser.find_element(*letter).find_element(By.CSS_SELECTOR, "pre.payload").text
    assert '"id_number": "***"' in payload and '"name": "***"' in payload and '"diagnosis": "***"' in payload
    assert "1201**********1235" in payload  # an ID number in free text is masked too
    assert not browser.find_elements(By.CSS_SELECTOR, "button.replay"), "ops may look, not replay"
    assert_no_personal_data(browser.page_source)
    assert "2型糖尿病" not in browser.page_source
    browser.save_screenshot(str(SCREENSHOTS / "ops-dead-letter.png"))

    sign_in(browser, platform.gateway_url, "admin")
    wait_for(browser, lambda d: dead_letters_shown(d, "facility") == "1", 30, "the dead letter counted")
    browser.find_element(By.CSS_SELECTOR, 'button.inspect[data-service="facility"]').click()
    wait_for(browser, lambda d: d.find_elements(*letter), 10, "the dead letter listed")
    browser.find_element(*letter).find_element(By.CSS_SELECTOR, "input.replay-reason").send_keys(
        "e2e 重放测试"
    )
    browser.find_element(*letter).find_element(By.CSS_SELECTOR, "button.replay").click()
    result = wait_for(
        browser,
        lambda d: (
            d.find_element(By.ID, "replay-result").get_attribute("data-done")
            and d.find_element(By.ID, "replay-result")
        ),
        15,
        "the replay answered",
    )
    assert result.text.startswith("已重放 1 条"), result.text
    browser.save_screenshot(str(SCREENSHOTS / "ops-replayed.png"))
    assert asyncio.run(replay_audit(platform, message_id)) == [("admin", "admin", "e2e 重放测试", 1)]
    # No handler takes it, so it goes back to the dead-letter queue: replay moved it, nothing lost.
    wait_for(browser, lambda d: dead_letters_shown(d, "facility") == "1", 30, "the poison back in the queue")


def test_ops_sees_a_service_without_its_broker_flagged_degraded_while_it_stays_ready(
    browser, platform: PlatformConfig
) -> None:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By

    sign_in(browser, platform.gateway_url, "ops")
    wait_for(browser, lambda d: readiness(d).get(STOPPED) == "true", 30, f"{STOPPED} ready")
    assert degraded_flags(browser, STOPPED) == {}
    # The same service again, pointed at a port where no broker listens: it serves, events wait.
    assert stop_process(platform, STOPPED)
    start_process(replace(platform, broker_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/"), STOPPED)
    try:
        flags = wait_for(
            browser,
            lambda d: {"broker", "consumer"} <= set(f := degraded_flags(d, STOPPED)) and f,
            60,
            f"{STOPPED} flagged degraded",
        )
        assert flags["broker"].startswith("⚠ 消息代理未连接") and "事件在发件箱中等待" in flags["broker"], (
            flags
        )
        assert flags["consumer"].startswith("⚠ 消费者未挂接"), flags
        assert readiness(browser)[STOPPED] == "true", "a lost broker is no reason to stop serving"
        assert browser.find_element(By.ID, "overall").text == "运行降级（服务可用）"
        assert all(
            not f for s, f in ((s, degraded_flags(browser, s)) for s in readiness(browser)) if s != STOPPED
        )
        browser.save_screenshot(str(SCREENSHOTS / "ops-broker-lost.png"))
    finally:
        stop_process(platform, STOPPED)
        start_process(platform, STOPPED)
        wait_until_ready(platform, timeout_s=60)
    wait_for(
        browser, lambda d: degraded_flags(d, STOPPED) == {}, REFRESH_S + 10, f"{STOPPED} no longer flagged"
    )
