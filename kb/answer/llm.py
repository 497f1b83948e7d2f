"""Chat models: loading one from the ``KB_LLM`` setting, the prompts (package data in
``prompts/``), the passages as the model reads them, and its errors as users see them."""

from __future__ import annotations

import contextlib
import logging
import re
import traceback
from collections.abc import Iterator, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any

from langchain_core.messages import HumanMessage, SystemMessage

from kb.errors import ConfigError, KbError, ModelError
from kb.ops.redact import redact
from kb.types import Hit

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


def prompt_text(name: str) -> str:
    return (resources.files("kb.answer") / "prompts" / name).read_text(encoding="utf-8")


def load_chat_model(spec: str, given_as: str = "KB_LLM") -> Any:
    """A LangChain chat model from ``provider:model`` (``ollama:qwen2.5:7b``, ``openai:gpt-4o``);
    ``given_as`` names where the value came from in error messages (``KB_LLM``, ``--llm``)."""
    provider, _, model = spec.partition(":")
    if not provider or not model:
        raise ConfigError(f"{given_as}={spec!r}: use provider:model, e.g. ollama:qwen2.5:7b")
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(model, model_provider=provider, temperature=0)
    except ImportError as e:
        raise ConfigError(
            f"the {provider!r} chat models need an extra package: pip install "
            f"'kb-inovasi[{provider}]' (or langchain-{provider})"
        ) from e
    except ValueError as e:
        raise ConfigError(f"{given_as}={spec!r}: {e}") from e


_TAG = re.compile(r"</?\s*passage", re.IGNORECASE)


def message_text(message: Any) -> str:
    """A chat model reply as text (content may be a string or a list of blocks)."""
    text = getattr(message, "text", None)
    if isinstance(text, str):
        return text
    return str(getattr(message, "content", message))


def format_passages(hits: Sequence[Hit]) -> str:
    """Numbered passages inside delimiters; neither title nor text can close a delimiter."""
    blocks = []
    for n, hit in enumerate(hits, 1):
        title = _TAG.sub("[passage", " ".join(hit.title.split())).replace('"', "'")
        body = _TAG.sub("[passage", hit.text)
        blocks.append(f'<passage n="{n}" title="{title}">\n{body}\n</passage>')
    return "\n\n".join(blocks)


def llm_messages(question: str, hits: Sequence[Hit]) -> list[Any]:
    human = prompt_text("passages.txt").format(passages=format_passages(hits), question=question)
    return [SystemMessage(prompt_text("answer.txt")), HumanMessage(human)]


@contextlib.contextmanager
def model_errors() -> Iterator[None]:
    """A failing chat model call (refused key, server down) becomes a one-line ``ModelError``.

    Servers echo the key they were given in their error text, so the message and the log line
    are redacted, and the original exception is not chained (a traceback printed later would
    show it unredacted)."""
    try:
        yield
    except KbError:
        raise
    except Exception as e:
        log.warning("the chat model failed: %s", redact(traceback.format_exc()))
        reason = redact(" ".join(str(e).split()))[:200] or type(e).__name__
        raise ModelError(
            f"the chat model did not answer ({type(e).__name__}: {reason}): check KB_LLM, "
            "the API key and OPENAI_BASE_URL, or leave KB_LLM empty for extractive answers"
        ) from None


def model_name(llm: Any) -> str:
    for attr in ("model_name", "model", "model_id"):
        value = getattr(llm, attr, None)
        if isinstance(value, str) and value:
            return value
    return type(llm).__name__
