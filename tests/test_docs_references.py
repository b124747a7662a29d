"""The blueprint is in the house (issue 17, item 5): every "theory.md §x" / "protocols.md §x" reference
in the code and the docs names a section that docs/theory.md / docs/protocols.md has, every
"theory.md#sec-x" link names an anchor they define, and no reference points at the old out-of-tree
specification ("THEORY §", "PROTOCOLS §") or at a "seed 00x" instead of the papers' names, user-visible
output strings included (the golden outputs were regenerated for them)."""
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = {"theory": ROOT / "docs" / "theory.md", "protocols": ROOT / "docs" / "protocols.md"}
SELF = Path(__file__).resolve()

_NUM = r"\d+(?:\.\d+)?"
#: "theory.md §2.5", "theory.md §5.3–5.4", "theory.md §1.1, §3.1", "protocols.md §1, §2, §4"
_REF = re.compile(rf"\b(theory|protocols)\.md\s*§\s*({_NUM}(?:\s*[–-]\s*{_NUM})?(?:\s*(?:,|\+|and)\s*§\s*{_NUM}"
                  rf"(?:\s*[–-]\s*{_NUM})?)*)")
_LINK = re.compile(r"\b(theory|protocols)\.md#([\w.-]+)")
_HEADING = re.compile(r"^#{2,3}\s+(\d+(?:\.\d+)?)\.?\s", re.M)
_ANCHOR = re.compile(r'<a id="([^"]+)"></a>')

_OLD = re.compile(r"THEORY §|PROTOCOLS §|seed 00")


def sections(text: str) -> set[str]:
    """Section numbers of a doc's headings ("## 2. Weight dynamics" → "2", "### 2.5 …" → "2.5")."""
    return set(_HEADING.findall(text))


def anchors(text: str) -> set[str]:
    return set(_ANCHOR.findall(text))


def cited(text: str) -> list[tuple[str, str]]:
    """Every (doc, section) a text cites as "theory.md §x" or "protocols.md §x", ranges and lists included."""
    out = []
    for m in _REF.finditer(text):
        out += [(m.group(1), num) for num in re.findall(_NUM, m.group(2))]
    return out


def unresolved(text: str, secs: dict[str, set[str]], anchs: dict[str, set[str]] | None = None) -> list[str]:
    """The references of `text` that name no section (or, for links, no anchor) of the docs."""
    bad = [f"{doc}.md §{num}" for doc, num in cited(text) if num not in secs[doc]]
    if anchs is not None:
        bad += [f"{doc}.md#{a}" for doc, a in _LINK.findall(text) if a not in anchs[doc]]
    return bad


def old_style(lines) -> list[str]:
    """Lines that still cite the out-of-tree specification or a seed number."""
    return [ln for ln in lines if _OLD.search(ln)]


def _tracked(*where: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", *where], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / p for p in out.split() if p.endswith((".py", ".md")) and (ROOT / p).resolve() != SELF]


@pytest.fixture(scope="module")
def docs():
    texts = {k: p.read_text(encoding="utf-8") for k, p in DOCS.items()}
    return {k: sections(t) for k, t in texts.items()}, {k: anchors(t) for k, t in texts.items()}


# ---- the checker, on known inputs --------------------------------------------------------------------
def test_checker_reads_references_and_headings():
    text = "## 1. Set-up\n### 1.1 Forward process [paper]\n### 2.5 Circulant\n"
    assert sections(text) == {"1", "1.1", "2.5"}
    assert cited("(theory.md §1.1, §3.1) and protocols.md §4; theory.md §5.3–5.4") == [
        ("theory", "1.1"), ("theory", "3.1"), ("protocols", "4"), ("theory", "5.3"), ("theory", "5.4")]


def test_checker_fails_on_an_unresolved_reference():
    secs = {"theory": {"1", "1.1", "2.5"}, "protocols": {"1", "4"}}
    anchs = {"theory": {"sec-2.5"}, "protocols": {"sec-4"}}
    assert unresolved("see theory.md §2.5 and protocols.md §4 ([x](theory.md#sec-2.5))", secs, anchs) == []
    assert unresolved("see theory.md §2.9", secs) == ["theory.md §2.9"]
    assert unresolved("theory.md §1.1–1.4", secs) == ["theory.md §1.4"]
    assert unresolved("protocols.md §1, §7", secs) == ["protocols.md §7"]
    assert unresolved("[x](theory.md#sec-9)", secs, anchs) == ["theory.md#sec-9"]


def test_checker_flags_old_style_references():
    assert old_style(['"""Chains (THEORY §5.4)."""', "# seed 000: the MLP", "# PROTOCOLS §2"]) == [
        '"""Chains (THEORY §5.4)."""', "# seed 000: the MLP", "# PROTOCOLS §2"]
    assert old_style(['"""Chains (theory.md §5.4; Weitzner et al., arXiv 2410.14730)."""']) == []


# ---- the repository ----------------------------------------------------------------------------------
def test_docs_keep_the_specification_numbering(docs):
    secs, anchs = docs
    want = {"0", "1", "1.1", "1.2", "1.3", "2", *(f"2.{i}" for i in range(1, 8)), "3", "3.1", "3.2", "3.3",
            "3.4", "4", "4.1", "4.2", "4.3", "5", "5.1", "5.2", "5.3", "5.4", "6"}
    assert secs["theory"] == want
    assert secs["protocols"] == {"1", "2", "3", "4"}
    for doc in DOCS:
        assert anchs[doc] >= {f"sec-{s}" for s in secs[doc]}, doc


def test_every_reference_resolves(docs):
    secs, anchs = docs
    bad = {}
    for path in _tracked("theory", "numerics", "verify", "tests", "docs", "README.md"):
        miss = unresolved(path.read_text(encoding="utf-8"), secs, anchs)
        if miss:
            bad[str(path.relative_to(ROOT))] = miss
    assert not bad


def test_no_old_style_references():
    """`grep -rn "THEORY §\\|PROTOCOLS §\\|seed 00" theory numerics verify` finds nothing (on the tracked
    files, so that stale byte code left by moved modules does not count)."""
    lines = [ln for p in _tracked("theory", "numerics", "verify") for ln in p.read_text(encoding="utf-8").splitlines()]
    assert old_style(lines) == []
    grep = subprocess.run(["git", "grep", "-n", "-e", "THEORY §", "-e", "PROTOCOLS §", "-e", "seed 00", "--",
                           "theory", "numerics", "verify"], cwd=ROOT, capture_output=True, text=True)
    assert grep.returncode == 1 and grep.stdout == "", grep.stdout  # 1: no match (2 would be an error)
