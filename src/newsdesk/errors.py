"""Exception types shared across the pipeline.

Every error a user can see carries a one-line message naming the culprit
(a feed URL, a file path, a config key).
"""

from __future__ import annotations


class NewsdeskError(Exception):
    """Base class for errors newsdesk reports to the user."""


class ConfigError(NewsdeskError):
    """The configuration file is missing, unparsable or invalid."""


class FeedError(NewsdeskError):
    """A feed could not be fetched or parsed. The message names the feed."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class DocumentError(NewsdeskError):
    """A document could not be loaded (broken PDF, unreadable file...)."""
