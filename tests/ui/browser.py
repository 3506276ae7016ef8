"""A real headless Chromium (Debian's) driven by Selenium, with the network shut.

Every request the browser makes is read back from Chrome's performance log,
so a test can check that none went anywhere but the UI server. Requests to
other hosts could not succeed anyway: they go to a proxy on a closed port
and host names resolve to nothing (loopback excepted).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--disable-default-apps", "--disable-extensions", "--metrics-recording-only",
         "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, "
         "EXCLUDE localhost, EXCLUDE 127.0.0.1", "--window-size=1440,960",
         "--force-device-scale-factor=1", "--no-default-browser-check",
         "--disable-domain-reliability", "--disable-client-side-phishing-detection",
         "--disable-features=OptimizationHints,MediaRouter,Translate,NtpMostVisitedTiles")


#: URL schemes of the browser's own pages and data (no network involved).
INTERNAL = ("data:", "blob:", "about:", "chrome:", "devtools:")


def available() -> bool:
    """Whether Chromium and its driver are installed."""
    return shutil.which(CHROMIUM) is not None and shutil.which(CHROMEDRIVER) is not None


class Browser:
    """One Chromium for a test module; `requests` lists every URL it asked for."""

    def __init__(self, profile: Path, screenshots: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in (*FLAGS, f"--user-data-dir={profile}"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
        options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True,
                                                             "enablePage": False})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)
        self.screenshots = screenshots
        screenshots.mkdir(parents=True, exist_ok=True)
        self.requests: list[str] = []
        self.failures: list[dict[str, Any]] = []
        self.console: list[dict[str, Any]] = []
        self._urls: dict[str, str] = {}
        self.blocked = 0

    def open(self, url: str) -> None:
        self.collect()
        self.driver.get(url)

    def collect(self) -> None:
        """Move the browser's pending log entries into `requests`, `failures`, `console`."""
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            params = message["params"]
            if message["method"] == "Network.requestWillBeSent":
                self.requests.append(params["request"]["url"])
                self._urls[params["requestId"]] = params["request"]["url"]
            elif message["method"] == "Network.loadingFailed" and not params.get("canceled"):
                url = self._urls.get(params["requestId"])
                if url is None:  # the browser's own background request, stopped by the proxy
                    self.blocked += 1
                elif not url.startswith(INTERNAL):
                    self.failures.append({"url": url, "error": params.get("errorText")})
        self.console.extend(e for e in self.driver.get_log("browser") if e["level"] == "SEVERE")

    def wait(self, condition: Callable[[], Any], timeout: float = 20, what: str = "") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                value = condition()
            except Exception:  # noqa: BLE001 - the page is still changing
                value = None
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or condition}")

    def css(self, selector: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, selector)

    def all(self, selector: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def shot(self, name: str) -> Path:
        path = self.screenshots / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path

    def quit(self) -> None:
        self.driver.quit()
