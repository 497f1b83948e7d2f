"""Which language a question is in: Indonesian or English, by their function words."""

from __future__ import annotations

import re

_EN = frozenset(
    "the a an of in on at for to is are was were which who whom whose what when where why how "
    "does do did has have had with from by and or that this these those many much district "
    "sub-district office service services city regency head".split()
)


_ID = frozenset(
    "yang di ke dari dan atau ini itu apa siapa kapan mana dimana berapa bagaimana mengapa "
    "kenapa apakah pada untuk dengan oleh adalah kecamatan kota kabupaten layanan pelayanan "
    "camat kepala".split()
)


WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def detect_language(text: str) -> str:
    """``en`` or ``id``: which language's function words the text uses more (Indonesian ties)."""
    words = [w.lower() for w in WORD.findall(text)]
    english = sum(w in _EN for w in words)
    indonesian = sum(w in _ID for w in words)
    return "en" if english > indonesian else "id"
