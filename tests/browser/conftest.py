"""Playwright in headless Debian Chromium against pytest-django's live server.

Run: `.venv/bin/python -m pytest -m browser`. Needs `apt-get install chromium`, the
`playwright` package (requirements-dev.txt; never `playwright install`: the browser is
Debian's) and `npm ci` for axe-core. Missing pieces skip on a laptop and fail when
REQUIRE_SERVICES=1, as the service tests do.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 390, "height": 844}


def _missing(what: str) -> None:
    if getattr(settings, "REQUIRE_SERVICES", False):
        pytest.fail(f"{what} is required for the browser tests (REQUIRE_SERVICES=1)")
    pytest.skip(f"{what} not available")


# `chromium` (the one browser of the suite) and `vietnamese` are in tests/conftest.py.


@pytest.fixture
def phone(chromium, live_server, vietnamese):
    """A phone-sized page (390x844, touch) in Vietnamese."""
    context = chromium.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="vi-VN",
        base_url=live_server.url,
        accept_downloads=True,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def desktop(chromium, live_server):
    """A desktop-sized context for staff in the admin."""
    context = chromium.new_context(
        viewport={"width": 1280, "height": 900}, base_url=live_server.url
    )
    yield context
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> Path:
    if not AXE.exists():
        _missing(f"{AXE.relative_to(ROOT)} (run `npm ci` at the repository root)")
    return AXE


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


class Checker:
    """Screenshots and axe-core runs, collected for one report per test."""

    def __init__(self, axe: Path, folder: Path):
        self.axe = axe
        self.folder = folder
        self.report: dict[str, list] = {}

    def shot(self, page, name: str) -> Path:
        path = self.folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    def axe_run(self, page, name: str) -> list[dict]:
        """Run axe-core (WCAG 2.1 A/AA and best practices); returns the violations."""
        # Evaluated through the DevTools protocol, not as a <script> tag: the pages'
        # Content-Security-Policy (rightly) refuses inline scripts.
        page.evaluate(self.axe.read_text(encoding="utf-8") + "\n;0")
        result = page.evaluate(
            """async () => await axe.run(document, {runOnly: {type: 'tag', values:
                ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}})"""
        )
        violations = [
            {
                "id": v["id"],
                "impact": v["impact"],
                "help": v["help"],
                "nodes": [n["target"] for n in v["nodes"]][:5],
            }
            for v in result["violations"]
        ]
        self.report[name] = violations
        (self.folder / "axe-report.json").write_text(
            json.dumps(self.report, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        return violations

    def check(self, page, name: str) -> None:
        """Screenshot the page and fail on any serious or critical axe violation."""
        self.shot(page, name)
        serious = [v for v in self.axe_run(page, name) if v["impact"] in ("serious", "critical")]
        assert not serious, f"{name}: {json.dumps(serious, indent=2, ensure_ascii=False)}"


@pytest.fixture
def checker(axe_source, artifacts) -> Checker:
    return Checker(axe_source, artifacts)
