# SPDX-License-Identifier: MIT
"""Browser fixtures: headless Chromium through Debian's chromedriver, one
fresh profile per browser (so several users can act in one test), helpers
that wait for what a page shows, and screenshots saved as artifacts under
var/test/screenshots/<test>-<step>.png.

Every browser's console is checked when the test ends: a Content Security
Policy violation or an uncaught script error fails the test."""

import base64
import os
import re
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

from stack import temporary_stack
from stackopts import TEST_OPTIONS


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHOTS = os.path.join(ROOT, "var", "test", "screenshots")
WAIT = 10

CHROME_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--no-first-run", "--window-size=1280,900",
]

# Console lines that mean the page is broken (the CSP refused something, or a script threw).
BAD_CONSOLE = re.compile(r"Content Security Policy|Uncaught|SyntaxError|TypeError|ReferenceError")


class Browser:
    """One Chromium profile and the helpers the tests use on it."""

    def __init__(self, base, lang):
        self.base = base
        self.profile = tempfile.mkdtemp(prefix="mpbind-chrome-")
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for flag in CHROME_FLAGS:
            opts.add_argument(flag)
        opts.add_argument(f"--user-data-dir={self.profile}")
        opts.add_argument(f"--lang={lang}")
        opts.add_experimental_option("prefs", {"intl.accept_languages": lang})
        opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        try:
            self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        except Exception:
            shutil.rmtree(self.profile, ignore_errors=True)
            raise
        self.console = []

    # ----- navigation and waiting --------------------------------------
    def open(self, path):
        self.driver.get(self.base + path)

    def path(self):
        url = self.driver.current_url
        return url[len(self.base):] if url.startswith(self.base) else url

    def wait(self, timeout=WAIT):
        # A page that re-renders a table replaces the rows a condition is reading; such a
        # condition is asked again rather than failing the test.
        return WebDriverWait(self.driver, timeout,
                             ignored_exceptions=(StaleElementReferenceException,))

    def find(self, css, timeout=WAIT):
        """The first visible element matching css, waiting for it."""
        try:
            return self.wait(timeout).until(EC.visibility_of_element_located((By.CSS_SELECTOR, css)))
        except TimeoutException:
            raise AssertionError(f"no visible {css!r} on {self.path()}") from None

    def all(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text_of(self, css, timeout=WAIT):
        return self.find(css, timeout).text

    def wait_text(self, css, text, timeout=WAIT):
        """Waits until an element matching css shows text (a substring); returns that element."""
        def check(d):
            for e in d.find_elements(By.CSS_SELECTOR, css):
                try:
                    if text in e.text:
                        return e
                except Exception:
                    pass
            return False
        try:
            return self.wait(timeout).until(check)
        except TimeoutException:
            seen = [e.text for e in self.all(css)][:5]
            raise AssertionError(f"{css!r} never showed {text!r} on {self.path()}; saw {seen!r}") from None

    def wait_path(self, prefix, timeout=WAIT):
        try:
            self.wait(timeout).until(lambda d: self.path().startswith(prefix))
        except TimeoutException:
            raise AssertionError(f"expected {prefix!r}, still on {self.path()}") from None

    def wait_gone(self, css, timeout=WAIT):
        self.wait(timeout).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, css)))

    # ----- input -------------------------------------------------------
    def fill(self, css, value):
        e = self.find(css)
        e.clear()
        e.send_keys(value)
        return e

    def click(self, css):
        e = self.wait().until(EC.element_to_be_clickable((By.CSS_SELECTOR, css)))
        e.click()
        return e

    def click_text(self, css, text):
        """Clicks the first visible element matching css whose text is exactly text."""
        def check(d):
            for e in d.find_elements(By.CSS_SELECTOR, css):
                if e.is_displayed() and e.is_enabled() and e.text.strip() == text:
                    return e
            return False
        e = self.wait().until(check)
        e.click()
        return e

    def cookie(self, name):
        c = self.driver.get_cookie(name)
        return c["value"] if c else None

    # ----- pages -------------------------------------------------------
    def register(self, email, password):
        """Fills the sign-up form on the current page and submits it."""
        self.fill("#register-form input[name=email]", email)
        self.fill("#register-form input[name=password]", password)
        self.click("#register-submit")

    def login(self, email, password):
        self.fill("#login-form input[name=email]", email)
        self.fill("#login-form input[name=password]", password)
        self.click("#login-submit")

    def adopt(self, api):
        """Takes over the session of api (an Api client that signed in), for tests where signing
        in is not the point: the session cookie goes straight into this profile."""
        for c in api.s.cookies:
            self.driver.execute_cdp_cmd("Network.setCookie", {
                "name": c.name, "value": c.value, "url": self.base + "/", "path": "/",
                "httpOnly": True, "sameSite": "Lax",
            })

    def dialog(self):
        return self.find("dialog[open]")

    def screenshot(self, path):
        """The whole page (not only the window) as a PNG at path."""
        try:
            metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
            size = metrics["cssContentSize"]
            if size["height"] <= metrics["cssLayoutViewport"]["clientHeight"]:
                self.driver.save_screenshot(path)
                return
            self.driver.execute_script("window.scrollTo(0, 0)")
            shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000),
                         "scale": 1},
            })
            with open(path, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        except Exception:
            self.driver.save_screenshot(path)

    # ----- teardown ----------------------------------------------------
    def drain_console(self):
        try:
            self.console.extend(self.driver.get_log("browser"))
        except Exception:
            pass
        return self.console

    def quit(self):
        try:
            self.driver.quit()
        finally:
            shutil.rmtree(self.profile, ignore_errors=True)


def _safe(name):
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


@pytest.fixture
def browser(stack, request):
    """A factory: browser(lang="zh-CN") starts another independent profile. All quit at teardown,
    after checking that none of them logged a CSP violation or a script error."""
    made = []

    def make(lang="zh-CN"):
        b = Browser(stack.url, lang)
        made.append(b)
        return b

    yield make
    problems = []
    for b in made:
        for entry in b.drain_console():
            if BAD_CONSOLE.search(entry.get("message", "")):
                problems.append(entry["message"])
        b.quit()
    if problems:
        pytest.fail("browser console errors:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def shot(request):
    """shot(browser, step) saves a screenshot as var/test/screenshots/<test>-<step>.png."""
    os.makedirs(SHOTS, exist_ok=True)
    test = _safe(request.node.name)

    def save(b, step):
        path = os.path.join(SHOTS, f"{test}-{_safe(step)}.png")
        b.screenshot(path)
        return path

    return save


@pytest.fixture(scope="session")
def no_creation_stack():
    """A stack of its own where users may not create organizations
    (orgs.allow_creation = no), with the simulator and no mpbind-meterd."""
    with temporary_stack("mpbind-nocreate-", dict(TEST_OPTIONS, allow_org_creation=False), meterd=False) as s:
        yield s
