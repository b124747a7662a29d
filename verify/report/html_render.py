"""A report's blocks as a navigable standalone HTML page, rendered with markdown-it-py (CommonMark + tables).

What the page has beyond the Markdown text: every heading carries an id (an anchor), a table of contents
after the title links to each section, each figure is a numbered <figure> with its caption, tables longer
than `LONG_TABLE` rows fold into <details>, and relative links to another report's `report.md` point to its
`report.html` (the reports link to each other).
"""
from __future__ import annotations

import html
import re

from markdown_it import MarkdownIt

#: tables with more body rows than this are collapsible (<details>), with their size in the summary line
LONG_TABLE = 12

_MD = MarkdownIt("commonmark", {"html": False}).enable("table")
_STYLE = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;line-height:1.45}"
          "table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0}"
          "td,th{border:1px solid #ccc;padding:3px 6px;vertical-align:top}th{background:#eee}"
          "img{max-width:100%}figure{margin:1.5em 0}figcaption{font-size:0.92em;color:#333}"
          "nav.toc{background:#f6f6f6;border:1px solid #ddd;padding:0.3em 1em;margin:1em 0}"
          "details>summary{cursor:pointer;color:#036}code{background:#f2f2f2;padding:0 2px}"
          ".fail{color:#b00;font-weight:bold}.pass{color:#070}")


def slug(text: str, taken: set) -> str:
    """A heading's anchor: lower-case words joined by '-', unique within the page (suffix -2, -3, ...)."""
    base = "-".join(re.findall(r"\w+", text.lower())) or "section"
    out, n = base, 1
    while out in taken:
        n += 1
        out = f"{base}-{n}"
    taken.add(out)
    return out


def _md_links_to_html(rendered: str) -> str:
    """href="../spiked/report.md" → "../spiked/report.html" (relative links between reports only)."""
    return re.sub(r'href="(?![a-z]+:)([^"#]*?)report\.md(#[^"]*)?"',
                  lambda m: f'href="{m.group(1)}report.html{m.group(2) or ""}"', rendered)


def inline(text: str) -> str:
    return _md_links_to_html(_MD.renderInline(text))


def _table(rows: list[list[str]]) -> str:
    head, *body = rows
    md = "\n".join(["| " + " | ".join(c.replace("|", "\\|") for c in head) + " |", "|" + "---|" * len(head)]
                   + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body])
    rendered = _md_links_to_html(_MD.render(md))
    rendered = re.sub(r"<td>(FAIL[^<]*)</td>", r'<td class="fail">\1</td>', rendered)
    if len(body) <= LONG_TABLE:
        return rendered
    cols = ", ".join(head[:4]) + (", …" if len(head) > 4 else "")
    return (f"<details><summary>Table: {len(body)} rows ({html.escape(cols)}) — click to expand</summary>"
            f"\n{rendered}</details>")


def render(blocks, title: str) -> str:
    """The page: title, table of contents (every h2), then the blocks in order."""
    taken: set = set()
    ids = {id(b): slug(b.text, taken) for b in blocks if b.kind in ("h1", "h2")}
    toc = "".join(f'<li><a href="#{ids[id(b)]}">{inline(b.text)}</a></li>' for b in blocks if b.kind == "h2")
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             f"<style>{_STYLE}</style></head><body>"]
    n_fig = 0
    for b in blocks:
        if b.kind in ("h1", "h2"):
            parts.append(f'<{b.kind} id="{ids[id(b)]}">{inline(b.text)}</{b.kind}>')
            if b.kind == "h1" and toc:
                parts.append(f'<nav class="toc" id="contents"><strong>Contents</strong><ul>{toc}</ul></nav>')
        elif b.kind == "p":
            parts.append(_md_links_to_html(_MD.render(b.text)))
        elif b.kind == "table":
            parts.append(_table(b.rows))
        elif b.kind == "figure":
            n_fig += 1
            stem = re.sub(r"\W+", "-", b.path.rsplit(".", 1)[0])
            alt = html.escape(re.sub(r"[`*_]", "", b.text), quote=True)
            parts.append(f'<figure id="fig-{stem}"><a href="{html.escape(b.path, quote=True)}">'
                         f'<img src="{html.escape(b.path, quote=True)}" alt="{alt}"></a>'
                         f"<figcaption><strong>Figure {n_fig}.</strong> {inline(b.text)}</figcaption></figure>")
        else:
            raise ValueError(f"unknown block kind {b.kind!r}")
    parts.append("</body></html>\n")
    return "\n".join(parts)
