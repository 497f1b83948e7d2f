"""The served app's /ask endpoint, with and without a login."""

from __future__ import annotations

from pathlib import Path

from conftest import samples_kb

from kb.ui import build_app
from kb.ui.serving import launch_options

JAMBI_Q = "Siapa Kepala BPSDM Provinsi Jambi?"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_served_ask_endpoint_with_and_without_login(tmp_path: Path) -> None:
    """``/ask`` through gradio_client, as the README shows it; with a login, an
    unauthenticated request is refused."""
    import httpx
    from gradio_client import Client

    kb = samples_kb(tmp_path / "store")
    app = build_app(kb)
    options = launch_options(kb.settings, "127.0.0.1", _free_port(), auth="camat:rahasia")
    app.launch(**options, prevent_thread_lock=True, quiet=True)
    url = f"http://127.0.0.1:{options['server_port']}/"
    try:
        refused = httpx.post(url + "gradio_api/call/ask", json={"data": [JAMBI_Q, []]})
        assert refused.status_code in (401, 403), refused.text[:200]
        assert httpx.get(url + "config").status_code in (401, 403)
        client = Client(url, auth=("camat", "rahasia"), verbose=False)
        history, answer, *_ = client.predict(JAMBI_Q, [], "Jambi", "", "", "", api_name="/ask")
        assert history[-1]["role"] == "assistant"
        assert "[[1]](#source-1)" in history[-1]["content"][0]["text"]
        assert answer["citations"][0]["n"] == 1 and answer["abstained"] is False
        assert client.predict(JAMBI_Q, [], api_name="/ask")[1]["text"] == answer["text"]
        # A follow-up: the conversation goes back in as it came out.
        history, follow_up, *_ = client.predict("Siapa kepala badannya?", history, api_name="/ask")
        assert len(history) == 4 and "Iskandar Nasuti" in follow_up["text"]
    finally:
        app.close()
