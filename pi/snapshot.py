"""The live state the display draws: a small immutable snapshot.

The processing thread builds a new :class:`Snapshot` after each batch of frames and swaps it in
with one assignment; the display thread reads whatever snapshot is current. Nothing here holds a
lock or a reference to mutable pipeline state, so drawing can never hold up sampling.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LandingView:
    """The verdict on one landing, as soon as it is known (within ~50 ms of contact)."""

    foot: str                      # "left" | "right"
    strike: str                    # "forefoot" | "midfoot" | "rearfoot"
    strike_index: float            # % of foot length from the heel at initial contact
    t_on_s: float                  # session time of initial contact
    number: int                    # 1-based count of landings in the session (both feet)


@dataclass(frozen=True)
class FootView:
    """Per-foot figures for the display. ``None`` where not yet known."""

    foot: str
    sensors: tuple[tuple[str, float, float], ...]      # (name, x, y) of each sensor of this foot
    cop_path: tuple[tuple[float, float], ...] = ()     # (x, y) of the last landing, fractions of the foot
    last_strike: str | None = None
    last_strike_index: float | None = None
    landings: int = 0
    forefoot_pct_last20: float | None = None
    forefoot_pct_session: float | None = None
    cadence_spm: float | None = None                    # steps/min, both feet counted (2 × this foot's stride rate)
    contact_ms: float | None = None                     # median of the recent landings
    in_contact: bool = False


@dataclass(frozen=True)
class Health:
    """Sampling health counters (session.json ``health``)."""

    frames: int = 0
    late_frames: int = 0
    skipped_frames: int = 0
    bus_errors: int = 0
    rate_hz_nominal: float = 0.0
    rate_hz_achieved: float | None = None               # frames/s over the last few seconds
    rate_hz_average: float | None = None                # frames/s since sampling began (the session's)
    chips_missing: tuple[str, ...] = ()                 # kit chips not answering right now


@dataclass(frozen=True)
class Snapshot:
    """Everything the live display shows, at one instant."""

    source: str                                         # e.g. "sim", "replay", "ads"
    session_dir: str
    elapsed_s: float
    health: Health
    feet: tuple[FootView, ...]
    last_landing: LandingView | None = None
    landings: int = 0
    forefoot_pct_last20: float | None = None
    forefoot_pct_session: float | None = None
    notice: str | None = None                           # e.g. "no kit found: using the simulated insole"
    stopping: bool = False
    recent: tuple[LandingView, ...] = field(default_factory=tuple)   # newest last, at most ~10
    disk_left_s: float | None = None                    # until the disk is full at this rate (None: not known)
    #: a replay: (the recording's time now, its length, s; the speed): the screen shows these
    #: rather than the wall clock
    replay: tuple[float, float, float] | None = None
