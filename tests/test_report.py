"""The HTML report: structure, escaping, links, figures; a headless-browser screenshot."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest

from sk_clustermass.cli._figures import evaluation_figures, gallery_rows
from sk_clustermass.cli._report import (
    Report,
    ReportFigure,
    ReportTable,
    render_html,
    write_report,
)
from sk_clustermass.metrics import summary_table


class _Page(HTMLParser):
    """Collects tags, attributes and text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)

    def links(self, tag: str, attribute: str) -> list[str]:
        return [attrs[attribute] for name, attrs in self.attrs
                if name == tag and attribute in attrs]


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    page.close()
    return page


@pytest.fixture(scope="module")
def evaluation():
    """Synthetic truths and predictions of three methods for 120 clusters."""
    rng = np.random.default_rng(0)
    y = rng.uniform(13.0, 15.0, 120)
    redshift = rng.uniform(0.05, 1.4, 120)
    predictions = {
        "CNN": (y + rng.normal(0, 0.15, 120), np.full(120, 0.15)),
        "count-rate relation": (y + rng.normal(0, 0.27, 120), np.full(120, 0.27)),
    }
    images = rng.poisson(1.0, (120, 10, 50, 50)).astype(np.float32)
    return y, redshift, predictions, images


@pytest.fixture(scope="module")
def report_folder(evaluation, tmp_path_factory):
    y, redshift, predictions, images = evaluation
    folder = tmp_path_factory.mktemp("report")
    rows = gallery_rows(y)
    history = [{"epoch": e, "train_loss": 1.0 / e, "valid_loss": 1.1 / e} for e in range(1, 6)]
    figures = evaluation_figures(folder, y, predictions, redshift, model=history,
                                 gallery=(rows, images[rows]))
    table = summary_table(y, predictions)
    table.to_csv(folder / "summary.csv", index_label="method")
    report = Report(title="Demo <test> & co", intro="Masses of 120 clusters.", summary=table,
                    summary_note="note", figures=figures, details={"seed": "0"},
                    files=[("summary.csv", "the table")], command="sk-clustermass demo")
    write_report(report, folder)
    return folder


def test_every_figure_is_drawn(report_folder):
    names = {"loss_curves.png", "predicted_vs_true.png", "residuals.png", "pulls.png",
             "gallery.png"}
    for name in names:
        data = (report_folder / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n", name
        assert 5_000 < len(data) < 400_000, (name, len(data))


def test_page_structure_and_links_exist(report_folder):
    text = (report_folder / "index.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    page = _parse(text)
    for tag in ("html", "head", "title", "style", "body", "main", "table", "figure"):
        assert tag in page.tags, tag
    images = page.links("img", "src")
    assert len(images) == 6  # with the calibration figure (PIT and reliability)
    linked = images + [href for href in page.links("a", "href") if not href.startswith("#")]
    for link in linked:
        assert "://" not in link and not link.startswith("/"), link
        assert (report_folder / link).is_file(), link
    # self-contained: no scripts, external stylesheets or fonts
    assert "script" not in page.tags and "link" not in page.tags
    assert "@import" not in text and "url(" not in text
    anchors = {attrs.get("id") for _, attrs in page.attrs}
    for href in page.links("a", "href"):
        if href.startswith("#"):
            assert href[1:] in anchors, href


def test_table_has_one_row_per_method(report_folder, evaluation):
    page = _parse((report_folder / "index.html").read_text(encoding="utf-8"))
    text = " ".join(page.text)
    for method in evaluation[2]:
        assert method in text
    assert page.tags.count("tr") == 1 + len(evaluation[2])
    best = [attrs for tag, attrs in page.attrs if tag == "td" and attrs.get("class") == "best"]
    assert best, "the best value of a column is highlighted"


def test_text_is_escaped():
    table = pd.DataFrame({"scatter_dex": [0.1]}, index=["<b>cnn</b>"])
    page = render_html(Report(title="a < b", intro="x & y", summary=table,
                              details={"<k>": "<v>"}), generated="now")
    assert "<b>cnn</b>" not in page and "&lt;b&gt;cnn&lt;/b&gt;" in page
    assert "a &lt; b" in page and "x &amp; y" in page and "&lt;v&gt;" in page


def test_missing_values_are_dashes():
    table = pd.DataFrame({"scatter_dex": [0.2], "coverage_68": [np.nan], "n": [10]},
                         index=["relation"])
    page = render_html(Report(title="t", summary=table), generated="now")
    assert "<td>–</td>" in page and "<td>10</td>" in page


def test_write_report_refuses_missing_figures(tmp_path):
    report = Report(title="t", figures=[ReportFigure("absent.png", "Absent")])
    with pytest.raises(FileNotFoundError, match=r"absent\.png"):
        write_report(report, tmp_path)
    assert not (tmp_path / "index.html").exists()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None, reason="needs Debian's chromium for the screenshot")
def test_report_renders_in_headless_chromium(report_folder, tmp_path):
    import matplotlib.image

    screenshot = tmp_path / "report.png"
    with tempfile.TemporaryDirectory() as profile:
        command = [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}", f"--screenshot={screenshot}",
            "--window-size=1280,2400", (report_folder / "index.html").as_uri(),
        ]
        subprocess.run(command, check=True, capture_output=True, timeout=180)
    pixels = matplotlib.image.imread(screenshot)
    assert pixels.shape[:2] == (2400, 1280)
    # a rendered page, not a blank one: dark text and figures on a white background
    assert pixels[..., :3].std() > 0.05
    assert (pixels[..., :3].mean(axis=-1) < 0.5).mean() > 0.005


def test_extra_tables_are_escaped_and_linked():
    table = pd.DataFrame({"bin": ["13.00–13.50"], "bias": ["+0.196 ± 0.01"], "x": ["<b>"]})
    page = render_html(Report(title="t", tables=[ReportTable("binned-true", "Per bin", table,
                                                             "a & b")]))
    assert '<section id="binned-true">' in page and '<a href="#binned-true">' in page
    assert "<td>+0.196 ± 0.01</td>" in page and "&lt;b&gt;" in page and "a &amp; b" in page
#: Injected into a copy of the page: records script and resource errors (a missing
#: image fires an ``error`` event) and, once the page has loaded, which images drew.
_PROBE = """<script>
window.__problems = [];
window.addEventListener("error", function (event) {
  var target = event.target && event.target.getAttribute && event.target.getAttribute("src");
  window.__problems.push(target ? "failed to load " + target : String(event.message));
}, true);
var originalError = console.error;
console.error = function () {
  window.__problems.push(Array.prototype.join.call(arguments, " "));
  originalError.apply(console, arguments);
};
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var broken = images.filter(function (image) {
    return !(image.complete && image.naturalWidth > 0);
  }).map(function (image) { return image.getAttribute("src"); });
  var probe = document.createElement("pre");
  probe.id = "probe";
  probe.textContent = JSON.stringify({images: images.length, broken: broken,
                                      problems: window.__problems});
  document.body.appendChild(probe);
});
</script>"""


def _headless(folder, *arguments: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        command = [
            _chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--enable-logging=stderr", "--v=0",
            f"--user-data-dir={profile}", *arguments,
        ]
        return subprocess.run(command, check=True, capture_output=True, text=True,
                              timeout=180, cwd=folder)


@pytest.mark.slow
@pytest.mark.skipif(_chromium() is None,
                    reason="needs Debian's chromium (apt-get install chromium)")
def test_demo_report_loads_in_chromium_with_every_image_and_no_errors(tmp_path):
    import json
    import os
    import re
    import sys

    folder = tmp_path / "demo"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    subprocess.run([sys.executable, "-m", "sk_clustermass.cli", "demo", "--quick", "--out",
                    str(folder), "--quiet"], check=True, env=env, timeout=900)
    page = (folder / "index.html").read_text(encoding="utf-8")
    expected = set(re.findall(r'<img[^>]*src="([^"]+)"', page))
    assert {"gallery.png", "residuals.png", "predicted_vs_true.png"} <= expected
    probe_page = folder / "probe.html"
    probe_page.write_text(page.replace("<head>", "<head>\n" + _PROBE, 1), encoding="utf-8")
    result = _headless(folder, "--virtual-time-budget=10000", "--dump-dom",
                       probe_page.as_uri())
    found = re.search(r'<pre id="probe">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert probe == {"images": len(re.findall(r"<img", page)), "broken": [], "problems": []}
    assert "Uncaught" not in result.stderr and "CONSOLE" not in result.stderr
    # the screenshot to look at by eye (make report-screenshot does the same)
    screenshot = folder / "screenshot.png"
    _headless(folder, f"--screenshot={screenshot}", "--window-size=1280,2400",
              (folder / "index.html").as_uri())
    assert screenshot.stat().st_size > 10_000
