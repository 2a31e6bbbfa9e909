"""``insole drawings``: the kit's schematic, wiring table and placement templates, drawn from
the kit configuration so they cannot disagree with it.

Into ``OUT`` (default: the repository's ``hardware/`` for the template kit,
``hardware/kit-default.toml``; ``./drawings`` for any other kit, so that your own kit's drawings
never overwrite the committed ones):

* ``schematic.svg``: :mod:`pi.drawings.schematic` (schemdraw);
* ``wiring.md`` and ``wiring.csv``: :mod:`pi.drawings.wiring` (sensor → divider → chip input →
  Pi header pin), with the divider check of :mod:`pi.drawings.divider`;
* ``templates/insole-EU<size>-<foot>[-page<n>].svg``: :mod:`pi.drawings.templates`, 1:1 on A4.

The files committed in ``hardware/`` are those of ``hardware/kit-default.toml``; a test checks
they are what this command makes of it now.
"""

from __future__ import annotations

import re
from pathlib import Path

from analysis.errors import UsageError

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "hardware"   # the template's drawings only
OWN_KIT_OUT = Path("drawings")                                    # any other kit's, in the current folder
SIZE_RANGE = (30, 50)


def generate(kit, out_dir: Path, sizes=None) -> list[Path]:
    """Write every drawing of ``kit`` into ``out_dir``; returns the files written."""
    from pi.drawings.schematic import draw
    from pi.drawings.templates import EU_SIZES, write_templates
    from pi.drawings.wiring import to_csv, to_markdown
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in (("schematic.svg", draw(kit)), ("wiring.md", to_markdown(kit)), ("wiring.csv", to_csv(kit))):
        path = out_dir / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written + write_templates(kit, out_dir / "templates", EU_SIZES if sizes is None else sizes)


def parse_sizes(text: str) -> list[int]:
    """``"36-47"`` or ``"38,40,42"`` (or both, comma-separated) → EU sizes, checked."""
    sizes: list[int] = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not m:
            raise UsageError(f"--sizes: expected EU sizes such as 36-47 or 38,40,42, got {text!r}")
        lo, hi = int(m[1]), int(m[2] or m[1])
        if not SIZE_RANGE[0] <= lo <= hi <= SIZE_RANGE[1]:
            raise UsageError(f"--sizes: EU sizes from {SIZE_RANGE[0]} to {SIZE_RANGE[1]}, low to high; got {part.strip()!r}")
        sizes += [s for s in range(lo, hi + 1) if s not in sizes]
    return sizes


def drawings_main(args) -> int:
    from pi.kit import DEFAULT_KIT_PATH, load_kit
    kit = load_kit(args.config)
    sizes = parse_sizes(args.sizes) if args.sizes else None
    template = Path(kit.path).resolve() == DEFAULT_KIT_PATH.resolve()
    out = Path(args.out) if args.out else DEFAULT_OUT if template else OWN_KIT_OUT
    try:
        written = generate(kit, out, sizes)
    except OSError as e:
        from analysis.errors import InsoleError
        raise InsoleError(f"cannot write the drawings into {out}: {e.strerror or e}") from e
    n_templates = sum(1 for p in written if p.parent.name == "templates")
    print(f"drew {kit.path.name} into {out}: schematic.svg, wiring.md, wiring.csv and "
          f"{n_templates} placement templates in templates/ (print them at 100 %)")
    if not args.out and not template:
        print(f"  (into ./{OWN_KIT_OUT}, not hardware/: hardware/ keeps the drawings of the template "
              f"{DEFAULT_KIT_PATH.name}; --out DIR chooses the folder)")
    return 0
