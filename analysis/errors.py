"""The project's exceptions: one small tree, each with a standard parent as well.

Every error a user can cause is an ``InsoleError``; the command line prints its message on one
line (``insole: error: …``) and never a traceback, unless ``INSOLE_DEBUG=1``.
"""


class InsoleError(Exception):
    """Base of every error the project raises on purpose."""

    #: process exit status the command line uses for this error (1 = runtime, 2 = usage)
    exit_status = 1


class UsageError(InsoleError, ValueError):
    """A bad command-line value (unknown pattern, out-of-range number, …)."""

    exit_status = 2


class ConfigError(InsoleError, ValueError):
    """A kit configuration or layout that is wrong; the message names the key at fault."""


class SessionError(InsoleError, OSError):
    """A session folder that is missing, malformed or cannot be written."""


class BusError(InsoleError, OSError):
    """An I2C transaction that failed (EIO, NACK, a chip that vanished)."""


class FileFormatError(InsoleError, ValueError):
    """Another system's recording that cannot be imported as it is (a missing or extra column,
    a bad cell, time that goes back); the message names the file, the line and the column."""
