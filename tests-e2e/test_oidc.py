"""Sign-in through the office's identity provider in a real browser (headless Chromium), production mode.

A gateway configured as in production (no development issuer, its own person key, tokens verified by
the provider's JWKS) and the small local OpenID Connect provider (shared.testing.oidc_provider: discovery,
JWKS, a sign-in form, PKCE S256 checked at the token endpoint) run on loopback. The ops page and the
workbench offer only 通过统一身份认证登录; the browser goes to the provider, the user signs in there,
and the page comes back signed in (the token taken from the address fragment, the fragment cleared).
The development sign-in answers refused. Screenshots go to tests-e2e/screenshots/.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from gateway.main import create_app
from gateway.settings import GatewaySettings
from shared.auth import Principal, Role
from shared.testing.asgi import bound_socket, serve
from shared.testing.browser import headless_chromium
from shared.testing.oidc_provider import OidcProvider, provider_app

pytestmark = pytest.mark.e2e

SCREENSHOTS = Path(__file__).parent / "screenshots"
WORKBENCH = Path(__file__).parents[1] / "workbench"
CLIENT = "yibao-staff-pages"
PASSWORD = "Idp@2026-pass"


@dataclass
class Production:
    gateway_url: str
    provider: OidcProvider


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    folder = tmp_path_factory.mktemp("oidc")
    if not (WORKBENCH / "dist" / "index.html").is_file():
        if not shutil.which("npm"):
            pytest.skip("npm is not installed: the workbench cannot be built (Node.js 20.19 or later)")
        for command in (["npm", "ci", "--no-audit", "--no-fund"], ["npm", "run", "build"]):
            subprocess.run(command, cwd=WORKBENCH, check=True, timeout=600)
    gateway_socket = bound_socket()
    gateway_url = f"http://127.0.0.1:{gateway_socket.getsockname()[1]}"
    callback = f"{gateway_url}/api/v1/auth/oidc/callback"
    provider = OidcProvider("", "yibao-platform", folder / "idp", clients={CLIENT: callback})
    provider.add("ops-zhao", PASSWORD, Principal(subject="ops-zhao", role=Role.ops))
    provider.add("clerk-heping", PASSWORD, Principal(subject="clerk-heping", role=Role.staff,
                                                     office_code="120101", office_level="district"))  # fmt: skip
    with serve(provider_app(provider)) as idp_url:
        provider.located_at(idp_url)
        settings = GatewaySettings(
            environment="production",
            dev_issuer=False,
            person_id_key="e2e-production-person-key-32-bytes!!",
            key_dir=folder / "keys",
            auth_issuer=idp_url,
            auth_jwks_url=f"{idp_url}/jwks",
            oidc_issuer=idp_url,
            oidc_client_id=CLIENT,
            oidc_redirect_uri=callback,
            upstreams={},
        )
        with serve(create_app(settings), sock=gateway_socket) as url:
            assert url == gateway_url
            yield Production(gateway_url, provider)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    SCREENSHOTS.mkdir(exist_ok=True)
    with headless_chromium("1280,1000") as driver:
        yield driver


def wait_for(driver, condition, what: str, timeout_s: float = 15):  # type: ignore[no-untyped-def]
    from selenium.common.exceptions import (
        NoSuchElementException,
        StaleElementReferenceException,
        TimeoutException,
    )
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout_s, poll_frequency=0.1,
                             ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)).until(condition)  # fmt: skip
    except TimeoutException:
        driver.save_screenshot(str(SCREENSHOTS / "oidc-failure.png"))
        alerts = driver.execute_script(
            "return [...document.querySelectorAll('[role=alert]')].map(e => e.innerText)"
        )
        pytest.fail(f"waiting for {what} on {driver.current_url}; the page says: {alerts}")


def visible(driver, element_id: str):  # type: ignore[no-untyped-def]
    return wait_for(
        driver, lambda d: (e := d.find_element("id", element_id)).is_displayed() and e, f"#{element_id}"
    )


def sign_in_at_provider(driver, production: Production, username: str) -> None:  # type: ignore[no-untyped-def]
    idp = production.provider.issuer
    wait_for(driver, lambda d: d.current_url.startswith(f"{idp}/authorize"), "the provider's sign-in form")
    visible(driver, "idp-username").send_keys(username)
    visible(driver, "idp-password").send_keys(PASSWORD)
    visible(driver, "idp-submit").click()


def test_the_ops_page_signs_in_through_the_identity_provider_and_offers_no_development_sign_in(
    production: Production, browser
) -> None:  # type: ignore[no-untyped-def]
    driver = browser
    driver.get(f"{production.gateway_url}/ops")
    link = visible(driver, "oidc-login")
    assert not driver.find_element("id", "dev-signin").is_displayed()
    driver.save_screenshot(str(SCREENSHOTS / "oidc-ops-sign-in.png"))
    link.click()
    sign_in_at_provider(driver, production, "ops-zhao")

    wait_for(driver, lambda d: "ops-zhao" in d.find_element("id", "who").text, "the ops user signed in")
    assert visible(driver, "dashboard")
    assert driver.current_url == f"{production.gateway_url}/ops"  # the token left the address at once
    assert driver.execute_script("return sessionStorage.getItem('yb-ops-token')").count(".") == 2
    # The gateway sent the provider the verifier of the S256 challenge it had sent the browser with.
    assert production.provider.token_requests[-1]["code_verifier"]
    driver.save_screenshot(str(SCREENSHOTS / "oidc-ops-signed-in.png"))


def test_the_workbench_signs_a_district_clerk_in_through_the_identity_provider(
    production: Production, browser
) -> None:  # type: ignore[no-untyped-def]
    driver = browser
    driver.get(f"{production.gateway_url}/workbench/worklist")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{production.gateway_url}/workbench/worklist")
    link = visible(driver, "oidc-login")
    assert not driver.find_elements("id", "username")  # no development form in production
    driver.save_screenshot(str(SCREENSHOTS / "oidc-workbench-sign-in.png"))
    link.click()
    sign_in_at_provider(driver, production, "clerk-heping")

    who = wait_for(driver, lambda d: d.find_element("id", "who"), "the clerk signed in")
    assert "clerk-heping" in who.text and who.get_attribute("data-office") == "120101"
    assert driver.current_url == f"{production.gateway_url}/workbench/worklist"
    driver.save_screenshot(str(SCREENSHOTS / "oidc-workbench-signed-in.png"))


def test_a_sign_in_whose_state_was_not_sent_by_the_page_comes_back_refused(
    production: Production, browser
) -> None:  # type: ignore[no-untyped-def]
    driver = browser
    driver.get(f"{production.gateway_url}/workbench/login")
    driver.execute_script("sessionStorage.clear()")
    # A forged callback (no login cookie of this browser): nobody is signed in, the page says why.
    driver.get(f"{production.gateway_url}/api/v1/auth/oidc/callback?code=stolen&state=forged")
    alert = wait_for(driver, lambda d: d.find_element("id", "login-error"), "the refusal")
    assert "重新登录" in alert.text
    assert not driver.find_elements("id", "who")


def test_the_development_sign_in_is_refused_in_production(production: Production) -> None:
    answer = httpx.post(
        f"{production.gateway_url}/api/v1/auth/token", data={"username": "ops", "password": "Demo@2026"}
    )
    assert answer.status_code == 404 and answer.json()["code"] == "dev_signin_disabled"
    assert answer.headers["content-type"].startswith("application/problem+json")
