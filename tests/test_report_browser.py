"""The HTML report as a reader sees it: opened in headless Chromium (Debian's package, which
.ci/run installs), every image loaded, every section there, and a screenshot to look at."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import pytest
from conftest import ROOT

# records, once the page has loaded, every image's source and decoded width (0: it failed)
PROBE = """<script>
window.addEventListener("load", () => {
  const images = [...document.images].map((i) => [i.getAttribute("src"), i.naturalWidth]);
  document.body.setAttribute("data-images", JSON.stringify(images));
});
</script>"""
SECTIONS = [
    "How a verdict is reached",
    "The essay's claims",
    "Summary",
    "Verdicts",
    "The claims and their rules",
    "Replications",
    "Checks",
    "Figure",
    "Supplementary figures",
    "Figure S1. Replications of published results",
    "Final errors",
    "Linear and ReLU bottlenecks (MobileNetV2-style nets)",
    "ReLU collapse (2-D spiral and 3-D swiss roll)",
    "Diverged or failed runs",
    "Setup",
    "Wall time of each stage",
]


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("no chromium on this machine (.ci/run installs Debian's package)")
    return found


def _run(chromium: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    # the flags of a sandboxed, offline machine: no sandbox (root), no background traffic
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
    flags += ["--disable-background-networking", "--disable-component-update"]
    return subprocess.run(
        [chromium, *flags, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.mark.pipeline
def test_report_html_in_headless_chromium(smoke_run, tmp_path):
    chromium = _chromium()
    report = smoke_run / "results/report.html"
    probe = report.with_name("report-probe.html")  # beside it: image paths stay relative
    probe.write_text(report.read_text().replace("</body>", PROBE + "</body>"))
    dom = _run(
        chromium, tmp_path / "a", "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    found = re.search(r'data-images="([^"]*)"', dom.stdout)
    assert found, dom.stdout[-2000:]
    images = json.loads(unescape(found.group(1)))
    assert images and all(width > 0 for _, width in images), images
    assert any(src.endswith("figures/main.png") for src, _ in images)
    # every figure the report names is there and loads, and every supplementary figure drawn is
    # named, each under its own heading (Figure S1, S2, ...)
    drawn = sorted(p.name for p in (smoke_run / "results/figures/supplementary").glob("S*.png"))
    named = sorted(src.rsplit("/", 1)[-1] for src, _ in images if "/supplementary/" in src)
    assert drawn and named == drawn, (named, drawn)
    headings = [unescape(h) for h in re.findall(r"<h[1-3][^>]*>(.*?)</h[1-3]>", dom.stdout)]
    for section in SECTIONS:
        assert section in headings, (section, headings)
    toc = re.search(r'<div class="toc">(.*?)</div>', dom.stdout, re.S)
    assert toc and all(f">{s}<" in unescape(toc.group(1)) for s in SECTIONS[:4])
    assert re.search(r'class="verdict [a-z-]+"', dom.stdout)  # the verdicts are coloured
    screenshot = ROOT / "results" / "report-screenshot.png"
    screenshot.parent.mkdir(exist_ok=True)
    shot = _run(
        chromium,
        tmp_path / "b",
        f"--screenshot={screenshot}",
        "--window-size=1400,2400",
        "--virtual-time-budget=10000",
        report.as_uri(),
    )
    assert shot.returncode == 0 and screenshot.stat().st_size > 10_000, shot.stderr[-2000:]
