"""The ``kb`` command: parses input, calls the Python API, prints results. No logic of its own."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click

from kb.errors import KbError
from kb.knowledge_base import KnowledgeBase
from kb.ops.redact import RedactingFormatter, redact
from kb.retrieval.filters import from_fields
from kb.settings import Settings
from kb.text.question import normalize_question
from kb.types import Hit, also_in_label, page_label, to_jsonable

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("kb")


def store_option(func: F) -> F:
    return click.option(
        "--store",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Data folder of the knowledge base (default: KB_STORE, else data/kb).",
    )(func)


def json_option(func: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(func)


def filter_options(func: F) -> F:
    """--region, --outlet, --since and --until: the product's filters."""
    options = [
        click.option("--region", default=None, help="Only articles about this region (any level)."),
        click.option("--outlet", default=None, help="Only articles from this outlet."),
        click.option("--since", "date_from", default=None, help="Dated on/after YYYY-MM-DD."),
        click.option("--until", "date_to", default=None, help="Dated on/before YYYY-MM-DD."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def open_kb(store: Path | None, *, create: bool = False) -> KnowledgeBase:
    """The knowledge base at ``store`` (else ``KB_STORE``). Without ``create``, a store that
    is not there raises ``StoreMissingError`` on first use and nothing is created."""
    settings = Settings.from_env(store=store)
    _log_to_file(Path(settings.store), create)
    return KnowledgeBase(settings=settings)


def open_app_kb(store: Path | None) -> KnowledgeBase:
    """The knowledge base the app serves: the default store is created when it is not
    there, with the sample articles (unless ``KB_LOAD_SAMPLES=false``) while it is empty; a
    store the user names must exist (``StoreMissingError``) and never gets samples."""
    kb = open_kb(store, create=Settings.from_env(store=store).is_default_store)
    settings = kb.settings
    if not settings.is_default_store:
        kb.store  # noqa: B018 - raises when the store is not there
        return kb
    kb.create_store()
    if settings.load_samples and kb.store.count_articles() == 0:
        click.echo("Empty knowledge base: ingesting the sample articles (first start only)…")
        click.echo(kb.load_samples().summary())
    return kb


def _log_to_file(folder: Path, create: bool) -> None:
    """Tracebacks go to ``<store>/kb.log``, never to the user's terminal; no log file is
    made where no store is (a mistyped ``--store`` leaves nothing behind)."""
    if any(isinstance(h, logging.FileHandler) for h in log.handlers):
        return
    try:
        if create:
            folder.mkdir(parents=True, exist_ok=True)
        elif not folder.is_dir():
            return
        handler = logging.FileHandler(folder / "kb.log", encoding="utf-8")
    except OSError:
        return
    # Tracebacks can quote an API key (a server echoing it): every line is redacted.
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("kb", "ingest"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(logging.INFO)


def emit(data: Any) -> None:
    click.echo(json.dumps(to_jsonable(data), ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """Knowledge base of reports on public-service innovation in Indonesian districts."""


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--prune", is_flag=True, help="Delete articles whose files under PATHS are gone.")
@store_option
@json_option
def ingest(paths: tuple[Path, ...], prune: bool, store: Path | None, as_json: bool) -> None:
    """Ingest files and folders (txt, md, html, pdf, docx, jsonl; png, jpg, tif by OCR)."""
    report = open_kb(store, create=True).ingest(paths, prune=prune, progress=sys.stderr.isatty())
    if as_json:
        emit(report)
    else:
        for failure in report.failed:
            where = failure.source + (f":{failure.line}" if failure.line else "")
            click.echo(f"failed: {where}: {failure.reason}", err=True)
        for warning in report.warnings:
            where = warning.source + (f":{warning.line}" if warning.line else "")
            click.echo(f"warning: {where}: {warning.reason}", err=True)
        for d in report.duplicates:
            kind = "exact copy" if d.exact else f"near copy, similarity {d.similarity:.2f}"
            click.echo(
                f"duplicate: {d.source} ({d.doc_id}) is a copy of {d.of_source} ({d.of_doc_id}): "
                f"{kind}; both kept, a search returns one of them"
            )
        click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option(
    "-k", "k", default=5, show_default=True, type=click.IntRange(min=1), help="Number of results."
)
@filter_options
@click.option(
    "--per-article",
    default=1,
    show_default=True,
    type=click.IntRange(min=0),
    help="Passages per article (0: any).",
)
@store_option
@json_option
def search(
    query: str,
    k: int,
    region: str | None,
    outlet: str | None,
    date_from: str | None,
    date_to: str | None,
    per_article: int,
    store: Path | None,
    as_json: bool,
) -> None:
    """Retrieve the passages that best match QUERY."""
    filters = from_fields(region, outlet, date_from, date_to)
    kb = open_kb(store)
    _loading(kb, query, as_json)
    hits = kb.retrieve(query, k, filters, per_article=per_article or None)
    if as_json:
        emit(hits)
        return
    if not hits:
        click.echo("no passage found")
    for n, hit in enumerate(hits, 1):
        click.echo(_format_hit(n, hit))


def _loading(kb: KnowledgeBase, question: str, as_json: bool) -> None:
    """Most of a single ``kb ask``/``kb search`` is loading the model: say so on a terminal
    (stderr; not with ``--json``, nor into a pipe or a script's log) and where many
    questions go faster. Nothing is said before the errors of an empty question or a
    missing store."""
    if as_json or not _on_terminal():
        return
    normalize_question(question, kb.settings.max_question_chars)
    if not kb.exists:
        return
    click.echo(
        "loading the model… (about 10 s each time; for many questions use 'kb serve' or "
        "the Python API: from kb import ask, retrieve)",
        err=True,
    )


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _format_hit(n: int, hit: Hit, language: str = "id") -> str:
    meta = hit.metadata
    facts = [str(meta[k]) for k in ("outlet", "date") if meta.get(k)]
    facts += [x for x in (page_label(hit.page, hit.page_end, language), hit.section) if x]
    head = f"[{n}] {hit.score:.3f}  {hit.title or hit.doc_id}  ({hit.doc_id})"
    if facts:
        head += "  " + " · ".join(facts)
    copies = also_in_label(hit.also_in, language, with_ids=True)
    if copies:
        head += f"\n    {copies}"
    return f"{head}\n    {hit.text}\n"


@cli.command()
@click.argument("question")
@click.option("--llm", default=None, help="Chat model as provider:model (default: KB_LLM).")
@filter_options
@store_option
@json_option
def ask(
    question: str,
    llm: str | None,
    region: str | None,
    outlet: str | None,
    date_from: str | None,
    date_to: str | None,
    store: Path | None,
    as_json: bool,
) -> None:
    """Answer QUESTION from the articles, with numbered sources."""
    filters = from_fields(region, outlet, date_from, date_to)
    kb = open_kb(store)
    _loading(kb, question, as_json)
    answer = kb.ask(question, filters=filters, llm=llm)
    if as_json:
        emit(answer)
        return
    english = answer.language == "en"
    click.echo(answer.text)
    if answer.citations:
        click.echo("\nSources:" if english else "\nSumber:")
        for c in answer.citations:
            where = (page_label(c.page, c.page_end, answer.language), c.section)
            facts = " · ".join(x for x in (c.outlet, c.date, *where) if x)
            click.echo(f"[{c.n}] {c.title} ({c.doc_id}){'  ' + facts if facts else ''}")
            click.echo(f"    “{c.quote}”")
            if c.also_in:
                click.echo(f"    {also_in_label(c.also_in, answer.language, with_ids=True)}")
    elif answer.hits:
        click.echo(
            "\nThe closest passages of the reports:"
            if english
            else "\nBagian laporan yang paling dekat:"
        )
        for n, hit in enumerate(answer.hits[:3], 1):
            click.echo(_format_hit(n, hit, answer.language))


@cli.command(name="list")
@store_option
@json_option
def list_(store: Path | None, as_json: bool) -> None:
    """List the ingested articles."""
    articles = open_kb(store).articles()
    if as_json:
        emit(articles)
        return
    for a in articles:
        date = a.metadata.get("date") or a.metadata.get("date_text") or ""
        click.echo(f"{a.doc_id}\t{a.chunks} chunks\t{date}\t{a.title}")
    click.echo(f"{len(articles)} articles")


@cli.command()
@click.argument("doc_id")
@store_option
@json_option
def show(doc_id: str, store: Path | None, as_json: bool) -> None:
    """Show one article with its metadata."""
    article = open_kb(store).article(doc_id)
    if as_json:
        emit(article)
        return
    click.echo(article.title)
    for key in ("source", "outlet", "date", "date_text", "reporter", "regions", "ingested_at"):
        value = article.metadata.get(key)
        if value:
            click.echo(f"{key}: {'; '.join(value) if isinstance(value, list) else value}")
    click.echo(f"chunks: {article.chunks}\n\n{article.text}")


@cli.command()
@store_option
@json_option
def status(store: Path | None, as_json: bool) -> None:
    """Articles, chunks, embedder and store location."""
    info = open_kb(store).status()
    if as_json:
        emit(info)
        return
    for key, value in info.items():
        click.echo(f"{key}: {value}")


@cli.command()
@click.argument("doc_id")
@store_option
def delete(doc_id: str, store: Path | None) -> None:
    """Delete an article and its chunks."""
    open_kb(store).delete(doc_id)
    click.echo(f"deleted {doc_id}")


@cli.command()
@store_option
def rebuild(store: Path | None) -> None:
    """Re-embed every stored chunk with the configured embedder (after changing it)."""
    count = open_kb(store).rebuild(progress=sys.stderr.isatty())
    click.echo(f"re-embedded {count} chunks")


@cli.command()
@click.option("--repair", is_flag=True, help="Mend what the store allows; name what to re-ingest.")
@click.option(
    "--prune-missing", is_flag=True, help="Delete the articles whose source file is missing."
)
@store_option
@json_option
def check(repair: bool, prune_missing: bool, store: Path | None, as_json: bool) -> None:
    """Verify the store: embedder, registry, chunks, keyword index (exit 1: problems left).

    Articles whose source file is missing are listed as information (exit 0)."""
    report = open_kb(store).check(repair=repair, prune_missing=prune_missing)
    if as_json:
        emit(report)
    else:
        for doc_id, source in report.missing_sources:
            click.echo(f"source missing: {doc_id}: {source or '(none recorded)'}")
        for doc_id in report.pruned:
            click.echo(f"deleted (source missing): {doc_id}")
        if report.missing_sources:
            click.echo(
                "articles whose source is missing stay searchable; "
                "'kb check --prune-missing' deletes them",
                err=True,
            )
        for problem in report.problems:
            mark = "mended" if problem.mended else "problem"
            click.echo(f"{mark}: {problem.kind}: {problem.detail}")
        for source in report.reingest:
            click.echo(f"ingest again: {source}")
        click.echo(report.summary())
        if not report.ok and not repair:
            click.echo("run 'kb check --repair' to mend what can be mended", err=True)
    if not report.ok:
        sys.exit(1)


@cli.command(name="eval")
@click.argument("questions", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--corpus",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Ingest this corpus into a throw-away store and evaluate on it (else: the store).",
)
@click.option("-k", "k", default=10, show_default=True, help="Ranking depth.")
@click.option("--split", default=None, help="Only questions of this split (e.g. valid).")
@click.option("--answers", is_flag=True, help="Also ask every question and score the answers.")
@click.option(
    "--reader",
    is_flag=True,
    help="QUESTIONS is a reading set in SQuAD 2.0 layout: score the reader alone on it.",
)
@click.option(
    "--threshold", type=float, default=None, help="With --reader: the no-answer threshold."
)
@store_option
@json_option
def eval_(
    questions: Path,
    corpus: tuple[Path, ...],
    k: int,
    split: str | None,
    answers: bool,
    reader: bool,
    threshold: float | None,
    store: Path | None,
    as_json: bool,
) -> None:
    """Retrieval metrics for QUESTIONS: the product against dense-only and plain BM25.

    With --reader: SQuAD 2.0 scores of the reader alone on a reading set (the gold paragraph
    given), the unanswerable declined against the answerable declined."""
    if reader:
        from kb.answer import mrc
        from kb.answer.reader import Reader

        model = Reader(threshold=threshold)
        result = mrc.evaluate_reader(model, mrc.load_squad(questions), model.threshold)
        if as_json:
            emit(result)
        else:
            click.echo(mrc.format_report(questions.name, result))
        return
    from kb.ops.evaluate import evaluate_files, format_answer_metrics, format_table

    report, answer_metrics = evaluate_files(
        open_kb(store),
        questions,
        corpus,
        split=split,
        k=k,
        progress=sys.stderr.isatty(),
        answers=answers,
    )
    if as_json:
        emit({"retrieval": report.metrics, "answers": answer_metrics})
        return
    click.echo(format_table(report))
    for mode, metrics in (answer_metrics or {}).items():
        click.echo(f"reader={mode}: " + format_answer_metrics(metrics))


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: KB_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default: KB_PORT, 7860).")
@click.option("--share/--no-share", default=None, help="A public Gradio link (default: KB_SHARE).")
@click.option(
    "--auth",
    default=None,
    help="A file of user:password lines, or one user:password (default: KB_AUTH). "
    "A password typed here is visible to other users of the machine: prefer a file.",
)
@click.option(
    "--language", type=click.Choice(["id", "en"]), default=None, help="UI labels (KB_UI_LANGUAGE)."
)
@store_option
def serve(
    host: str | None,
    port: int | None,
    share: bool | None,
    auth: str | None,
    language: str | None,
    store: Path | None,
) -> None:
    """Start the chat app in the browser (the same app as python app.py)."""
    from kb.ui import serve as run

    if auth and ":" in auth and not Path(auth).is_file():
        click.echo(
            "warning: a password given with --auth shows in the process list; "
            "put user:password lines in a file (chmod 600) and pass its path.",
            err=True,
        )
    run(open_app_kb(store), host=host, port=port, share=share, auth=auth, ui_language=language)


@cli.group()
def feedback() -> None:
    """Feedback users gave on answers in the app."""


@feedback.command(name="export")
@click.option(
    "--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write to this file (default: standard output).",
)
@store_option
def feedback_export(fmt: str, output: Path | None, store: Path | None) -> None:
    """Print every feedback row (question, answer, citations, rating, comment, settings)."""
    from kb.ops.feedback import FeedbackStore

    kb = open_kb(store)
    feedback = FeedbackStore(kb.settings.store)
    if not feedback.path.is_file():
        kb.store  # noqa: B018 - no feedback and no store: a mistyped path, nothing is made
    text = feedback.export(fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        click.echo(f"wrote {output}", err=True)


def main(
    argv: Sequence[str] | None = None,
    prog_name: str | None = None,
    command: click.Command | None = None,
) -> None:
    """Entry point: user errors print one line, unexpected ones point to the log.
    ``command``: run one subcommand as the program (``python -m ingest`` is ``kb ingest``)."""
    try:
        (command or cli).main(
            args=list(argv) if argv is not None else None,
            prog_name=prog_name,
            standalone_mode=False,
        )
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except KbError as e:
        click.echo(redact(f"error: {e}"), err=True)
        sys.exit(2)
    except Exception as e:
        log.exception("unexpected error")
        message = f"error: {type(e).__name__}: {e} (details in the store's kb.log)"
        click.echo(redact(message), err=True)
        sys.exit(3)
