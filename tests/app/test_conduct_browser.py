"""The conduct pages in a real browser: `adcbridge serve` on loopback, headless Debian chromium through Selenium.
A statistician logs in, creates and activates a trial; an investigator enters a cohort and sees the decision; a
safety reviewer confirms it and opens the audit trail.  Screenshots of each step are kept as test artifacts
(``ADCBRIDGE_ARTIFACTS``).  Skips only where Chromium is not installed (never under ``ADCBRIDGE_REQUIRE_BROWSER=1``,
as in CI)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.app.conduct_setup import PASSWORD, new_database
from tests.app.test_report_browser import _browser


@pytest.fixture
def server(tmp_path):
    url = new_database(tmp_path / "browser.db", roles=("statistician", "investigator", "safety-reviewer"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "adcbridge", "serve", "--db", url, "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    import httpx
    for _ in range(100):
        try:
            httpx.get(base + "/login")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    yield base
    proc.terminate()
    proc.wait(timeout=10)


def test_a_cohort_through_the_pages_in_chromium(server, tmp_path):
    chromium, driver_path = _browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    artifacts = Path(os.environ.get("ADCBRIDGE_ARTIFACTS", tmp_path))
    artifacts.mkdir(parents=True, exist_ok=True)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1200,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver_path), options=options)

    def press(element):
        """Click a submit button or link and wait until the next page replaced this one.  During the swap
        chromedriver may report the old node as stale or as "not belonging to the document": both mean gone."""
        from selenium.common.exceptions import WebDriverException

        def gone(_):
            try:
                element.is_enabled()
            except WebDriverException:
                return True
            return False
        element.click()
        WebDriverWait(browser, 10).until(gone)

    def login(username):
        browser.delete_all_cookies()
        browser.get(server + "/login")
        browser.find_element(By.NAME, "username").send_keys(username)
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        press(browser.find_element(By.CSS_SELECTOR, "button[type=submit]"))
        assert browser.current_url.endswith("/trials")

    def shot(name):
        browser.save_screenshot(str(artifacts / f"conduct_{name}.png"))

    try:
        login("statistician")
        browser.find_element(By.NAME, "name").send_keys("JSKN003-101")
        Select(browser.find_element(By.NAME, "design")).select_by_visible_text("boin")
        press(browser.find_element(By.XPATH, "//button[text()='Create']"))
        press(browser.find_element(By.LINK_TEXT, "JSKN003-101"))
        press(browser.find_element(By.XPATH, "//button[starts-with(text(), 'Activate')]"))
        assert "boin design, active" in browser.find_element(By.XPATH, "//p[@class='meta']").text
        shot("1_activated")
        login("investigator")
        trial_url = server + "/trials/1"
        for k in range(1, 4):
            browser.get(trial_url)
            browser.find_element(By.NAME, "patient").send_keys(f"P00{k}")
            browser.find_element(By.NAME, "dose").send_keys("1")
            Select(browser.find_element(By.NAME, "dlt")).select_by_visible_text("no")
            press(browser.find_element(By.XPATH, "//button[text()='Enrol']"))
            if k < 3:                                  # no decision on part of a cohort
                assert "No decision yet" in browser.find_element(By.TAG_NAME, "body").text
        decision = browser.find_element(By.CLASS_NAME, "decision").text
        assert "escalate" in decision and "dose level 2" in decision and "awaiting review" in decision
        assert "decision 1:" in decision                    # the first stored decision: on the whole cohort
        shot("2_decision")
        login("safety_reviewer")
        browser.get(trial_url)
        browser.find_element(By.NAME, "comment").send_keys("0/3 at 1.0 mg/kg")
        press(browser.find_element(By.XPATH, "//button[text()='Approve']"))
        assert "approved" in browser.find_element(By.CLASS_NAME, "decision").text
        press(browser.find_element(By.LINK_TEXT, "audit trail"))
        audit = browser.find_element(By.TAG_NAME, "table").text
        for action in ("create_trial", "activate_trial", "enrol_patient", "decide", "confirm_decision"):
            assert action in audit
        shot("3_audit")
        errors = [e for e in browser.get_log("browser") if e.get("level") == "SEVERE"
                  and "favicon" not in e.get("message", "")]
        assert not errors, errors
    finally:
        browser.quit()
