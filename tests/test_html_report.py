"""`insole report DIR --out REPORT`: the HTML report, its plots, landings.csv and summary.json."""

import base64
import csv
import json
import re

import numpy as np
import pytest

from analysis import load_session
from analysis.plots import force_curves
from offline_sessions import drill, simulated
from pi.cli import main

PNG = b"\x89PNG\r\n\x1a\n"
FIGURES = ("cop_paths", "strike_index", "force_curves", "contact_cadence", "left_right", "timing")


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    d = tmp_path_factory.mktemp("report")
    fw = simulated(d / "fw", 60, pattern="mixed", seed=4)
    bw = simulated(d / "bw", 40, pattern="forefoot", direction="backward", seed=5)
    session = drill(d / "drill", [("", fw), ("backward drill", bw)])
    out = d / "rep"
    assert main(["report", str(session), "--out", str(out)]) == 0
    return session, out


def test_the_report_folder_has_everything(made):
    _, out = made
    assert {p.name for p in out.iterdir()} == {".insole-output", "report.html", "landings.csv", "summary.json",
                                                *(f"{f}.png" for f in FIGURES)}
    for f in FIGURES:
        assert (out / f"{f}.png").read_bytes().startswith(PNG)


def test_the_page_is_self_contained(made):
    _, out = made
    page = (out / "report.html").read_text()
    srcs = re.findall(r'src="([^"]*)"', page)
    assert len(srcs) == len(FIGURES) and all(s.startswith("data:image/png;base64,") for s in srcs)
    assert "http" not in page.replace("http-equiv", "")       # nothing fetched from the network
    assert "<script" not in page
    # each embedded image is the PNG written beside the page
    embedded = {base64.b64decode(s.split(",", 1)[1]) for s in srcs}
    assert embedded == {(out / f"{f}.png").read_bytes() for f in FIGURES}


def test_summary_and_landings_agree_with_report_json(made, capsys):
    session, out = made
    assert main(["report", str(session), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert json.loads((out / "summary.json").read_text()) == printed
    rows = list(csv.DictReader(open(out / "landings.csv")))
    assert len(rows) == printed["landings"]
    times = [l.t_on_s for l in load_session(session).landings]     # to the microsecond, as samples.csv
    assert np.allclose([float(r["t_on_s"]) for r in rows], times, rtol=0, atol=1e-6)
    assert {r["segment"] for r in rows} == {"start", "backward drill"}
    back = [r for r in rows if r["segment"] == "backward drill"]
    assert sum(r["strike"] == "forefoot" for r in back) / len(back) > 0.95


def test_peak_force_and_loading_rate_are_in_the_summary(made, capsys):
    session, out = made
    page = (out / "report.html").read_text()
    assert "peak force, median" in page and "loading rate, mean" in page
    assert main(["report", str(session)]) == 0
    text = capsys.readouterr().out
    peak = float(text.split("peak force, median")[1].split("BW")[0].strip(" │"))
    assert 2.2 < peak < 2.9                      # the simulator's 2.2-2.8 body weights


def test_the_markers_segments_are_tabled(made):
    _, out = made
    page = (out / "report.html").read_text()
    assert "Between markers" in page and "backward drill (1.0–1.7 min)" in page


def test_heel_landings_show_the_impact_transient_and_forefoot_ones_do_not(made):
    session, _ = made
    s = load_session(session)
    tau = np.linspace(0, 80, 81)
    heel = np.nanmean(force_curves(s, "rearfoot", tau), axis=0)
    fore = np.nanmean(force_curves(s, "forefoot", tau), axis=0)
    i = int(np.argmax(heel[:50]))
    assert 15 <= tau[i] <= 40 and heel[i] > heel[i + 15] + 0.1      # a peak, then a dip (BW)
    assert np.all(np.diff(fore[:60]) > 0)                           # a smooth rise


def test_report_to_a_bad_place_is_one_line(made, tmp_path, capsys):
    session, _ = made
    f = tmp_path / "a-file"
    f.write_text("x")
    assert main(["report", str(session), "--out", str(f)]) == 1
    assert capsys.readouterr().err.strip() == f"insole: error: {f} is a file; --out needs a folder for the report"
    assert main(["report", str(session), "--out", str(session)]) == 1
    assert "is a session folder" in capsys.readouterr().err


def test_one_part_of_a_session_and_the_parts_side_by_side(made, capsys):
    session, _ = made
    assert main(["report", f"{session}:backward drill", "--json"]) == 0
    part = json.loads(capsys.readouterr().out)
    assert part["forefoot_pct"] > 95 and part["landings"] < 150
    assert main(["report", str(session)]) == 0
    out = capsys.readouterr().out
    assert "Between markers" in out and "backward drill" in out


def test_empty_or_damaged_samples_are_said(tmp_path, capsys):
    import shutil
    src = simulated(tmp_path / "s", 20, pattern="forefoot", seed=9)
    empty = tmp_path / "empty"
    shutil.copytree(src, empty)
    head = (empty / "samples.csv").read_text().splitlines()[0]
    (empty / "samples.csv").write_text(head + "\n")
    assert main(["report", str(empty)]) == 1
    assert "has no frames to analyse" in capsys.readouterr().err
    nan = tmp_path / "nan"
    shutil.copytree(src, nan)
    lines = (nan / "samples.csv").read_text().splitlines(keepends=True)
    for i in (100, 101):
        cells = lines[i].split(",")
        cells[2] = "nan"
        lines[i] = ",".join(cells)
    (nan / "samples.csv").write_text("".join(lines))
    assert main(["report", str(nan)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "note: the left foot was not sampled in 2 frames (about 10 ms, first at 0.49 s)" in out
    assert out.index("note:") < out.index("Landings")        # the notes come before the figures


def test_detection_can_be_changed_from_the_command_line(made, capsys):
    session, _ = made
    assert main(["report", str(session), "--json", "--set", "min_contact_ms=400"]) == 0
    assert json.loads(capsys.readouterr().out)["landings"] == 0       # contacts are ~250 ms
    assert main(["report", str(session), "--set", "remember=2.5"]) == 2
    assert "remember: expected a whole number, got 2.5" in capsys.readouterr().err
    assert main(["compare", str(session), str(session), "--set", "on_floor"]) == 2
    assert "--set 'on_floor': expected NAME=NUMBER" in capsys.readouterr().err


def test_report_out_never_overwrites_a_users_files_nor_writes_through_a_link(made, tmp_path, capsys):
    session, _ = made
    mine = tmp_path / "my-notes"
    mine.mkdir()
    (mine / "summary.json").write_text("my own summary\n")
    (mine / "landings.csv").write_text("my own landings\n")
    capsys.readouterr()
    assert main(["report", str(session), "--out", str(mine)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds files insole did not write" in err and str(mine) in err
    assert (mine / "summary.json").read_text() == "my own summary\n"          # untouched
    assert (mine / "landings.csv").read_text() == "my own landings\n"

    # a report folder insole made is written again, but a link planted in it is replaced, not followed
    rep = tmp_path / "rep"
    assert main(["report", str(session), "--out", str(rep)]) == 0
    outside = tmp_path / "outside.json"
    outside.write_text("not the report's\n")
    (rep / "summary.json").unlink()
    (rep / "summary.json").symlink_to(outside)
    assert main(["report", str(session), "--out", str(rep)]) == 0
    assert outside.read_text() == "not the report's\n"
    assert not (rep / "summary.json").is_symlink() and json.loads((rep / "summary.json").read_text())["landings"] > 0

    # nor is --out itself a link to somewhere else; an empty folder is fine
    link = tmp_path / "link"
    link.symlink_to(rep)
    assert main(["report", str(session), "--out", str(link)]) == 1
    assert "symbolic link" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(session), "--out", str(empty)]) == 0 and (empty / "report.html").exists()
    assert not [p for p in rep.iterdir() if p.name.endswith(".tmp")]          # no temporary left


def test_the_mean_cop_path_of_a_class_is_drawn_per_running_direction(made):
    # the drill's forefoot landings run forward (heel → toe) and backward (toe → heel): one mean
    # of both would be a path no landing took
    from analysis.plots import fig_cop_paths
    session, _ = made
    fig = fig_cop_paths(load_session(session))
    means = {line.get_label(): line.get_ydata() for line in fig.axes[0].get_lines()
             if line.get_label().startswith("forefoot")}
    forward = next(y for k, y in means.items() if k.startswith("forefoot, forward"))
    backward = next(y for k, y in means.items() if k.startswith("forefoot, backward"))
    assert forward[-1] - forward[0] > 0.02 and backward[-1] - backward[0] < -0.2     # fractions of the drawing
    assert not any(k.startswith("midfoot, backward") for k in means)


def test_report_out_to_a_path_that_is_not_utf8_works(made, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path
    session, _ = made
    out = os.path.join(os.fsencode(tmp_path), b"r\xff")           # a byte no UTF-8 text has
    insole = str(Path(sys.executable).with_name("insole"))
    p = subprocess.run([insole, "report", str(session), "--out", out], capture_output=True)
    assert p.returncode == 0, p.stderr
    assert os.path.isfile(os.path.join(out, b"report.html")) and os.path.isfile(os.path.join(out, b"summary.json"))


def test_report_json_has_the_force_figures_the_tables_show(made, capsys):
    session, _ = made
    assert main(["report", str(session), "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert 1.5 < s["peak_force_bw_median"] < 4 and s["peak_force_n_median"] > 1000
    assert s["loading_rate_bw_s_mean"] > 10
    assert all(k in s["feet"]["left"] for k in ("peak_force_bw_median", "loading_rate_bw_s_mean"))
    assert s["notes"] == [] and s["health"]["frames_read"] == s["health"]["frames"]


def test_the_snap_band_drawn_and_told_is_the_one_the_report_used(made, tmp_path):
    # `--set snap_band_from=50`: the hatched band and the rule under the figure say 50, not the
    # default 56.7 (a band drawn from the defaults would show a rule the landings were not put by)
    from analysis.plots import fig_strike_index
    session, _ = made
    fig = fig_strike_index(load_session(session, snap_band_from=50))
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert hatched
    for p in hatched:           # y in data units (axhspan: x across the axes, y the strike index)
        ys = p.get_path().transformed(p.get_patch_transform()).vertices[:, 1]
        assert ys.min() == pytest.approx(50.0) and ys.max() == pytest.approx(66.67, abs=0.01)
    out = tmp_path / "rep50"
    assert main(["report", str(session), "--out", str(out), "--set", "snap_band_from=50"]) == 0
    page = (out / "report.html").read_text()
    assert "between 50 and 66.7 (hatched)" in page and "56.7" not in page
