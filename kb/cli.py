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
from kb.filters import from_fields
from kb.knowledge_base import KnowledgeBase
from kb.redact import RedactingFormatter, redact
from kb.settings import Settings
from kb.types import Hit, to_jsonable

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


def open_kb(store: Path | None) -> KnowledgeBase:
    settings = Settings.from_env(store=store)
    _log_to_file(Path(settings.store))
    return KnowledgeBase(settings=settings)


def _log_to_file(folder: Path) -> None:
    """Tracebacks go to ``<store>/kb.log``, never to the user's terminal."""
    if any(isinstance(h, logging.FileHandler) for h in log.handlers):
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
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
    """Ingest files and folders (txt, md, html, pdf, docx, jsonl)."""
    report = open_kb(store).ingest(paths, prune=prune, progress=sys.stderr.isatty())
    if as_json:
        emit(report)
    else:
        for failure in report.failed:
            where = failure.source + (f":{failure.line}" if failure.line else "")
            click.echo(f"failed: {where}: {failure.reason}", err=True)
        click.echo(report.summary())
    if not report.ok:
        sys.exit(1)


@cli.command()
@click.argument("query")
@click.option("-k", "k", default=5, show_default=True, help="Number of results.")
@filter_options
@click.option("--per-article", default=1, show_default=True, help="Passages per article (0: any).")
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
    hits = open_kb(store).retrieve(query, k, filters, per_article=per_article or None)
    if as_json:
        emit(hits)
        return
    if not hits:
        click.echo("no passage found")
    for n, hit in enumerate(hits, 1):
        click.echo(_format_hit(n, hit))


def _format_hit(n: int, hit: Hit) -> str:
    meta = hit.metadata
    facts = [str(meta[k]) for k in ("outlet", "date") if meta.get(k)]
    head = f"[{n}] {hit.score:.3f}  {hit.title or hit.doc_id}  ({hit.doc_id})"
    if facts:
        head += "  " + " · ".join(facts)
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
    answer = open_kb(store).ask(question, filters=filters, llm=llm)
    if as_json:
        emit(answer)
        return
    click.echo(answer.text)
    if answer.citations:
        click.echo("\nSumber:")
        for c in answer.citations:
            facts = " · ".join(x for x in (c.outlet, c.date) if x)
            click.echo(f"[{c.n}] {c.title} ({c.doc_id}){'  ' + facts if facts else ''}")
            click.echo(f"    “{c.quote}”")
    elif answer.hits:
        click.echo("\nBagian laporan yang paling dekat:")
        for n, hit in enumerate(answer.hits[:3], 1):
            click.echo(_format_hit(n, hit))


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
@store_option
@json_option
def check(repair: bool, store: Path | None, as_json: bool) -> None:
    """Verify the store: embedder, registry, chunks, keyword index (exit 1: problems left)."""
    report = open_kb(store).check(repair=repair)
    if as_json:
        emit(report)
    else:
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
        from kb import mrc
        from kb.reader import Reader

        model = Reader(threshold=threshold)
        result = mrc.evaluate_reader(model, mrc.load_squad(questions), model.threshold)
        if as_json:
            emit(result)
        else:
            click.echo(mrc.format_report(questions.name, result))
        return
    from kb.evaluate import evaluate_files, format_answer_metrics, format_table

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
    run(open_kb(store), host=host, port=port, share=share, auth=auth, ui_language=language)


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
    from kb.feedback import FeedbackStore

    settings = Settings.from_env(store=store)
    text = FeedbackStore(settings.store).export(fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8", newline="")
        click.echo(f"wrote {output}", err=True)


def main(argv: Sequence[str] | None = None, prog_name: str | None = None) -> None:
    """Entry point: user errors print one line, unexpected ones point to the log."""
    try:
        cli.main(
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
