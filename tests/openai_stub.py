"""A tiny OpenAI-compatible chat server for tests: scripted replies, recorded requests.

Only ``POST /v1/chat/completions`` is served, non-streamed (a ``chat.completion`` JSON) and
streamed (server-sent ``chat.completion.chunk`` events, then ``data: [DONE]``).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class OpenAIStub:
    """Start with ``start()``; queue replies with ``script(...)``; read ``requests``."""

    def __init__(self, piece_chars: int = 7) -> None:
        self.replies: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.piece_chars = piece_chars
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- test side ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._server is not None, "the stub is not started"
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *replies: str) -> None:
        with self._lock:
            self.replies.extend(replies)

    def messages(self, i: int) -> list[dict[str, Any]]:
        """The messages of the ``i``-th request received."""
        return list(self.requests[i]["messages"])

    def start(self) -> OpenAIStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self._send_json(400, {"error": {"message": "bad json", "type": "invalid"}})
                    return
                with stub._lock:
                    stub.paths.append(self.path)
                    stub.requests.append(body)
                    reply = stub.replies.popleft() if stub.replies else None
                if self.path.rstrip("/") != "/v1/chat/completions":
                    self._send_json(404, {"error": {"message": "not found", "type": "invalid"}})
                    return
                if reply is None:
                    self._send_json(
                        500, {"error": {"message": "no scripted reply left", "type": "server"}}
                    )
                    return
                model = str(body.get("model") or "stub")
                if body.get("stream"):
                    self._stream(reply, model, body)
                else:
                    self._send_json(200, _completion(reply, model))

            def _send_json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _stream(self, reply: str, model: str, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                n = stub.piece_chars
                pieces = [reply[i : i + n] for i in range(0, len(reply), n)]
                events = [_chunk(model, {"role": "assistant", "content": ""})]
                events += [_chunk(model, {"content": p}) for p in pieces]
                events.append(_chunk(model, {}, finish_reason="stop"))
                if (body.get("stream_options") or {}).get("include_usage"):
                    events.append({**_chunk(model, {}), "choices": [], "usage": _usage()})
                for event in events:
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


def _usage() -> dict[str, int]:
    return {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": _usage(),
    }


def _chunk(model: str, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": None}],
    }
