"""The region check of the evidence gate, with hand-made hits."""

from __future__ import annotations

from kb.answer.gate import regions_not_covered
from kb.types import Hit


def hit(regions: list[str]) -> Hit:
    return Hit("d", "d:0", "t", "teks", 1.0, 0, 4, metadata={"regions": regions})


def test_a_region_asked_for_must_be_among_the_articles_regions() -> None:
    bogor = hit(["Kecamatan Bogor Utara", "Kota Bogor", "Provinsi Jawa Barat"])
    assert regions_not_covered("Kapan Kecamatan Bogor Barat buka malam?", [bogor]) == [
        "Kecamatan Bogor Barat"
    ]
    assert regions_not_covered("Layanan apa yang dibuka di Kota Bogor?", [bogor]) == []
    # A province is covered by an article about one of its districts (ancestors are stored).
    assert regions_not_covered("Inovasi apa yang ada di Jawa Barat?", [bogor]) == []
    assert regions_not_covered("Which services opened in West Java?", [bogor]) == []
    assert regions_not_covered("Which services opened in East Java?", [bogor]) == [
        "Provinsi Jawa Timur"
    ]
    assert regions_not_covered("Siapa kepala dinas itu?", []) == []
