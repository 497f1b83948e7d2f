"""The store agrees with the files: ids, updates, prune, and a store that is not there.

Each test here failed before its fix (issue "The store agrees with the files").
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import fake_settings, make_kb, run_kb

from kb.embedders.models import HashingEmbeddings
from kb.errors import StoreMissingError
from kb.knowledge_base import KnowledgeBase

TEXT = (
    "Kecamatan {name} membuka layanan administrasi kependudukan pada malam hari. "
    "Warga dapat mengurus KTP dan akta kelahiran sampai pukul 21.00 setiap {day}."
)


def line(doc_id: str, name: str, day: str = "Senin", **meta: str) -> str:
    record = {
        "id": doc_id,
        "title": f"Layanan malam {name}",
        "text": TEXT.format(name=name, day=day),
    }
    return json.dumps({**record, **meta}, ensure_ascii=False)


def write_jsonl(path: Path, *lines: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def kb_at(store: Path) -> KnowledgeBase:
    return make_kb(settings=fake_settings(store), embedder=HashingEmbeddings())


# -- 1. an id belongs to one source ------------------------------------------------------------


def test_an_id_of_another_file_is_a_failure_naming_both(tmp_path: Path) -> None:
    first = write_jsonl(
        tmp_path / "docs" / "kumpulan.jsonl",
        line(
            "a-1",
            "Ciputat",
            outlet="Tangerang Ekspres",
            url="https://contoh.id/a",
            date="2023-11-07",
        ),
    )
    kb = kb_at(tmp_path / "store")
    assert len(kb.ingest([first]).added) == 1
    other = write_jsonl(tmp_path / "docs" / "other" / "lain.jsonl", line("a-1", "Rungkut"))
    report = kb.ingest([other])
    assert report.updated == () and report.added == ()
    (failure,) = report.failed
    assert failure.source == str(other.resolve()) and str(first.resolve()) in failure.reason
    article = kb.article("a-1")
    assert "Ciputat" in article.text and article.metadata["outlet"] == "Tangerang Ekspres"
    # Both files in one batch: the same failure, the first file's article kept.
    both = kb.ingest([tmp_path / "docs"])
    assert len(both.failed) == 1 and "Ciputat" in kb.article("a-1").text


def test_an_id_passes_to_a_new_file_when_the_old_one_no_longer_holds_it(tmp_path: Path) -> None:
    old = write_jsonl(
        tmp_path / "kumpulan.jsonl", line("a-1", "Ciputat", outlet="Tangerang Ekspres")
    )
    kb = kb_at(tmp_path / "store")
    kb.ingest([old])
    new = tmp_path / "baru.jsonl"
    old.rename(new)  # renamed: same line, new file
    report = kb.ingest([new])
    assert report.ok and report.unchanged == () and report.updated == ("a-1",)
    assert kb.article("a-1").source == str(new.resolve())
    # The old file holds it no more (another article now): a new text passes too, and no
    # metadata of the old version is carried over.
    write_jsonl(old, line("b-1", "Setu"))
    write_jsonl(tmp_path / "ketiga.jsonl", line("a-1", "Rungkut"))
    new.unlink()
    report = kb.ingest([tmp_path / "ketiga.jsonl"])
    assert report.ok and report.updated == ("a-1",)
    article = kb.article("a-1")
    assert "Rungkut" in article.text and "outlet" not in article.metadata


# -- 2. an update replaces all of an article's metadata ----------------------------------------


def test_an_update_replaces_the_metadata_everywhere(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "kumpulan.jsonl",
        line("a-1", "Ciputat", outlet="Tangerang Ekspres", url="https://contoh.id/a"),
        line("a-2", "Setu", outlet="Radar Banten"),
    )
    kb = kb_at(tmp_path / "store")
    kb.ingest([path])
    write_jsonl(path, line("a-1", "Ciputat"), line("a-2", "Setu", outlet="Radar Banten"))
    report = kb.ingest([path])
    assert report.updated == ("a-1",) and report.unchanged == ("a-2",)
    for meta in (
        kb.article("a-1").metadata,
        next(a for a in kb.articles() if a.doc_id == "a-1").metadata,
        *(h.metadata for h in kb.retrieve("layanan malam Ciputat", k=5, per_article=None)),
    ):
        if meta["doc_id"] == "a-1":
            assert "outlet" not in meta and "url" not in meta, meta
    assert kb.check().ok


def test_check_reports_and_mends_chunks_that_disagree_with_their_article(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "kumpulan.jsonl", line("a-1", "Ciputat", outlet="Radar Banten"))
    kb = kb_at(tmp_path / "store")
    kb.ingest([path])
    # What the old merge-on-update left behind: the registry keeps a field the chunks lost.
    kb.store.articles.update(ids=["a-1"], metadatas=[{"url": "https://lama.example/a"}])
    report = kb.check()
    assert not report.ok and [p.kind for p in report.problems] == ["metadata"]
    repaired = kb.check(repair=True)
    assert repaired.ok and all(p.mended for p in repaired.problems)
    assert kb.check().ok
    hit = kb.retrieve("layanan malam Ciputat", k=1)[0]
    assert hit.metadata["url"] == kb.article("a-1").metadata["url"]


# -- 3. prune removes what a source no longer holds --------------------------------------------


def test_prune_removes_a_line_removed_from_a_jsonl_file(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "kumpulan.jsonl", line("a-1", "Ciputat"), line("a-2", "Setu"))
    kb = kb_at(tmp_path / "store")
    kb.ingest([path])
    write_jsonl(path, line("a-1", "Ciputat"))
    assert kb.ingest([path]).deleted == ()  # without --prune nothing is deleted
    report = kb.ingest([path], prune=True)
    assert report.deleted == ("a-2",) and [a.doc_id for a in kb.articles()] == ["a-1"]


def test_prune_keeps_what_a_failing_file_held(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "kumpulan.jsonl", line("a-1", "Ciputat"), line("a-2", "Setu"))
    kb = kb_at(tmp_path / "store")
    kb.ingest([path])
    write_jsonl(path, line("a-1", "Ciputat"), '{"id": "a-2", "title": "rusak"')
    report = kb.ingest([path], prune=True)
    assert report.deleted == () and len(report.failed) == 1
    assert {a.doc_id for a in kb.articles()} == {"a-1", "a-2"}


def test_prune_after_moving_a_folder_keeps_one_copy(tmp_path: Path) -> None:
    old = tmp_path / "laporan"
    old.mkdir()
    for n, name in enumerate(["Ciputat", "Setu", "Pamulang"]):
        (old / f"laporan-{n}.txt").write_text(
            f"Layanan malam {name}\n{TEXT.format(name=name, day='Jumat')}\n", encoding="utf-8"
        )
    write_jsonl(old / "sub" / "kumpulan.jsonl", line("j-1", "Rungkut"))
    kb = kb_at(tmp_path / "store")
    assert len(kb.ingest([old]).added) == 4
    new = tmp_path / "arsip" / "laporan"
    new.parent.mkdir()
    shutil.move(str(old), str(new))
    report = kb.ingest([new], prune=True)
    assert report.ok and len(report.deleted) == 3 and len(report.added) == 3
    assert report.updated == ("j-1",)
    articles = kb.articles()
    assert len(articles) == 4
    assert all(Path(a.source).is_relative_to(new.resolve()) for a in articles)


def test_check_lists_missing_sources_and_prunes_them_on_request(tmp_path: Path) -> None:
    keep, gone = tmp_path / "ada.txt", tmp_path / "hilang.txt"
    for path, name in ((keep, "Ciputat"), (gone, "Setu")):
        path.write_text(f"Layanan {name}\n{TEXT.format(name=name, day='Senin')}\n", "utf-8")
    kb = kb_at(tmp_path / "store")
    kb.ingest([keep, gone])
    gone.unlink()
    report = kb.check()
    assert report.ok and [s for _, s in report.missing_sources] == [str(gone.resolve())]
    pruned = kb.check(repair=True, prune_missing=True)
    assert pruned.ok and len(pruned.pruned) == 1 and pruned.missing_sources == ()
    assert [a.source for a in kb.articles()] == [str(keep.resolve())]


# -- 4. a store that is not there --------------------------------------------------------------


def test_reading_a_missing_store_fails_and_creates_nothing(tmp_path: Path) -> None:
    store = tmp_path / "salah-ketik"
    kb = kb_at(store)
    for call in (
        lambda: kb.retrieve("layanan malam"),
        lambda: kb.ask("Kecamatan mana yang buka malam?"),
        kb.articles,
        kb.status,
        lambda: kb.delete("a-1"),
        kb.check,
        kb.rebuild,
    ):
        with pytest.raises(StoreMissingError, match="salah-ketik"):
            call()
    assert not store.exists() and not kb.exists
    kb.ingest_articles([])  # ingesting creates it
    assert kb.exists and kb.retrieve("layanan malam") == []


@pytest.mark.parametrize(
    "args",
    [
        ("ask", "Siapa camat Ciputat?"),
        ("search", "layanan malam"),
        ("list",),
        ("show", "a-1"),
        ("status",),
        ("delete", "a-1"),
        ("check",),
        ("rebuild",),
        ("feedback", "export"),
    ],
)
def test_cli_on_a_missing_store_fails_and_creates_nothing(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    store = tmp_path / "salah-ketik"
    done = run_kb(*args, "--store", str(store))
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "no knowledge base at" in done.stderr and str(store.resolve()) in done.stderr
    assert "Traceback" not in done.stderr
    assert not store.exists()


def test_serve_on_a_missing_named_store_fails(tmp_path: Path) -> None:
    store = tmp_path / "salah-ketik"
    done = run_kb("serve", "--store", str(store), "--port", "1")
    assert done.returncode == 2 and "no knowledge base at" in done.stderr
    assert not store.exists()
