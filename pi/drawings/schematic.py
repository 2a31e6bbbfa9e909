"""The kit's schematic, drawn with schemdraw from the kit configuration, as SVG.

What is drawn is what ``insole run`` reads: each chip at its address (ADDR wired for it), its
ALERT/RDY pin to its GPIO with a pull-up, and under each input the sensor's divider the way
``analysis/calibration.py`` models it: the FSR from 3V3 to the input, the divider resistor from
the input to GND. Wires between the Pi and the chips are shown as net labels: labels with the
same name (SDA, SCL, ALERT_left, …) are one wire.

schemdraw writes SVG without matplotlib; text is kept as SVG ``<text>`` so the labels can be
searched (and are checked by the tests).
"""

from __future__ import annotations

from contextlib import contextmanager

from pi.drawings.divider import ohms
from pi.drawings.pinout import GND_PIN, SCL_BCM, SDA_BCM, SUPPLY_PIN, physical_pin
from pi.kit import N_INPUTS

INPUT_PITCH = 4.0           # drawing units between a chip's inputs: room for one divider each
CHIP_PITCH = 15.0           # vertical distance between chips
PULLUP_OHM = 10_000
LED_OHM = 330
_ADDR_NET = {0x48: "GND", 0x49: "3V3", 0x4A: "SDA", 0x4B: "SCL"}


@contextmanager
def _svg_text():
    """schemdraw's SVG backend, with text as <text> (searchable), restored afterwards."""
    import schemdraw
    from schemdraw.backends import svg
    old = svg.config.text
    schemdraw.use("svg")
    svg.config.text = "text"
    try:
        yield
    finally:
        svg.config.text = old


_THETA = {"up": 0, "left": 90, "down": 180, "right": 270}


def _supply(d, at, points="up"):
    """The 3V3 supply symbol at ``at``, its bar pointing ``points`` (up, left, down, right)."""
    import schemdraw.elements as elm
    # a bar pointing down keeps its text on the far side of the bar, away from the part above it,
    # and a text height further off: a viewer that ignores SVG's dominant-baseline draws the
    # text from its baseline, and the bar then struck it through
    if points == "down":
        d += elm.Vdd().at(at).theta(_THETA[points]).label("3V3", "bottom", fontsize=10, ofst=(0, 0.4))
    else:
        d += elm.Vdd().at(at).theta(_THETA[points]).label("3V3", "top", fontsize=10)


def _ground(d, at):
    import schemdraw.elements as elm
    d += elm.Ground().at(at)


def _tag_width(name: str) -> float:
    """A net label's width in drawing units: schemdraw cannot measure the text, ~0.17 per character."""
    return 0.6 + 0.17 * len(name)


def _net(d, at, name, left=False):
    """A net label at ``at``: the same name elsewhere is the same wire."""
    import schemdraw.elements as elm
    d += elm.Line().at(at).length(0.6).left() if left else elm.Line().at(at).length(0.6).right()
    tag = elm.Tag(width=_tag_width(name)).at(d.here).label(name, fontsize=10)
    d += tag.left() if left else tag.right()


def _pi(d, kit):
    """The Pi's header pins the kit uses: the bus and ALERT/RDY pins on the right, each to its
    net (or the supply, or ground); the buttons, buzzer and LEDs on the left, each to ground."""
    import schemdraw.elements as elm
    pins = [(SUPPLY_PIN, "3V3", "3V3"), (physical_pin(SDA_BCM), f"GPIO{SDA_BCM} SDA", "SDA"),
            (physical_pin(SCL_BCM), f"GPIO{SCL_BCM} SCL", "SCL"), (GND_PIN, "GND", "GND")]
    pins += [(physical_pin(c.alert_pin), f"GPIO{c.alert_pin}", f"ALERT_{c.name}")
             for c in kit.chips if c.alert_pin is not None]
    extras = sorted((physical_pin(bcm), f"GPIO{bcm}", role) for role, bcm in kit.gpio.items())
    ic = elm.Ic(pins=[elm.IcPin(name=n, pin=str(p), side="right", anchorname=f"p{p}") for p, n, _ in pins]
                + [elm.IcPin(name=n, pin=str(p), side="left", anchorname=f"p{p}") for p, n, _ in extras])
    ic.side("R", spacing=1.5, pad=0.8, leadlen=0.8).side("L", spacing=2.2, pad=0.8, leadlen=0.8)
    d += ic.right().label("Raspberry Pi\n40-pin header\n(pin numbers outside)", "top", fontsize=11)
    for p, _, net in pins:
        a = getattr(ic, f"p{p}")
        if net == "3V3":
            d += elm.Line().at(a).right().length(0.6)
            _supply(d, d.here)
        elif net == "GND":
            d += elm.Line().at(a).right().length(0.6)
            _ground(d, d.here)
        else:
            _net(d, a, net)
    for p, _, role in extras:
        a = getattr(ic, f"p{p}")
        name = role.replace("_", " ")
        if "button" in role:
            d += elm.Button().at(a).left().length(2.4).label(name, "top", fontsize=9)
        elif role == "buzzer":
            d += elm.Line().at(a).left().length(1.0)
            spk = elm.Speaker().anchor("in1").theta(180).flip().label(name, "top", fontsize=9)
            d += spk
            d += elm.Line().at(spk.in2).down().length(0.3)
        else:
            d += elm.Resistor().at(a).left().length(2.0).label(ohms(LED_OHM), "top", fontsize=9)
            d += elm.LED().left().length(1.8).label(name, "bottom", fontsize=9)
        d += elm.Line().down().length(0.3)
        _ground(d, d.here)
    return ic


def _chip(d, kit, c, origin):
    """One ADS1x15 with its top-left corner at ``origin``: its supply and bus nets, ADDR wired for
    its address, ALERT/RDY with a pull-up, and a divider under each input."""
    import schemdraw.elements as elm
    left = [("VDD", "vdd"), ("GND", "gnd"), ("SCL", "scl"), ("SDA", "sda"), ("ADDR", "addr"),
            ("ALERT/RDY", "alert")]
    pins = [elm.IcPin(name=n, side="left", anchorname=a, slot=f"{len(left) - i}/{len(left)}")
            for i, (n, a) in enumerate(left)]
    pins += [elm.IcPin(name=f"A{j}", side="bottom", anchorname=f"a{j}") for j in range(N_INPUTS)]
    ic = elm.Ic(pins=pins)
    ic.side("L", spacing=1.0, pad=0.8, leadlen=0.6).side("B", spacing=INPUT_PITCH, pad=1.6, leadlen=0.6)
    ic.label(f"{c.type} \u201c{c.name}\u201d\nI2C 0x{c.address:02X}\n{c.data_rate} SPS, ±{c.fs_v:g} V",
             "center", fontsize=12)
    d += ic.right().at(origin).anchor("inL1")
    d += elm.Line().at(ic.vdd).left().length(0.6)
    _supply(d, d.here, "left")
    d += elm.Line().at(ic.gnd).left().length(0.6)
    _ground(d, d.here)
    _net(d, ic.scl, "SCL", left=True)
    _net(d, ic.sda, "SDA", left=True)
    net = _ADDR_NET[c.address]
    if net == "GND":
        d += elm.Line().at(ic.addr).left().length(0.6)
        _ground(d, d.here)
    elif net == "3V3":
        d += elm.Line().at(ic.addr).left().length(0.6)
        _supply(d, d.here, "left")
    else:
        _net(d, ic.addr, net, left=True)
    if c.alert_pin is not None:
        d += elm.Line().at(ic.alert).left().length(2.4)
        d += elm.Dot()
        node = d.here
        d += elm.Resistor().at(node).down().length(2.0).label(ohms(PULLUP_OHM), "bottom", fontsize=9)
        _supply(d, d.here, "down")
        d += elm.Line().at(node).left().length(0.6)
        d += elm.Tag(width=_tag_width(f"ALERT_{c.name}")).left().label(f"ALERT_{c.name}", fontsize=10)
    else:                               # not wired: the chip runs in single-shot mode
        d += elm.NoConnect().at(ic.alert)
    sensors = {s.input: s for s in kit.layout if s.chip == c.name}
    for j in range(N_INPUTS):
        a = getattr(ic, f"a{j}")
        s = sensors.get(j)
        if s is None:
            d += elm.NoConnect().at(a)
            continue
        d += elm.Line().at(a).down().length(0.8)
        d += elm.Dot()
        node = d.here
        r_m = s.calibration.get("r_m_ohm") if s.calibration.get("model") == "fsr_divider" else None
        d += elm.Resistor().at(node).down().length(2.4).label(ohms(r_m) if r_m else "none", "bottom", fontsize=10)
        _ground(d, d.here)
        d += elm.ResistorVar().at(node).right().length(2.4).label(s.name, "top", fontsize=10)
        _supply(d, d.here, "up")
    return ic


def draw(kit) -> str:
    """The schematic of ``kit`` as SVG text."""
    import schemdraw
    import schemdraw.elements as elm
    from importlib.metadata import version
    with _svg_text():
        d = schemdraw.Drawing(show=False, margin=1.0)
        d.config(fontsize=11, unit=2.4)
        ic = _pi(d, kit)
        box = ic.get_bbox(transform=True)
        x0 = box.xmax + 12.0
        top = box.ymax + 4.0
        for i, c in enumerate(kit.chips):
            _chip(d, kit, c, (x0, top - i * CHIP_PITCH))
        d += elm.Label().at((box.xmin - 6.0, top + 4.0)).label(
            f"insole kit {kit.path.name}\nLabels of the same name are one wire.\n"
            f"Each sensor: the FSR from 3V3 to its input, the divider resistor from the input to GND.",
            fontsize=11, halign="left")
        svg = d.get_imagedata("svg").decode()
    note = f"<!-- generated by insole drawings from {kit.path.name} with schemdraw {version('schemdraw')} -->\n"
    return svg.replace("?>", "?>\n" + note, 1) if svg.startswith("<?xml") else note + svg
