"""The report in a real browser: headless Chromium (Debian's package) driven by Playwright.

Each report is opened from disk with every request outside the file refused and
recorded; the test checks that every image rendered, nothing was fetched, nothing
was logged as an error, no script exists in the page (a plugin named ``<script>``
must stay text) and the headline names an implementation. A full-page screenshot
goes to ``test-artifacts/``. Skipped, with the reason, where Chromium or Playwright
is missing; CI (``.ci/run``) installs both so it never skips there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BUILTIN_NAMES = ("python-loops", "numpy-dot", "einsum", "reshaped-mn1", "numba")
SECTIONS = (
    "headline",
    "time-m",
    "time-n",
    "roofline",
    "heatmap",
    "scaling",
    "agreement",
    "preparation",
    "environment",
    "why",
    "results",
)


def chromium() -> str | None:
    """The Chromium executable, or None (``GRADRACE_CHROMIUM`` overrides the search)."""
    for candidate in (
        os.environ.get("GRADRACE_CHROMIUM"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _why_not() -> str:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[test]')"
    if chromium() is None:
        return "Chromium not found at /usr/bin/chromium (apt-get install chromium)"
    return ""


pytestmark = [pytest.mark.browser, pytest.mark.skipif(bool(_why_not()), reason=_why_not())]


def _open(path: Path, screenshot: Path) -> dict:
    """Open ``path`` in Chromium; return what the page did."""
    from playwright.sync_api import sync_playwright

    seen = {"requests": [], "refused": [], "console": [], "errors": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("console", lambda m: seen["console"].append((m.type, m.text)))
            page.on("pageerror", lambda e: seen["errors"].append(str(e)))
            page.on("request", lambda r: seen["requests"].append(r.url))

            def refuse(route):
                seen["refused"].append(route.request.url)
                route.abort()

            page.route(lambda url: not url.startswith(("file:", "data:")), refuse)
            page.goto(path.resolve().as_uri(), wait_until="load")
            seen["images"] = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.alt])"
            )
            seen["scripts"] = page.eval_on_selector_all("script", "els => els.length")
            seen["headline"] = page.inner_text("#headline-sentence")
            seen["sections"] = [s for s in SECTIONS if page.is_visible(f"section#{s}")]
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen


@pytest.mark.parametrize("which", ["synthetic", "pytest-benchmark"])
def test_report_renders_offline_in_chromium(which, request):
    folder = request.getfixturevalue("report_dir" if which == "synthetic" else "benchmark_report")
    shot = ARTIFACTS / f"report-{which}.png"
    seen = _open(folder / "index.html", shot)
    assert seen["images"] and all(done and width > 0 for done, width, _ in seen["images"]), seen[
        "images"
    ]
    assert seen["refused"] == []
    assert all(url.startswith(("file:", "data:")) for url in seen["requests"]), seen["requests"]
    assert [m for m in seen["console"] if m[0] == "error"] == [] and seen["errors"] == []
    assert seen["scripts"] == 0
    assert any(seen["headline"].startswith(name) for name in BUILTIN_NAMES), seen["headline"]
    assert seen["sections"] == list(SECTIONS)
    assert shot.stat().st_size > 10_000
