"""What the app shows, as text: chat messages, the sources panel (HTML), the Markdown export.

Article text, titles, outlets and file names are untrusted: everything taken from an article
goes through ``html.escape`` (and, in Markdown, a backslash before Markdown's own marks), so
no markup from an article becomes markup in the page.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kb.retrieval.filters import from_fields
from kb.types import Answer, ArticleCopy, ArticleInfo, Citation, Hit, also_in_label, page_label
from kb.ui.labels import t

_MARKER = re.compile(r"\[(\d+)\]")
_LINKED = re.compile(r"\[\[(\d+)\]\]\(#source-\d+\)")
_MD_MARKS = re.compile(r"([\\`*_\[\]#|~])")
ABSTAINED_PREFIX = "⚠️ "


def md_escape(text: str) -> str:
    """Plain text made inert in Markdown: its marks backslashed, then its HTML escaped."""
    # Backslashes first: an entity's own "#" must not get one.
    return html.escape(_MD_MARKS.sub(r"\\\1", text), quote=False)


def _with_markers(text: str, marker: str) -> str:
    """``text`` escaped for Markdown except its ``[n]`` markers, written as ``marker``."""
    out: list[str] = []
    for i, piece in enumerate(_MARKER.split(text)):
        # split() puts the captured numbers at the odd positions.
        out.append(marker.format(n=piece) if i % 2 else md_escape(piece))
    return "".join(out)


def chat_message(answer: Answer) -> str:
    """The answer as a chat message: escaped text, each ``[n]`` a link to ``#source-n``, the
    reader's span in bold; an abstention starts with a warning sign and is set in italics."""
    if answer.abstained:
        return f"{ABSTAINED_PREFIX}*{md_escape(answer.text)}*"
    link = "[[{n}]](#source-{n})"
    bold = f"**{answer.short}**"
    at = answer.text.find(bold) if answer.short else -1
    if at < 0:
        return _with_markers(answer.text, link)
    # The reader's span is the one mark of the answer's own: bold; the rest stays inert.
    before, after = answer.text[:at], answer.text[at + len(bold) :]
    return f"{_with_markers(before, link)}**{md_escape(answer.short)}**{_with_markers(after, link)}"


def partial_message(text: str) -> str:
    """A chat model's reply while it is being written (not checked yet)."""
    return md_escape(text) + " ▌"


def message_text(content: Any) -> str:
    """The text of a chat message's content: a string, or Gradio's list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, Mapping):
        return str(content.get("text") or "")
    if isinstance(content, Sequence):
        return "\n".join(message_text(part) for part in content)
    return "" if content is None else str(content)


def plain(content: Any) -> str:
    """A chat message as the answer chain wants it: links back to ``[n]``, escapes undone."""
    text = message_text(content).strip()
    if text.startswith(ABSTAINED_PREFIX + "*") and text.endswith("*"):
        text = text[len(ABSTAINED_PREFIX) + 1 : -1]
    text = html.unescape(_LINKED.sub(r"[\1]", text))
    return re.sub(r"\\([\\`*_\[\]#|~])", r"\1", text).strip()


def plain_history(history: Sequence[Mapping[str, Any]] | None) -> list[dict[str, str]]:
    """Gradio's chat history as ``{"role", "content"}`` turns of plain text."""
    return [
        {"role": str(m.get("role")), "content": plain(m.get("content"))}
        for m in history or []
        if m.get("role") in {"user", "assistant"}
    ]


def format_answer(answer: Answer, lang: str = "id") -> str:
    """The answer and its numbered references as Markdown (for copying or download).

    Article text is escaped, so the Markdown shows an article's markup as text wherever it
    is pasted.
    """
    lines = [_with_markers(answer.text, "[{n}]")]
    if answer.citations:
        lines.append(f"**{t(lang, 'sources')}:**")
        for c in answer.citations:
            where = (page_label(c.page, c.page_end, lang), c.section)
            facts = " · ".join(md_escape(x) for x in (c.outlet, c.date, *where) if x)
            head = f"[{c.n}] **{md_escape(c.title or c.doc_id)}**"
            head += f" — {facts}" if facts else ""
            head += (
                f" — <{html.escape(c.url)}>" if c.url.startswith(("http://", "https://")) else ""
            )
            copies = also_in_label(c.also_in, lang)
            head += f"  \n{md_escape(copies)}" if copies else ""
            lines.append(head + f"  \n> {md_escape(c.quote)}")
    elif answer.hits:
        lines.append(f"**{t(lang, 'sources_closest')}:**")
        for n, hit in enumerate(answer.hits[:3], 1):
            place = (page_label(hit.page, hit.page_end, lang), hit.section)
            shown = " · ".join(md_escape(x) for x in place if x)
            copies = also_in_label(hit.also_in, lang)
            lines.append(
                f"{n}. **{md_escape(hit.title or hit.doc_id)}**"
                + (f" — {shown}" if shown else "")
                + (f"  \n{md_escape(copies)}" if copies else "")
                + f"  \n> {md_escape(' '.join(hit.text.split()))}"
            )
    return "\n\n".join(lines)


def describe_filters(
    region: str | None,
    outlet: str | None,
    date_from: str | None,
    date_to: str | None,
    lang: str = "id",
) -> str:
    """The indicator shown when filters are on (empty when none is)."""
    filters = from_fields(region, outlet, date_from, date_to)
    if not filters:
        return ""
    parts = [f"{t(lang, 'filter_' + k)}: {md_escape(v)}" for k, v in filters.items()]
    return f"🔎 **{t(lang, 'filters_on')}** — " + " · ".join(parts)


def _highlighted(text: str, start: int, end: int) -> str:
    """``text`` escaped, with ``text[start:end]`` inside ``<mark>`` (when it is in range)."""
    start, end = max(0, start), min(len(text), end)
    if end <= start:
        return html.escape(text)
    return (
        html.escape(text[:start])
        + f"<mark>{html.escape(text[start:end])}</mark>"
        + html.escape(text[end:])
    )


def _meta_line(
    meta: Mapping[str, Any], outlet: str = "", date: str = "", where: Sequence[str] = ()
) -> str:
    regions = meta.get("regions") or []
    regions = regions if isinstance(regions, list) else [str(regions)]
    facts = [
        outlet or str(meta.get("outlet") or ""),
        date or str(meta.get("date") or meta.get("date_text") or ""),
        ", ".join(str(r) for r in regions),
        *where,
    ]
    return " · ".join(html.escape(f) for f in facts if f)


# A paged article longer than this shows the pages around the quote, not all of them.
FULL_VIEW_CHARS = 60_000
# How many pages either side of the quoted ones it shows then.
PAGES_AROUND = 2


def _full_article(
    article: ArticleInfo | None, span: tuple[int, int] | None, page: int | None, lang: str
) -> str:
    """The article's text, the cited span marked; a paged one (PDF) with a "hal. N" mark at
    each page, the cited page's marked ``cited`` (the view scrolls there when opened)."""
    if article is None or not article.text:
        return ""
    text = article.text
    if not article.pages:
        return _highlighted(text, *span) if span else html.escape(text)
    pages = list(article.pages)
    bounds = [(o, n, e) for (o, n), (e, _) in zip(pages, [*pages[1:], (len(text), 0)], strict=True)]
    head = ""
    if len(text) > FULL_VIEW_CHARS and page is not None:
        last_cited = page
        if span:
            last_cited = max((n for o, n, _ in bounds if o < span[1]), default=page)
        shown = [b for b in bounds if page - PAGES_AROUND <= b[1] <= last_cited + PAGES_AROUND]
        if shown and len(shown) < len(bounds):
            note = t(
                lang,
                "pages_shown",
                first=str(shown[0][1]),
                last=str(shown[-1][1]),
                total=str(bounds[-1][1]),
            )
            head = f'<div class="pages-shown">{note}</div>'
            bounds = shown
    parts = [head]
    for offset, number, end in bounds:
        piece = text[offset:end]
        marked = (
            _highlighted(piece, span[0] - offset, span[1] - offset) if span else html.escape(piece)
        )
        cited = " cited" if number == page else ""
        parts.append(
            f'<div class="page-mark{cited}">{html.escape(page_label(number, None, lang))}</div>'
            + marked
        )
    return "".join(parts)


def _source(
    n: int,
    hit: Hit,
    title: str,
    meta_line: str,
    span: tuple[int, int] | None,
    article: ArticleInfo | None,
    lang: str,
    page: int | None = None,
    copies: Sequence[ArticleCopy] = (),
) -> str:
    """One source card: number, title, facts, the other copies of the article, the passage
    (cited part marked), the article (opened at the cited page)."""
    if span is None:
        passage = html.escape(hit.text)
    else:
        passage = _highlighted(hit.text, span[0] - hit.start, span[1] - hit.start)
    full = _full_article(article, span, page if page is not None else hit.page, lang)
    details = (
        f"<details><summary>{t(lang, 'full_article')}</summary>"
        f'<div class="source-article">{full}</div></details>'
        if full
        else ""
    )
    return (
        f'<div class="source" id="source-{n}">'
        f'<div class="source-head"><span class="source-n">[{n}]</span> '
        f'<strong class="source-title">{html.escape(title)}</strong></div>'
        + (f'<div class="source-meta">{meta_line}</div>' if meta_line else "")
        + (
            f'<div class="source-copies">{html.escape(also_in_label(copies, lang))}</div>'
            if copies
            else ""
        )
        + f'<blockquote class="source-passage">{passage}</blockquote>{details}</div>'
    )


def _hit_of(citation: Citation, hits: Sequence[Hit]) -> Hit:
    for hit in hits:
        if hit.chunk_id == citation.chunk_id:
            return hit
    for hit in hits:
        if hit.doc_id == citation.doc_id and hit.start <= citation.start < hit.end:
            return hit
    # No retrieved passage holds it (should not happen): show the quote as the passage.
    return Hit(citation.doc_id, citation.chunk_id, citation.title, citation.quote, 0.0,
               citation.start, citation.start + len(citation.quote))  # fmt: skip


def sources_html(
    answer: Answer | None, article: Callable[[str], ArticleInfo | None], lang: str = "id"
) -> str:
    """The sources panel: a card per citation, or, for an abstention, a notice and the
    closest passages.

    Args:
        answer: the answer shown (``None``: nothing asked yet).
        article: ``doc_id`` -> the article with its full text (``None`` when it cannot be
            had).
        lang: the UI language.

    Returns:
        HTML in which every piece of article text is escaped.
    """
    if answer is None:
        return f'<div class="sources-empty">{t(lang, "sources_empty")}</div>'
    cards: list[str] = []
    if answer.abstained:
        head = (
            f'<div class="notice" role="status"><strong>{t(lang, "abstained")}</strong>'
            f"<br>{html.escape(answer.text)}</div>"
        )
        if answer.hits:
            head += f"<h4>{t(lang, 'sources_closest')}</h4>"
        for n, hit in enumerate(answer.hits[:3], 1):
            where = (page_label(hit.page, hit.page_end, lang), hit.section)
            cards.append(
                _source(
                    n,
                    hit,
                    hit.title or hit.doc_id,
                    _meta_line(hit.metadata, where=where),
                    None,
                    article(hit.doc_id),
                    lang,
                    copies=hit.also_in,
                )
            )
        return f'<div class="sources-panel abstained">{head}{"".join(cards)}</div>'
    for c in answer.citations:
        hit = _hit_of(c, answer.hits)
        meta = _meta_line(
            hit.metadata, c.outlet, c.date, (page_label(c.page, c.page_end, lang), c.section)
        )
        cards.append(
            _source(
                c.n,
                hit,
                c.title or c.doc_id,
                meta,
                (c.start, c.end),
                article(c.doc_id),
                lang,
                c.page,
                c.also_in,
            )
        )
    return f'<div class="sources-panel"><h4>{t(lang, "sources")}</h4>{"".join(cards)}</div>'


SOURCES_CSS = """
.sources-panel h4 { margin: 0.25em 0 0.5em; }
.source { border: 1px solid var(--border-color-primary); border-radius: 8px;
  padding: 0.6em 0.8em; margin-bottom: 0.6em; scroll-margin-top: 1em; }
.source:target, .source.flash { outline: 2px solid var(--color-accent); }
.source-n { font-weight: 700; color: var(--color-accent); }
.source-meta, .source-copies { font-size: 0.85em; opacity: 0.8; margin: 0.2em 0; }
.source-passage { margin: 0.4em 0; padding-left: 0.6em;
  border-left: 3px solid var(--border-color-primary); white-space: pre-wrap; }
.source mark { background: #fde68a; color: #1f2937; padding: 0 2px; border-radius: 2px; }
.source details summary { cursor: pointer; font-size: 0.9em; }
.source-article { white-space: pre-wrap; max-height: 24em; overflow-y: auto;
  font-size: 0.9em; margin-top: 0.4em; }
.page-mark { font-size: 0.8em; opacity: 0.7; border-top: 1px dashed
  var(--border-color-primary); margin: 0.6em 0 0.2em; }
.pages-shown { font-size: 0.8em; font-style: italic; opacity: 0.8; }
.notice { background: #fff7ed; color: #7c2d12; border: 1px solid #fdba74;
  border-radius: 8px; padding: 0.6em 0.8em; margin-bottom: 0.6em; }
.sources-empty { opacity: 0.7; font-style: italic; }
"""

# Clicking a [n] link in the chat scrolls to that source and opens nothing else: the chat's
# Markdown renderer may give links a new-tab target, which would reload the page instead.
SOURCES_JS = """
document.addEventListener('click', (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#source-"]');
  if (!link) return;
  const target = document.getElementById(link.getAttribute('href').slice(1));
  if (!target) return;
  event.preventDefault();
  event.stopPropagation();
  target.scrollIntoView({behavior: 'smooth', block: 'start'});
  target.classList.add('flash');
  setTimeout(() => target.classList.remove('flash'), 1200);
}, true);
// A source's full article opens at the quote (or, for a closest passage, its page).
document.addEventListener('toggle', (event) => {
  const details = event.target;
  if (!details.open || !details.closest || !details.closest('.source')) return;
  const view = details.querySelector('.source-article');
  const spot = view && (view.querySelector('mark') || view.querySelector('.page-mark.cited'));
  if (spot) view.scrollTop = spot.offsetTop - view.offsetTop - 16;
}, true);
"""
