"""Simultaneous chat users against a served app, through its ``/ask`` API endpoint.

    python benchmarks/load.py --url http://127.0.0.1:7860/ [--users 20] [--seconds 60]

Each user is a thread with its own ``gradio_client.Client``; all start together and ask
questions from a list (each user starting at a different one), one after another, until the
time is up; a question still in flight then is waited for. Every answer is checked: no
error, and the conversation returned holds this user's question and the same answer a lone
user got for it before the run (so answers cannot be mixed up between users).

The baseline, measured in the same run: one user asking each question once. Prints requests
done, requests per second, p50 and p95 latency in milliseconds, and the p50 under load as a
multiple of the lone user's p50 (a ratio, so runs on different machines compare). Not a
test: ``tests/e2e/test_load.py`` runs the same thing against a freshly served app.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLE_QUESTIONS = Path(__file__).resolve().parents[1] / "tests" / "data" / "sample_questions.jsonl"
REQUEST_TIMEOUT_S = 180.0  # one answer; far beyond what a working server needs


@dataclass
class LoadResult:
    """What a load run measured: per-request latencies (seconds) and the errors seen."""

    users: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    per_user: list[int] = field(default_factory=list)
    wall: float = 0.0

    @property
    def done(self) -> int:
        return len(self.latencies)

    def percentile(self, q: float) -> float:
        """The q-th percentile latency in seconds (nearest-rank); nan with no request."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(1, round(q / 100 * len(ordered)))
        return ordered[min(rank, len(ordered)) - 1]

    def summary(self) -> dict[str, Any]:
        """The figures as plain JSON-ready values (milliseconds)."""
        return {
            "users": self.users,
            "seconds": self.seconds,
            "wall_seconds": round(self.wall, 2),
            "requests_done": self.done,
            "errors": len(self.errors),
            "requests_per_second": round(self.done / self.wall, 2) if self.wall else 0.0,
            "p50_ms": round(self.percentile(50) * 1000, 1),
            "p95_ms": round(self.percentile(95) * 1000, 1),
            "max_ms": round(max(self.latencies, default=float("nan")) * 1000, 1),
            "fewest_per_user": min(self.per_user, default=0),
        }


def message_text(content: Any) -> str:
    """The text of a chat message's content (a string, or Gradio's list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or content.get("value") or "")
    if isinstance(content, list):
        return "\n".join(message_text(part) for part in content)
    return str(content or "")


def conversation(result: Any) -> list[dict[str, Any]]:
    """The chat history in ``/ask``'s output (its first output that is a list of messages)."""
    outputs = result if isinstance(result, tuple) else (result,)
    for output in outputs:
        last = output[-1] if isinstance(output, list) and output else None
        if isinstance(last, dict) and "role" in last:
            return output
    raise ValueError(f"no conversation in the /ask output: {str(result)[:200]}")


def answer_of(question: str, result: Any) -> str:
    """The answer ``/ask`` gave to ``question``; raises ValueError when it is not there."""
    history = conversation(result)
    asked = [message_text(m["content"]) for m in history if m.get("role") == "user"]
    if not asked or asked[-1].strip() != question.strip():
        raise ValueError(f"the conversation returned is not this question's: {asked[-1:]}")
    answer = message_text(history[-1]["content"]) if history[-1]["role"] == "assistant" else ""
    if not answer.strip():
        raise ValueError("empty answer")
    return answer


def connect(url: str) -> Any:
    from gradio_client import Client

    return Client(url, verbose=False)


def ask(client: Any, question: str) -> Any:
    """One ``/ask`` call (question, empty history, default filters), bounded in time."""
    return client.submit(question, [], api_name="/ask").result(timeout=REQUEST_TIMEOUT_S)


def baseline(url: str, questions: Sequence[str]) -> tuple[dict[str, str], LoadResult]:
    """One lone user asking each question once: the expected answers and their latencies."""
    client = connect(url)
    ask(client, questions[0])  # warm-up: the first call pays for one-off costs
    expected: dict[str, str] = {}
    result = LoadResult(users=1, seconds=0.0, per_user=[0])
    started = time.perf_counter()
    for question in questions:
        t0 = time.perf_counter()
        expected[question] = answer_of(question, ask(client, question))
        result.latencies.append(time.perf_counter() - t0)
    result.wall = time.perf_counter() - started
    result.per_user[0] = len(questions)
    return expected, result


def run_load(
    url: str,
    questions: Sequence[str],
    users: int,
    seconds: float,
    check: Callable[[str, Any], None] | None = None,
) -> LoadResult:
    """``users`` threads ask ``questions`` through ``/ask`` for ``seconds``.

    Args:
        url: the served app, ``http://host:port/``.
        questions: asked in turn by each user, user i starting at question i.
        users: simultaneous users (one thread and one client each).
        seconds: how long users keep asking; the last question of each is waited for.
        check: called with each question and ``/ask``'s output; raising marks an error.

    Returns:
        The latencies of the requests that succeeded and a message per failed one.
    """
    result = LoadResult(users=users, seconds=seconds, per_user=[0] * users)
    lock = threading.Lock()
    clients = [connect(url) for _ in range(users)]  # before the clock: not part of the load
    start = threading.Barrier(users + 1)
    deadline = 0.0

    def user(n: int) -> None:
        start.wait()
        i = n
        while time.perf_counter() < deadline:
            question = questions[i % len(questions)]
            i += 1
            t0 = time.perf_counter()
            try:
                output = ask(clients[n], question)
                if check is not None:
                    check(question, output)
            except Exception as e:  # every failure is counted, none stops the run
                with lock:
                    result.errors.append(f"user {n}: {question!r}: {type(e).__name__}: {e}")
                continue
            elapsed = time.perf_counter() - t0
            with lock:
                result.latencies.append(elapsed)
                result.per_user[n] += 1

    threads = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - began
    for client in clients:
        close = getattr(client, "close", None)
        if callable(close):
            close()
    return result


def load_questions(path: Path = SAMPLE_QUESTIONS, lang: str = "id") -> list[str]:
    """The questions of one language from a questions jsonl (field ``question``)."""
    rows = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    return [r["question"] for r in rows if r.get("lang", lang) == lang]


def checker(expected: dict[str, str]) -> Callable[[str, Any], None]:
    """A check that each answer is the lone user's answer to the same question."""

    def check(question: str, output: Any) -> None:
        got = answer_of(question, output)
        if got != expected[question]:
            raise ValueError(f"answer differs from the lone user's: {got[:120]!r}")

    return check


def format_table(alone: LoadResult, loaded: LoadResult) -> str:
    """Requests, throughput and latency of the lone user and the loaded run, with ratios."""
    base = alone.percentile(50)
    lines = [f"{'run':<12} {'requests':>8} {'errors':>6} {'req/s':>6} "
             f"{'p50 ms':>8} {'p95 ms':>8} {'p50 x lone':>10}"]  # fmt: skip
    for label, run in (("1 user", alone), (f"{loaded.users} users", loaded)):
        s = run.summary()
        lines.append(
            f"{label:<12} {s['requests_done']:>8} {s['errors']:>6} "
            f"{s['requests_per_second']:>6} {s['p50_ms']:>8} {s['p95_ms']:>8} "
            f"{run.percentile(50) / base:>10.2f}"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--url", required=True, help="the served app, http://host:port/")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--questions", type=Path, default=SAMPLE_QUESTIONS)
    parser.add_argument("--lang", default="id", help="only questions of this language")
    args = parser.parse_args()
    if args.users <= 0 or args.seconds <= 0:
        parser.error("--users and --seconds must be positive")
    questions = load_questions(args.questions, args.lang)
    if not questions:
        parser.error(f"no '{args.lang}' question in {args.questions}")
    expected, alone = baseline(args.url, questions)
    loaded = run_load(args.url, questions, args.users, args.seconds, checker(expected))
    print(f"{args.url}: {len(questions)} questions, {args.users} users for {args.seconds:g} s")
    print(format_table(alone, loaded))
    for error in loaded.errors[:10]:
        print("error:", error)


if __name__ == "__main__":
    main()
