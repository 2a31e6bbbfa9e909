"""`insole import` presets: PhysioNet gaitpdb and Moticon OpenGo text exports.

Files in each format are written here from forces whose landings are known (no copy of anyone's
data); the real gaitpdb recordings in ../shared/data are used when present."""

import json
from pathlib import Path

import numpy as np
import pytest

import gaitpdb as shared_gaitpdb
from analysis.calibration import Calibrator
from analysis.errors import FileFormatError
from analysis.gait import analyse
from analysis.importers import detect, gaitpdb, moticon
from analysis.session import read_session
from analysis.truth import score
from pi.cli import main
from pi.report import report
from signals import half_sine_steps


def imported(tmp_path, path, *flags):
    out = tmp_path / "imported"
    assert main(["import", str(path), "--out", str(out), *flags]) == 0
    return read_session(out)


# ------------------------------------------------------------------------------- gaitpdb ---

def gaitpdb_file(path, t, left, right):
    """19 tab-separated columns, CRLF, as the database publishes them."""
    data = np.column_stack([t, left, right, left.sum(axis=1), right.sum(axis=1)])
    lines = ["\t".join([f"{r[0]:.4f}", *(f"{v:.2f}" for v in r[1:])]) for r in data]
    Path(path).write_text("\r\n".join(lines) + "\r\n", newline="")
    return path


def walker(delay_heel_s):
    """One left foot at 100 frames/s: heel-first (delay 0, the heel alone) or toe-first landings."""
    share = (1.0, 0.0, 0.0) if delay_heel_s == 0 else (0.4, 0.0, 0.6)
    t, v, truth = half_sine_steps(rate_hz=100.0, n_steps=12, stride_s=1.1, contact_s=0.65, peak_n=800.0,
                                  share=share, heel_delay_s=delay_heel_s)
    left = np.zeros((len(t), 8))
    left[:, 0] = v[:, 0]                       # L1, the heel
    left[:, 5] = left[:, 6] = v[:, 2] / 2      # L6, L7: the forefoot row (Y = 400)
    return t, left, np.zeros_like(left), truth


def test_gaitpdb_positions_follow_format_txt():
    lay = gaitpdb.layout()
    pos = {s.name: (s.foot, s.x, s.y) for s in lay}
    assert lay.names[:8] == tuple(f"L{i}" for i in range(1, 9)) and lay.names[8:] == tuple(f"R{i}" for i in range(1, 9))
    assert pos["L1"] == ("left", 0.5, 0.1) and pos["L8"] == ("left", 0.5, 0.9)       # heel, toes
    assert pos["L3"][1] == pytest.approx(0.2) and pos["L2"][1] == pytest.approx(0.8)  # inner column medial
    assert pos["R3"][1:] == pos["L3"][1:] and pos["R2"][1:] == pos["L2"][1:]           # not mirrored
    assert [pos[f"L{i}"][2] for i in (1, 2, 4, 6, 8)] == pytest.approx([0.1, 0.3, 0.5, 0.7, 0.9])


@pytest.mark.parametrize("delay, strike", [(0.0, "rearfoot"), (0.08, "forefoot")])
def test_gaitpdb_known_landings(tmp_path, delay, strike):
    t, left, right, truth = walker(delay)
    got = imported(tmp_path, gaitpdb_file(tmp_path / "GaCo99_01.txt", t, left, right), "--mass", "70")
    found = analyse(got.t_s, got.values, got.layout, got.rate_hz, got.body_mass_kg)
    assert [l.foot for l in found] == ["left"] * 12
    assert [l.strike for l in found] == [strike] * 12
    assert np.allclose([l.t_on_s for l in found], [on for on, _ in truth], atol=0.011)
    assert got.meta["source"]["format"] == "gaitpdb" and got.rate_hz == 100.0 and got.body_mass_kg == 70


def test_gaitpdb_is_detected_and_mass_comes_from_demographics(tmp_path):
    t, left, right, _ = walker(0.0)
    path = gaitpdb_file(tmp_path / "GaPt07_01.txt", t, left, right)
    (tmp_path / "demographics.txt").write_text(
        "ID\tStudy\tGroup\tSubjnum\tGender\tAge\tHeight\tWeight\tHoehnYahr\t\t\r\n"
        "GaCo07\tGa\t2\t7\t1\t70\t1.70\t99\t0\t\t\r\n"
        "GaPt07\tGa\t1\t7\t2\t75\t1.65\t61.5\t2.5\t\t\r\n", newline="")
    assert detect(path) == "gaitpdb"
    got = imported(tmp_path, path)
    assert got.body_mass_kg == 61.5 and got.meta["source"]["settings"]["body_mass_from"] == "demographics.txt"


@pytest.mark.parametrize("demographics, note", [
    (None, "no demographics.txt beside the recording: body mass unknown"),
    ("ID\tWeight\nGaPt07\tNaN\n", "demographics.txt gives no weight for GaPt07"),
    ("ID\tWeight\nGaCo01\t80\n", "GaPt07 is not in demographics.txt"),
])
def test_gaitpdb_unknown_mass_is_said(tmp_path, demographics, note):
    t, left, right, _ = walker(0.0)
    path = gaitpdb_file(tmp_path / "GaPt07_01.txt", t, left, right)
    if demographics:
        (tmp_path / "demographics.txt").write_text(demographics)
    rec = gaitpdb.read(path)
    assert rec.body_mass_kg is None and note in " ".join(rec.notes)


@pytest.mark.parametrize("change, message", [
    (lambda ls: [l.rsplit("\t", 1)[0] for l in ls], "line 1: 18 numbers; a gaitpdb recording has 19"),
    (lambda ls: ["time\t" + "\t".join(f"c{i}" for i in range(18))] + ls, "line 1: text, not numbers"),
    (lambda ls: ls[:5] + [ls[5].replace("\t", "\t\t", 1).replace("\t\t", "\tx\t", 1)] + ls[6:], "line 6: 20 cells"),
    (lambda ls: ls[:5] + [ls[3]] + ls[6:], "line 6: time goes back from 0.04 s (line 5) to 0.03 s"),
])
def test_gaitpdb_malformed_files(tmp_path, change, message):
    t, left, right, _ = walker(0.0)
    path = gaitpdb_file(tmp_path / "GaCo99_01.txt", t, left, right)
    path.write_text("\n".join(change(path.read_text().splitlines())) + "\n")
    with pytest.raises(FileFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gaitpdb.read(path, mass_kg=70)


def test_gaitpdb_totals_that_are_not_the_sums_are_noted(tmp_path):
    t, left, right, _ = walker(0.0)
    path = gaitpdb_file(tmp_path / "GaCo99_01.txt", t, left, right)
    lines = path.read_text().splitlines()
    cells = lines[9].split("\t")
    cells[17] = "999.00"
    lines[9] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n")
    rec = gaitpdb.read(path, mass_kg=70)
    assert "1 lines whose totals (columns 18-19) are not the sums of the sensors, first line 10" in rec.notes[0]


needs_shared = pytest.mark.skipif(not shared_gaitpdb.DATA.exists(),
                                  reason=f"the gaitpdb recordings are not at {shared_gaitpdb.DATA}")


@needs_shared
def test_real_gaitpdb_control_lands_heel_first(tmp_path, capsys):
    got = imported(tmp_path, shared_gaitpdb.DATA / "GaCo01_01.txt")
    assert got.body_mass_kg == 83.0                                   # demographics.txt beside it
    summary, _ = report(got.path)
    for foot in ("left", "right"):
        block = summary["feet"][foot]
        assert 90 <= block["landings"] <= 100                        # ~95 strides per foot (data README)
        assert block["strike_counts"]["rearfoot"] >= 0.9 * block["landings"]
    assert summary["strike_index_median"] < 20


@needs_shared
def test_real_gaitpdb_patient_imports_with_its_own_mass(tmp_path):
    got = imported(tmp_path, shared_gaitpdb.DATA / "GaPt03_01.txt")
    assert got.body_mass_kg == 50.0 and got.meta["health"]["frames"] == 12119
    summary, _ = report(got.path)
    assert summary["landings"] >= 140 and summary["strike_counts"]["rearfoot"] >= 0.85 * summary["landings"]


# ------------------------------------------------------------------------------- Moticon ---

# cm², cells 1-16 of a size-7 OpenGo insole: fitted (16 free areas) to the total force of a public
# export (moticon-rego/moticon-opengo tests/testdata/230927_102114.txt, left), independently of
# the importer's own relative areas
AREAS_7 = np.array([12.37, 11.04, 13.36, 13.12, 13.13, 13.02, 17.97, 18.22, 15.67, 12.42, 12.51, 12.66,
                    10.22, 10.13, 12.47, 6.51])
CHANNELS = ([f"pressure {k}[N/cm²]" for k in range(1, 17)] + [f"acceleration {a}[g]" for a in "XYZ"]
            + [f"angular {a}[dps]" for a in "XYZ"]
            + ["total force[N]", "center of pressure X[-0.5...+0.5]", "center of pressure Y[-0.5...+0.5]"])


def moticon_file(path, t, forces, areas=AREAS_7, missing=None, events=None, stamp_ms=None):
    """An OpenGo text export of ``forces`` {side: (n, 16) N}: pressures to 0.25 N/cm², totals to
    1 N, the COP the area-weighted mean of the cell centres. ``missing`` {side: rows} are rows
    without that insole's sample; ``events`` {row: label} go in a 'Left Events' column pair."""
    missing = missing or {}
    centres = np.array(moticon.CENTRES)
    cols = {}
    for side, f in forces.items():
        p = np.round(f / areas / 0.25) * 0.25
        total = np.round(p @ areas)
        w = p * areas
        sw = np.where(w.sum(axis=1) > 0, w.sum(axis=1), 1.0)
        cop = (w @ centres) / sw[:, None]
        block = np.column_stack([p, np.zeros((len(t), 6)), total, cop])
        text = [[f"{v:.2f}" if j < 16 or j == 22 else f"{v:.6f}" for j, v in enumerate(row)] for row in block]
        for r in missing.get(side, ()):
            text[r] = [""] * len(block[0])
        cols[side] = text
    head = ["time"] + [f"{s} {c}" for s in forces for c in CHANNELS]
    if events:
        head += ["Left Events label[]", "Left Events[]"]
    lines = ["# Start time: 27.09.2023 10:21:14.922"] + ([f"# Start timestamp: {stamp_ms}"] if stamp_ms else [])
    lines += ["# Duration: 00:10.000", "# Sensor insoles: Left SN1, Right SN2", "# Size: 7",
              "# Recording type: normal", "# Name: test", "# Notes: ", "# Tag: ", "# " + "\t".join(head)]
    for r, tt in enumerate(t):
        row = [f"{tt:.2f}"] + [c for s in forces for c in cols[s][r]]
        if events:
            row += [events.get(r, ""), "1.00" if r in events else ""]
        lines.append("\t".join(row))
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def moticon_walk(n=1000):
    """Both feet at 100 frames/s: heel cells 1-4 first, then the forefoot."""
    t = np.arange(n) / 100.0
    forces = {}
    for side, first in (("left", 0.3), ("right", 0.85)):
        _, v, _ = half_sine_steps(rate_hz=100.0, n_steps=9, stride_s=1.1, contact_s=0.65, peak_n=900.0,
                                  first_on_s=first, share=(0.5, 0.0, 0.5), heel_delay_s=0.0)
        v = v[:n]
        f = np.zeros((n, 16))
        f[:, :4] = v[:, :1] / 4
        f[:, 8:13] = np.roll(v[:, 2], 10)[:, None] / 5        # the forefoot follows 0.1 s later
        forces[side] = f
    return t, forces


def test_moticon_forces_areas_and_positions(tmp_path):
    t, forces = moticon_walk()
    path = moticon_file(tmp_path / "walk.txt", t, forces, stamp_ms=1695802874922)
    assert detect(path) == "moticon"
    got = imported(tmp_path, path)
    assert got.layout.names[:2] == ("L1", "L2") and got.layout.names[16] == "R1" and len(got.layout) == 32
    s = got.meta["source"]["settings"]
    assert s["insole_size"] == "7" and s["area_fit_rms_n"]["left"] < 1.0
    np.testing.assert_allclose(s["cell_areas_cm2"]["left"], AREAS_7, rtol=0.01)
    p = np.round(forces["left"] / AREAS_7 / 0.25) * 0.25                    # what the file holds
    np.testing.assert_allclose(got.values[:, :16], p * AREAS_7, rtol=0.01, atol=0.01)
    assert got.meta["started_at"] == "2023-09-27T08:21:14.922Z"              # the UTC timestamp
    pos = {x.name: (x.x, x.y) for x in got.layout}
    assert pos["L1"][1] < 0.15 and pos["L14"][1] > 0.85                      # heel cell, hallux cell
    assert pos["L13"][0] > 0.9 and pos["L9"][0] < 0.3                        # 5th MT lateral, 1st medial
    assert pos["R13"] == pos["L13"]


def test_moticon_walk_lands_heel_first(tmp_path):
    t, forces = moticon_walk()
    got = imported(tmp_path, moticon_file(tmp_path / "walk.txt", t, forces))
    found = analyse(got.t_s, got.values, got.layout, got.rate_hz)
    assert len(found) >= 14 and all(l.strike == "rearfoot" for l in found)


def test_moticon_one_sided_rows_are_left_out_and_long_holes_become_gaps(tmp_path):
    t, forces = moticon_walk()
    missing = {"left": [0, 1, 2, 300, 301, 302, 303, 304, 305, 306, 999], "right": [500]}
    got = imported(tmp_path, moticon_file(tmp_path / "walk.txt", t, forces, missing=missing,
                                          events={100: "start", 900: "stop"}))
    s = got.meta["source"]["settings"]
    assert s["rows_left_out"] == 12 and s["time_first"] == 0.03
    assert len(got.t_s) == 988
    (gap,) = got.meta["gaps"]                                # 7 rows (70 ms) gone; the single ones are not gaps
    assert gap["t_s"] == pytest.approx(2.97) and gap["duration_s"] == pytest.approx(0.07)
    assert got.meta["markers"] == [{"t_s": 0.97, "label": "Left Events: start"},
                                   {"t_s": 8.97, "label": "Left Events: stop"}]


def test_moticon_known_strikes_from_the_simulator(tmp_path):
    """Simulated runs put on the OpenGo cells nearest the kit's sensors: heel → 1, 2; lateral
    midfoot → 8; 5th metatarsal head → 13; 1st → 9. The imported landings are the true ones."""
    for pattern in ("rearfoot", "forefoot"):
        sim = tmp_path / f"sim-{pattern}"
        assert main(["simulate", "--out", str(sim), "--duration", "20", "--pattern", pattern, "--seed", "2"]) == 0
        s = read_session(sim)
        f = Calibrator([x.calibration for x in s.layout])(s.values)[::2]      # 200 → 100 frames/s
        forces = {}
        for side, k in (("left", 0), ("right", 4)):
            cells = np.zeros((len(f), 16))
            cells[:, 0] = cells[:, 1] = f[:, k] / 2
            cells[:, 7], cells[:, 12], cells[:, 8] = f[:, k + 1], f[:, k + 2], f[:, k + 3]
            forces[side] = cells
        got = imported(tmp_path / pattern, moticon_file(tmp_path / f"{pattern}.txt", s.t_s[::2], forces))
        found = analyse(got.t_s, got.values, got.layout, got.rate_hz)
        r = score(found, s.truth, ("left", "right"), got.rate_hz)
        assert r["found_pct"] >= 97 and r["extra_pct"] <= 3, r
        assert r["agree_pct"][pattern] == 100.0, r


def test_moticon_one_insole_only(tmp_path):
    t, forces = moticon_walk()
    got = imported(tmp_path, moticon_file(tmp_path / "right.txt", t, {"right": forces["right"]}))
    assert got.layout.feet == ("right",) and len(got.layout) == 16
    summary, _ = report(got.path)
    assert summary["feet"]["right"]["landings"] >= 7 and summary["cadence_spm"] is not None


def test_moticon_other_insole_is_refused(tmp_path):
    t, forces = moticon_walk()
    other = AREAS_7.copy()
    other[:4] *= 2.0                                         # heel cells twice as large as OpenGo's
    path = moticon_file(tmp_path / "other.txt", t, forces, areas=other)
    with pytest.raises(FileFormatError, match="the left pressures do not add up to the left total force"):
        moticon.read(path)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.replace(" pressure ", " force "),
     "no 'left/right pressure N[…]' channels (exported with total force only?)"),
    (lambda s: s.replace("left pressure 16[N/cm²]", "left pressure 17[N/cm²]"),
     "left pressure channels [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17], expected 1-16"),
    (lambda s: s.replace("left total force[N]", "left sum[N]"), "no 'left total force[N]' channel"),
    (lambda s: s.replace("# time\t", "# Zeit\t"), "not a Moticon OpenGo text export"),
    (lambda s: s.replace("[N/cm²]", "[bar]"), "unknown unit 'bar'"),
])
def test_moticon_unexpected_exports_are_refused(tmp_path, edit, message):
    t, forces = moticon_walk(200)
    path = moticon_file(tmp_path / "x.txt", t, forces)
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(FileFormatError, match=message.replace("[", r"\[").replace("]", r"\]").replace("(", r"\(")
                       .replace(")", r"\)").replace("?", r"\?")):
        moticon.read(path)


def test_moticon_half_empty_row_is_an_error(tmp_path):
    t, forces = moticon_walk(200)
    path = moticon_file(tmp_path / "x.txt", t, forces)
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = lines[20].split("\t")
    cells[3] = ""
    lines[20] = "\t".join(cells)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(FileFormatError, match=r"x.txt: line 21, column 'left pressure 3\[N/cm²\]': empty cell"):
        moticon.read(path)


def test_moticon_report_json(tmp_path, capsys):
    t, forces = moticon_walk()
    got = imported(tmp_path, moticon_file(tmp_path / "walk.txt", t, forces), "--mass", "64")
    capsys.readouterr()
    assert main(["report", str(got.path), "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["strike_counts"]["rearfoot"] == r["landings"] >= 14 and r["feet"]["left"]["landings"] >= 7
