"""HTML pages: the article's text (article/main/body; scripts and navigation dropped), title and
meta tags. Parsed with BeautifulSoup's ``html.parser``."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.loaders.common import SNIFF_BYTES, UTF16_BOMS, LoadError, Parsed, same_text

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

_DROP_TAGS = ("script", "style", "noscript", "template", "nav", "header", "footer", "aside")
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section",
    "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# fmt: on
# Checked in order; the first one present wins. Values are kept as the page gives them.
_META_FIELDS = {
    "date": (
        "article:published_time",
        "og:published_time",
        "og:article:published_time",
        "date",
        "pubdate",
        "publishdate",
        "dc.date.issued",
        "dc.date",
        "datepublished",
    ),
    "url": ("og:url",),
    "outlet": ("og:site_name",),
    "author": ("author", "article:author", "dc.creator"),
}


def load_html(data: bytes, path: Path, max_chars: int) -> Parsed:
    from bs4 import BeautifulSoup

    if b"\x00" in data[:SNIFF_BYTES] and not data.startswith(UTF16_BOMS):
        raise LoadError("binary file, not text")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a URL, etc.
        soup = BeautifulSoup(_markup(data), "html.parser")

    meta = _meta_tags(soup)
    metadata: dict[str, Any] = {}
    for key, names in _META_FIELDS.items():
        value = next((meta[n] for n in names if meta.get(n)), None)
        if value:
            metadata[key] = value
    if "url" not in metadata:
        canonical = soup.find("link", rel="canonical")
        href = _attr(canonical, "href").strip() if canonical is not None else ""
        if href:
            metadata["url"] = href
    # The title is read before the page chrome is dropped: the <h1> often sits in a <header>.
    og_title = " ".join(meta.get("og:title", "").split())
    title = og_title or _collapsed(soup.title) or _collapsed(soup.find("h1"))

    for tag in soup.find_all(_DROP_TAGS):
        if not tag.decomposed:
            tag.decompose()
    _drop_small_forms(soup)

    articles = soup.find_all("article")
    # Listing cards for related stories are often <article>s too; the story is the longest.
    container = (
        max(articles, key=lambda a: len(a.get_text()))
        if articles
        else soup.find("main") or soup.body or soup
    )
    paragraphs = _html_paragraphs(container)
    if not paragraphs:
        raise LoadError("no text found")
    if title and len(paragraphs) > 1 and same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return Parsed(title or path.stem, "\n\n".join(paragraphs), metadata)


def _markup(data: bytes) -> bytes | str:
    """The page as text when it is valid UTF-8, else its bytes for BeautifulSoup to decode (by
    byte-order mark, declared charset, then detection).

    Detection guesses wrong on short pages without a charset: valid UTF-8 came out as cp866 or
    Shift JIS ("\u200b" as "тАЛ"). Bytes of other encodings are almost never valid UTF-8."""
    if data.startswith(UTF16_BOMS):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data


def _attr(tag: Any, name: str) -> str:
    value = tag.get(name) if tag is not None else None
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def _collapsed(tag: Any) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def _meta_tags(soup: BeautifulSoup) -> dict[str, str]:
    """``<meta>`` contents by lowercased property/name/itemprop; the first of each wins."""
    meta: dict[str, str] = {}
    for tag in soup.find_all("meta"):
        content = _attr(tag, "content").strip()
        for attr in ("property", "name", "itemprop"):
            key = _attr(tag, attr).strip().lower()
            if key and content and key not in meta:
                meta[key] = content
    return meta


def _drop_small_forms(soup: BeautifulSoup) -> None:
    # ASP.NET pages wrap the whole page in one <form>; only forms that hold a small part of
    # the page's text (search boxes, comment forms, newsletter sign-ups) are chrome.
    page_chars = len(soup.get_text())
    for form in soup.find_all("form"):
        if not form.decomposed and len(form.get_text()) * 2 < page_chars:
            form.decompose()


def _html_paragraphs(container: Tag | BeautifulSoup) -> list[str]:
    """Text runs that share their nearest block element form one whitespace-collapsed paragraph."""
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
        # PreformattedString covers comments, CDATA, doctypes and processing instructions.
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
