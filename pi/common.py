"""What the commands share: where sessions go by default, and how an error is told.

A leaf module (it imports nothing of ``pi``), so that any command, the runtime and the boot
service can use it without an import circle.
"""

from __future__ import annotations

import os
import sys
import traceback

from analysis.errors import InsoleError

DEFAULT_OUT = "sessions"      # where `insole run` saves sessions and `insole sessions` looks


def report_error(e: Exception) -> int:
    """Print ``e`` as one line, ``insole: error: …``, on stderr, never a traceback (unless
    ``INSOLE_DEBUG=1``); returns the exit status it calls for (2 usage, 1 runtime)."""
    if os.environ.get("INSOLE_DEBUG") == "1":
        traceback.print_exception(e)
    status = e.exit_status if isinstance(e, InsoleError) else 1
    msg = str(e) if isinstance(e, InsoleError) else f"{type(e).__name__}: {e} (INSOLE_DEBUG=1 shows the details)"
    print(f"insole: error: {msg}", file=sys.stderr, flush=True)
    return status
