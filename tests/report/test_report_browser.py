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

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None and shutil.which("apt-get") and os.geteuid() == 0:
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], check=False, capture_output=True
        )
        if shutil.which("chromium") is None:
            subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
            subprocess.run(
                ["apt-get", "install", "-y", "-qq", "chromium"], check=False, capture_output=True
            )
        path = shutil.which("chromium")
    if path is None:
        pytest.skip(
            "Chromium is not installed and cannot be installed here (needs root and apt-get)"
        )
    return path


def render(chromium: str, html) -> tuple[list[str], list[list]]:
    """Open ``html`` in headless Chromium: console/page errors and ``[figure id, complete, width]``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(html.as_uri())
            page.wait_for_load_state("load")
            images = page.evaluate(
                "Array.from(document.images).map(i => [i.closest('figure').id, i.complete, i.naturalWidth])"
            )
        finally:
            browser.close()
    return errors, images


def test_report_renders_in_chromium(tmp_path, chromium):
    out = write_report(small_dataset(tmp_path / "ds"), tmp_path / "report.html")
    errors, images = render(chromium, out)
    assert errors == []
    assert sorted(i[0] for i in images) == [
        "fig-footprint",
        "fig-insar",
        "fig-labels",
        "fig-reference",
        "fig-signatures",
    ]
    assert all(complete and width > 100 for _, complete, width in images)


def test_demo_report_renders_in_chromium(tmp_path, chromium, capsys):
    """The main job end to end (tiny scene): `sarbd demo` writes a report that Chromium renders
    with every figure, dataset and baseline alike, and prints where everything is."""
    import json

    from sarbd.cli.app import main

    assert main(["demo", "--size", "tiny", "--out", str(tmp_path / "demo")]) == 0
    printed = capsys.readouterr().out
    for line in (
        "dataset:",
        "model:",
        "report:",
        "class counts per level",
        "label precision",
        "headline",
    ):
        assert line in printed, line
    summary = json.loads((tmp_path / "demo" / "demo_summary.json").read_text())
    report = tmp_path / "demo" / "report.html"
    assert summary["paths"]["report"] == str(report)
    errors, images = render(chromium, report)
    assert errors == []
    assert sorted(i[0] for i in images) == [
        "fig-confusion_matrix",
        "fig-footprint",
        "fig-insar",
        "fig-labels",
        "fig-prediction",
        "fig-reference",
        "fig-signatures",
    ]
    assert all(complete and width > 100 for _, complete, width in images)
    # the figures are also beside the page as PNG files
    assert {p.stem for p in (tmp_path / "demo").glob("report_figures/*.png")} >= {
        "labels",
        "prediction",
    }
