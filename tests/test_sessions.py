"""``insole sessions``: the sessions under a folder, listed from their files (never re-analysed),
on sessions made by ``insole simulate`` whose answers are known."""

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from test_cli import wait_for

from pi.cli import main
from pi.report import report
from pi.sessions import clock, local_time, size

INSOLE = str(Path(sys.executable).with_name("insole"))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """A data folder with three finished sessions: 40 s forefoot, 75 s mixed, 30 s heel."""
    d = tmp_path_factory.mktemp("data")
    for name, seconds, pattern in (("a-forefoot", 40, "forefoot"), ("b-mixed", 75, "mixed"), ("c-heel", 30, "rearfoot")):
        assert main(["simulate", "--out", str(d / name), "--duration", str(seconds), "--pattern", pattern]) == 0
    return d


def listed(folder, capsys) -> list[dict]:
    capsys.readouterr()
    assert main(["sessions", str(folder), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def copy(data, name, to) -> Path:
    dst = to / name
    shutil.copytree(data / name, dst)
    return dst


def test_the_figures_are_those_of_the_session(data, capsys):
    rows = {Path(r["folder"]).name: r for r in listed(data, capsys)}
    assert list(rows) == ["a-forefoot", "b-mixed", "c-heel"]            # by start time
    for name, seconds in (("a-forefoot", 40), ("b-mixed", 75), ("c-heel", 30)):
        r = rows[name]
        summary, _ = report(data / name)                               # the full re-analysis agrees
        assert r["landings"] == summary["landings"] > 0
        assert r["forefoot_pct"] == summary["forefoot_pct"]
        assert r["duration_s"] == pytest.approx(seconds, abs=0.01)
        assert r["size_bytes"] == sum(f.stat().st_size for f in (data / name).iterdir())
        assert r["status"] == "complete" and r["note"] is None
        assert r["started_at"] == json.loads((data / name / "session.json").read_text())["started_at"]
    assert rows["a-forefoot"]["forefoot_pct"] == 100.0 and rows["c-heel"]["forefoot_pct"] == 0.0
    assert 20 < rows["b-mixed"]["forefoot_pct"] < 80


def test_the_table_a_person_reads(data, capsys):
    capsys.readouterr()
    assert main(["sessions", str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"3 sessions in {data}:"
    assert lines[1].split() == ["folder", "started", "duration", "landings", "forefoot", "size"]
    meta = json.loads((data / "b-mixed" / "session.json").read_text())
    summary, _ = report(data / "b-mixed")
    mixed = lines[3].split()
    assert mixed[0] == "b-mixed" and " ".join(mixed[1:3]) == local_time(meta["started_at"])
    assert mixed[3:] == ["1:15", str(summary["landings"]), f"{summary['forefoot_pct']:.1f}", "%", mixed[-2], "kB"]
    assert len({len(l) for l in lines[1:4]}) == 1                        # aligned columns


def test_an_unfinished_session_is_marked_and_timed_by_its_last_saved_frame(data, tmp_path, capsys):
    s = copy(data, "a-forefoot", tmp_path)
    meta = json.loads((s / "session.json").read_text())
    del meta["ended_at"], meta["duration_s"]                           # as a power cut leaves it
    (s / "session.json").write_text(json.dumps(meta))
    samples = s / "samples.csv"
    last_t = float(samples.read_text().splitlines()[-1].split(",")[0])
    with open(samples, "a") as fh:
        fh.write("40.000000,12,3")                                       # a torn last line
    old = time.time() - 60
    os.utime(samples, (old, old))
    (r,) = listed(s.parent, capsys)
    assert r["status"] == "unfinished" and r["note"] == "torn last line"
    assert r["duration_s"] == last_t
    assert main(["sessions", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "unfinished (torn last line)" in out and "not closed cleanly" in out

    os.utime(samples)                                                    # written just now: being recorded
    (r,) = listed(s.parent, capsys)
    assert r["status"] == "recording"


def test_a_session_being_recorded_by_insole_run(tmp_path, capsys):
    p = subprocess.Popen([INSOLE, "run", "--source", "sim", "--headless", "--out", str(tmp_path)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(tmp_path, "*/samples.csv")
        time.sleep(3)
        (r,) = listed(tmp_path, capsys)
        assert r["status"] == "recording" and 2 < r["duration_s"] < 6 and r["landings"] >= 3
    finally:
        p.terminate()
        p.wait(20)
    (r,) = listed(tmp_path, capsys)
    assert r["status"] == "complete"


def test_damaged_imported_and_other_folders(data, tmp_path, capsys):
    copy(data, "a-forefoot", tmp_path)
    bad = copy(data, "c-heel", tmp_path)
    (bad / "session.json").write_text('{"format": "insole-session/1", "started_at": ')
    imported = copy(data, "b-mixed", tmp_path)
    (imported / "landings.csv").unlink()
    (tmp_path / "notes").mkdir()
    (tmp_path / "readme.txt").write_text("not a folder")
    rows = {Path(r["folder"]).name: r for r in listed(tmp_path, capsys)}
    assert rows["c-heel"]["status"] == "damaged" and rows["c-heel"]["note"].startswith("session.json unreadable")
    assert rows["b-mixed"]["landings"] is None and rows["b-mixed"]["forefoot_pct"] is None
    assert rows["a-forefoot"]["status"] == "complete"
    assert main(["sessions", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "damaged (session.json unreadable" in out
    assert "not sessions (no session.json), left out: notes" in out
    line = next(l for l in out.splitlines() if l.startswith("b-mixed"))
    assert line.split()[4:6] == ["–", "–"]


def test_only_the_end_of_samples_csv_is_read(data, tmp_path, capsys):
    # an unfinished 10 GB samples.csv (a sparse file) is listed at once: its end alone is read
    s = copy(data, "a-forefoot", tmp_path)
    meta = json.loads((s / "session.json").read_text())
    del meta["ended_at"], meta["duration_s"]
    (s / "session.json").write_text(json.dumps(meta))
    samples = s / "samples.csv"
    header = samples.read_text().splitlines()[0]
    with open(samples, "wb") as fh:
        fh.write((header + "\n").encode())
        fh.truncate(10 ** 10)
        fh.seek(10 ** 10)
        fh.write(b"\n36000.000000,1,2,3,4,5,6,7,8\n")
    # in a process that cannot map 10 GB: reading the whole file would fail at once (MemoryError)
    started = time.perf_counter()
    p = subprocess.run([INSOLE, "sessions", str(tmp_path), "--json"], capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30)),
                       env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
    assert p.returncode == 0, p.stderr
    assert time.perf_counter() - started < 10.0
    (r,) = json.loads(p.stdout)
    assert r["duration_s"] == 36000.0 and r["size_bytes"] > 10 ** 10
    assert main(["sessions", str(tmp_path)]) == 0
    assert "10:00:00" in capsys.readouterr().out and size(r["size_bytes"]) == "10.0 GB"


def test_the_default_folder_is_where_insole_run_saves(data, tmp_path):
    copy(data, "c-heel", tmp_path / "sessions")
    p = subprocess.run([INSOLE, "sessions"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.startswith("1 session in sessions:")
    from pi.cli import build_parser
    from pi.common import DEFAULT_OUT
    assert build_parser().parse_args(["run"]).out == DEFAULT_OUT == "sessions"


def test_no_sessions_folder_yet_is_not_an_error(tmp_path):
    # a fresh clone: `insole sessions` before the first `insole run`
    p = subprocess.run([INSOLE, "sessions"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stderr) == (0, "")
    assert p.stdout == "no sessions yet under ./sessions (insole run saves them there)\n"
    p = subprocess.run([INSOLE, "sessions", "--json"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (p.returncode, json.loads(p.stdout)) == (0, [])
    # a folder the user names that does not exist stays an error (a typo is not "no sessions")
    p = subprocess.run([INSOLE, "sessions", "sesions"], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stderr) == (1, "insole: error: no such folder: sesions\n")


def test_a_session_folder_itself_lists_that_session(data, capsys):
    rows = listed(data / "b-mixed", capsys)
    assert [Path(r["folder"]).name for r in rows] == ["b-mixed"]


def test_an_empty_folder(tmp_path, capsys):
    assert main(["sessions", str(tmp_path)]) == 0
    assert capsys.readouterr().out == f"no sessions in {tmp_path}\n"


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nope", "no such folder: {}"),
    (lambda p: (p / "f.txt").write_text("x") and p / "f.txt", "{} is a file, not a folder of sessions"),
])
def test_bad_folders_get_one_line(tmp_path, make, message):
    target = make(tmp_path)
    p = subprocess.run([INSOLE, "sessions", str(target)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and p.stderr == f"insole: error: {message.format(target)}\n" and p.stdout == ""


@pytest.mark.parametrize("seconds, text", [(None, "?"), (0.4, "0:00"), (59.6, "1:00"), (75, "1:15"),
                                           (3599.4, "59:59"), (3600, "1:00:00"), (36061, "10:01:01")])
def test_clock(seconds, text):
    assert clock(seconds) == text


@pytest.mark.parametrize("n, text", [(0, "0 B"), (999, "999 B"), (1000, "1 kB"), (307_473, "307 kB"),
                                     (18_240_000, "18.2 MB"), (999_999_999, "1000 MB"), (10 ** 10, "10.0 GB")])
def test_size(n, text):
    assert size(n) == text


@pytest.mark.parametrize("key, value, named", [
    (("rate_hz",), 1e308, "rate_hz"), (("rate_hz",), -5, "rate_hz"), (("rate_hz",), "fast", "rate_hz"),
    (("duration_s",), int("9" * 300), "duration_s"), (("subject", "body_mass_kg"), 1e308, "subject.body_mass_kg"),
    (("health", "frames"), -1, "health.frames")])
def test_a_bad_number_in_session_json_is_one_line_naming_the_file_and_the_key(data, tmp_path, capsys, key, value, named):
    folder = copy(data, "c-heel", tmp_path)
    meta_path = folder / "session.json"
    meta = json.loads(meta_path.read_text())
    node = meta
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    meta_path.write_text(json.dumps(meta))
    for argv in (["report", "--json", str(folder)], ["compare", str(folder), str(data / "a-forefoot")]):
        capsys.readouterr()
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and str(meta_path) in err and f"{named}:" in err, err
        assert "Traceback" not in err and "Overflow" not in err
    rows = {Path(r["folder"]).name: r for r in listed(tmp_path, capsys)}
    assert rows["c-heel"]["status"] == "damaged" and named in rows["c-heel"]["note"]
