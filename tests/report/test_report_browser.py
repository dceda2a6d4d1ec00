"""The report opens in headless Chromium with every figure rendered and no errors.

Chromium comes from Debian's packages; the fixture installs it (as root, with apt)
when it is missing, as CI does on a fresh machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from sarbd.report import write_report

from .test_report import small_dataset

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, capture_output=True)
        if shutil.which("chromium") is None:
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False, capture_output=True)
        path = shutil.which("chromium")
    if path is None:
        pytest.skip("Chromium is not installed and cannot be installed here (needs root and apt-get)")
    return path


def test_report_renders_in_chromium(tmp_path, chromium):
    from playwright.sync_api import sync_playwright

    out = write_report(small_dataset(tmp_path / "ds"), tmp_path / "report.html")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.closest('figure').id, i.complete, i.naturalWidth])"
            )
        finally:
            browser.close()
    assert errors == []
    assert sorted(i[0] for i in images) == ["fig-footprint", "fig-insar", "fig-labels", "fig-reference",
                                            "fig-signatures"]
    assert all(complete and width > 100 for _, complete, width in images)
