"""The study report in a real browser: headless Chromium (Debian's `chromium`, driven by Selenium through Debian's
`chromium-driver`) opens report.html, finds no console error, and every figure rendered (natural width > 0); a
full-page screenshot is kept as a test artifact (``ADCBRIDGE_ARTIFACTS``, default the test's temporary folder).

The test skips, saying why, only where Chromium or its driver is not installed; ``.ci/run`` installs both and sets
``ADCBRIDGE_REQUIRE_BROWSER=1``, under which a missing browser fails the test instead."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.clirun import run


def _browser():
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if chromium and driver:
        return chromium, driver
    reason = "Chromium or chromedriver is not installed (apt-get install chromium chromium-driver)"
    if os.environ.get("ADCBRIDGE_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + ", but ADCBRIDGE_REQUIRE_BROWSER=1")
    pytest.skip(reason)


def test_the_report_renders_in_chromium(tmp_path, capsys):
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    out = tmp_path / "report"
    code, _, err = run(capsys, "demo", "--out", out, "--trials", "200", "--quiet")
    assert code == 0, err
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        browser.get((out / "report.html").resolve().as_uri())
        assert browser.title.startswith("JSKN003-like")
        images = browser.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);")
        assert len(images) >= 10
        broken = [alt for alt, complete, width in images if not complete or width <= 0]
        assert not broken, f"figures that did not render: {broken}"
        errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"]
        assert not errors, f"console errors: {errors}"
        sections = browser.execute_script("return document.querySelectorAll('section').length;")
        assert sections >= 17                               # summary, 15 analyses, provenance
        height = browser.execute_script("return document.documentElement.scrollHeight;")
        browser.set_window_size(1280, min(int(height), 30000))
        artifacts = Path(os.environ.get("ADCBRIDGE_ARTIFACTS", tmp_path))
        artifacts.mkdir(parents=True, exist_ok=True)
        shot = artifacts / "study_report_full_page.png"
        browser.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
        print(f"screenshot of the report: {shot}")
    finally:
        browser.quit()
