"""Startup: from ``python app.py`` to the first answer through ``/ask``, next to the model load.

    python benchmarks/startup.py [--repeat 3] [--embedding-model M] [--quick]

A store under /tmp gets the sample articles first (not timed). Then, ``--repeat`` times,
alternating:

- model load alone (the baseline): a fresh process imports the product, takes the embedder
  from the settings and embeds one query (which loads the model); it reports the seconds
  of the load + first query, and we time the whole process from start to exit;
- the app: ``python app.py`` with ``KB_STORE`` on that store and a free port, timed from
  start until the port accepts connections and until the first answer comes back through
  ``gradio_client``'s ``/ask``; then a second question (warm); then the app's peak RSS
  (``VmHWM``) and a clean stop.

Prints medians and each as a multiple of the model-load time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    REPO,
    Table,
    add_common_args,
    machine_line,
    median,
    open_kb,
    rss_mb,
    workdir,
)

QUESTIONS = ("Siapa Kepala BPSDM Provinsi Jambi?", "Kecamatan mana yang buka layanan Jumat malam?")
TIMEOUT_S = 600

# Run in a fresh process: the model's load time, with the embedder taken from the settings.
LOAD_ONLY = """
import json, time
started = time.perf_counter()
from kb.knowledge_base import KnowledgeBase
from kb.settings import Settings
imported = time.perf_counter()
kb = KnowledgeBase(settings=Settings.from_env())
kb.embedder.embed_query("Siapa Kepala BPSDM Provinsi Jambi?")
done = time.perf_counter()
print(json.dumps({"import_s": imported - started, "load_s": done - imported}))
"""


def child_env(store: Path, model: str | None, port: int | None = None) -> dict[str, str]:
    env = dict(os.environ, KB_STORE=str(store), GRADIO_ANALYTICS_ENABLED="False")
    if model:
        env["KB_EMBEDDING_MODEL"] = model
    if port is not None:
        env["GRADIO_SERVER_PORT"] = str(port)
        env["GRADIO_SERVER_NAME"] = "127.0.0.1"
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def model_load(store: Path, model: str | None) -> dict[str, float]:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", LOAD_ONLY],
        env=child_env(store, model),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"model load failed:\n{done.stderr[-2000:]}")
    out: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**out, "wall_s": wall}


def wait_for_port(port: int, proc: subprocess.Popen[Any], deadline: float) -> None:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"app.py exited with {proc.returncode} before listening")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"app.py did not listen on port {port} within {TIMEOUT_S} s")


def reply_text(result: Any) -> str:
    """The assistant's last message in ``/ask``'s output (history, cleared textbox)."""
    history = result[0] if isinstance(result, (list, tuple)) and result else result
    if not history or not isinstance(history, list):
        raise RuntimeError(f"no conversation in the /ask output: {str(result)[:200]}")
    last = history[-1]
    content = last.get("content") if isinstance(last, dict) else last
    return str(content)


def app_run(store: Path, model: str | None, log: Path) -> dict[str, float]:
    from gradio_client import Client

    port = free_port()
    started = time.perf_counter()
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "app.py"],
            env=child_env(store, model, port),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, proc, time.monotonic() + TIMEOUT_S)
        listening = time.perf_counter() - started
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        first = reply_text(client.predict(QUESTIONS[0], [], api_name="/ask"))
        answered = time.perf_counter() - started
        if "[1]" not in first:
            raise RuntimeError(f"the first answer has no citation: {first[:300]}")
        second_started = time.perf_counter()
        reply_text(client.predict(QUESTIONS[1], [], api_name="/ask"))
        second = time.perf_counter() - second_started
        _, peak = rss_mb(proc.pid)
    except Exception as e:
        raise SystemExit(f"{e}\n--- app output ({log}):\n{log.read_text()[-3000:]}") from e
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return {"listen_s": listening, "answer_s": answered, "second_s": second, "peak_mb": peak}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_common_args(parser)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each")
    args = parser.parse_args()
    repeat = 1 if args.quick else max(1, args.repeat)

    with workdir(args.workdir, args.keep, "kb-bench-startup-") as work:
        store = work / "store"
        kb = open_kb(store, args.embedding_model)
        kb.load_samples()
        name, chunks = kb.embedder_name, kb.store.count_chunks()
        del kb
        machine = machine_line()
        loads: list[dict[str, float]] = []
        apps: list[dict[str, float]] = []
        for i in range(repeat):
            loads.append(model_load(store, args.embedding_model))
            apps.append(app_run(store, args.embedding_model, work / f"app-{i}.log"))

        def mid(runs: list[dict[str, float]], key: str) -> float:
            return median([r[key] for r in runs])

        base = mid(loads, "load_s")
        rows = [
            ("model load + first query, in process (baseline)", base),
            ("  process start to exit (imports included)", mid(loads, "wall_s")),
            ("  of which importing the product", mid(loads, "import_s")),
            ("python app.py: port open", mid(apps, "listen_s")),
            ("python app.py: first answer through /ask", mid(apps, "answer_s")),
            ("second question through /ask (warm)", mid(apps, "second_s")),
        ]
        print(
            f"store: the {chunks} chunks of the samples; embedder {name}; "
            f"median of {repeat} run(s)\n{machine}\n"
        )
        table = Table(["step", "seconds", "x model load"], [(k, s, s / base) for k, s in rows])
        print(table.render())
        print(f"\napp peak RSS (VmHWM) after two answers: {mid(apps, 'peak_mb'):,.0f} MB")


if __name__ == "__main__":
    main()
