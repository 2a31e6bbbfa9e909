"""`insole import` of a generic CSV/TSV: known forces in, the same forces and landings out;
every malformed file refused with one line naming the file, the line and the column."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from analysis.calibration import Calibrator
from analysis.errors import ConfigError, FileFormatError, InsoleError, UsageError
from analysis.gait import analyse
from analysis.importers import generic, table
from analysis.importers.units import G_N, LBF_N
from analysis.session import read_session
from analysis.truth import score
from pi.cli import main
from pi.report import report

INSOLE = str(Path(sys.executable).with_name("insole"))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    """A simulated 40 s session (mixed strikes) and its forces in newtons."""
    out = tmp_path_factory.mktemp("import") / "sim"
    assert main(["simulate", "--out", str(out), "--duration", "40", "--pattern", "mixed", "--seed", "5"]) == 0
    s = read_session(out)
    return s, Calibrator([x.calibration for x in s.layout])(s.values)


def write_csv(path, t, values, names, delimiter=",", time_name="time", digits=4):
    rows = [delimiter.join([time_name, *names])]
    rows += [delimiter.join([f"{a:.6f}", *(f"{v:.{digits}f}" for v in row)]) for a, row in zip(t, values)]
    Path(path).write_text("\n".join(rows) + "\n")
    return path


def write_layout(path, layout, areas=None, extra=""):
    text = "".join(f'[[sensor]]\nname = "{s.name}"\nfoot = "{s.foot}"\nx = {s.x}\ny = {s.y}\n'
                   + (f"area_cm2 = {areas[i]}\n" if areas is not None else "") + "\n"
                   for i, s in enumerate(layout))
    Path(path).write_text(text + extra)
    return path


def imported(tmp_path, csv, layout, *flags):
    out = tmp_path / "imported"
    assert main(["import", str(csv), "--out", str(out), "--layout", str(layout), *flags]) == 0
    return read_session(out)


# ----------------------------------------------------------------------------- round trip ---

def test_round_trip_report_finds_the_true_landings(sim, tmp_path):
    s, force = sim
    csv = write_csv(tmp_path / "forces.csv", s.t_s, force, s.layout.names)
    got = imported(tmp_path, csv, write_layout(tmp_path / "layout.toml", s.layout), "--units", "N")
    found = analyse(got.t_s, got.values, got.layout, got.rate_hz, got.body_mass_kg)
    r = score(found, s.truth, s.layout.feet, got.rate_hz)
    assert r["found_pct"] == 100.0 and r["extra_pct"] == 0.0
    assert r["agree_pct"] == {"forefoot": 100.0, "midfoot": 100.0, "rearfoot": 100.0}
    summary, _ = report(got.path)
    original, _ = report(s.path)
    assert summary["strike_counts"] == original["strike_counts"]
    assert summary["cadence_spm"] == pytest.approx(original["cadence_spm"], rel=1e-3)


def test_session_folder_is_like_a_logged_one(sim, tmp_path):
    s, force = sim
    csv = write_csv(tmp_path / "run 3.csv", s.t_s, force, s.layout.names)
    got = imported(tmp_path, csv, write_layout(tmp_path / "layout.toml", s.layout), "--units", "N",
                   "--mass", "71.5")
    assert sorted(p.name for p in got.path.iterdir()) == ["samples.csv", "session.json"]   # no landings.csv
    assert got.landings is None and got.layout.names == s.layout.names
    assert all(x.calibration == {"model": "linear", "scale": 1.0, "offset": 0.0} for x in got.layout)
    assert [(x.foot, x.x, x.y) for x in got.layout] == [(x.foot, x.x, x.y) for x in s.layout]
    src = got.meta["source"]
    assert src["kind"] == "import" and src["format"] == "csv" and src["file"] == "run 3.csv"
    assert src["settings"]["units"] == "N" and src["settings"]["time_column"] == "time"
    assert got.rate_hz == 200.0 and got.body_mass_kg == 71.5
    assert got.meta["health"]["frames"] == len(s.t_s) and got.meta["gaps"] == []
    assert "ended_at" in got.meta and got.meta["duration_s"] == pytest.approx(s.t_s[-1])
    np.testing.assert_allclose(got.values, force, rtol=1e-5, atol=1e-4)     # stored to 6 significant digits
    np.testing.assert_allclose(got.t_s, s.t_s, atol=1e-6)


@pytest.mark.parametrize("unit, per_newton", [("kgf", 1 / G_N), ("lbf", 1 / LBF_N), ("kN", 1e-3), ("kg", 1 / G_N)])
def test_force_units_become_newtons(sim, tmp_path, unit, per_newton):
    s, force = sim
    csv = write_csv(tmp_path / "f.csv", s.t_s[:2000], force[:2000] * per_newton, s.layout.names, digits=7)
    got = imported(tmp_path, csv, write_layout(tmp_path / "l.toml", s.layout), "--units", unit)
    np.testing.assert_allclose(got.values, force[:2000], rtol=1e-5, atol=2e-3)


def test_pressure_with_areas_becomes_force(sim, tmp_path):
    s, force = sim
    areas = [2.0, 3.5, 1.5, 1.5] * 2                                  # cm²
    kpa = force[:2000] / (np.array(areas) * 0.1)                     # 1 kPa on 1 cm² is 0.1 N
    csv = write_csv(tmp_path / "p.csv", s.t_s[:2000], kpa, s.layout.names, digits=6)
    got = imported(tmp_path, csv, write_layout(tmp_path / "l.toml", s.layout, areas), "--units", "kPa")
    np.testing.assert_allclose(got.values, force[:2000], rtol=1e-5, atol=1e-3)
    assert got.meta["source"]["settings"]["areas_cm2"]["L_midlat"] == 3.5


def test_tab_file_in_ms_with_an_unlisted_column_and_blank_lines(sim, tmp_path):
    s, force = sim
    names = [*s.layout.names, "battery"]
    values = np.column_stack([force[:1000], np.full(1000, 3.7)])
    text = write_csv(tmp_path / "f.tsv", s.t_s[:1000] * 1000, values, names, "\t", "time_ms").read_text()
    (tmp_path / "f.tsv").write_text("# exported by a lab system\n" + text.replace("\n", "\r\n", 5) + "\n\n")
    got = imported(tmp_path, tmp_path / "f.tsv", write_layout(tmp_path / "l.toml", s.layout), "--units", "N")
    assert got.rate_hz == 200.0 and got.meta["source"]["settings"]["time_units"] == "ms"
    np.testing.assert_allclose(got.values, force[:1000], rtol=1e-5, atol=1e-4)


def test_a_gap_is_listed_and_never_becomes_a_long_contact(sim, tmp_path):
    s, force = sim
    mid = next(l for l in s.truth if l["t_on_s"] > 20)             # a true landing in the middle
    cut_from, cut_to = mid["t_on_s"] + 0.05, mid["t_on_s"] + 0.35   # 0.3 s lost inside its stance
    keep = (s.t_s < cut_from) | (s.t_s >= cut_to)
    csv = write_csv(tmp_path / "g.csv", s.t_s[keep], force[keep], s.layout.names)
    got = imported(tmp_path, csv, write_layout(tmp_path / "l.toml", s.layout), "--units", "N")
    (gap,) = got.meta["gaps"]
    assert gap["t_s"] == pytest.approx(cut_from, abs=0.006) and gap["duration_s"] == pytest.approx(0.3, abs=0.006)
    assert gap["frames"] == 60 and "lines" in gap["reason"]
    assert got.meta["health"]["skipped_frames"] == 60
    found = analyse(got.t_s, got.values, got.layout, got.rate_hz)
    assert not [l for l in found if l.t_on_s < cut_from and l.t_off_s > cut_from]      # none spans it
    assert max(l.contact_ms for l in found) < 1.2 * np.median([l.contact_ms for l in found])
    assert len(found) >= len(s.truth) - 3


def test_on_gap_error_refuses_it(sim, tmp_path):
    s, force = sim
    keep = (s.t_s < 10) | (s.t_s >= 10.5)
    csv = write_csv(tmp_path / "g.csv", s.t_s[keep], force[keep], s.layout.names)
    with pytest.raises(FileFormatError, match=r"g.csv: line 2002: time \('time'\) jumps 0.505 s after line 2001"):
        generic.read(csv, write_layout(tmp_path / "l.toml", s.layout), "N", on_gap="error")


def test_progress_is_reported_through_a_long_file(sim, tmp_path, monkeypatch):
    s, force = sim
    monkeypatch.setattr(table, "CHUNK_ROWS", 1000)
    csv = write_csv(tmp_path / "f.csv", s.t_s, force, s.layout.names)
    seen = []
    generic.read(csv, write_layout(tmp_path / "l.toml", s.layout), "N", progress=lambda d, n: seen.append((d, n)))
    assert len(seen) == 8 and seen[-1] == (8000, 8000) and [d for d, _ in seen] == sorted(d for d, _ in seen)


# ------------------------------------------------------------------------------- errors ---

GOOD = "time,L_heel,L_mid,L_fore\n" + "".join(f"{i / 100:.2f},{i % 7},{i % 5},{i % 3}\n" for i in range(40))
LAYOUT = "".join(f'[[sensor]]\nname = "{n}"\nfoot = "left"\nx = 0.5\ny = {y}\n\n'
                 for n, y in (("L_heel", 0.1), ("L_mid", 0.45), ("L_fore", 0.75)))


def _line(text, n, new):
    lines = text.splitlines()
    lines[n - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("content, options, message", [
    (GOOD.replace("L_fore", "L_front"), {},
     "f.csv: sensor 'L_fore' of layout.toml names column 'L_fore', which is not in the header (line 1)"),
    (_line(GOOD, 5, "0.03,1,2"), {}, "f.csv: line 5: 3 cells, expected 4 as the header has"),
    (_line(GOOD, 7, "0.01,1,2,3"), {}, "f.csv: line 7: time ('time') goes back from 0.04 s (line 6) to 0.01 s"),
    (_line(GOOD, 7, "0.04,1,2,3"), {}, "f.csv: line 7: time ('time') 0.04 s repeats line 6"),
    (_line(GOOD, 8, "0.06,1,NaN,3"), {}, "f.csv: line 8, column 'L_mid': NaN"),
    (_line(GOOD, 9, "0.07,,2,3"), {}, "f.csv: line 9, column 'L_heel': empty cell"),
    (_line(GOOD, 10, "0.08,1,2,3.o"), {}, "f.csv: line 10, column 'L_fore': not a number: '3.o'"),
    (_line(GOOD, 10, "0.08,1,2,inf"), {}, "f.csv: line 10, column 'L_fore': not a finite number (inf)"),
    ("", {}, "f.csv: empty (no data lines)"),
    ("time,L_heel,L_mid,L_fore\n", {}, "f.csv: no data lines after the header (line 1)"),
    (GOOD, {"delimiter": "semicolon"}, "one column holding commas: is the delimiter right?"),
    (GOOD.replace(";", ",").replace(",", ";").replace(".", ","), {}, "not a number: '0,00' (a decimal comma"),
    (GOOD, {"time_units": "ms"}, "steps by 1e-05 s (median), 100000 frames/s: not an insole's rate"),
    (GOOD.replace("0.", "").replace("time", "tick"), {}, "no time column"),
    (GOOD, {"units": "stone"}, "unknown unit 'stone'"),
    (GOOD, {"time_column": "9"}, "--time-column names column 9, but the file has columns 1-4"),
])
def test_bad_files_are_refused_with_line_and_column(tmp_path, content, options, message):
    (tmp_path / "f.csv").write_text(content)
    (tmp_path / "layout.toml").write_text(LAYOUT)
    kw = {"units": "N", **options}
    with pytest.raises(InsoleError) as e:
        generic.read(tmp_path / "f.csv", tmp_path / "layout.toml", **kw)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_the_good_file_of_those_tests_imports(tmp_path):
    (tmp_path / "f.csv").write_text(GOOD)
    (tmp_path / "layout.toml").write_text(LAYOUT)
    rec = generic.read(tmp_path / "f.csv", tmp_path / "layout.toml", "N")
    assert rec.rate_hz == 100.0 and rec.force_n.shape == (40, 3) and rec.force_n[8].tolist() == [1, 3, 2]


@pytest.mark.parametrize("mutate, units, message", [
    (lambda t: t.replace('foot = "left"', 'foot = "middle"', 1), "N",
     'layout.toml: sensor[0] ("L_heel").foot: expected left or right, got "middle"'),
    (lambda t: t.replace("y = 0.75", "y = 75"), "N",
     'sensor[2] ("L_fore").y: expected a fraction of the foot in [0, 1], got 75'),
    (lambda t: t.replace('"L_mid"', '"L_heel"'), "N", 'sensor[1] ("L_heel").name: "L_heel" is already the name of'),
    (lambda t: t.replace('"L_mid"', '"L mid"'), "N", "sensor[1].name: expected a name of letters"),
    (lambda t: t.replace("x = 0.5\n", "x = 0.5\nside = 1\n", 1), "N", "sensor[0].side: unknown key"),
    (lambda t: t + 'area_cm2 = 3\n', "N", '("L_fore").area_cm2: only used with pressure units'),
    (lambda t: t, "kPa", 'sensor[0] ("L_heel").area_cm2: missing; expected the sensor\'s area in cm²'),
    (lambda t: t.replace('name = "L_mid"', 'name = "L_mid"\ncolumn = "L_heel"'), "N",
     "column 'L_heel' is already read by sensor[0]"),
    (lambda t: "", "N", "layout.toml: sensor: missing; expected at least one [[sensor]] table"),
    (lambda t: t.replace("[[sensor]]", "[[sensor]", 1), "N", "layout.toml: not valid TOML"),
])
def test_layout_mistakes_are_named(tmp_path, mutate, units, message):
    (tmp_path / "f.csv").write_text(GOOD)
    (tmp_path / "layout.toml").write_text(mutate(LAYOUT))
    with pytest.raises((ConfigError, UsageError)) as e:
        generic.read(tmp_path / "f.csv", tmp_path / "layout.toml", units)
    assert message in str(e.value)


def test_columns_by_number_for_a_file_without_header(tmp_path):
    body = GOOD.split("\n", 1)[1].replace(",", " ")
    (tmp_path / "f.txt").write_text(body)
    layout = LAYOUT.replace('name = "L_heel"', 'name = "L_heel"\ncolumn = 2') \
                   .replace('name = "L_mid"', 'name = "L_mid"\ncolumn = 3') \
                   .replace('name = "L_fore"', 'name = "L_fore"\ncolumn = 4')
    (tmp_path / "layout.toml").write_text(layout)
    rec = generic.read(tmp_path / "f.txt", tmp_path / "layout.toml", "N", time_column="1")
    assert rec.force_n[8].tolist() == [1, 3, 2] and rec.settings["delimiter"] == "space"


def test_no_time_column_needs_a_rate(tmp_path):
    (tmp_path / "f.csv").write_text("L_heel,L_mid,L_fore\n" + "1,2,3\n" * 50)
    (tmp_path / "layout.toml").write_text(LAYOUT)
    rec = generic.read(tmp_path / "f.csv", tmp_path / "layout.toml", "N", rate_hz=250)
    assert rec.rate_hz == 250 and rec.t_s[-1] == pytest.approx(49 / 250)


# --------------------------------------------------------------------------- command line ---

def run(*args):
    return subprocess.run([INSOLE, *args], capture_output=True, text=True, timeout=60, env=dict(os.environ))


def test_command_line_happy_path_says_what_it_wrote(tmp_path):
    (tmp_path / "f.csv").write_text(GOOD + "0.80,1,2,3\n")
    (tmp_path / "layout.toml").write_text(LAYOUT)
    p = run("import", str(tmp_path / "f.csv"), "--out", str(tmp_path / "s"), "--layout", str(tmp_path / "layout.toml"),
            "--units", "N")
    assert p.returncode == 0, p.stderr
    assert f"wrote {tmp_path / 's'}: csv f.csv, 0.8 s at 100 frames/s, sensors 3 left" in p.stderr
    assert "note: 1 gap in time (0.40 s in all; first at 0.40 s" in p.stderr
    assert f"next: insole report {tmp_path / 's'}" in p.stderr
    r = run("report", str(tmp_path / "s"))
    assert r.returncode == 0 and "source import (csv f.csv)" in r.stdout


@pytest.mark.parametrize("args, status, message", [
    (["import", "f.csv"], 2, "the following arguments are required: --out"),
    (["import", "f.csv", "--out", "s"], 2, "cannot tell the format of f.csv: give --format csv with --layout"),
    (["import", "f.csv", "--out", "s", "--layout", "layout.toml"], 2, "--format csv needs --layout FILE"),
    (["import", "f.csv", "--out", "s", "--format", "gaitpdb", "--units", "N"], 2, "--units is for --format csv"),
    (["import", "f.csv", "--out", "s", "--format", "moticon"], 1, "not a Moticon OpenGo text export"),
    (["import", "nope.csv", "--out", "s", "--layout", "layout.toml", "--units", "N"], 1, "no such file: nope.csv"),
    (["import", "f.csv", "--out", "s", "--layout", "layout.toml", "--units", "N", "--mass", "900"], 2,
     "must be at most 250"),
    (["import", "f.csv", "--out", "f.csv", "--layout", "layout.toml", "--units", "N"], 1, "already exists"),
])
def test_command_line_errors_are_one_line(tmp_path, args, status, message):
    (tmp_path / "f.csv").write_text(GOOD)
    (tmp_path / "layout.toml").write_text(LAYOUT)
    p = subprocess.run([INSOLE, *args], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert p.returncode == status, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("insole: error: ") and message in lines[0], p.stderr
    assert "Traceback" not in p.stderr
    assert not (tmp_path / "s").exists()
