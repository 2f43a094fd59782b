"""The HIL report: one self-contained HTML file (plots embedded as PNG) a production manager
can read, written beside pytest's JUnit XML."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

from cuenode.hil.results import Figure, Results, Timeline

STYLE = """
body{font-family:sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #bbb;padding:4px 8px;text-align:left}
.pass{background:#dfd}.FAIL{background:#fbb;font-weight:bold}.info{background:#eee}
figure{display:inline-block;margin:0 1em 1em 0}figcaption{font-size:90%}
"""


def write_report(results: Results, folder: Path, title: str = "cuenode HIL report") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "report.html"
    body = [f"<h1>{html.escape(title)}</h1>", _identity(results), _verdict(results)]
    body += [_summary(results.figures), "<h2>Plots</h2>", _plots(results)]
    page = f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
    page += f"</title><style>{STYLE}</style></head><body>{''.join(body)}</body></html>"
    path.write_text(page, encoding="utf-8")
    return path


def _identity(results: Results) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(str(v))}</td></tr>"
        for k, v in results.identity.items()
    )
    return f"<h2>Node under test</h2><table>{rows}</table>"


def _verdict(results: Results) -> str:
    judged = [f for f in results.figures if f.judged]
    failed = [f for f in judged if not f.passed]
    word = "PASS" if not failed else f"FAIL ({len(failed)} of {len(judged)} checks)"
    css = "pass" if not failed else "FAIL"
    return f"<p class='{css}'>Overall: {word}</p>"


def _summary(figures: list[Figure]) -> str:
    head = "<tr><th>check</th><th>threshold</th><th>limit</th><th>measured</th><th>result</th>"
    head += "<th>source</th><th>test</th></tr>"
    rows = [head]
    for f in figures:
        cells = [
            f.check,
            f.threshold.name,
            f.threshold.describe(),
            f"{f.measured:g} {f.threshold.unit}",
            f.verdict(),
            f.threshold.source + (f" ({f.note})" if f.note else ""),
            f.test,
        ]
        tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
        rows.append(f"<tr class='{f.verdict()}'>{tds}</tr>")
    return "<h2>Summary</h2><table>" + "".join(rows) + "</table>"


def _plots(results: Results) -> str:
    parts = [_histogram(f) for f in results.figures if f.samples and f.plot == "hist"]
    parts += [_timeline(t) for t in results.timelines]
    return "".join(parts) or "<p>No plots: no check recorded samples.</p>"


def _png(fig: object) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")  # type: ignore[attr-defined]
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _figure_html(png: str, caption: str, alt: str) -> str:
    img = f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{png}'>"
    return f"<figure>{img}<figcaption>{html.escape(caption)}</figcaption></figure>"


def _histogram(f: Figure) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3))
    ax.hist(f.samples, bins=min(40, max(5, len(f.samples) // 3)), color="#47a")
    ax.axvline(f.measured, color="k", linestyle=":", label=f"measured {f.measured:g}")
    ax.set_xlabel(f"{f.check} ({f.threshold.unit})")
    ax.set_ylabel("count")
    ax.legend(fontsize=8)
    png = _png(fig)
    plt.close(fig)
    return _figure_html(png, f"{f.check}: {len(f.samples)} samples", f"plot {f.threshold.name}")


def _timeline(t: Timeline) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 2))
    xs = [e[0] for e in t.edges]
    ys = [e[1] for e in t.edges]
    ax.step(xs, ys, where="post", color="#a40")
    ax.set_xlabel("ms")
    ax.set_yticks([0, 1], ["off", "on"])
    png = _png(fig)
    plt.close(fig)
    return _figure_html(png, f"{t.label} timeline", f"timeline {t.label}")
