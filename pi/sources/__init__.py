"""Frame sources behind one small interface, chosen by name.

A source has ``kind``, ``layout`` (analysis.layout.Layout), ``rate_hz`` (nominal frames/s; ``pace_hz``, if present, is the pace frames are handed out at),
``integer_values`` (stored values are ADC counts), ``own_clock`` (True when it stamps its own
frame times, as the simulator and replay do), ``describe()`` (the ``source`` entry of
session.json), ``read(n)`` → ``(t_s or None, values (n, n_sensors))`` and ``close()``.
A source reading hardware returns ``t_s=None`` and the sampler stamps frames with its clock.

Sources are imported lazily, so a vendor library is imported only when its source is chosen
(only the ads source imports Blinka/adafruit).
"""

from __future__ import annotations

import importlib

from analysis.errors import UsageError

#: name → (module, factory function)
REGISTRY = {
    "sim": ("pi.sources.sim", "open_source"),
    "replay": ("pi.sources.replay", "open_source"),
    "ads": ("pi.sources.ads", "open_source"),
    "emulated": ("pi.sources.ads", "open_emulated"),
}
PLANNED: dict[str, str] = {}
NAMES = ("sim", "emulated", "ads", "replay")


def open_source(name: str, **options):
    """Build the source called ``name`` with its options (kit, session, speed, …)."""
    if name in PLANNED:
        raise UsageError(f"--source {name} ({PLANNED[name]}) is not available yet in this version; "
                         f"use --source sim or --source replay")
    if name not in REGISTRY:
        raise UsageError(f"unknown source {name!r}; choose one of {', '.join(NAMES)}")
    module, factory = REGISTRY[name]
    return getattr(importlib.import_module(module), factory)(**options)
