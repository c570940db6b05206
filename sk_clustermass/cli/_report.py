"""A self-contained HTML report: a metrics table, figures beside it, run details.

The report is one ``index.html`` with a small inline stylesheet and relative links to
PNG figures in the same folder: no script, no external stylesheet or font, so it
opens from a laptop, a cluster's shared disk or an archive without network. Every
text that goes into the page is escaped with :func:`html.escape`.

:func:`render_html` turns a :class:`Report` into the page's text; :func:`write_report`
writes it (after checking that every figure and file it links to exists). The
``sk-clustermass demo`` and ``evaluate`` commands build their reports this way.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pandas as pd

__all__ = ["Report", "ReportFigure", "ReportTable", "render_html", "write_report"]

#: Column of :func:`sk_clustermass.metrics.summary_table` -> (header, format, tooltip).
METRIC_COLUMNS: dict[str, tuple[str, str, str]] = {
    "scatter_dex": ("scatter (dex)", "{:.3f}", "standard deviation of predicted - true"),
    "sigma_lnM": ("σ<sub>ln M</sub>", "{:.3f}", "scatter in ln M = ln(10) x scatter in dex"),
    "bias_dex": ("bias (dex)", "{:+.3f}", "mean of predicted - true"),
    "rmse_dex": ("RMSE (dex)", "{:.3f}", "root-mean-square of predicted - true"),
    "coverage_68": ("68% coverage", "{:.2f}", "fraction of truths inside mean ± 1 std; ideal 0.68"),
    "coverage_95": ("95% coverage", "{:.2f}",
                    "fraction of truths inside mean ± 1.96 std; ideal 0.95"),
    "pull_std": ("pull std", "{:.2f}", "standard deviation of (true - mean) / std; ideal 1"),
    "nll": ("NLL", "{:.3f}", "mean Gaussian negative log-likelihood; lower is better"),
    "n": ("N", "{:d}", "number of held-out clusters"),
}
_LOWER_IS_BETTER = ("scatter_dex", "sigma_lnM", "rmse_dex", "nll")
_IDEAL = {"coverage_68": 0.68, "coverage_95": 0.95, "pull_std": 1.0}
_BEST = ' class="best"'

_CSS = """
:root { color-scheme: light; --ink: #1f2328; --muted: #59636e; --line: #d1d9e0;
        --accent: #0b5cad; --soft: #f6f8fa; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica,
       Arial, sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1200px; margin: 0 auto; padding: 2rem 1.5rem 3rem; }
h1 { font-size: 1.9rem; margin: 0 0 .3rem; }
h2 { font-size: 1.35rem; margin: 2.2rem 0 .6rem; padding-bottom: .3rem;
     border-bottom: 1px solid var(--line); }
p { margin: .5rem 0; }
.lead { color: var(--muted); font-size: 1.05rem; }
nav { margin: 1rem 0 0; font-size: .95rem; }
nav a { margin-right: 1rem; white-space: nowrap; }
a { color: var(--accent); }
.table-scroll { overflow-x: auto; margin: .8rem 0; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .45rem .7rem; border-bottom: 1px solid var(--line); text-align: right; }
td { white-space: nowrap; }  /* numbers never break; headers may, tables scroll sideways */
th { background: var(--soft); font-weight: 600; vertical-align: bottom; }
th:first-child, td:first-child { text-align: left; }
td.best { font-weight: 700; color: #116329; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1.2rem; margin: .6rem 0; }
dt { color: var(--muted); }
dd { margin: 0; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--soft); padding: .1em .3em; border-radius: 4px; }
figure { margin: 1.2rem 0 2rem; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--line);
             border-radius: 6px; }
figcaption { color: var(--muted); margin-top: .5rem; font-size: .95rem; }
ul.files li { margin: .2rem 0; }
.note { color: var(--muted); font-size: .95rem; }
.highlight { font-size: 1.1rem; border-left: 4px solid #116329; background: #f0f8f2;
             padding: .6rem .9rem; margin: .8rem 0; }
.warning { border-left: 4px solid #9a6700; background: #fff8c5; padding: .6rem .9rem;
           margin: .8rem 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
"""


@dataclass(frozen=True)
class ReportFigure:
    """One figure of a report: a PNG file beside ``index.html`` and its text.

    Parameters
    ----------
    filename : str
        File name relative to the report folder, e.g. ``"pulls.png"``.
    title : str
        Section heading above the figure.
    caption : str
        What the figure shows and how to read it.
    """

    filename: str
    title: str
    caption: str = ""


@dataclass(frozen=True)
class ReportTable:
    """A table of a report, shown after the summary: already formatted cells.

    Parameters
    ----------
    anchor : str
        Identifier of its section (letters, digits and ``-``).
    title : str
        Section heading.
    table : pandas.DataFrame
        Shown as it is (cells as strings), with the column names as headers and
        without the index.
    note : str
        Paragraph under the table.
    """

    anchor: str
    title: str
    table: pd.DataFrame
    note: str = ""


@dataclass
class Report:
    """The content of a report page.

    Parameters
    ----------
    title : str
        Page title and heading.
    intro : str
        One paragraph under the heading.
    summary : pandas.DataFrame, optional
        Output of :func:`sk_clustermass.metrics.summary_table`: one row per method.
    highlight : str
        The main result in one sentence, shown above the table.
    warnings : list of str
        Caveats of the run (e.g. under-trained network), shown under the main result.
    summary_note : str
        Paragraph under the table.
    tables : list of ReportTable
        More tables (e.g. figures of merit per bin of mass), after the summary.
    figures : list of ReportFigure
        In page order.
    details : dict of str to str
        Run details (settings, sizes, timings), shown as a definition list.
    files : list of (str, str)
        Files in the report folder to link to, with a description each.
    command : str, optional
        The command line that reproduces the run.
    """

    title: str
    intro: str = ""
    summary: pd.DataFrame | None = None
    highlight: str = ""
    warnings: Sequence[str] = ()
    summary_note: str = ""
    tables: Sequence[ReportTable] = ()
    figures: list[ReportFigure] = field(default_factory=list)
    details: Mapping[str, str] = field(default_factory=dict)
    files: Sequence[tuple[str, str]] = ()
    command: str | None = None


def _format_cell(column: str, value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    header_format = METRIC_COLUMNS.get(column, (column, "{}", ""))[1]
    try:
        return header_format.format(int(value) if header_format == "{:d}" else value)
    except (TypeError, ValueError):
        return escape(str(value))


def _best_rows(table: pd.DataFrame) -> dict[str, object]:
    """Per column, the index of the best method (lowest, or coverage closest to 0.68)."""
    best: dict[str, object] = {}
    if len(table) < 2:
        return best
    for column in table.columns:
        values = pd.to_numeric(table[column], errors="coerce")
        if values.notna().sum() < 2:
            continue
        if column in _LOWER_IS_BETTER:
            best[column] = values.idxmin()
        elif column == "bias_dex":
            best[column] = values.abs().idxmin()
        elif column in _IDEAL:
            best[column] = (values - _IDEAL[column]).abs().idxmin()
    return best


def _table_html(table: pd.DataFrame) -> str:
    best = _best_rows(table)
    head = "".join(
        f'<th title="{escape(METRIC_COLUMNS.get(c, (c, "", c))[2])}">'
        f"{METRIC_COLUMNS.get(c, (escape(str(c)),))[0]}</th>"
        for c in table.columns
    )
    rows = []
    for name, row in table.iterrows():
        cells = "".join(
            f"<td{_BEST if best.get(c) == name else ''}>{_format_cell(c, row[c])}</td>"
            for c in table.columns
        )
        rows.append(f"<tr><td>{escape(str(name))}</td>{cells}</tr>")
    return (
        '<div class="table-scroll"><table class="metrics">\n<thead><tr><th>method</th>'
        f"{head}</tr></thead>\n<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table></div>"
    )


def _plain_table_html(item: ReportTable) -> str:
    head = "".join(f"<th>{escape(str(c))}</th>" for c in item.table.columns)
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>"
        for row in item.table.itertuples(index=False)
    )
    note = f'<p class="note">{escape(item.note)}</p>' if item.note else ""
    return (f'<section id="{escape(item.anchor, quote=True)}">\n<h2>{escape(item.title)}</h2>\n'
            f'<div class="table-scroll"><table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n'
            f"{rows}\n</tbody>\n</table></div>"
            f"\n{note}\n</section>")


def _anchor(figure: ReportFigure) -> str:
    return "fig-" + "".join(ch if ch.isalnum() else "-" for ch in Path(figure.filename).stem)


def _figure_html(figure: ReportFigure) -> str:
    src = escape(Path(figure.filename).as_posix(), quote=True)
    return (
        f'<section id="{_anchor(figure)}">\n<h2>{escape(figure.title)}</h2>\n<figure>'
        f'<a href="{src}"><img src="{src}" alt="{escape(figure.title, quote=True)}"></a>'
        f"<figcaption>{escape(figure.caption)}</figcaption></figure>\n</section>"
    )


def render_html(report: Report, *, generated: str | None = None) -> str:
    """The report as a complete, self-contained HTML document.

    Parameters
    ----------
    report : Report
        What to show.
    generated : str, optional
        Footer text; by default the library version and the current time.

    Returns
    -------
    str
        An HTML5 document with inline CSS and relative links only.

    Examples
    --------
    >>> page = render_html(Report(title="M < 10^15 Msun", intro="a & b"))
    >>> "<h1>M &lt; 10^15 Msun</h1>" in page, "a &amp; b" in page
    (True, True)
    """
    if generated is None:
        from .._version import __version__

        now = _dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        generated = f"Generated by sk_clustermass {__version__} on {now}."
    links = ['<a href="#summary">summary</a>'] if report.summary is not None else []
    links += [f'<a href="#{escape(t.anchor, quote=True)}">{escape(t.title.lower())}</a>'
              for t in report.tables]
    links += [f'<a href="#{_anchor(f)}">{escape(f.title.lower())}</a>' for f in report.figures]
    if report.details:
        links.append('<a href="#run">run details</a>')
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        '<head>\n<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{_CSS}</style>\n</head>",
        "<body>\n<main>",
        f"<header>\n<h1>{escape(report.title)}</h1>",
        f'<p class="lead">{escape(report.intro)}</p>' if report.intro else "",
        f"<nav>{' '.join(links)}</nav>\n</header>",
    ]
    if report.summary is not None:
        parts.append('<section id="summary">\n<h2>Summary on held-out clusters</h2>')
        if report.highlight:
            parts.append(f'<p class="highlight">{escape(report.highlight)}</p>')
        parts += [f'<p class="warning">{escape(text)}</p>' for text in report.warnings]
        parts.append(_table_html(report.summary))
        if report.summary_note:
            parts.append(f'<p class="note">{escape(report.summary_note)}</p>')
        parts.append("</section>")
    parts += [_plain_table_html(item) for item in report.tables]
    parts += [_figure_html(figure) for figure in report.figures]
    if report.details or report.command or report.files:
        parts.append('<section id="run">\n<h2>Run details</h2>')
        if report.command:
            parts.append(f"<p>Reproduce with <code>{escape(report.command)}</code></p>")
        if report.details:
            items = "".join(f"<dt>{escape(str(k))}</dt><dd>{escape(str(v))}</dd>"
                            for k, v in report.details.items())
            parts.append(f"<dl>{items}</dl>")
        if report.files:
            items = "".join(
                f'<li><a href="{escape(name, quote=True)}"><code>{escape(name)}</code></a>'
                f" – {escape(text)}</li>" for name, text in report.files
            )
            parts.append(f'<ul class="files">{items}</ul>')
        parts.append("</section>")
    parts += [f"<footer>{escape(generated)}</footer>", "</main>\n</body>\n</html>\n"]
    return "\n".join(part for part in parts if part)


def write_report(report: Report, folder: str | Path) -> Path:
    """Write ``index.html`` into ``folder``, where the figures and files already are.

    Parameters
    ----------
    report : Report
        What to show; its figures and files are paths relative to ``folder``.
    folder : str or Path
        The report folder (created if needed).

    Returns
    -------
    pathlib.Path
        The written ``index.html``.

    Raises
    ------
    FileNotFoundError
        If a figure or file the page links to is missing from ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    linked = [f.filename for f in report.figures] + [name for name, _ in report.files]
    missing = [name for name in linked if not (folder / name).is_file()]
    if missing:
        message = f"the report links to {missing}, which are missing from {str(folder)!r}"
        raise FileNotFoundError(message)
    path = folder / "index.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path
