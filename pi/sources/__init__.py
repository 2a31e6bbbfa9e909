"""Frame sources behind one small interface, chosen by name.

Every source is a :class:`pi.sources.base.FrameSource`: ``kind``, ``layout``, ``rate_hz``,
``read(n)`` → ``(t_s or None, values (n, n_sensors))``, and the capabilities with their defaults
(``pace_hz``, ``own_clock``, ``describe()``, ``progress()``, ``close()`` …). A source reading
hardware returns ``t_s=None`` and the sampler stamps frames with its clock. ``NAMES``, the
choices the command line offers, are the registry's names.

Sources are imported lazily, so a vendor library is imported only when its source is chosen
(only the ads source imports Blinka/adafruit).
"""

from __future__ import annotations

import importlib

from analysis.errors import UsageError

#: name → (module, factory function)
REGISTRY = {
    "sim": ("pi.sources.sim", "open_source"),
    "emulated": ("pi.sources.ads", "open_emulated"),
    "ads": ("pi.sources.ads", "open_source"),
    "replay": ("pi.sources.replay", "open_source"),
}
PLANNED: dict[str, str] = {}
NAMES = tuple(REGISTRY)


def open_source(name: str, **options):
    """Build the source called ``name`` with its options (kit, session, speed, …)."""
    if name in PLANNED:
        raise UsageError(f"--source {name} ({PLANNED[name]}) is not available yet in this version; "
                         f"use --source sim or --source replay")
    if name not in REGISTRY:
        raise UsageError(f"unknown source {name!r}; choose one of {', '.join(NAMES)}")
    module, factory = REGISTRY[name]
    return getattr(importlib.import_module(module), factory)(**options)
