"""How much of a news page's text is its article: the HTML loader before issue #22 (BeautifulSoup
and hand rules, kept below as ``old_load_html``) against the loader now (trafilatura).

The pages are ``tests/data/news_pages/*.html``, invented articles on pages shaped like
Indonesian news sites (menus, "Baca juga" and "Terpopuler" boxes, ads, comments, share bars,
cookie banners, footers; some with ``<article>``, some div or table soup); each ``.txt`` beside
a page holds its true title and article paragraphs. Per page and in total:

- boilerplate: words of the output that are not words of the article, over the output's words;
- lost: words of the article missing from the output, over the article's words;

counted as multisets of lowercased ``\\w+`` words; and whether the title is the article's.
Then the parser's import time (in a fresh process) and the median time per page, old and new
in the same run.

    python benchmarks/boilerplate.py [--rounds 20] [--imports 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.loaders.common import MAX_TEXT_CHARS, SNIFF_BYTES, UTF16_BOMS, LoadError, same_text
from ingest.loaders.webpage import load_html

PAGES = Path(__file__).resolve().parents[1] / "tests" / "data" / "news_pages"

Loader = Callable[[Path], tuple[str, str]]


@dataclass(frozen=True)
class Page:
    name: str
    path: Path
    title: str
    text: str


@dataclass(frozen=True)
class Score:
    """One page's (or the total's) word counts; shares are computed from them."""

    name: str
    output_words: int
    boilerplate_words: int
    article_words: int
    lost_words: int
    title_ok: bool

    @property
    def boilerplate(self) -> float:
        return self.boilerplate_words / self.output_words if self.output_words else 0.0

    @property
    def lost(self) -> float:
        return self.lost_words / self.article_words if self.article_words else 0.0


def read_truth(path: Path) -> tuple[str, str]:
    """A ``.txt`` truth file: the title (first line) and the article's paragraphs."""
    title, _, body = path.read_text(encoding="utf-8").partition("\n")
    return title.strip(), body.strip()


def pages(folder: Path = PAGES) -> list[Page]:
    found = []
    for html in sorted(folder.glob("*.html")):
        title, text = read_truth(html.with_suffix(".txt"))
        found.append(Page(html.stem, html, title, text))
    return found


def words(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.casefold()))


def score(page: Page, loader: Loader) -> Score:
    """How ``loader``'s title and text of ``page`` compare with its article."""
    try:
        title, text = loader(page.path)
    except LoadError:
        title, text = "", ""
    out, true = words(text), words(page.text)
    return Score(
        page.name,
        sum(out.values()),
        sum((out - true).values()),
        sum(true.values()),
        sum((true - out).values()),
        " ".join(title.split()) == page.title,
    )


def total(scores: Sequence[Score]) -> Score:
    return Score(
        "total",
        sum(s.output_words for s in scores),
        sum(s.boilerplate_words for s in scores),
        sum(s.article_words for s in scores),
        sum(s.lost_words for s in scores),
        all(s.title_ok for s in scores),
    )


def load_new(path: Path) -> tuple[str, str]:
    parsed = load_html(path.read_bytes(), path, MAX_TEXT_CHARS)
    return parsed.title, parsed.text


def load_old(path: Path) -> tuple[str, str]:
    return old_load_html(path.read_bytes(), path)


def table_rows(after: Sequence[Score], before: Sequence[Score] = ()) -> list[tuple[Any, ...]]:
    """Per page and the total: the name, then (before's and) after's boilerplate %, lost % and
    whether the title is right."""
    olds = [*before, total(before)] if before else []
    rows = []
    for i, new in enumerate([*after, total(after)]):
        cells: list[Any] = [new.name]
        for s in [olds[i], new] if olds else [new]:
            cells += [100 * s.boilerplate, 100 * s.lost, "yes" if s.title_ok else "no"]
        rows.append(tuple(cells))
    return rows


def per_page_seconds(loaders: Sequence[Loader], paths: Sequence[Path], rounds: int) -> list[float]:
    """For each loader, the median over ``rounds`` of the mean time to load one page; rounds
    alternate the loaders, so a busy spell of the machine hits both."""
    times: list[list[float]] = [[] for _ in loaders]
    for _ in range(rounds):
        for loader, spent in zip(loaders, times, strict=True):
            start = time.perf_counter()
            for path in paths:
                loader(path)
            spent.append((time.perf_counter() - start) / len(paths))
    return [statistics.median(spent) for spent in times]


def import_seconds(modules: str, repeat: int) -> float:
    """The median time to import ``modules`` (comma-separated) in a fresh Python process."""
    code = (
        f"import time; start = time.perf_counter(); import {modules}; "
        "print(time.perf_counter() - start)"
    )
    runs = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        runs.append(float(done.stdout))
    return statistics.median(runs)


def main(argv: Sequence[str] | None = None) -> None:
    from _common import Table, machine_line

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="timing rounds over all pages")
    parser.add_argument("--imports", type=int, default=5, help="fresh processes per import")
    args = parser.parse_args(argv)

    print(machine_line())
    found = pages()
    old = [score(p, load_old) for p in found]  # these first calls also pay for the imports
    new = [score(p, load_new) for p in found]
    headers = ["page", "old boiler %", "old lost %", "old title", "new boiler %", "new lost %"]
    print(f"\n{len(found)} pages in {PAGES}")
    print(Table([*headers, "new title"], table_rows(new, old)).render())

    paths = [p.path for p in found]
    old_s, new_s = per_page_seconds([load_old, load_new], paths, args.rounds)
    # The HTML parser's imports, and all the parser child's preload() imports (before: bs4,
    # docx, pypdf), each in a fresh process.
    imports = [
        (name, import_seconds(before, args.imports), import_seconds(after, args.imports))
        for name, before, after in [
            ("import s, HTML parser", "bs4", "bs4, trafilatura"),
            ("import s, preload()", _PRELOAD, f"{_PRELOAD}, trafilatura, justext, lxml.html"),
        ]
    ]
    print()
    print(
        Table(
            ["", "old (bs4)", "new (trafilatura)", "new / old"],
            [
                ("ms per page", 1000 * old_s, 1000 * new_s, new_s / old_s),
                *[(name, before, after, after / before) for name, before, after in imports],
            ],
        ).render()
    )


_PRELOAD = "bs4, docx, pypdf"


# --- the loader before issue #22, kept for the comparison ----------------------------------------

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# fmt: on


def old_load_html(data: bytes, path: Path) -> tuple[str, str]:
    """The title and text the HTML loader gave before issue #22 (its metadata left out)."""
    from bs4 import BeautifulSoup

    if b"\x00" in data[:SNIFF_BYTES] and not data.startswith(UTF16_BOMS):
        raise LoadError("binary file, not text")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(_old_markup(data), "html.parser")
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        content = _old_attr(tag, "content").strip()
        for attr in ("property", "name", "itemprop"):
            key = _old_attr(tag, attr).strip().lower()
            if key and content and key not in meta:
                meta[key] = content
    og_title = " ".join(meta.get("og:title", "").split())
    title = og_title or _old_collapsed(soup.title) or _old_collapsed(soup.find("h1"))
    for tag in soup.find_all(_DROP_TAGS):
        if not tag.decomposed:
            tag.decompose()
    page_chars = len(soup.get_text())
    for form in soup.find_all("form"):
        if not form.decomposed and len(form.get_text()) * 2 < page_chars:
            form.decompose()
    articles = soup.find_all("article")
    container = (
        max(articles, key=lambda a: len(a.get_text()))
        if articles
        else soup.find("main") or soup.body or soup
    )
    paragraphs = _old_paragraphs(container)
    if not paragraphs:
        raise LoadError("no text found")
    if title and len(paragraphs) > 1 and same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return title or path.stem, "\n\n".join(paragraphs)


def _old_markup(data: bytes) -> bytes | str:
    if data.startswith(UTF16_BOMS):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data


def _old_attr(tag: Any, name: str) -> str:
    value = tag.get(name) if tag is not None else None
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def _old_collapsed(tag: Any) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def _old_paragraphs(container: Any) -> list[str]:
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    paragraphs: list[str] = []
    parts: list[str] = []
    current: object = None

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if text:
            paragraphs.append(text)
        parts.clear()

    for node in container.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                flush()
            continue
        if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
            continue
        block = node.parent
        while block is not None and block is not container and block.name not in _BLOCK_TAGS:
            block = block.parent
        if block is not current:
            flush()
            current = block
        parts.append(str(node))
    flush()
    return paragraphs


if __name__ == "__main__":
    main()
