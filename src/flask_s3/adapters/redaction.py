"""Keeping credentials out of logs, botocore's included.

At DEBUG level botocore logs each request's headers and canonical request,
which carry the session token; an app that turns on debug logging to chase a
failed deploy would write its credentials into the log. A filter on every
boto logger replaces the secret key and the token with ``***``.
"""

from __future__ import annotations

import logging

_PREFIXES = ("botocore", "boto3", "s3transfer", "urllib3")
_SHORTEST_SECRET = 8
"""AWS secret keys are 40 characters; replacing a shorter string (a test's
'x') would mangle every record instead of hiding anything."""


class _Redact(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        hidden = message
        for secret in self.secrets:
            hidden = hidden.replace(secret, "***")
        if hidden != message:
            record.msg, record.args = hidden, None
        return True


_redact = _Redact()


def redact_in_logs(*secrets: str | None) -> None:
    """Hide these strings from every boto, s3transfer and urllib3 logger that
    exists now (they are created when their modules are imported)."""
    _redact.secrets.update(
        secret for secret in secrets if secret and len(secret) >= _SHORTEST_SECRET
    )
    for name in list(logging.root.manager.loggerDict):
        if name.split(".")[0] in _PREFIXES:
            logger = logging.getLogger(name)
            if _redact not in logger.filters:
                logger.addFilter(_redact)
