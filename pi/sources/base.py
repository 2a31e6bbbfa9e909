"""What every frame source is: :class:`FrameSource`, with the defaults a source that does not
need a capability leaves alone, so the sampler and the runtime ask a source, never probe it."""

from __future__ import annotations


class FrameSource:
    """A source of frames (see :mod:`pi.sources`).

    A subclass sets ``kind``, ``layout`` (analysis.layout.Layout) and ``rate_hz`` (nominal
    frames/s) and implements :meth:`read`; the rest it overrides where it differs.
    """

    kind = "?"
    integer_values = True       # stored values are ADC counts
    own_clock = False           # it stamps its frame times itself (the simulator, a replay)
    drops_late_frames = True    # frames due while the sampler was late are lost (False: read late)
    wants_realtime = False      # the thread reading it asks for real-time scheduling
    remote = False              # sampled in a process of its own: ``sampler(sink, duration_s)``
    #: set by the sampler: frames go on without a chip that stopped answering (its cells empty),
    #: where the source can do that (the chips)
    partial_frames = False
    missing_chips: tuple | list = ()   # chips not answering now, while frames go on without them
    bus_errors = 0
    _pace_hz: float | None = None

    @property
    def pace_hz(self) -> float:
        """The pace frames are handed out at (a replay at 4× is four times its ``rate_hz``)."""
        return self.rate_hz if self._pace_hz is None else self._pace_hz

    @pace_hz.setter
    def pace_hz(self, hz: float) -> None:
        self._pace_hz = float(hz)

    @property
    def bus_errors_total(self) -> int:
        """Failed bus transactions so far, all parts of the source counted."""
        return self.bus_errors

    def read(self, n: int):
        """``(t_s or None, values (n, n_sensors))``: the next ``n`` frames (None: the sampler
        stamps them with its clock); none once the source has run out."""
        raise NotImplementedError

    def describe(self) -> dict:
        """The ``source`` entry of session.json."""
        return {"kind": self.kind}

    def body_mass_kg(self, kit_mass_kg: float | None) -> float | None:
        """The subject's body mass for this session: the kit's, unless the source knows the
        subject (a replay: the recorded one)."""
        return kit_mass_kg

    def progress(self) -> tuple[float, float, float] | None:
        """(its first frame's t_s, s in all, speed) of a recording being played, else None."""
        return None

    def markers_until(self, t_s: float) -> list[tuple[float, str]]:
        """Markers up to ``t_s`` not handed out yet, (t_s, label): a replay's recorded ones."""
        return []

    def callback_cpu_s(self) -> float | None:
        """CPU seconds its callbacks (a pin library's thread) used, where it knows."""
        return None

    def close(self) -> None:
        """Stop and let go of what it holds."""
