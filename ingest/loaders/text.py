"""Plain text and Markdown: decoding (UTF-8, UTF-16 with a BOM, cp1252), Markdown rendered to
plain text (markdown-it-py), title, "Sumber:" line.

Everything here is linear in the size of the file, so it runs in the caller's process (Markdown
at tens of microseconds a token: a few seconds for a long report).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    if path.suffix.lower() in MARKDOWN_SUFFIXES:
        # Rendering costs tens of microseconds a token, and the rendered text is hardly longer
        # than its source: a source over the limit is refused before it is rendered.
        if len(text) > max_chars:
            raise LoadError(too_long(len(text), max_chars))
        # The article is what the Markdown says, not how it is marked up: titles, chunks and
        # answers quote the rendered text.
        text = markdown_to_text(text)
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
    title, body = split_first_line("\n".join(lines), path.stem)
    return Parsed(title, body, metadata)


def markdown_to_text(source: str) -> str:
    """CommonMark (with tables and strikethrough) as plain text: blocks (paragraphs, headings,
    lists, quotes, code, tables) separated by a blank line; the source's line breaks inside a
    paragraph kept; list items and table rows one a line; emphasis, links, images and HTML tags
    reduced to their text; ordered items keep their number ("1. ")."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable(["table", "strikethrough"]).parse(source)
    blocks: list[str] = []
    lines: list[str] = []  # the lines of the list or table being read
    depth = 0  # of lists and tables
    number = ""  # the marker of the ordered item whose first paragraph comes next
    row: list[str] = []
    in_cell = False

    def add(text: str, indented: bool = False) -> None:
        text = "\n".join(
            line.rstrip() if indented else line.strip() for line in text.strip("\n").split("\n")
        )
        if not text.strip():
            return
        (lines if depth else blocks).append(text)

    for token in tokens:
        kind = token.type
        if kind in ("bullet_list_open", "ordered_list_open", "table_open"):
            depth += 1
        elif kind in ("bullet_list_close", "ordered_list_close", "table_close"):
            depth -= 1
            if not depth and lines:
                blocks.append("\n".join(lines))
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
    return "\n\n".join(blocks)


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
