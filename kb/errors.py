"""Errors a user can cause. Each message says what was wrong and what to do."""


class KbError(Exception):
    """Base class: the CLI and the UI show its message as one line, without a traceback."""


class ConfigError(KbError):
    """A setting or argument has a value the product cannot use."""


class StoreLockedError(KbError):
    """Another process is writing to the same store."""


class EmbedderMismatchError(KbError):
    """The store was built with another embedding model than the one configured."""


class NotFoundError(KbError):
    """An article or file named by the user does not exist."""


class StoreMissingError(NotFoundError):
    """No knowledge base at the store path (or collection) given: nothing is created."""


class QuestionError(KbError):
    """A question that holds nothing to search for (empty, only invisible characters)."""


class ModelError(KbError):
    """The chat model (``KB_LLM``) could not be reached or refused the request."""
