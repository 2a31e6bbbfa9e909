"""``insole drawings``: the schematic, wiring table and templates follow the kit file.

A moved sensor, a changed input and a changed resistor must show up in what is drawn; the files
committed in hardware/ must be what the command makes of kit-default.toml now.
"""

from __future__ import annotations

import copy
import csv
import re
import tomllib
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

import pytest

from pi.cli import main
from pi.drawings import generate, parse_sizes
from pi.drawings.templates import MARGIN_MM, PAGE_H_MM, foot_length_mm, template_pages
from pi.kit import DEFAULT_KIT_PATH, kit_from_dict

HARDWARE = DEFAULT_KIT_PATH.parent
SVG = "{http://www.w3.org/2000/svg}"


def default_dict() -> dict:
    with open(DEFAULT_KIT_PATH, "rb") as f:
        return tomllib.load(f)


def kit_with(change) -> object:
    d = copy.deepcopy(default_dict())
    change(d)
    return kit_from_dict(d, DEFAULT_KIT_PATH)


def sensor(d: dict, name: str) -> dict:
    return next(s for s in d["sensor"] if s["name"] == name)


def circle(svg: str, name: str) -> tuple[float, float, float]:
    """(cx, cy, r) of a sensor on a template page, mm."""
    for c in ET.fromstring(svg).iter(f"{SVG}circle"):
        if c.get("data-name") == name:
            return float(c.get("cx")), float(c.get("cy")), float(c.get("r"))
    raise AssertionError(f"no circle for {name}")


def texts(svg: str) -> list[tuple[str, float, float]]:
    """Every text of an SVG with its position: (text, x, y)."""
    return [("".join(t.itertext()), float(t.get("x")), float(t.get("y")))
            for t in ET.fromstring(svg).iter(f"{SVG}text")]


def csv_row(path: Path, name: str) -> dict:
    with open(path, newline="") as f:
        return next(r for r in csv.DictReader(f) if r["sensor"] == name)


# -- the committed files ------------------------------------------------------------------------
def test_committed_drawings_are_what_the_default_kit_draws_now(tmp_path):
    """hardware/ holds the drawings of kit-default.toml: regenerate them (`insole drawings
    --config hardware/kit-default.toml`) whenever the kit file or the drawing code changes."""
    kit = kit_with(lambda d: None)
    written = generate(kit, tmp_path)
    stale = "is stale: run `insole drawings --config hardware/kit-default.toml` and commit the result"
    committed = {p.relative_to(HARDWARE) for p in (HARDWARE / "templates").glob("insole-EU*.svg")}
    assert committed == {p.relative_to(tmp_path) for p in written if p.parent.name == "templates"}, \
        f"the set of templates {stale}"
    for p in written:
        rel = p.relative_to(tmp_path)
        new, old = p.read_text(encoding="utf-8"), (HARDWARE / rel).read_text(encoding="utf-8")
        if rel.name == "schematic.svg" and f"schemdraw {version('schemdraw')} " not in old:
            # drawn by another schemdraw: its geometry may differ, but never its labels
            assert sorted(t for t, _, _ in texts(new)) == sorted(t for t, _, _ in texts(old)), f"{rel} {stale}"
        else:
            assert new == old, f"hardware/{rel} {stale}"


# -- templates ------------------------------------------------------------------------------------
def test_template_is_true_scale_with_a_50_mm_bar():
    page = template_pages(kit_with(lambda d: None), "left", 42)[0]
    root = ET.fromstring(page)
    assert (root.get("width"), root.get("height"), root.get("viewBox")) == ("210mm", "297mm", "0 0 210 297")
    bar = next(p for p in root.iter(f"{SVG}path") if p.get("id") == "scale-bar")
    xs = [float(v) for v in re.findall(r"[MH] ([\d.]+)", bar.get("d"))]
    assert max(xs) - min(xs) == pytest.approx(50.0)
    assert any("foot length 265 mm" in t for t, _, _ in texts(page))


def test_moved_sensor_moves_on_the_template_by_the_foot_length_share():
    length = foot_length_mm(42)
    assert length == pytest.approx(265.0)
    before = circle(template_pages(kit_with(lambda d: None), "left", 42)[0], "L_heel")
    moved = kit_with(lambda d: sensor(d, "L_heel").update(y=0.30))
    page = template_pages(moved, "left", 42)[0]
    after = circle(page, "L_heel")
    assert before[1] - after[1] == pytest.approx(0.20 * length, abs=0.01)     # toes are up the page
    heel_y = float(ET.fromstring(page).get("data-heel-y-mm"))
    assert heel_y - after[1] == pytest.approx(0.30 * length, abs=0.01)
    assert any(t == "80 mm from heel" for t, _, _ in texts(page))
    assert after[2] * 2 == pytest.approx(9.53, abs=0.01)                        # the A201's sensing area


def test_sensor_diameter_comes_from_the_kit():
    kit = kit_with(lambda d: d["fsr"].update(diameter_mm=25.4))
    assert circle(template_pages(kit, "right", 40)[0], "R_mt1")[2] == pytest.approx(12.7)


def test_left_foot_has_its_big_toe_on_the_right_seen_from_above():
    kit = kit_with(lambda d: None)
    left, right = (template_pages(kit, f, 42)[0] for f in ("left", "right"))
    # the 1st metatarsal head (x = 0.25) is medial, the 5th (x = 0.85) lateral
    assert circle(left, "L_mt1")[0] > circle(left, "L_mt5")[0]
    assert circle(right, "R_mt1")[0] < circle(right, "R_mt5")[0]
    big_toe = {t: x for t, x, _ in texts(left)}["big-toe side"]
    assert big_toe > 105


@pytest.mark.parametrize("size", range(36, 48))
def test_outline_is_one_foot_long_and_fits_the_printable_page(size):
    """The outline (all its control points) runs from the heel line to one foot length above it,
    no further; a foot too long for one A4 page is on two, each cut at the same place."""
    kit = kit_with(lambda d: None)
    length = foot_length_mm(size)
    pages = template_pages(kit, "right", size)
    assert len(pages) == (1 if length <= PAGE_H_MM - 2 * MARGIN_MM else 2)
    cuts = []
    for k, page in enumerate(pages):
        root = ET.fromstring(page)
        heel_y = float(root.get("data-heel-y-mm"))
        outline = next(p for p in root.iter(f"{SVG}path") if p.get("id") == "outline").get("d")
        ys = [float(v) for v in re.findall(r"[-\d.]+", outline)][1::2]
        assert max(ys) == pytest.approx(heel_y, abs=0.01)
        assert min(ys) == pytest.approx(heel_y - length, abs=0.01)
        if len(pages) == 1:
            assert MARGIN_MM <= min(ys) and max(ys) <= PAGE_H_MM - MARGIN_MM
        else:
            cut = next(p for p in root.iter(f"{SVG}path") if p.get("id") == "cut-line").get("d")
            cuts.append(heel_y - float(cut.split()[2]))
            end = min(ys) if k == 0 else max(ys)          # page 1 has the toe, page 2 the heel
            assert MARGIN_MM <= end <= PAGE_H_MM - MARGIN_MM
            # each page says what to do with it at the cut
            said = " ".join(t for t, _, y in texts(page) if abs(y - float(cut.split()[2])) < 6)
            assert ("keep the toe part" if k == 0 else "page 1's cut edge on this line") in said
    if cuts:
        assert cuts[0] == pytest.approx(cuts[1], abs=0.02) and cuts[0] == pytest.approx(0.5 * length, abs=0.02)


# -- the wiring table and the schematic ------------------------------------------------------------
def _inputs_swapped_and_resistor_changed(d):
    sensor(d, "L_heel").update(input=3, divider_ohm=22000)
    sensor(d, "L_mt1").update(input=0)


def test_changed_input_and_resistor_show_in_the_wiring_table(tmp_path):
    generate(kit_with(lambda d: None), tmp_path / "a", sizes=[42])
    generate(kit_with(_inputs_swapped_and_resistor_changed), tmp_path / "b", sizes=[42])
    a, b = csv_row(tmp_path / "a/wiring.csv", "L_heel"), csv_row(tmp_path / "b/wiring.csv", "L_heel")
    assert (a["input"], a["divider_ohm"], a["address"], a["alert_pin"]) == ("A0", "10000", "0x48", "11")
    assert (b["input"], b["divider_ohm"]) == ("A3", "22000")
    assert csv_row(tmp_path / "b/wiring.csv", "L_mt1")["input"] == "A0"
    md = (tmp_path / "b/wiring.md").read_text()
    assert "| L_heel | left | 0.1, 0.5 | left (0x48) A3 | 22 kΩ | SDA pin 3, SCL pin 5, ALERT/RDY GPIO17 pin 11 |" in md
    assert "| 11 | GPIO17 | ALERT/RDY of chip left, 10 kΩ pull-up to 3V3 |" in md


def _input_under(svg: str, name: str) -> str:
    """Which input (A0-A3) a sensor's divider hangs from in the schematic: the input label of the
    nearest chip row whose x is nearest to the sensor's label."""
    t = texts(svg)
    _, sx, sy = next(v for v in t if v[0] == name)
    pins = [v for v in t if re.fullmatch(r"A[0-3]", v[0])]
    row_y = min({y for _, _, y in pins}, key=lambda y: abs(y - sy))
    return min((v for v in pins if v[2] == row_y), key=lambda v: abs(v[1] - sx))[0]


def test_changed_input_and_resistor_show_in_the_schematic(tmp_path):
    generate(kit_with(lambda d: None), tmp_path / "a", sizes=[42])
    generate(kit_with(_inputs_swapped_and_resistor_changed), tmp_path / "b", sizes=[42])
    a, b = ((tmp_path / x / "schematic.svg").read_text() for x in "ab")
    assert (_input_under(a, "L_heel"), _input_under(a, "L_mt1")) == ("A0", "A3")
    assert (_input_under(b, "L_heel"), _input_under(b, "L_mt1")) == ("A3", "A0")
    count = lambda svg, s: sum(1 for t, _, _ in texts(svg) if t == s)   # noqa: E731
    assert (count(a, "22 kΩ"), count(b, "22 kΩ")) == (0, 1)
    assert count(b, "10 kΩ") == count(a, "10 kΩ") - 1


def test_chip_address_rewires_its_addr_pin(tmp_path):
    kit = kit_with(lambda d: d["chip"][1].update(address=0x4B))
    generate(kit, tmp_path, sizes=[42])
    assert "| right | ADS1115 | 0x4B | SCL | 860 SPS |" in (tmp_path / "wiring.md").read_text()
    assert csv_row(tmp_path / "wiring.csv", "R_heel")["address"] == "0x4B"


def test_divider_check_finds_the_best_resistor_and_clipping(tmp_path):
    """R_fsr = 4e6 N·Ω / F: over 50-1500 N the swing is largest at √(80 kΩ · 2.67 kΩ) = 14.6 kΩ;
    at gain 2 (±2.048 V) a 10 kΩ divider clips above 655 N (1.65 V at 400 N, 2.20 V at 800 N)."""
    generate(kit_with(lambda d: None), tmp_path / "a", sizes=[42])
    md = (tmp_path / "a/wiring.md").read_text()
    assert "√(R(50 N)·R(1500 N)) = 14.6 kΩ" in md and "Swing over 50–1500 N: 2.24 V with 10 kΩ" in md
    assert "clips" not in md
    generate(kit_with(lambda d: [c.update(gain=2) for c in d["chip"]]), tmp_path / "b", sizes=[42])
    rows = {r.split("|")[1].strip(): r for r in (tmp_path / "b/wiring.md").read_text().splitlines()
            if re.match(r"\| \d+ \| ", r) and "kΩ |" in r}
    assert "clips" not in rows["400"] and "clips" in rows["800"] and "clips" in rows["1500"]


# -- the command ----------------------------------------------------------------------------------
def test_command_draws_a_kit_file_into_a_folder(tmp_path, capsys):
    text = DEFAULT_KIT_PATH.read_text().replace("y = 0.72", "y = 0.75", 1)   # L_mt1 moved forward
    kit_file = tmp_path / "my-kit.toml"
    kit_file.write_text(text)
    assert main(["drawings", "--config", str(kit_file), "--out", str(tmp_path / "out"), "--sizes", "40,42"]) == 0
    assert "drew my-kit.toml" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "out/templates").iterdir())
    assert names == ["insole-EU40-left.svg", "insole-EU40-right.svg", "insole-EU42-left.svg", "insole-EU42-right.svg"]
    page = (tmp_path / "out/templates/insole-EU42-left.svg").read_text()
    assert float(ET.fromstring(page).get("data-heel-y-mm")) - circle(page, "L_mt1")[1] == \
        pytest.approx(0.75 * 265.0, abs=0.01)
    assert csv_row(tmp_path / "out/wiring.csv", "L_mt1")["y"] == "0.75"
    # a stale page of a size drawn again goes; other sizes' templates stay
    (tmp_path / "out/templates/insole-EU42-left-page2.svg").write_text("<svg/>")
    assert main(["drawings", "--config", str(kit_file), "--out", str(tmp_path / "out"), "--sizes", "42"]) == 0
    assert sorted(p.name for p in (tmp_path / "out/templates").iterdir()) == names


@pytest.mark.parametrize("sizes", ["47-36", "29", "big", "36-", "60"])
def test_bad_sizes_are_one_line_errors(sizes, tmp_path, capsys):
    assert main(["drawings", "--out", str(tmp_path), "--sizes", sizes]) == 2
    err = capsys.readouterr().err
    assert err.startswith("insole: error: --sizes:") and err.count("\n") == 1


def test_sizes_parse():
    assert parse_sizes("36-38,42") == [36, 37, 38, 42]


def test_your_own_kit_is_drawn_into_drawings_not_over_the_committed_ones(tmp_path, monkeypatch, capsys):
    import pi.drawings
    import pi.kit
    hardware = tmp_path / "hardware"                  # stands in for the checkout's hardware/
    monkeypatch.setattr(pi.drawings, "DEFAULT_OUT", hardware)
    own = tmp_path / "kit.toml"                       # the user's hardware/kit.toml (insole calibrate writes it)
    own.write_text(DEFAULT_KIT_PATH.read_text())
    monkeypatch.setattr(pi.kit, "USER_KIT_PATH", own)
    monkeypatch.chdir(tmp_path)
    assert main(["drawings", "--sizes", "42"]) == 0
    out = capsys.readouterr().out
    assert "drew kit.toml into drawings" in out and "not hardware/" in out
    assert (tmp_path / "drawings/wiring.md").is_file() and (tmp_path / "drawings/templates/insole-EU42-left.svg").is_file()
    assert not hardware.exists()
    # the template still draws into hardware/ (how the committed drawings are made)
    assert main(["drawings", "--config", str(DEFAULT_KIT_PATH), "--sizes", "42"]) == 0
    assert f"drew kit-default.toml into {hardware}" in capsys.readouterr().out
    assert (hardware / "wiring.md").is_file()
