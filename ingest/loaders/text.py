"""Plain text and Markdown: decoding (UTF-8, UTF-16 with a BOM, cp1252), Markdown rendered to
plain text (markdown-it-py), title, "Sumber:" line, and a Markdown file's sections: its headings
(``#`` to ``######``, setext) as a Word file's heading styles are (``ingest.layout``).

Everything here is linear in the size of the file, so it runs in the caller's process (Markdown
at tens of microseconds a token: a few seconds for a long report).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingest.layout import Block, Heading, assemble, sections
from ingest.loaders.common import (
    SNIFF_BYTES,
    UTF16_BOMS,
    LoadError,
    Parsed,
    split_first_line,
    too_long,
)

if TYPE_CHECKING:
    from markdown_it.token import Token

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
_SUMBER = re.compile(r"sumber\s*:\s*(.*)", re.IGNORECASE)
# A longer "Sumber: ..." line is a sentence of the report, not the name of a source.
_MAX_SOURCE_NAME = 200
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG_NAME = re.compile(r"/?([a-zA-Z][a-zA-Z0-9-]*)")
_HIDDEN_TAGS = ("script", "style")


def decode_text(data: bytes) -> str:
    """The text of a file's bytes, or ``LoadError`` for binary or undecodable data."""
    if data.startswith(UTF16_BOMS):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data[:SNIFF_BYTES]:
        raise LoadError("binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    # cp1252 decodes almost any byte string, so it is only trusted on NUL-free data.
    if b"\x00" not in data:
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise LoadError("cannot decode text (tried UTF-8, UTF-16 BOM, cp1252)")


def load_text(data: bytes, path: Path, max_chars: int) -> Parsed:
    text = decode_text(data).replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise LoadError("empty file")
    headings: tuple[Heading, ...] = ()
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        # Rendering costs tens of microseconds a token, and the rendered text is hardly longer
        # than its source: a source over the limit is refused before it is rendered.
        if len(text) > max_chars:
            raise LoadError(too_long(len(text), max_chars))
        # The article is what the Markdown says, not how it is marked up: titles, chunks and
        # answers quote the rendered text. Its headings are where its sections start.
        assembled = assemble([markdown_blocks(text)])
        text, headings = assembled.text, assembled.headings
        if not text.strip():
            raise LoadError("no text found")
    lines = text.rstrip().split("\n")
    metadata: dict[str, Any] = {}
    match = _SUMBER.fullmatch(lines[-1].strip())
    content_lines = sum(1 for line in lines if line.strip())
    if match and content_lines > 1 and len(match.group(1)) <= _MAX_SOURCE_NAME:
        lines.pop()
        if match.group(1).strip():
            metadata["source_name"] = match.group(1).strip()
    text = "\n".join(lines)
    title, body = split_first_line(text, path.stem)
    return Parsed(title, body, metadata, sections=_body_sections(text, body, headings))


def _body_sections(
    text: str, body: str, headings: Sequence[Heading]
) -> tuple[tuple[int, str], ...]:
    """The sections of ``body`` (``split_first_line`` of ``text``) from the headings of
    ``text``, offsets moved into the body. The title's heading is no section of the body, nor
    a part of the paths under it (as a Word file's first heading, when it is the title); a
    heading in a "Sumber:" line taken off the end is gone with it; a text of one line (the
    body) has no sections."""
    if not headings:
        return ()
    lines = text.split("\n")
    first = next(i for i, line in enumerate(lines) if line.strip())
    after_title = sum(len(line) + 1 for line in lines[: first + 1])
    # The body is what follows the title line, stripped: it starts at the first
    # non-blank character there, which no earlier match of it can start before.
    start = text.find(body, after_title)
    if start < 0:  # the text's only line is the body
        return ()
    end = start + len(body)
    return sections(
        [Heading(h.offset - start, h.level, h.title) for h in headings if start <= h.offset < end]
    )


def markdown_to_text(source: str) -> str:
    """CommonMark (with tables and strikethrough) as plain text: blocks (paragraphs, headings,
    lists, quotes, code, tables) separated by a blank line; the source's line breaks inside a
    paragraph kept; list items and table rows one a line; emphasis, links, images and HTML tags
    reduced to their text; ordered items keep their number ("1. ")."""
    return "\n\n".join(block.text for block in markdown_blocks(source))


def markdown_blocks(source: str) -> list[Block]:
    """The blocks of ``markdown_to_text`` (a whole list or table is one), none empty; a heading
    of the document (h1 to h6, ATX or setext; not one inside a quote or a list, nor raw HTML)
    is a ``Block`` of its level with its text, whitespace collapsed, as its title."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(source)
    blocks: list[Block] = []
    lines: list[str] = []  # the lines of the list or table being read
    depth = 0  # of lists and tables
    number = ""  # the marker of the ordered item whose first paragraph comes next
    row: list[str] = []
    in_cell = False
    level = 0  # of the document's heading whose text comes next

    def add(text: str, indented: bool = False) -> None:
        text = "\n".join(
            line.rstrip() if indented else line.strip() for line in text.strip("\n").split("\n")
        )
        if not text.strip():
            return
        if depth:
            lines.append(text)
        else:
            blocks.append(Block(text, level, " ".join(text.split()) if level else ""))

    for token in tokens:
        kind = token.type
        if kind == "heading_open" and token.level == 0:  # "h1" to "h6"
            level = int(token.tag[1:])
        elif kind == "heading_close":
            level = 0
        elif kind in ("bullet_list_open", "ordered_list_open", "table_open"):
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close", "table_close"):
            depth -= 1
            if not depth and lines:
                blocks.append(Block("\n".join(lines)))
                lines.clear()
        elif kind == "list_item_open":
            number = f"{token.info}{token.markup} " if token.info else ""
        elif kind in ("th_open", "td_open", "th_close", "td_close"):
            in_cell = kind.endswith("_open")
        elif kind == "tr_close":
            add(" | ".join(row))
            row = []
        elif kind == "inline":
            text = _inline_text(token.children or [])
            if in_cell:
                row.append(" ".join(text.split()))
            else:
                add(number + text)
                number = ""
        elif kind in ("fence", "code_block"):
            add(token.content, indented=True)
        elif kind == "list_item_close":
            number = ""
        elif kind == "html_block":
            add(_html_text(token.content))
    return blocks


def _html_text(markup: str) -> str:
    """The text of a raw HTML block: tags and comments dropped, ``<br>`` a line break, script
    and style contents left out, entities decoded. One pass (regular expressions and Python's
    ``HTMLParser`` take quadratic time on a run of unclosed comments or tags)."""
    lowered = markup.lower()
    parts: list[str] = []
    i = 0
    while i < len(markup):
        start = markup.find("<", i)
        if start < 0:
            parts.append(markup[i:])
            break
        parts.append(markup[i:start])
        if markup.startswith("<!--", start):
            end = markup.find("-->", start + 4)
            i = len(markup) if end < 0 else end + 3
            continue
        end = markup.find(">", start + 1)
        if end < 0:
            parts.append(markup[start:])
            break
        i = end + 1
        name = _TAG_NAME.match(markup, start + 1, end)
        tag = name.group(1).lower() if name else ""
        if tag == "br":
            parts.append("\n")
        elif tag in _HIDDEN_TAGS and not markup.startswith("</", start):
            close = lowered.find(f"</{tag}", i)
            i = len(markup) if close < 0 else close
    return html.unescape("".join(parts))


def _inline_text(children: Sequence[Token]) -> str:
    parts: list[str] = []
    for child in children:
        if child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "html_inline":
            parts.append("\n" if _BR.fullmatch(child.content.strip()) else "")
        elif child.type == "image":
            parts.append(_inline_text(child.children or []))
        else:  # text, code, escapes and entities; the markers of emphasis and links are empty
            parts.append(child.content)
    return "".join(parts)
