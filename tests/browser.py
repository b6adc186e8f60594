"""A real headless Chromium for the report tests, driven over the DevTools protocol on a pipe.

Why not `chromium --screenshot`: headless windows are at least 500 px wide, so a
400 px phone never shows up that way, and a command line cannot type into a
filter or press Enter on a summary. Here one browser process serves a whole
test module: each page is opened at an emulated viewport width, measured with
JavaScript, driven with trusted key events and photographed. No network, no
extra Python package: the protocol is JSON messages separated by NUL bytes on
file descriptors 3 (to the browser) and 4 (from it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_browser() -> str | None:
    """A Chromium-family browser: $ACF_BROWSER, else the first candidate on PATH."""
    explicit = os.environ.get("ACF_BROWSER")
    if explicit:
        return explicit if Path(explicit).exists() else None
    return next((path for path in map(shutil.which, CANDIDATES) if path), None)


class Browser:
    """One headless browser; `open(url, width)` gives a Page at that viewport width."""

    def __init__(self, executable: str, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: the protocol's fixed descriptors
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        args = [executable, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--mute-audio",
                f"--user-data-dir={profile}", "about:blank"]
        self._proc = subprocess.Popen(args, pass_fds=(3, 4), preexec_fn=wire, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._buffer = b""
        self._events: list[dict] = []  # events read while waiting for a command's answer

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, RuntimeError):
            pass
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)

    # -- the protocol --------------------------------------------------------
    def _read(self) -> dict:
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("the browser closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        """Send one command and return its result (events that arrive meanwhile are kept for `wait_event`)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._read()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def wait_event(self, method: str, session: str) -> dict:
        for i, event in enumerate(self._events):
            if event.get("method") == method and event.get("sessionId") == session:
                return self._events.pop(i)
        while True:
            event = self._read()
            if event.get("method") == method and event.get("sessionId") == session:
                return event
            self._events.append(event)

    def open(self, url: str, width: int, height: int = 900) -> Page:
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self.call("Emulation.setDeviceMetricsOverride", session, width=width, height=height, deviceScaleFactor=1,
                  mobile=False)
        self.call("Page.enable", session)
        self.call("Page.navigate", session, url=url)
        self.wait_event("Page.loadEventFired", session)
        return Page(self, session, target)


class Page:
    """An open page: evaluate JavaScript, press keys, take a screenshot."""

    def __init__(self, browser: Browser, session: str, target: str) -> None:
        self.browser, self.session, self.target = browser, session, target

    def js(self, expression: str):
        result = self.browser.call("Runtime.evaluate", self.session, expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def press(self, key: str, code: int, text: str = "") -> None:
        """A trusted key press (as a keyboard user makes it), to whatever has the focus."""
        self.browser.call("Input.dispatchKeyEvent", self.session, type="keyDown", key=key, code=key, text=text,
                          windowsVirtualKeyCode=code, nativeVirtualKeyCode=code)
        self.browser.call("Input.dispatchKeyEvent", self.session, type="keyUp", key=key, code=key,
                          windowsVirtualKeyCode=code, nativeVirtualKeyCode=code)

    def type(self, text: str) -> None:
        self.browser.call("Input.insertText", self.session, text=text)

    def screenshot(self, path: Path, max_height: int = 4000, top: int = 0) -> Path:
        """The page from `top` down, at most `max_height` px tall, as PNG."""
        height = min(int(self.js("document.documentElement.scrollHeight")) - top, max_height)
        width = int(self.js("window.innerWidth"))
        shot = self.browser.call("Page.captureScreenshot", self.session, format="png", captureBeyondViewport=True,
                                 clip={"x": 0, "y": top, "width": width, "height": height, "scale": 1})
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def assert_fits_the_window(self) -> None:
        """Nothing is wider than the window, as opened and with every <details> unfolded (AssertionError naming
        the first elements that stick out)."""
        width = self.js("window.innerWidth")
        for state in ("as opened", "every detail unfolded"):
            wide = self.js("""Array.from(document.querySelectorAll('body *')).filter(function (e) {
                return e.getBoundingClientRect().right > window.innerWidth + 1; }).slice(0, 5).map(function (e) {
                return e.tagName + '.' + e.className + ' ' + e.textContent.slice(0, 60); })""")
            assert self.js("document.documentElement.scrollWidth") <= width, (state, wide)
            assert wide == [], state
            self.js("document.querySelectorAll('details').forEach(function (d) { d.open = true; })")

    def close(self) -> None:
        self.browser.call("Target.closeTarget", targetId=self.target)
