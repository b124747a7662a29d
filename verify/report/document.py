"""A report as a list of blocks, rendered to Markdown and to standalone HTML (no extra dependency), and
written with its tables and arrays (write_report)."""
from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from theory.output import dumps


@dataclass
class Block:
    kind: str  # "h1", "h2", "p", "table", "figure"
    text: str = ""
    rows: list | None = None  # table: first row is the header
    path: str = ""  # figure file name


def h1(text): return Block("h1", text)  # noqa: E704
def h2(text): return Block("h2", text)  # noqa: E704
def p(text): return Block("p", text)  # noqa: E704
def table(rows): return Block("table", rows=[[str(c) for c in r] for r in rows])  # noqa: E704
def figure(path, caption): return Block("figure", caption, path=path)  # noqa: E704


def to_markdown(blocks: list[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind in ("h1", "h2"):
            out.append(("# " if b.kind == "h1" else "## ") + b.text)
        elif b.kind == "p":
            out.append(b.text)
        elif b.kind == "table":
            head, *body = b.rows
            lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
            out.append("\n".join(lines))
        elif b.kind == "figure":
            out.append(f"![{b.text}]({b.path})\n\n*{b.text}*")
    return "\n\n".join(out) + "\n"


def to_html(blocks: list[Block], title: str) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title><style>"
             "body{font-family:sans-serif;max-width:1100px;margin:2em auto;line-height:1.4}"
             "table{border-collapse:collapse;font-size:0.9em}td,th{border:1px solid #ccc;padding:3px 6px}"
             "th{background:#eee}img{max-width:100%}figcaption{font-style:italic}"
             "</style></head><body>"]
    for b in blocks:
        if b.kind in ("h1", "h2"):
            parts.append(f"<{b.kind}>{e(b.text)}</{b.kind}>")
        elif b.kind == "p":
            parts.append(f"<p>{e(b.text)}</p>")
        elif b.kind == "table":
            head, *body = b.rows
            rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in body)
            parts.append("<table><tr>" + "".join(f"<th>{e(c)}</th>" for c in head) + f"</tr>{rows}</table>")
        elif b.kind == "figure":
            parts.append(f"<figure><img src='{e(b.path)}' alt='{e(b.text)}'>"
                         f"<figcaption>{e(b.text)}</figcaption></figure>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_report(out, name: str, blocks, tables, arrays) -> None:
    """The files of a report in folder `out`: report.md, report.html, report.json (strict JSON) and
    data.npz (the arrays); `out` is the staged folder of theory.output.Staged."""
    out = Path(out)
    (out / "report.md").write_text(to_markdown(blocks))
    (out / "report.html").write_text(to_html(blocks, f"specbias report: {name}"))
    (out / "report.json").write_text(dumps(tables, indent=1, sort_keys=True))
    with open(out / "data.npz", "wb") as fh:
        np.savez(fh, **arrays)
