"""HTML pages: the article's text, title and metadata.

The article is found by trafilatura, a main-content extractor made for news pages: menus,
related-article boxes, comments, share bars, cookie banners and footers are left out, with or
without ``<article>``/``<main>``. A page it finds no text in (a very short one) is read with
BeautifulSoup's ``html.parser`` instead: article/main/body, scripts and navigation dropped.
Meta tags give the date, URL, outlet and author as the page writes them; trafilatura's
metadata fills what they leave out (the publication date as an ISO date).
"""

from __future__ import annotations

import functools
import re
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.loaders.common import SNIFF_BYTES, UTF16_BOMS, LoadError, Parsed, same_text
from kb.text.words import AD_LINES, POINTER_CUES

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
# Tags of trafilatura's output whose text runs on inside the paragraph around them.
_INLINE_TAGS = frozenset({"hi", "ref", "del", "span", "sub", "sup", "label"})
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
# A paragraph that only points elsewhere ("Baca juga: <headline>", the cues in
# ``kb/text/words.json``): news sites put them between an article's paragraphs, where no
# extractor can tell them from the story by position.
_LEAD_IN = re.compile(
    "|".join(r"\s+".join(map(re.escape, cue.split())) for cue in POINTER_CUES), re.IGNORECASE
)
_MAX_LEAD_IN_WORDS = 25
# jusText's stopword lists for the languages of the reports.
_LANGUAGES = ("Indonesian", "English")
# Between a headline and the site's name in a <title> or og:title: "Judul | Situs".
_TITLE_SEPARATOR = re.compile(r"\s+(?:[|–—·•»«~-]|::)\s+")


def load_html(data: bytes, path: Path, max_chars: int) -> Parsed:
    if b"\x00" in data[:SNIFF_BYTES] and not data.startswith(UTF16_BOMS):
        raise LoadError("binary file, not text")
    markup = _markup(data)
    extracted = _extract(markup)
    if extracted is None:
        return _load_with_soup(markup, path)
    tree, document, paragraphs = extracted

    metadata, sites = _page_metadata(tree, document)
    page_title = " ".join((tree.findtext(".//title") or "").split())
    title = _headline(" ".join((document.title or "").split()) or page_title, page_title, sites)
    if title and len(paragraphs) > 1 and same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return Parsed(title or path.stem, "\n\n".join(paragraphs), metadata)


def _page_metadata(tree: Any, document: Any) -> tuple[dict[str, Any], set[str]]:
    """The page's metadata (meta tags first, then trafilatura's) and the names of its site."""
    meta = _meta_tags(tree.iter("meta"))
    metadata = _metadata(meta)
    if "url" not in metadata:
        canonical = next(
            (link for link in tree.iter("link") if "canonical" in _rel(link.get("rel"))), None
        )
        href = (canonical.get("href") or "").strip() if canonical is not None else ""
        if href:
            metadata["url"] = href
    sites = {metadata.get("outlet", ""), meta.get("application-name", "")}
    if document.sitename and not _from_url(document.sitename, document.url):
        sites.add(document.sitename)
    for key, value in (
        ("url", document.url),
        ("outlet", document.sitename if document.sitename in sites else None),
        ("author", document.author),
        ("date", document.date),
    ):
        if value and key not in metadata:
            metadata[key] = value
    return metadata, sites - {""}


def _extract(markup: bytes | str) -> tuple[Any, Any, list[str]] | None:
    """The page's lxml tree, trafilatura's ``Document`` and the article's paragraphs, or None
    when trafilatura finds no text (or fails on the page)."""
    import trafilatura

    document: Any
    try:
        tree = _parse(markup)
        if tree is None:
            return None
        document = trafilatura.bare_extraction(
            tree,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            # Structured dates only (meta, JSON-LD, <time>, the URL): a date read from the
            # page's text may be today's date in its top bar, or a comment's.
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    except Exception:  # a page trafilatura chokes on still has the BeautifulSoup reading
        return None
    if document is None or document.body is None:
        return None
    if len(document.body) and all(child.tag == "table" for child in document.body):
        # A page laid out with tables (old portals): trafilatura returns the layout table, menus
        # and all. jusText judges each paragraph by its length, links and stopwords instead.
        paragraphs = _justext_paragraphs(markup) or _tree_paragraphs(document.body)
    else:
        paragraphs = _tree_paragraphs(document.body)
    paragraphs = _without_chrome(paragraphs)
    # Below trafilatura's own minimum its answer is a dump of the page's text in one paragraph
    # (its "baseline"); the BeautifulSoup reading keeps paragraphs and prefers <article>/<main>.
    if sum(len(p) for p in paragraphs) < _min_extracted_chars():
        return None
    return tree, document, paragraphs


def _parse(markup: bytes | str) -> Any | None:
    """The page's lxml tree, or None when libxml2 stopped early: past 256 levels of nesting it
    drops the rest of the page without a word, and BeautifulSoup reads it all."""
    from lxml import etree
    from lxml import html as lxml_html

    if isinstance(markup, bytes):
        from bs4 import UnicodeDammit  # the decoding the BeautifulSoup reading has

        markup = UnicodeDammit(markup, is_html=True).unicode_markup or ""
    # trafilatura's own parser settings
    parser = lxml_html.HTMLParser(
        collect_ids=False,
        default_doctype=False,
        encoding="utf-8",
        remove_comments=True,
        remove_pis=True,
    )
    try:
        tree = lxml_html.document_fromstring(markup.encode("utf-8", "replace"), parser=parser)
    except (etree.ParserError, ValueError):
        return None
    cut = any(
        e.type_name == "ERR_RESOURCE_LIMIT" or "XML_PARSE_HUGE" in e.message
        for e in parser.error_log
    )
    return None if cut else tree


@functools.cache
def _stopwords() -> frozenset[str]:
    import justext

    return frozenset().union(*(justext.get_stoplist(name) for name in _LANGUAGES))


@functools.cache
def _min_extracted_chars() -> int:
    from trafilatura.settings import DEFAULT_CONFIG

    return DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE")


def _justext_paragraphs(markup: bytes | str) -> list[str]:
    import justext

    try:
        found = justext.justext(markup, _stopwords())
    except Exception:  # jusText failing leaves trafilatura's reading
        return []
    return [" ".join(p.text.split()) for p in found if not p.is_boilerplate and p.text.strip()]


def _tree_paragraphs(body: Any) -> list[str]:
    """Text runs of trafilatura's output tree that share their nearest block element form one
    whitespace-collapsed paragraph; a line break (``lb``) ends one too."""
    return _grouped(_runs(body))


def _grouped(runs: Iterable[tuple[str, object, bool]]) -> list[str]:
    """Paragraphs from ``(text, block, is_break)`` runs: the runs of one block element form
    one whitespace-collapsed paragraph; a break ends one."""
    paragraphs: list[str] = []
    parts: list[str] = []
    current: object = None

    def flush() -> None:
        text = " ".join("".join(parts).split())
        if text:
            paragraphs.append(text)
        parts.clear()

    for text, block, is_break in runs:
        if is_break:
            flush()
            continue
        if block is not current:
            flush()
            current = block
        parts.append(text)
    flush()
    return paragraphs


def _runs(root: Any) -> Iterator[tuple[str, object, bool]]:
    """``(text, block, is_break)`` in document order, without recursion (trees may be deep)."""
    # (element, block of its text, block of its tail, leaving)
    stack: list[tuple[Any, object, object, bool]] = [(root, root, root, False)]
    while stack:
        element, block, outer, leaving = stack.pop()
        if leaving:
            if element.tail and element is not root:
                yield element.tail, outer, False
            continue
        if element.tag == "lb":
            yield "", block, True
        elif element.text:
            yield element.text, block, False
        stack.append((element, block, outer, True))
        for child in reversed(element):
            inner = block if child.tag in _INLINE_TAGS or child.tag == "lb" else child
            stack.append((child, inner, block, False))


def _without_chrome(paragraphs: list[str]) -> list[str]:
    """Without the "Baca juga: ..." pointers and ad labels found between the story's paragraphs."""
    kept = []
    for paragraph in paragraphs:
        lead = _LEAD_IN.match(paragraph)
        rest = paragraph[lead.end() :] if lead else ""
        # A headline after the cue, not a sentence of the story that starts with the same words.
        pointer = lead is not None and not rest[:1].isalnum() and not paragraph.endswith(".")
        if paragraph.casefold() in AD_LINES or (
            pointer and len(paragraph.split()) <= _MAX_LEAD_IN_WORDS
        ):
            continue
        kept.append(paragraph)
    return kept


def _headline(title: str, page_title: str, sites: Iterable[str]) -> str:
    """``title`` without the site's name: "Judul - Situs" and "Situs | Judul" become "Judul".

    The name of the site (``sites``: og:site_name and the like) is cut from either end. A title
    that is only a part of the page's ``<title>`` (the site's logo was the page's one ``<h1>``,
    or trafilatura took the part without a dot), or all of it, gives way to the longest part of
    that ``<title>``: a headline is longer than a site's name."""
    for site in sites:
        name = re.escape(" ".join(site.split()))
        if name:
            sep = _TITLE_SEPARATOR.pattern
            title = re.sub(rf"^{name}{sep}|{sep}{name}$", "", title, flags=re.IGNORECASE)
    parts = _TITLE_SEPARATOR.split(page_title)
    if len(parts) > 1:
        longest = max(parts, key=lambda part: len(part.split()))
        shorter = {part.casefold() for part in parts} - {longest.casefold()}
        if title == page_title or title.casefold() in shorter:
            return longest
    return title


def _from_url(sitename: str, url: str | None) -> bool:
    """Whether trafilatura's site name is only the host of the page's URL (its last resort)."""
    host = re.sub(r"^https?://(?:www\.)?", "", url or "").split("/")[0]
    return bool(host) and sitename == host


def _rel(value: Any) -> list[str]:
    return str(value or "").lower().split()


def _metadata(meta: dict[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key, names in _META_FIELDS.items():
        value = next((meta[n] for n in names if meta.get(n)), None)
        if value:
            metadata[key] = value
    return metadata


def _meta_tags(tags: Iterable[Any]) -> dict[str, str]:
    """``<meta>`` contents by lowercased property/name/itemprop; the first of each wins."""
    meta: dict[str, str] = {}
    for tag in tags:
        content = _attr(tag, "content").strip()
        for attr in ("property", "name", "itemprop"):
            key = _attr(tag, attr).strip().lower()
            if key and content and key not in meta:
                meta[key] = content
    return meta


def _markup(data: bytes) -> bytes | str:
    """The page as text when it is valid UTF-8, else its bytes for the parser to decode (by
    byte-order mark, declared charset, then detection).

    Detection guesses wrong on short pages without a charset: valid UTF-8 came out as cp866 or
    Shift JIS ("\u200b" as "тАЛ"). Bytes of other encodings are almost never valid UTF-8."""
    if data.startswith(UTF16_BOMS):
        return data
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data


# --- the BeautifulSoup reading, for pages trafilatura finds nothing in --------------------------


def _load_with_soup(markup: bytes | str, path: Path) -> Parsed:
    from bs4 import BeautifulSoup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4 warns about markup that looks like a URL, etc.
        soup = BeautifulSoup(markup, "html.parser")

    meta = _meta_tags(soup.find_all("meta"))
    metadata = _metadata(meta)
    if "url" not in metadata:
        canonical = soup.find("link", rel="canonical")
        href = _attr(canonical, "href").strip() if canonical is not None else ""
        if href:
            metadata["url"] = href
    # The title is read before the page chrome is dropped: the <h1> often sits in a <header>.
    og_title = " ".join(meta.get("og:title", "").split())
    title = og_title or _collapsed(soup.title) or _collapsed(soup.find("h1"))
    title = _headline(title, _collapsed(soup.title), {metadata.get("outlet", "")})

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
    paragraphs = _without_chrome(_html_paragraphs(container))
    if not paragraphs:
        raise LoadError("no text found")
    if title and len(paragraphs) > 1 and same_text(paragraphs[0], title):
        paragraphs = paragraphs[1:]
    return Parsed(title or path.stem, "\n\n".join(paragraphs), metadata)


def _attr(tag: Any, name: str) -> str:
    value = tag.get(name) if tag is not None else None
    if isinstance(value, list):
        return " ".join(value)
    return value or ""


def _collapsed(tag: Any) -> str:
    return " ".join(tag.get_text(" ").split()) if tag is not None else ""


def _drop_small_forms(soup: BeautifulSoup) -> None:
    # ASP.NET pages wrap the whole page in one <form>; only forms that hold a small part of
    # the page's text (search boxes, comment forms, newsletter sign-ups) are chrome.
    page_chars = len(soup.get_text())
    for form in soup.find_all("form"):
        if not form.decomposed and len(form.get_text()) * 2 < page_chars:
            form.decompose()


def _html_paragraphs(container: Tag | BeautifulSoup) -> list[str]:
    """Text runs that share their nearest block element form one whitespace-collapsed paragraph."""
    return _grouped(_soup_runs(container))


def _soup_runs(container: Tag | BeautifulSoup) -> Iterator[tuple[str, object, bool]]:
    """``(text, block, is_break)`` of BeautifulSoup's tree in document order."""
    from bs4 import NavigableString, Tag
    from bs4.element import PreformattedString

    for node in container.descendants:
        if isinstance(node, Tag):
            if node.name == "br":
                yield "", None, True
            continue
        # PreformattedString covers comments, CDATA, doctypes and processing instructions.
        if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
            continue
        block = node.parent
        while block is not None and block is not container and block.name not in _BLOCK_TAGS:
            block = block.parent
        yield str(node), block, False
