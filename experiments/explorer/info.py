"""The Info tab: docs/INFO.md (and docs/ODD.md, which it links to) rendered on the server, offline.

The text is read when the tab is drawn, so the page and the files cannot diverge; docs/INFO.md is the single
source. Markdown becomes HTML here with Python-Markdown, so the browser loads nothing (solara.Markdown would fetch
KaTeX and Mermaid from a CDN). Links between the two documents become links inside the page: the model
description is on the same tab, folded until a link or its heading is clicked. Links to other files in the
repository become their path in code type; links to the web open in a new window.
"""

from __future__ import annotations

import functools
import re

import markdown
import solara

from .views import DOCS, INFO_PATH

ODD_PATH = DOCS / "ODD.md"
OPEN_ODD = "document.getElementById('odd').open = true;"


def _html(text: str, prefix: str) -> str:
    html = markdown.markdown(text, extensions=["tables", "fenced_code", "toc"],
                             extension_configs={"toc": {"slugify": lambda value, sep: prefix + re.sub(
                                 r"[^a-z0-9]+", "-", value.lower()).strip("-")}})
    return html


def _links(html: str) -> str:
    """Point every link at something that works inside the page (see the module's docstring)."""

    def fix(match: re.Match) -> str:
        href, text = match.group(1), match.group(2)
        if href.startswith(("http://", "https://")):
            return f'<a href="{href}" target="_blank" rel="noopener">{text}</a>'
        if href.startswith("#"):
            return f'<a href="{href}">{text}</a>'
        path, _, anchor = href.partition("#")
        if path.endswith("ODD.md"):
            target = f"odd-{anchor}" if anchor else "odd"
            return f'<a href="#{target}" onclick="{OPEN_ODD}">{text}</a>'
        if path.endswith("INFO.md"):
            return f'<a href="#info-{anchor}">{text}</a>' if anchor else f'<a href="#info">{text}</a>'
        return f"<code>{text}</code>"  # another file in the repository: named, not linked

    return re.sub(r'<a href="([^"]*)">(.*?)</a>', fix, html)


def md(text: str) -> str:
    """A short Markdown text as HTML (for solara.HTML: no CDN)."""
    return markdown.markdown(text, extensions=["tables"])


@solara.component
def Md(text: str, style: str = ""):
    """Markdown on the page without solara.Markdown (which loads KaTeX and Mermaid from a CDN)."""
    solara.HTML(tag="div", unsafe_innerHTML=md(text), style=style, classes=["placesim-info"])


@functools.lru_cache(maxsize=4)
def _page(info_mtime: float, odd_mtime: float) -> str:
    info = _links(_html(INFO_PATH.read_text(encoding="utf-8"), "info-"))
    odd = _links(_html(ODD_PATH.read_text(encoding="utf-8"), "odd-"))
    return (f'<div id="info" class="placesim-info">{info}'
            f'<details id="odd" class="placesim-odd"><summary>docs/ODD.md: the full description of the model '
            f"(click to open)</summary>{odd}</details></div>")


def info_html() -> str:
    """INFO.md with ODD.md folded below it, as HTML, links fixed."""
    return _page(INFO_PATH.stat().st_mtime, ODD_PATH.stat().st_mtime)


STYLE = """
.placesim-info { max-width: 60em; line-height: 1.5; }
.placesim-info table { border-collapse: collapse; margin: 0.5em 0; }
.placesim-info th, .placesim-info td { border: 1px solid #cbd5e0; padding: 2px 6px; vertical-align: top; }
.placesim-info code { background: #edf2f7; padding: 0 3px; border-radius: 3px; }
.placesim-info pre { background: #edf2f7; padding: 6px; overflow-x: auto; }
.placesim-odd { margin-top: 2em; border-top: 1px solid #cbd5e0; padding-top: 1em; }
.placesim-odd > summary { cursor: pointer; font-weight: 600; font-size: 1.1em; }
"""


@solara.component
def InfoView():
    solara.Style(STYLE)
    solara.HTML(tag="div", unsafe_innerHTML=info_html())
