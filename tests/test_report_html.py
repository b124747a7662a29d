"""report.html is real HTML (issue 18, item 1): Markdown rendered, anchors that resolve, images that exist,
captions, a table of contents and a summary; checked with html.parser, and in headless Chromium when one
is on PATH."""
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from verify.report import document as doc
from verify.report import html_render

#: Markdown syntax that must not survive rendering into the visible text
RAW = [re.compile(p) for p in (r"\*\*", r"`", r"\]\(", r"!\[", r"\|\s*---", r"^#+ ", r"(?<!\w)_[^_\s]+_(?!\w)")]


class Page(HTMLParser):
    """Visible text (outside <style>/<title>), ids, hrefs, image sources, figcaptions, <details> count."""

    def __init__(self):
        super().__init__()
        self.text, self.ids, self.hrefs, self.imgs, self.captions = [], set(), [], [], []
        self.details = 0
        self._skip = 0
        self._caption = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag in ("style", "title"):
            self._skip += 1
        if tag == "a" and "href" in a:
            self.hrefs.append(a["href"])
        if tag == "img":
            self.imgs.append(a.get("src", ""))
        if tag == "details":
            self.details += 1
        if tag == "figcaption":
            self._caption = []

    def handle_endtag(self, tag):
        if tag in ("style", "title"):
            self._skip -= 1
        if tag == "figcaption":
            self.captions.append("".join(self._caption))
            self._caption = None

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)
        if self._caption is not None:
            self._caption.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    return page


def check_page(path: Path) -> Page:
    """The checks of issue 18 on one rendered report: no raw Markdown in the visible text, every image
    file exists, every #anchor resolves, every figure has a caption longer than its file name."""
    page = parse(path.read_text())
    visible = "\n".join(page.text)
    for pattern in RAW:
        hits = [line for line in visible.splitlines() if pattern.search(line)]
        assert not hits, f"raw Markdown {pattern.pattern!r} in the rendered text: {hits[:3]}"
    for src in page.imgs:
        assert (path.parent / src).is_file(), f"image {src} does not exist"
    for href in page.hrefs:
        if href.startswith("#"):
            assert href[1:] in page.ids, f"anchor {href} does not resolve"
        elif not re.match(r"[a-z]+:", href):
            assert not href.endswith(".md"), f"link {href} points at Markdown, not the HTML report"
    assert len(page.captions) == len(page.imgs)
    for cap, src in zip(page.captions, page.imgs):
        body = cap.split(".", 1)[-1].strip()  # after "Figure n."
        assert len(body) > 30 and body != src.removesuffix(".png"), f"caption of {src} says nothing: {cap!r}"
    return page


def test_renderer_turns_markdown_into_html(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    blocks = [doc.h1("Title"), doc.p("A **bold** word, `code` and a [link](../spiked/report.md)."),
              doc.h2("First `x`"), doc.table([["a", "b"]] + [[str(i), "**y**"] for i in range(20)]),
              doc.h2("First `x`"), doc.figure("a.png", "What the figure shows: *this* curve against λ.")]
    path = tmp_path / "report.html"
    path.write_text(doc.to_html(blocks, "t"))
    page = check_page(path)
    text = path.read_text()
    assert "<strong>bold</strong>" in text and "<code>code</code>" in text
    assert 'href="../spiked/report.html"' in text
    assert page.details == 1 and "20 rows" in text  # the long table folds
    assert {"first-x", "first-x-2", "title"} <= page.ids  # unique anchors
    assert text.count('href="#first-x') == 2  # the contents link both sections


@pytest.mark.parametrize("broken", ["raw", "image", "anchor"])
def test_page_check_fails_on_a_broken_page(tmp_path, broken):
    """The checker itself can fail: raw Markdown, a missing image, an anchor to nowhere."""
    body = {"raw": "<p>a **bold** word</p>", "image": "<figure><img src='missing.png'><figcaption>Figure 1. "
            "a long enough caption about the data</figcaption></figure>",
            "anchor": "<a href='#nowhere'>x</a>"}[broken]
    path = tmp_path / "report.html"
    path.write_text(f"<html><body>{body}</body></html>")
    with pytest.raises(AssertionError):
        check_page(path)


def test_slugs_are_unique():
    taken = set()
    assert [html_render.slug(t, taken) for t in ("A b", "A b", "", "Δ ψ")] == ["a-b", "a-b-2", "section", "δ-ψ"]


def test_quick_report_html(quick_report):
    _, folder = quick_report
    page = check_page(folder / "report.html")
    text = (folder / "report.html").read_text()
    assert 'id="contents"' in text and 'href="#summary"' in text and 'href="#agreement-theory-vs-trained' in text
    assert 'href="../spiked/report.html"' in text and 'href="../nonlinear/report.html"' in text
    assert len(page.imgs) >= 10
    md = (folder / "report.md").read_text()
    assert md.index("## Summary") < md.index("## Agreement")
    assert "| linear | pass | pass |" in md and "| circulant | pass | pass |" in md


def test_quick_report_in_headless_chromium(quick_report, tmp_path):
    browser = next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                   None)
    if browser is None:
        pytest.skip("no headless browser (chromium) on PATH; the parsed-HTML checks above still ran")
    _, folder = quick_report
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                          (folder / "report.html").as_uri()], capture_output=True, text=True, timeout=60).stdout
    out = tmp_path / "dom.html"
    out.write_text(dom)
    shutil.copytree(folder, tmp_path / "r")
    (tmp_path / "r" / "report.html").write_text(dom)
    check_page(tmp_path / "r" / "report.html")
