"""setup.sh's Raspberry Pi steps, run against a pretend system: a temporary root (INSOLE_ROOT) with
a config.txt shaped like Raspberry Pi OS Bookworm's, a Pi model string, /etc/group, and fake
raspi-config, apt-get, usermod, systemctl, sudo and id on PATH that log their arguments and change the
pretend root the way the real ones change the real one. The pip part is skipped (INSOLE_SKIP_PIP)."""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pi.realtime import PRIORITY
from pi.service import unit_text

REPO = Path(__file__).resolve().parents[1]
SETUP = REPO / "setup.sh"
PI4 = "Raspberry Pi 4 Model B Rev 1.5"
PI5 = "Raspberry Pi 5 Model B Rev 1.0"

# Raspberry Pi OS Bookworm's default config.txt, shortened: I2C commented out near the top,
# model sections at the end, closed by [all]
CONFIG = """\
# For more options and information see
# http://rptl.io/configtxt

# Uncomment some or all of these to enable the optional hardware interfaces
#dtparam=i2c_arm=on
#dtparam=i2s=on
#dtparam=spi=on

# Enable audio (loads snd_bcm2835)
dtparam=audio=on

[cm4]
otg_mode=1

[cm5]
dtoverlay=dwc2,dr_mode=host

[all]
"""
SPEED_LINES = "# insole (setup.sh): the I2C bus at 400 kHz for the ADS1x15 chips\ndtparam=i2c_arm_baudrate=400000\n"
GROUP = "root:x:0:\nadm:x:4:runner\ni2c:x:998:\ngpio:x:997:someone\nrunner:x:1000:\n"
MODULES = "# /etc/modules: kernel modules to load at boot time.\n"

# Each fake logs ["name", *args] as a JSON line to $FAKE_LOG. raspi-config's do_i2c does what
# the real one does (raspi-config, RPi-Distro): replaces any "#dtparam=i2c_arm=…" line in place
# (or appends one), adds i2c-dev to /etc/modules, and turns I2C on live (bus 1 at 100 kHz).
FAKES = {
    "raspi-config": r'''
        assert args == ["nonint", "do_i2c", "0"], args
        cfg = root / "boot/firmware/config.txt"
        lines = cfg.read_text().splitlines()
        hits = [i for i, l in enumerate(lines) if re.match(r"#?\s*dtparam=i2c_arm=", l)]
        for i in hits:
            lines[i] = "dtparam=i2c_arm=on"
        if not hits:
            lines.append("dtparam=i2c_arm=on")
        cfg.write_text("\n".join(lines) + "\n")
        mods = root / "etc/modules"
        if "i2c-dev" not in mods.read_text():
            mods.write_text(mods.read_text() + "i2c-dev\n")
        node = root / "sys/bus/i2c/devices/i2c-1/of_node"
        node.mkdir(parents=True, exist_ok=True)
        (node / "clock-frequency").write_bytes((100000).to_bytes(4, "big"))
    ''',
    "usermod": r'''
        assert args[0] == "-aG" and len(args) == 3, args
        group, user = args[1], args[2]
        path = root / "etc/group"
        out = []
        for line in path.read_text().splitlines():
            f = line.split(":")
            if f[0] == group:
                f[3] = ",".join([m for m in f[3].split(",") if m] + [user])
            out.append(":".join(f))
        path.write_text("\n".join(out) + "\n")
    ''',
    "systemctl": r'''
        wants = root / "etc/systemd/system/multi-user.target.wants/insole.service"
        active = Path(os.environ["FAKE_STATE"]) / "active"
        if args[0] == "is-enabled":
            print("enabled" if wants.is_symlink() else "disabled")
            sys.exit(0 if wants.is_symlink() else 1)
        if args[0] == "is-active":
            sys.exit(0 if active.exists() else 3)
        if args[0] == "enable":
            wants.parent.mkdir(parents=True, exist_ok=True)
            wants.symlink_to("/etc/systemd/system/insole.service")
        elif args[:2] == ["disable", "--now"]:
            wants.unlink(missing_ok=True)
            active.unlink(missing_ok=True)
        elif args[0] == "restart":
            active.touch()
        else:
            assert args == ["daemon-reload"], args
    ''',
    "apt-get": r'''
        assert args == ["install", "-y", "-q", "i2c-tools"], args
        (root / "usr/sbin").mkdir(parents=True, exist_ok=True)
        (root / "usr/sbin/i2cdetect").write_text("#!/bin/sh\n")
        (root / "usr/sbin/i2cdetect").chmod(0o755)
    ''',
    "sudo": r'''
        os.execvp(args[0], args)
    ''',
    "id": r'''
        if args == ["-u"]:
            print(os.environ.get("FAKE_UID", "1000"))
        elif args == ["-un"]:
            print("runner")
        else:
            os.execv("/usr/bin/id", ["id", *args])
    ''',
}


class System:
    """A pretend Raspberry Pi: ``root`` (the files setup.sh may change), fake commands on PATH."""

    def __init__(self, base: Path, model: str | None, config: str | None = CONFIG,
                 fakes=tuple(FAKES)):
        self.root = base / "root"
        self.state = base / "state"          # the fakes' own state, outside the pretend root
        self.bin = base / "bin"
        self.log = base / "calls.log"
        for d in (self.root / "proc/device-tree", self.root / "boot/firmware", self.root / "etc/systemd/system",
                  self.state, self.bin):
            d.mkdir(parents=True)
        if model is not None:
            (self.root / "proc/device-tree/model").write_bytes(model.encode() + b"\0")
        if config is not None:
            (self.root / "boot/firmware/config.txt").write_text(config)
            # Bookworm leaves a stub where the file used to be: setup.sh must not edit that one
            (self.root / "boot/config.txt").write_text("DO NOT EDIT THIS FILE\n\nThe file you are looking for "
                                                       "has moved to /boot/firmware/config.txt\n")
        (self.root / "etc/group").write_text(GROUP)
        (self.root / "etc/modules").write_text(MODULES)
        (self.root / "etc/environment").write_text("")
        for name in fakes:
            path = self.bin / name
            path.write_text(f"#!{sys.executable}\nimport json, os, re, sys\nfrom pathlib import Path\n"
                            "args = sys.argv[1:]\nroot = Path(os.environ['INSOLE_ROOT'])\n"
                            f"with open(os.environ['FAKE_LOG'], 'a') as fh:\n"
                            f"    fh.write(json.dumps([{name!r}, *args]) + '\\n')\n"
                            + textwrap.dedent(FAKES[name]))
            path.chmod(0o755)

    def run(self, *args, uid="1000", sudo_user=None, timeout=60):
        env = {k: v for k, v in os.environ.items() if k not in ("SUDO_USER", "GPIOZERO_PIN_FACTORY")}
        env.update(INSOLE_ROOT=str(self.root), INSOLE_SKIP_PIP="1", FAKE_LOG=str(self.log),
                   FAKE_STATE=str(self.state), FAKE_UID=uid, PATH=f"{self.bin}:{env['PATH']}")
        if sudo_user:
            env["SUDO_USER"] = sudo_user
        # no controlling terminal and no stdin: as under CI, or a script
        return subprocess.run(["bash", str(SETUP), *args], env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout, start_new_session=True)

    def files(self) -> dict[str, bytes | str]:
        out = {}
        for p in sorted(self.root.rglob("*")):
            key = str(p.relative_to(self.root))
            if p.is_symlink():
                out[key] = "-> " + os.readlink(p)
            elif p.is_file():
                out[key] = p.read_bytes()
        return out

    def calls(self, mutating_only=True) -> list[list[str]]:
        if not self.log.exists():
            return []
        calls = [json.loads(line) for line in self.log.read_text().splitlines()]
        calls = [c for c in calls if c[0] not in ("sudo", "id")]
        if mutating_only:
            calls = [c for c in calls if not (c[0] == "systemctl" and c[1] in ("is-enabled", "is-active"))]
        return calls

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text()

    def reboot(self, hz: int = 400000) -> None:
        """The kernel now runs bus 1 at ``hz`` (as after a reboot with that config.txt)."""
        node = self.root / "sys/bus/i2c/devices/i2c-1/of_node"
        node.mkdir(parents=True, exist_ok=True)
        (node / "clock-frequency").write_bytes(hz.to_bytes(4, "big"))


def changed(before: dict, after: dict) -> set[str]:
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}


def ok(p: subprocess.CompletedProcess) -> str:
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


CORE_LINES = "# insole (setup.sh): the core clock fixed, so the I2C bus keeps its 400 kHz\ncore_freq=500\ncore_freq_min=500\n"
EXPECTED_CONFIG = CONFIG.replace("#dtparam=i2c_arm=on\n", "dtparam=i2c_arm=on\n" + SPEED_LINES) + CORE_LINES


def test_first_run_on_a_pi_makes_exactly_the_expected_edits(tmp_path):
    pi = System(tmp_path, PI4)
    data = tmp_path / "data"
    before = pi.files()
    out = ok(pi.run("--yes", "--service", "--data", str(data)))

    after = pi.files()
    backups = [k for k in after if k.startswith("boot/firmware/config.txt.insole-bak-")]
    assert len(backups) == 1
    assert changed(before, after) == {
        "boot/firmware/config.txt", backups[0], "etc/group", "etc/modules", "usr/sbin/i2cdetect",
        "etc/security/limits.d/insole.conf",
        "sys/bus/i2c/devices/i2c-1/of_node/clock-frequency",              # raspi-config turned I2C on live
        "etc/systemd/system/insole.service", "etc/systemd/system/multi-user.target.wants/insole.service"}
    assert pi.text("boot/firmware/config.txt") == EXPECTED_CONFIG
    assert after[backups[0]] == CONFIG.encode()                           # the file as it was before the run
    assert pi.text("boot/config.txt").startswith("DO NOT EDIT")
    assert "i2c:x:998:runner\n" in pi.text("etc/group") and "gpio:x:997:someone,runner\n" in pi.text("etc/group")
    assert pi.text("etc/modules") == MODULES + "i2c-dev\n"
    assert pi.text("etc/security/limits.d/insole.conf") == f"runner - rtprio {PRIORITY}\n"
    assert pi.text("etc/systemd/system/insole.service") == unit_text("runner", data)
    assert data.is_dir()
    assert pi.calls() == [["raspi-config", "nonint", "do_i2c", "0"], ["apt-get", "install", "-y", "-q", "i2c-tools"],
                          ["usermod", "-aG", "i2c", "runner"], ["usermod", "-aG", "gpio", "runner"],
                          ["systemctl", "daemon-reload"], ["systemctl", "enable", "insole.service"]]
    # each change is printed before it is made; the reboot the bus speed needs is asked for
    assert out.index("change: turn I2C on") < out.index("change: add dtparam=i2c_arm_baudrate=400000")
    assert "change: add runner to the group i2c" in out and "change: install the boot service" in out
    assert "change: install i2c-tools" in out
    # the reboot comes first, then what to do after it: check and calibrate before logging
    lines = out.strip().splitlines()
    reboot = lines.index("==> reboot needed (for the I2C bus speed (400000 Hz set, 100000 Hz running); "
                         "the fixed core clock to take effect): sudo reboot")
    assert lines[reboot + 1] == "==> Next (after the reboot):"
    nxt = [line.split("#")[0].strip() for line in lines[reboot + 2:]]
    assert nxt.index("insole check") < nxt.index("insole calibrate --mass KG") < nxt.index("insole run")
    assert "it starts with the reboot" in out


def test_a_second_run_changes_nothing(tmp_path):
    pi = System(tmp_path, PI4)
    data = tmp_path / "data"
    ok(pi.run("--yes", "--service", "--data", str(data)))
    first_calls = len(pi.calls())
    before = pi.files()
    out = ok(pi.run("--yes", "--service", "--data", str(data)))
    assert pi.files() == before
    assert len(pi.calls()) == first_calls
    for already in ("I2C: on already", "I2C bus speed: 400 kHz already", "i2c-tools: installed already",
                    "core clock: fixed at 500 MHz already",
                    "group i2c: runner is in it already",
                    "group gpio: runner is in it already", "real-time priority: allowed for runner already",
                    "boot service: installed already",
                    "enabled at boot already"):
        assert already in out
    assert "change:" not in out
    assert "reboot needed" in out               # still: the Pi has not been rebooted since

    pi.reboot(400000)                           # after the reboot: the speed is in effect
    out = ok(pi.run("--yes", "--service", "--data", str(data)))
    assert pi.files() == {**before, "sys/bus/i2c/devices/i2c-1/of_node/clock-frequency": (400000).to_bytes(4, "big")}
    assert "reboot needed" not in out
    assert pi.calls()[-1] == ["systemctl", "restart", "insole.service"]   # not running yet: started now
    assert "change: start the service now" in out


def test_no_system_changes_nothing_and_says_what_it_would_do(tmp_path):
    pi = System(tmp_path, PI4)
    before = pi.files()
    out = ok(pi.run("--no-system", "--service", "--data", str(tmp_path / "data")))
    assert pi.files() == before
    assert pi.calls() == [] and all(c[1].startswith("is-") for c in pi.calls(mutating_only=False))   # questions only
    assert not (tmp_path / "data").exists()
    for would in ("would: turn I2C on", "would: add dtparam=i2c_arm_baudrate=400000", "would: install i2c-tools",
                  "would: set core_freq=500 and core_freq_min=500",
                  "would: add runner to the group i2c", "would: add runner to the group gpio",
                  "would: allow runner real-time priority",
                  "would: install the boot service", "would: start the service at every boot"):
        assert would in out
    assert "change:" not in out and "reboot needed" not in out


def test_not_a_pi_skips_the_pi_steps_with_a_note(tmp_path):
    pc = System(tmp_path, None)
    before = pc.files()
    out = ok(pc.run("--yes", "--service"))
    assert pc.files() == before and pc.calls(mutating_only=False) == []
    assert "not a Raspberry Pi: installing without the hardware libraries" in out
    assert ("note: not a Raspberry Pi: the Pi set-up (I2C, groups, real-time priority, pin library, boot service) "
            "is skipped") in out
    assert "==> Next:" in out and "insole check" not in out and "insole calibrate" not in out   # no kit here


def test_pi5_gets_the_lgpio_pin_factory_for_logins_and_the_service(tmp_path):
    pi = System(tmp_path, PI5)
    data = tmp_path / "data"
    out = ok(pi.run("--yes", "--service", "--data", str(data)))
    assert pi.text("etc/environment") == "GPIOZERO_PIN_FACTORY=lgpio\n"
    assert "change: add GPIOZERO_PIN_FACTORY=lgpio to" in out
    unit = pi.text("etc/systemd/system/insole.service")
    assert unit == unit_text("runner", data, pin_factory="lgpio")
    assert "Environment=GPIOZERO_PIN_FACTORY=lgpio\n" in unit
    before = pi.files()
    out = ok(pi.run("--yes", "--service", "--data", str(data)))
    assert pi.files() == before and "gpiozero pin library: lgpio already" in out


def test_pi5_without_etc_environment_gets_one_and_says_so(tmp_path):
    # a Pi 5 image may have no /etc/environment: setup.sh used to stop there, silently, status 2
    pi = System(tmp_path, PI5)
    (pi.root / "etc/environment").unlink()
    out = ok(pi.run("--yes"))
    assert pi.text("etc/environment") == "GPIOZERO_PIN_FACTORY=lgpio\n"
    assert (pi.root / "etc/environment").stat().st_mode & 0o777 == 0o644      # readable, as the system's is
    assert "change: add GPIOZERO_PIN_FACTORY=lgpio to" in out and "==> done." in out


def test_pi4_gets_no_pin_factory(tmp_path):
    pi = System(tmp_path, PI4)
    ok(pi.run("--yes"))
    assert pi.text("etc/environment") == ""


def test_without_a_terminal_or_yes_the_bus_speed_is_left_and_nothing_waits(tmp_path):
    pi = System(tmp_path, PI4)
    out = ok(pi.run(timeout=20))                        # stdin is not a terminal: never asks
    assert pi.text("boot/firmware/config.txt") == CONFIG.replace("#dtparam=i2c_arm=on", "dtparam=i2c_arm=on")
    assert "not asked (no terminal): Set the I2C bus to 400 kHz?" in out and "--yes" in out
    assert "I2C bus speed left at 100000 Hz" in out


@pytest.mark.parametrize("line, expected", [
    ("dtparam=i2c_arm_baudrate=100000", "dtparam=i2c_arm_baudrate=400000"),       # set in place
    ("dtparam=i2c_arm=on,i2c_arm_baudrate=100000", "dtparam=i2c_arm=on,i2c_arm_baudrate=400000"),
    ("dtparam=i2c_baudrate=50000  # slow", "dtparam=i2c_baudrate=400000  # slow"),  # the alias
])
def test_a_speed_already_set_is_changed_where_it_is(tmp_path, line, expected):
    config = CONFIG.replace("#dtparam=i2c_arm=on\n", f"dtparam=i2c_arm=on\n{line}\n")
    pi = System(tmp_path, PI4, config=config)
    (pi.root / "etc/modules").write_text(MODULES + "i2c-dev\n")          # I2C on already
    out = ok(pi.run("--yes"))
    assert pi.text("boot/firmware/config.txt") == config.replace(line, expected) + CORE_LINES
    assert "change: set the I2C bus speed in" in out and pi.calls() == [["apt-get", "install", "-y", "-q", "i2c-tools"],
                                                                          ["usermod", "-aG", "i2c", "runner"],
                                                                          ["usermod", "-aG", "gpio", "runner"]]


@pytest.mark.parametrize("line", ["dtparam=i2c_arm_baudrate=400000", "dtparam=i2c_arm=on,i2c_arm_baudrate=400000"])
def test_400_khz_already_set_is_left_alone(tmp_path, line):
    config = CONFIG.replace("#dtparam=i2c_arm=on\n", f"dtparam=i2c_arm=on\n{line}\n") + CORE_LINES
    pi = System(tmp_path, PI4, config=config)
    (pi.root / "etc/modules").write_text(MODULES + "i2c-dev\n")
    pi.reboot(400000)
    out = ok(pi.run("--yes"))
    assert pi.text("boot/firmware/config.txt") == config
    assert not any(k.startswith("boot/firmware/config.txt.insole-bak") for k in pi.files())
    assert "I2C bus speed: 400 kHz already" in out and "reboot needed" not in out


def test_speed_line_goes_under_all_when_i2c_is_not_turned_on_in_the_file(tmp_path):
    # no raspi-config (another OS): I2C is left to the user, the speed still set, for every model
    config = "dtparam=audio=on\n[pi4]\narm_boost=1\n"
    pi = System(tmp_path, PI4, config=config, fakes=("apt-get", "usermod", "sudo", "id", "systemctl"))
    out = ok(pi.run("--yes"))
    assert "raspi-config not found" in out
    assert pi.text("boot/firmware/config.txt") == config + "[all]\n" + SPEED_LINES + CORE_LINES


def test_an_older_os_keeps_config_txt_in_boot(tmp_path):
    pi = System(tmp_path, "Raspberry Pi 3 Model B Plus Rev 1.3", config=None)
    (pi.root / "boot/config.txt").write_text("dtparam=i2c_arm=on\n")
    (pi.root / "etc/modules").write_text(MODULES + "i2c-dev\n")
    ok(pi.run("--yes"))
    assert pi.text("boot/config.txt") == "dtparam=i2c_arm=on\n" + SPEED_LINES + CORE_LINES.replace("500", "250")


def test_remove_service(tmp_path):
    pi = System(tmp_path, PI4)
    ok(pi.run("--yes", "--service", "--data", str(tmp_path / "data")))
    n = len(pi.calls())
    out = ok(pi.run("--remove-service"))
    assert not (pi.root / "etc/systemd/system/insole.service").exists()
    assert not (pi.root / "etc/systemd/system/multi-user.target.wants/insole.service").is_symlink()
    assert pi.calls()[n:] == [["systemctl", "disable", "--now", "insole.service"], ["systemctl", "daemon-reload"]]
    assert "change: stop the boot service and remove" in out
    assert "boot service: not installed" in ok(pi.run("--remove-service"))


def test_run_with_sudo_is_refused_before_anything_happens(tmp_path):
    pi = System(tmp_path, PI4)
    before = pi.files()
    p = pi.run("--yes", uid="0", sudo_user="runner")
    assert p.returncode == 1 and "run it as yourself" in p.stderr
    assert pi.files() == before and pi.calls() == []


@pytest.mark.parametrize("args, message", [
    (["--frobnicate"], "unknown option: --frobnicate"),
    (["--data", "/x"], "--data goes with --service"),
    (["--service", "--remove-service"], "choose one"),
    (["--service", "--data"], "--data needs a folder"),
])
def test_bad_options_are_one_line(tmp_path, args, message):
    p = System(tmp_path, PI4).run(*args)
    assert p.returncode == 2 and message in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_help_names_every_option():
    text = SETUP.read_text()
    options = set(re.findall(r"^\s+(--[a-z-]+)(?:\|-\w)?\)", text, re.M))
    assert {"--run", "--yes", "--no-system", "--service", "--remove-service", "--data"} <= options
    help_text = subprocess.run(["bash", str(SETUP), "--help"], capture_output=True, text=True).stdout
    for option in options:
        assert option in help_text, option


def test_the_core_clock_is_fixed_where_the_i2c_clock_follows_it(tmp_path):
    """A Pi 3 or Zero 2 W at 250 MHz, an existing core_freq line replaced (not doubled), a model
    section at the end closed with [all] first, none on a Pi 5 (its I2C has a clock of its own)."""
    zero = System(tmp_path / "zero", "Raspberry Pi Zero 2 W Rev 1.0",
                  config=CONFIG.replace("[all]\n", "[all]\ncore_freq=400\n[pi4]\narm_boost=1\n"))
    ok(zero.run("--yes"))
    cfg = zero.text("boot/firmware/config.txt")
    assert cfg.endswith("[pi4]\narm_boost=1\n[all]\n" + CORE_LINES.replace("500", "250"))
    assert cfg.count("core_freq=") == 1
    out = ok(zero.run("--yes"))
    assert "core clock: fixed at 250 MHz already" in out and zero.text("boot/firmware/config.txt") == cfg
    pi5 = System(tmp_path / "pi5", PI5)
    out = ok(pi5.run("--yes"))
    assert "core_freq" not in pi5.text("boot/firmware/config.txt") and "core clock" not in out
