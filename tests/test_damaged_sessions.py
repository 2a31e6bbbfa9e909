"""Damaged sessions, as power cuts, full disks, editors and other tools leave them (issue 11).

Each variant of one simulated session is run through ``report --json``, ``compare``,
``sessions --json`` and a replay. Each either gives a result with the damage said in ``notes``
(or, for the listing, the session marked damaged), or one line ``insole: error: …`` naming the
file; never a traceback, a hang or a silent loss. Memory stays bounded on gigabyte files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pi.cli import main

INSOLE = str(Path(sys.executable).with_name("insole"))
GB = 1 << 30


def _lines(d: Path, name: str = "samples.csv") -> list[str]:
    return (d / name).read_text().splitlines(keepends=True)


def _put(d: Path, lines, name: str = "samples.csv") -> None:
    (d / name).write_text("".join(lines))


def _meta(d: Path, **changes) -> None:
    m = json.loads((d / "session.json").read_text())
    for k, v in changes.items():
        if v is _DELETE:
            m.pop(k, None)
        else:
            m[k] = v
    (d / "session.json").write_text(json.dumps(m))


_DELETE = object()


def _killed(d: Path, **changes) -> None:
    """As a kill -9 leaves it: not closed, and (a minute later) no longer written."""
    _meta(d, ended_at=_DELETE, duration_s=_DELETE, **changes)
    old = os.stat(d / "samples.csv").st_mtime - 60
    os.utime(d / "samples.csv", (old, old))


def _shift(line: str, dt: float) -> str:
    t, rest = line.split(",", 1)
    return f"{float(t) + dt:.6f},{rest}"


def _cells(line: str, **at) -> str:
    cells = line.rstrip("\n").split(",")
    for i, v in at.items():
        cells[int(i[1:])] = v
    return ",".join(cells) + "\n"


def _sparse(path: Path, head: bytes, size: int, tail: bytes = b"") -> None:
    with open(path, "wb") as fh:
        fh.write(head)
        fh.truncate(size)
        fh.seek(size)
        fh.write(tail)


def _bytes(d: Path, name: str, data: bytes, append: bool = False) -> None:
    with open(d / name, "ab" if append else "wb") as fh:
        fh.write(data)


# name → (damage, what a result must say: a regex one of its notes matches, or None: the
# variant may also read clean, e.g. a session.json lacking ended_at only says it was killed)
def _variants():
    L = _lines
    v = {
        # samples.csv cut, torn, emptied, missing
        "cut-half": (lambda d: _put(d, L(d)[: len(L(d)) // 2] + [L(d)[len(L(d)) // 2][:9]]), "fewer than"),
        "cut-tenth": (lambda d: _put(d, L(d)[: len(L(d)) // 10]), "fewer than"),
        "torn-last": (lambda d: _put(d, L(d)[:-1] + [L(d)[-1][:5]]), "torn"),
        "header-only": (lambda d: _put(d, L(d)[:1]), None),
        "zero-bytes": (lambda d: _put(d, []), None),
        "no-samples": (lambda d: os.remove(d / "samples.csv"), None),
        # time out of order
        "shuffled": (lambda d: _put(d, L(d)[:1] + sorted(L(d)[1:], key=lambda s: hash(s) % 977)), None),
        "two-swapped": (lambda d: _put(d, (lambda x: x[:500] + [x[501], x[500]] + x[502:])(L(d))), "goes back"),
        "back-5s": (lambda d: _put(d, L(d)[:1001] + [_shift(x, -5) for x in L(d)[1001:]]), "goes back"),
        "minus-1000": (lambda d: _put(d, L(d)[:1] + [_shift(x, -1000) for x in L(d)[1:]]), "starts at -1000"),
        "t-constant": (lambda d: _put(d, L(d)[:1] + [_cells(x, c0="1.000000") for x in L(d)[1:]]), None),
        "repeated-row": (lambda d: _put(d, L(d)[:700] + [L(d)[699]] + L(d)[700:]), "goes back"),
        "jump-10s": (lambda d: _put(d, L(d)[:1001] + [_shift(x, 10) for x in L(d)[1001:]]), None),
        # cells and lines that are not readings
        "nan-sensor": (lambda d: _put(d, L(d)[:1] + [_cells(x, c1="nan") for x in L(d)[1:]]), "no data at all"),
        "empty-sensor": (lambda d: _put(d, L(d)[:1] + [_cells(x, c2="") for x in L(d)[1:]]), "no data at all"),
        "left-foot-gone-2s": (lambda d: _put(d, L(d)[:801] + [_cells(x, c1="", c2="", c3="", c4="") for x in L(d)[801:1201]]
                                             + L(d)[1201:]), "left foot was not sampled in 400 frames"),
        "text-cell": (lambda d: _put(d, L(d)[:600] + [_cells(L(d)[600], c3="abc")] + L(d)[601:]), "line 601, column"),
        "text-t": (lambda d: _put(d, L(d)[:600] + [_cells(L(d)[600], c0="soon")] + L(d)[601:]), "line 601"),
        "nul-block": (lambda d: _put(d, L(d)[:600] + ["\x00" * 5000 + "\n"] + L(d)[610:]), "line 601"),
        "nul-tail": (lambda d: _bytes(d, "samples.csv", b"\x00" * 100_000, append=True), "torn"),
        "huge-value": (lambda d: _put(d, L(d)[:600] + [_cells(L(d)[600], c2="1e308")] + L(d)[601:]), "'1e308'"),
        "inf-value": (lambda d: _put(d, L(d)[:600] + [_cells(L(d)[600], c2="inf")] + L(d)[601:]), "'inf'"),
        "minus-huge": (lambda d: _put(d, L(d)[:600] + [_cells(L(d)[600], c5="-1e308")] + L(d)[601:]), "'-1e308'"),
        "long-row": (lambda d: _put(d, L(d)[:600] + [L(d)[600].rstrip("\n") + ",7,7\n"] + L(d)[601:]), "line 601"),
        "short-row": (lambda d: _put(d, L(d)[:600] + ["0.5,1,2\n"] + L(d)[601:]), "line 601"),
        "blank-line": (lambda d: _put(d, L(d)[:600] + ["\n"] + L(d)[600:]), "line 601"),
        "crlf": (lambda d: _put(d, [x.replace("\n", "\r\n") for x in L(d)]), None),
        "header-renamed": (lambda d: _put(d, [L(d)[0].replace("L_heel", "heel")] + L(d)[1:]), None),
        "header-short": (lambda d: _put(d, [L(d)[0].rsplit(",", 1)[0] + "\n"] + L(d)[1:]), None),
        "latin1-cell": (lambda d: _bytes(d, "samples.csv", b"".join(
            x.encode() if i != 600 else b"3.0,\xe9\xe9,1,2,3,4,5,6,7\n" for i, x in enumerate(L(d)))), "line 601"),
        "long-line": (lambda d: _put(d, L(d)[:600] + ["9" * 100_000 + "\n"] + L(d)[601:]), "line 601"),
        "all-text": (lambda d: _put(d, L(d)[:1] + ["a,b,c,d,e,f,g,h,i\n"] * 50), None),
        "sparse-no-header-end": (lambda d: _sparse(d / "samples.csv", b"", GB), None),
        "sparse-after-header": (lambda d: _sparse(d / "samples.csv", L(d)[0].encode(), GB,
                                                   b"\n" + "".join(L(d)[1:]).encode()), "line 2"),
        # session.json
        "no-meta": (lambda d: os.remove(d / "session.json"), None),
        "meta-not-json": (lambda d: (d / "session.json").write_text("{nope"), None),
        "meta-a-list": (lambda d: (d / "session.json").write_text("[1, 2]"), None),
        "meta-empty": (lambda d: (d / "session.json").write_text(""), None),
        "meta-latin1": (lambda d: _bytes(d, "session.json", (d / "session.json").read_bytes().replace(b"sim", b"s\xe9m", 1)), None),
        "format-wrong": (lambda d: _meta(d, format="insole-session/9"), None),
        "rate-1e308": (lambda d: _meta(d, rate_hz=1e308), None),
        "rate-negative": (lambda d: _meta(d, rate_hz=-200), None),
        "rate-text": (lambda d: _meta(d, rate_hz="fast"), None),
        "duration-300-digits": (lambda d: (d / "session.json").write_text(
            (d / "session.json").read_text().replace('"duration_s": ', '"duration_s": ' + "9" * 300 + ", \"x\": ", 1)), None),
        "frames-negative": (lambda d: _meta(d, health={"frames": -5}), None),
        "health-a-list": (lambda d: _meta(d, health=[1]), None),
        "no-sensors": (lambda d: _meta(d, sensors=_DELETE), None),
        "sensors-empty": (lambda d: _meta(d, sensors=[]), None),
        "calibration-bad": (lambda d: _meta(d, sensors=[dict(s, calibration={"model": "magic"})
                                                       for s in json.loads((d / "session.json").read_text())["sensors"]]), None),
        "markers-not-list": (lambda d: _meta(d, markers="x"), None),
        "marker-nan": (lambda d: (d / "session.json").write_text(
            (d / "session.json").read_text().replace('"markers": []', '"markers": [{"t_s": NaN, "label": "x"}]')), None),
        "mass-1e308": (lambda d: _meta(d, subject={"body_mass_kg": 1e308}), None),
        "gaps-not-list": (lambda d: _meta(d, gaps=3), None),
        "killed": (lambda d: _killed(d), "did not end cleanly"),
        "health-stale": (lambda d: _killed(d, health={"frames": 1000}), "last saved before the end"),
        "health-high": (lambda d: _meta(d, health={"frames": 10 ** 6}), "fewer than"),
        # landings.csv and truth.csv (report re-analyses the samples; the listing reads landings.csv)
        "landings-cr": (lambda d: _bytes(d, "landings.csv", b"x\ry\n", append=True), None),
        "no-landings": (lambda d: os.remove(d / "landings.csv"), None),
        "landings-empty": (lambda d: _put(d, [], "landings.csv"), None),
        "landings-nul": (lambda d: _bytes(d, "landings.csv", b"\x00" * 4096 + b"\n", append=True), None),
        "landings-sparse": (lambda d: _sparse(d / "landings.csv", _lines(d, "landings.csv")[0].encode(), GB), None),
        "landings-header-only": (lambda d: _put(d, _lines(d, "landings.csv")[:1], "landings.csv"), None),
        "landings-short-rows": (lambda d: _bytes(d, "landings.csv", b"left,1.0\n" * 3, append=True), None),
        "landings-text": (lambda d: _bytes(d, "landings.csv", b"left,x,y,z,forefoot,q,w,e,r,t,y,u\n", append=True), None),
        "truth-garbage": (lambda d: _bytes(d, "truth.csv", b"\x00\xff\xfe" * 1000), None),
    }
    return v


VARIANTS = _variants()


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    root = tmp_path_factory.mktemp("damaged")
    base = root / "base"
    assert main(["simulate", "--out", str(base), "--duration", "10", "--pattern", "mixed", "--seed", "2"]) == 0
    listing = root / "all"
    listing.mkdir()
    folders = {}
    for name, (damage, _) in VARIANTS.items():
        d = listing / name
        shutil.copytree(base, d)
        damage(d)
        folders[name] = d
    return base, listing, folders


def test_there_are_at_least_60_variants():
    assert len(VARIANTS) >= 60


def _one_line_error(err: str, folder: Path) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("insole: error: "), err
    assert str(folder) in lines[0] or folder.name in lines[0], err          # it names the file (its folder)
    assert "Traceback" not in err


@pytest.mark.parametrize("name", VARIANTS)
def test_report_json_says_the_damage_or_refuses_in_one_line(made, name, capsys):
    base, _, folders = made
    status = main(["report", str(folders[name]), "--json"])
    out, err = capsys.readouterr()
    if status:
        assert status in (1, 2)
        _one_line_error(err, folders[name])
        return
    summary = json.loads(out)
    said = VARIANTS[name][1]
    assert said is None or any(re.search(said, n) for n in summary["notes"]), summary["notes"]
    assert summary["health"]["frames_read"] >= 0 and "Traceback" not in err


@pytest.mark.parametrize("name", VARIANTS)
def test_compare_with_the_damaged_one_says_it_or_refuses_in_one_line(made, name, capsys):
    base, _, folders = made
    status = main(["compare", str(base), str(folders[name]), "--resamples", "100"])
    out, err = capsys.readouterr()
    if status:
        _one_line_error(err, folders[name])
        return
    said = VARIANTS[name][1]
    assert said is None or re.search(said, " ".join(out.split())), out
    assert "Traceback" not in out + err


def test_the_listing_marks_each_damaged_session_and_lists_them_all(made, capsys):
    _, listing, folders = made
    assert main(["sessions", str(listing), "--json"]) == 0
    rows = {Path(r["folder"]).name: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(folders) - {"no-meta"}          # without session.json: not a session
    for name in ("no-samples", "zero-bytes", "header-only", "no-sensors", "sensors-empty", "landings-cr",
                 "meta-not-json", "rate-1e308", "header-renamed", "landings-nul", "landings-sparse"):
        assert rows[name]["status"] == "damaged" and rows[name]["note"], name
    assert rows["killed"]["status"] == "unfinished"
    assert main(["sessions", str(listing)]) == 0
    assert "not sessions (no session.json), left out: no-meta" in capsys.readouterr().out


@pytest.mark.parametrize("name", VARIANTS)
def test_a_replay_plays_what_can_be_read_or_refuses_in_one_line(made, name, tmp_path, capsys):
    _, _, folders = made
    status = main(["run", "--source", "replay", "--session", str(folders[name]), "--speed", "500",
                   "--headless", "--out", str(tmp_path)])
    out, err = capsys.readouterr()
    if status:
        _one_line_error(err, folders[name])
        return
    assert "Traceback" not in out + err
    replayed = next(tmp_path.iterdir())
    # what was played is what could be read, value for value (no 1e308 turned into -2**63)
    from analysis.session import read_session
    a, b = read_session(folders[name]), read_session(replayed)
    assert len(b.t_s) == len(a.t_s)
    assert ((a.values == b.values) | (a.values != a.values)).all()


@pytest.mark.parametrize("name, command", [
    ("sparse-after-header", ["report", "--json"]),
    ("sparse-no-header-end", ["report", "--json"]),
    ("landings-sparse", ["sessions", "--json"]),
    ("sparse-after-header", ["sessions", "--json"]),
])
def test_a_gigabyte_file_is_read_in_bounded_memory(made, name, command):
    _, _, folders = made
    args = [INSOLE, command[0], str(folders[name]), *command[1:]]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, _, rusage = os.wait4(p.pid, 0)
    peak_mb = rusage.ru_maxrss / 1024
    err = p.stderr.read().decode()
    assert "Traceback" not in err
    assert peak_mb <= 400, f"{peak_mb:.0f} MB"


def test_a_file_too_big_for_this_machines_memory_is_refused_with_the_figures(made, tmp_path, capsys):
    base, _, _ = made
    d = tmp_path / "huge"
    shutil.copytree(base, d)
    head = "".join(_lines(d)[:200]).encode()
    _sparse(d / "samples.csv", head, 50 * GB)                      # 50 GB of rows, as far as its start says
    assert main(["report", str(d), "--json"]) == 1
    err = capsys.readouterr().err.strip()
    assert re.fullmatch(r"insole: error: \S+samples\.csv: 53\.7 GB, about \d+ million frames: analysing it "
                        r"needs about [\d.]+ GB of memory and this machine has [\d.]+ GB free; analyse it on a "
                        r"larger machine, or cut it into parts", err), err
