"""The ``insole`` command line (DESIGN.md contract 1): a thin ``main(argv) -> int`` over the library.

Every bad input ends in one line, ``insole: error: …``, on stderr and exit status 2 (usage) or 1
(runtime), never a traceback; ``INSOLE_DEBUG=1`` shows the traceback.
"""

from __future__ import annotations

import argparse
import importlib
import math
import sys

from analysis import __version__
from analysis.errors import InsoleError, UsageError
from analysis.importers import FORMATS as IMPORT_FORMATS
from pi.common import DEFAULT_OUT, report_error
from pi.emulator.boards import BOARDS, DEFAULT_BOARD
from pi.sources import NAMES as SOURCE_NAMES
from pi.simulator import DIRECTIONS, PATTERNS, SIM_DEFAULTS
from pi.simulator import FEET_CHOICES as FEET

BOARD_NAMES = tuple(BOARDS)


class _Parser(argparse.ArgumentParser):
    """argparse, but its errors go through our one-line format."""

    def error(self, message: str):
        raise UsageError(f"{message} (see: {self.prog} --help)")


def _number(kind, lo=None, hi=None, name="value", lo_open=False):
    def parse(text: str):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number, got {text!r}")
        if kind is float and not math.isfinite(v):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if lo is not None and (v <= lo if lo_open else v < lo):
            raise argparse.ArgumentTypeError(f"must be {'above' if lo_open else 'at least'} {lo}, got {text}")
        if hi is not None and v > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi}, got {text}")
        return v
    return parse


KIT_HELP = ("kit configuration (default: hardware/kit.toml if present, which `insole calibrate` "
            "writes, else the template hardware/kit-default.toml)")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="insole", description="Force-sensing insole logger: foot-strike classification, "
                "live display, session logs.")
    p.add_argument("--version", action="version", version=f"insole {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser("run", help="the live logger (simulated insole when no kit is attached)")
    r.add_argument("--source", choices=SOURCE_NAMES, default=None,
                   help="where frames come from (default: the kit's chips if found, else sim)")
    r.add_argument("--config", metavar="FILE", help=KIT_HELP)
    r.add_argument("--out", metavar="DIR", default=DEFAULT_OUT,
                   help=f"folder under which the session folder is made (default: ./{DEFAULT_OUT})")
    r.add_argument("--duration", metavar="S", type=_number(float, 0, 7 * 24 * 3600, lo_open=True),
                   help="stop after S seconds")
    r.add_argument("--headless", action="store_true", help="no live display: one line per landing")
    r.add_argument("--wait-for-button", action="store_true",
                   help="headless, for the boot service: wait for the kit's start/stop button to start "
                        "each session and to stop it, again and again, until stopped by a signal (with "
                        "no --source, only the kit's chips, never the simulated insole)")
    r.add_argument("--sampler", choices=("process", "thread"), default="process",
                   help="chips only: sample in a process of their own (default) or a thread beside the display")
    r.add_argument("--board", choices=BOARD_NAMES, default=None,
                   help="emulated only: the board modelled (its pin library's edge delivery, its real I2C "
                        f"clock, its Python speed; default {DEFAULT_BOARD}, the kit's board; ideal: this machine)")
    r.add_argument("--session", metavar="DIR", help="replay: the session folder to play")
    r.add_argument("--speed", metavar="X", type=_number(float, 0, 1000, lo_open=True), default=1.0,
                   help="replay: pace relative to the recording (default 1)")
    _sim_options(r, out_required=False)

    s = sub.add_parser("simulate", help="write a synthetic session as fast as possible, with truth.csv")
    s.add_argument("--out", metavar="DIR", required=True, help="the session folder to write")
    s.add_argument("--duration", metavar="S", type=_number(float, 0, 24 * 3600, lo_open=True), default=120.0,
                   help="seconds of running (default 120)")
    s.add_argument("--config", metavar="FILE", help=KIT_HELP)
    s.add_argument("--then", metavar="DIRECTION[:PATTERN]:S", action="append",
                   help="then run this way for S seconds, with a marker where it starts (a drill), e.g. "
                        "--then backward:forefoot:60 --then forward:120; repeatable")
    _sim_options(s, out_required=True)

    rep = sub.add_parser("report", help="re-analyse a session from its samples and summarise it")
    rep.add_argument("dir", metavar="DIR", help="the session folder, or DIR:SEGMENT for one part of it between "
                     "markers (its label, or its number: 0 is the part before the first marker)")
    rep.add_argument("--json", action="store_true", help="print the summary as JSON (format in the README)")
    rep.add_argument("--set", metavar="NAME=VALUE", action="append",
                     help="change a detection parameter (repeatable), e.g. --set on_floor_n=30; the names are "
                          "those of analysis.load_session")
    rep.add_argument("--out", metavar="DIR", help="also write the HTML report, its plots (PNG), landings.csv and summary.json into this folder")

    ck = sub.add_parser("check", help="is the kit wired as configured? finds the chips, then asks you to "
                        "press each sensor")
    ck.add_argument("--config", metavar="FILE", help=KIT_HELP)
    ck.add_argument("--source", choices=("ads", "emulated"), default="ads",
                    help="the kit on the Pi's I2C bus (default), or emulated chips and an emulated person")
    ck.add_argument("--timeout", metavar="S", type=_number(float, 1, 600), default=20.0,
                    help="seconds to wait for each press, 1-600 (default 20)")
    ck.add_argument("--board", choices=BOARD_NAMES, default=None,
                    help=f"emulated only: the board whose timing is measured (default {DEFAULT_BOARD})")

    ca = sub.add_parser("calibrate", help="zero with both feet up, then body weight on each foot; "
                        "writes the fit into the kit file (with a backup; calibrating the template "
                        "writes hardware/kit.toml)")
    ca.add_argument("--config", metavar="FILE", help=KIT_HELP)
    ca.add_argument("--source", choices=("ads", "emulated"), default="ads",
                    help="the kit on the Pi's I2C bus (default), or emulated chips and an emulated person")
    ca.add_argument("--mass", metavar="KG", type=_number(float, 20, 250),
                    help="body mass in kg, 20-250 (default: [subject] body_mass_kg of the kit file)")
    ca.add_argument("--hold", metavar="S", type=_number(float, 0.5, 30), default=3.0,
                    help="seconds each position is held and averaged, 0.5-30 (default 3)")

    im = sub.add_parser("import", help="turn another system's recording into a session folder: a CSV/TSV "
                        "of per-sensor forces with a layout file, PhysioNet gaitpdb, Moticon OpenGo text export")
    im.add_argument("file", metavar="FILE", help="the recording")
    im.add_argument("--out", metavar="DIR", required=True, help="the session folder to write (new or empty)")
    im.add_argument("--format", choices=("auto", *IMPORT_FORMATS), default="auto",
                    help="the file's format (default: csv when --layout is given, else told from the content)")
    im.add_argument("--mass", metavar="KG", type=_number(float, 20, 250),
                    help="body mass in kg, 20-250 (gaitpdb: default from demographics.txt beside the file)")
    im.add_argument("--on-gap", choices=("flag", "error"), default="flag",
                    help="a break in time: import it listed as a gap (default; nothing is measured across "
                         "it), or refuse the file")
    g = im.add_argument_group("csv")
    g.add_argument("--layout", metavar="FILE", help="TOML: a [[sensor]] per column with name, foot, x, y "
                   "(and column, area_cm2); see the README")
    g.add_argument("--units", metavar="UNIT", help="of the sensor columns: N, kN, kgf, lbf, or a pressure "
                   "(kPa, N/cm2, MPa, psi) with area_cm2 per sensor in the layout")
    g.add_argument("--time-column", metavar="NAME", help="the time column's header or number from 1 "
                   "(default: the one named time, t or t_s)")
    g.add_argument("--time-units", choices=("s", "ms", "us"), help="of the time column (default: from its "
                   "header, e.g. time_ms, else s)")
    g.add_argument("--delimiter", choices=("auto", "tab", "comma", "semicolon", "space"),
                   help="between cells (default auto)")
    g.add_argument("--rate", metavar="HZ", type=_number(float, 0, 20000, lo_open=True),
                   help="frames/s, for a file without a time column")
    im.add_argument("--demographics", metavar="FILE", help="gaitpdb: the database's demographics.txt "
                    "(default: beside the recording)")

    cmp_ = sub.add_parser("compare", help="two sessions, or two parts of one (between markers), side by side "
                          "with the differences and their 95 %% intervals")
    cmp_.add_argument("a", metavar="A", help="a session folder, or FOLDER:SEGMENT for the part of it after a "
                      "marker (its label, or its number: 0 is the part before the first marker)")
    cmp_.add_argument("b", metavar="B", help="the same, for the other side")
    cmp_.add_argument("--out", metavar="DIR", help="also write compare.html, its plots (PNG) and compare.json here")
    cmp_.add_argument("--set", metavar="NAME=VALUE", action="append",
                      help="change a detection parameter for both sides (repeatable), e.g. --set min_contact_ms=60")
    cmp_.add_argument("--resamples", metavar="N", type=_number(int, 100, 100000), default=2000,
                      help="bootstrap resamples for the intervals, 100-100000 (default 2000)")

    ls = sub.add_parser("sessions", help="list the sessions in a folder: start, duration, landings, "
                        "forefoot %%, size (read from the files, not re-analysed)")
    ls.add_argument("dir", metavar="DIR", nargs="?",
                    help=f"the folder `insole run --out` saved them under (default: ./{DEFAULT_OUT}; "
                    "when that does not exist yet, there are no sessions)")
    ls.add_argument("--json", action="store_true", help="print the list as JSON")

    dr = sub.add_parser("drawings", help="draw the kit's schematic, wiring table and 1:1 sensor placement "
                        "templates from its configuration")
    dr.add_argument("--config", metavar="FILE", help=KIT_HELP)
    dr.add_argument("--out", metavar="DIR", help="where to write them (default: ./drawings for your own kit, "
                    "e.g. hardware/kit.toml; hardware/ for the template hardware/kit-default.toml, whose "
                    "drawings are the committed ones)")
    dr.add_argument("--sizes", metavar="EU", help="EU shoe sizes of the templates, e.g. 36-47 or 38,40,42 "
                    "(default 36-47)")
    return p


def strike_word(text: str) -> str:
    """A strike pattern as typed: ``heel`` (the word people use) is ``rearfoot`` (the contract's)."""
    return "rearfoot" if text.lower() == "heel" else text.lower()


def _sim_options(p, out_required: bool) -> None:
    # in `run` the defaults are None, so that a simulated-runner option given to a source it
    # does not shape (replay, the chips) is an error rather than ignored; SIM_DEFAULTS fill in
    d = SIM_DEFAULTS if out_required else dict.fromkeys(SIM_DEFAULTS)
    g = p.add_argument_group("simulated runner (--source sim or emulated)")
    g.add_argument("--pattern", choices=PATTERNS, type=strike_word, default=d["pattern"],
                   help="strike pattern; heel is rearfoot (default mixed)")
    g.add_argument("--direction", choices=DIRECTIONS, default=d["direction"], help="running direction (default forward)")
    g.add_argument("--cadence", metavar="SPM", type=_number(float, 60, 260), default=d["cadence"],
                   help="steps per minute, both feet counted (default 170)")
    g.add_argument("--feet", choices=FEET, default=d["feet"], help="instrumented feet (default both)")
    g.add_argument("--seed", metavar="N", type=_number(int, 0), default=d["seed"], help="random seed (default 0)")


#: each subcommand → (its module, its ``main(args) -> int``)
COMMANDS = {
    "run": ("pi.run", "run_main"),
    "simulate": ("pi.simulate", "simulate_main"),
    "check": ("pi.check", "check_main"),
    "calibrate": ("pi.calibrate", "calibrate_main"),
    "report": ("pi.report", "report_main"),
    "compare": ("pi.compare", "compare_main"),
    "import": ("pi.import_cmd", "import_main"),
    "sessions": ("pi.sessions", "sessions_main"),
    "drawings": ("pi.drawings", "drawings_main"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        if args.command not in COMMANDS:
            raise InsoleError(f"'insole {args.command}' is not available yet in this version")
        module, func = COMMANDS[args.command]
        # each command's module is imported only when it runs: `insole sessions` need not load
        # matplotlib's or the sampler's code
        return getattr(importlib.import_module(module), func)(args)
    except KeyboardInterrupt:
        print("insole: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:
        return report_error(e)


if __name__ == "__main__":
    sys.exit(main())
