"""The API documentation as an app developer on a machine without internet access meets it.

Swagger UI comes from the gateway (assets from the swagger-ui-bundle package), for the merged document
at /docs and each service's at /docs/<service>; a headless Chromium that cannot resolve any host but
the local one renders their operations. The merged document and each service's pass
openapi-spec-validator, and the public operations an app uses carry a Chinese summary and a description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from openapi_spec_validator import validate

from shared.testing.browser import headless_chromium
from yb_deploy.platform import SERVICES, PlatformConfig

pytestmark = pytest.mark.e2e

DOCUMENTED_SERVICES = [s for s in SERVICES if s != "gateway"]


@pytest.fixture(scope="module")
def offline_browser() -> Iterator[object]:
    """Headless Chromium in which every host name but localhost fails to resolve: no CDN can be reached."""
    with headless_chromium(
        "1400,1800", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"
    ) as driver:
        yield driver


def operations_shown(driver, url: str) -> int:  # type: ignore[no-untyped-def]
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    WebDriverWait(driver, 30, poll_frequency=0.2).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock-tag-section"), message=f"operations on {url}"
    )
    # Tags are collapsed (docExpansion none): open them all to count the operations.
    driver.execute_script("document.querySelectorAll('.opblock-tag').forEach(t => t.click())")
    WebDriverWait(driver, 10, poll_frequency=0.2).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".opblock")
    )
    return len(driver.find_elements(By.CSS_SELECTOR, ".opblock"))


def test_the_docs_pages_load_nothing_from_outside_the_gateway(gateway: httpx.Client) -> None:
    for path in ["/docs", *(f"/docs/{s}" for s in DOCUMENTED_SERVICES)]:
        page = gateway.get(path)
        assert page.status_code == 200, path
        outside = [u for u in re.findall(r"""(?:src|href)=["']([^"']+)""", page.text) if "//" in u]
        assert outside == [], f"{path} loads {outside}"
    assert gateway.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert gateway.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")


def test_an_unknown_service_has_no_docs_page(gateway: httpx.Client) -> None:
    answer = gateway.get("/docs/nosuch")
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_merged_docs_render_every_operation_in_a_browser_without_internet(
    gateway: httpx.Client, offline_browser: object, platform: PlatformConfig
) -> None:
    document = gateway.get("/openapi.json").json()
    expected = sum(len(operations) for operations in document["paths"].values())
    assert operations_shown(offline_browser, f"{platform.gateway_url}/docs") == expected


@pytest.mark.parametrize("service", DOCUMENTED_SERVICES)
def test_each_services_docs_render_in_a_browser_without_internet_and_without_a_token(
    service: str, gateway: httpx.Client, offline_browser: object, platform: PlatformConfig
) -> None:
    document = gateway.get(f"/api/v1/{service}/openapi.json").json()
    expected = sum(len(operations) for operations in document["paths"].values())
    assert expected > 0
    assert operations_shown(offline_browser, f"{platform.gateway_url}/docs/{service}") == expected


def test_the_merged_document_passes_openapi_spec_validator(gateway: httpx.Client) -> None:
    validate(gateway.get("/openapi.json").json())


@pytest.mark.parametrize("service", DOCUMENTED_SERVICES)
def test_each_services_document_passes_openapi_spec_validator(service: str, gateway: httpx.Client) -> None:
    validate(gateway.get(f"/api/v1/{service}/openapi.json").json())
