"""The self-contained HTML report: the Markdown report's text plus the figures, in one file.

The body is the same Markdown that ``report.md`` holds, converted with
Python-Markdown (tables extension), so both reports always say the same thing;
figures are embedded as base64 PNG data URIs, so the file can be mailed or
archived on its own. The figures follow the summary sections (systems, summary,
ratios, serving latency) and come before the detailed breakdowns. No scripts and no external resources are referenced.
"""

from __future__ import annotations

import base64
import html
from typing import Mapping

import markdown

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.2rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.55rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead { background: #f3f3f3; }
figure { display: inline-block; margin: 0.5rem 1rem 1rem 0; }
figcaption { font-size: 0.85rem; color: #555; }
img { max-width: 100%; }
"""


def render_html(title: str, markdown_text: str, figures: Mapping[str, bytes]) -> str:
    body = markdown.markdown(markdown_text, extensions=["tables"], output_format="html")
    at = _figures_position(body)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n"
        f"{body[:at]}\n{_figures(figures)}{body[at:]}\n</body>\n</html>\n"
    )


SUMMARY_SECTIONS = ("Systems", "Summary", "Relative to", "Serving latency")


def _figures_position(body: str) -> int:
    """Where the figures go: before the first section that is not a summary section (else at the end)."""
    start = 0
    while (at := body.find("<h2>", start)) != -1:
        if not body[at + 4:].startswith(SUMMARY_SECTIONS):
            return at
        start = at + 4
    return len(body)


def _figures(figures: Mapping[str, bytes]) -> str:
    if not figures:
        return ""
    items = [
        f'<figure><img alt="{html.escape(name)}" src="data:image/png;base64,'
        f'{base64.b64encode(png).decode("ascii")}"><figcaption>{html.escape(name)}</figcaption></figure>'
        for name, png in figures.items()
    ]
    return "<h2>Figures</h2>\n" + "\n".join(items) + "\n"
