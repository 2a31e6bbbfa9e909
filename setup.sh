#!/usr/bin/env bash
# Set up insole: its Python environment in ./.venv and, on a Raspberry Pi, the system for the kit.
# Idempotent: run it again at any time. Each system change is printed before it is made.
#   ./setup.sh                  install; on a Raspberry Pi also: turn I2C on, set the I2C bus to
#                               400 kHz and fix the core clock it follows on a Pi 3/4 (asks first;
#                               config.txt is backed up), install i2c-tools
#                               (i2cdetect), add you to the i2c and gpio groups, allow you real-time
#                               priority (so the chips are read on time), and on a Pi 5 set
#                               gpiozero's pin library to lgpio
#   ./setup.sh --yes            the same, answering yes to the question (for scripts)
#   ./setup.sh --no-system      install only: print the system changes it would make, make none
#   ./setup.sh --service        also install the boot service: the logger starts at boot and waits
#                               for the kit's start/stop button (README: "Logging headless on the Pi")
#   ./setup.sh --service --data DIR   the service saves sessions under DIR (default: ./sessions)
#   ./setup.sh --remove-service stop the boot service and remove it
#   ./setup.sh --run            install, then start the live logger (simulated insole without a kit)
# Run it as yourself, not with sudo: it calls sudo for the system changes.
# For tests: INSOLE_ROOT=DIR treats DIR as the system's root (/proc, /boot, /etc, /sys);
# INSOLE_SKIP_PIP=1 leaves .venv as it is.
set -euo pipefail
start_dir=$PWD
cd "$(dirname "$0")"
repo=$PWD

run_after=0 assume_yes=0 dry=0 service=0 remove_service=0 data=""
while [ $# -gt 0 ]; do
  case "$1" in
    --run) run_after=1 ;;
    --yes|-y) assume_yes=1 ;;
    --no-system) dry=1 ;;
    --service) service=1 ;;
    --remove-service) remove_service=1 ;;
    --data) [ $# -ge 2 ] || { echo "setup.sh: --data needs a folder (try --help)" >&2; exit 2; }
            data=$2; shift ;;
    --data=*) data=${1#--data=} ;;
    -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option: $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
if [ "$service" = 1 ] && [ "$remove_service" = 1 ]; then
  echo "setup.sh: --service and --remove-service do opposite things; choose one" >&2; exit 2
fi
if [ -n "$data" ] && [ "$service" = 0 ]; then
  echo "setup.sh: --data goes with --service (where the service saves sessions)" >&2; exit 2
fi

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold="" plain=""; fi
say() { printf '%s==>%s %s\n' "$bold" "$plain" "$*"; }
note() { printf '%s==>%s note: %s\n' "$bold" "$plain" "$*"; }

if [ "$(id -u)" = 0 ] && [ -n "${SUDO_USER:-}" ] && [ "${SUDO_USER}" != root ]; then
  echo "setup.sh: run it as yourself (./setup.sh, not sudo ./setup.sh): .venv must be yours, and" \
       "it calls sudo itself for the system changes" >&2
  exit 1
fi

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "setup.sh: $PY not found; install Python 3.11 or newer" >&2; exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "setup.sh: Python 3.11 or newer is needed, found $("$PY" -V 2>&1)" >&2; exit 1
fi
if ! "$PY" -c 'import venv, ensurepip' >/dev/null 2>&1; then
  echo "setup.sh: Python's venv module is missing; on Debian/Raspberry Pi OS: sudo apt install python3-venv" >&2; exit 1
fi

# ---------------------------------------------------------------- the system as it is now ---
ROOT=${INSOLE_ROOT:-}
user=$(id -un)
model=""
[ -r "$ROOT/proc/device-tree/model" ] && model=$(tr -d '\0' < "$ROOT/proc/device-tree/model")
is_pi=0 is_pi5=0
case "$model" in *"Raspberry Pi"*) is_pi=1 ;; esac
# the Pi 5 family (5, 500, CM5) has its GPIO on the RP1 chip: gpiozero needs lgpio there
case "$model" in *"Raspberry Pi 5"*|*"Compute Module 5"*) is_pi5=1 ;; esac

# --------------------------------------------------------------------------- Python part ---
extras="test"
if [ "$is_pi" = 1 ]; then
  extras="pi,test"
  say "Raspberry Pi found ($model): installing the hardware libraries too"
else
  say "not a Raspberry Pi: installing without the hardware libraries (the simulated insole works everywhere)"
fi
if [ "${INSOLE_SKIP_PIP:-0}" = 1 ]; then
  say "leaving .venv as it is (INSOLE_SKIP_PIP=1)"
else
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$PY" -m venv .venv
  fi
  say "installing insole[$extras] into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
  .venv/bin/python -m pip install -qq --disable-pip-version-check -e ".[$extras]"
  if [ "$is_pi5" = 1 ]; then
    if .venv/bin/python -c 'import lgpio' 2>/dev/null; then
      say "lgpio (the Pi 5's GPIO library) is installed in .venv"
    else
      note "lgpio did not install in .venv: buttons, buzzer and ALERT/RDY pins will not work (pip install lgpio shows why)"
    fi
  fi
fi

# ------------------------------------------------------------------------ system changes ---
reboot_for=() relogin=0

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# change "what it does": prints it, and says whether to go ahead (no with --no-system)
change() {
  if [ "$dry" = 1 ]; then say "would: $1"; return 1; fi
  say "change: $1"
}

ask() {   # ask "question": yes (0) or no (1); never waits without a terminal
  if [ "$assume_yes" = 1 ]; then return 0; fi
  if [ ! -t 0 ]; then
    note "not asked (no terminal): $1 Run ./setup.sh --yes to answer yes."
    return 1
  fi
  local reply
  read -r -p "$1 [Y/n] " reply || reply=n
  case "$reply" in ""|[Yy]*) return 0 ;; *) return 1 ;; esac
}

# backup FILE: a copy as FILE.insole-bak-<time>, once a run (before the run's first change)
backed_up=" "
backup() {
  local file=$1 bak
  case "$backed_up" in *" $file "*) return 0 ;; esac
  [ -e "$file" ] || return 0
  bak="$file.insole-bak-$(date +%Y%m%d-%H%M%S)"
  as_root cp "$file" "$bak"
  say "   backup: $bak"
  backed_up="$backed_up$file "
}

# replace_file FILE NEW: FILE gets NEW's content (backed up first; FILE may not exist yet); the
# swap is a rename in FILE's folder, so a power cut leaves the old or the new file
replace_file() {
  local file=$1 new=$2
  backup "$file"
  as_root cp "$new" "$file.insole-new"
  # the new file keeps FILE's permissions (NEW is mktemp's, private); a file made new: 644
  if [ -e "$file" ]; then as_root chmod --reference="$file" "$file.insole-new"
  else as_root chmod 644 "$file.insole-new"; fi
  as_root mv -f "$file.insole-new" "$file"
}

config_txt() {   # Bookworm keeps it in /boot/firmware (with a stub at /boot/config.txt), before: /boot
  local f
  for f in "$ROOT/boot/firmware/config.txt" "$ROOT/boot/config.txt"; do
    [ -f "$f" ] && { echo "$f"; return 0; }
  done
  return 1
}

# I2C is on when an active line of config.txt turns i2c_arm on (the test of raspi-config's
# get_i2c) and i2c-dev is loaded at boot (/etc/modules: raspi-config's do_i2c adds it)
I2C_ON_RE='^[[:space:]]*(device_tree_param|dtparam)=([^,#]*,)*i2c(_arm)?(=(on|true|yes|1))?([,[:space:]#]|$)'
i2c_on() {
  grep -Eq "$I2C_ON_RE" "$1" && grep -Eq '^[[:space:]]*i2c[-_]dev' "$ROOT/etc/modules" 2>/dev/null
}

# the I2C clock (Hz) an active line of config.txt sets (the last one wins; i2c_baudrate is an alias)
configured_i2c_hz() {
  sed -nE '/^[[:space:]]*dtparam=/{s/#.*//;s/.*[=,]i2c(_arm)?_baudrate=([0-9]+).*/\2/p}' "$1" | tail -n 1
}

# the I2C clock (Hz) the running kernel uses on bus 1 (device-tree clock-frequency, 32-bit big
# endian; absent = the driver's 100 kHz); nothing when I2C is not running
live_i2c_hz() {
  local node="$ROOT/sys/bus/i2c/devices/i2c-1/of_node"
  [ -d "$ROOT/sys/bus/i2c/devices/i2c-1" ] || return 0
  if [ -r "$node/clock-frequency" ]; then
    echo $((16#$(od -An -tx1 -N4 "$node/clock-frequency" | tr -d ' \n')))
  else
    echo 100000
  fi
}

step_i2c() {
  local cfg
  if ! cfg=$(config_txt); then
    note "no config.txt in $ROOT/boot/firmware or $ROOT/boot: turn I2C on and set it to 400 kHz by hand (shared notes: dtparam=i2c_arm=on, dtparam=i2c_arm_baudrate=400000)"
    return 0
  fi
  if i2c_on "$cfg"; then
    say "I2C: on already"
  elif ! command -v raspi-config >/dev/null 2>&1; then
    note "raspi-config not found (not Raspberry Pi OS?): turn I2C on with your system's tool (dtparam=i2c_arm=on in $cfg, i2c-dev loaded at boot)"
  elif change "turn I2C on (raspi-config nonint do_i2c 0)"; then
    backup "$cfg"
    as_root raspi-config nonint do_i2c 0
  fi

  local hz; hz=$(configured_i2c_hz "$cfg")
  if [ "$hz" = 400000 ]; then
    say "I2C bus speed: 400 kHz already ($cfg)"
  else
    local what
    if [ -n "$hz" ]; then what="set the I2C bus speed in $cfg from $hz to 400000 Hz"
    else what="add dtparam=i2c_arm_baudrate=400000 to $cfg (the I2C bus at 400 kHz instead of 100)"; fi
    if [ "$dry" = 1 ]; then
      change "$what" || true
    elif ask "Set the I2C bus to 400 kHz? The kit needs it for its full 215 frames/s (at the default 100 kHz insole run falls back to single-shot mode, ~50-65 frames/s); it applies to every device on the bus, and $cfg is backed up first."; then
      change "$what"
      local new; new=$(mktemp)
      if [ -n "$hz" ]; then
        sed -E '/^[[:space:]]*dtparam=/s/(i2c(_arm)?_baudrate=)[0-9]+/\1400000/g' "$cfg" > "$new"
      else
        add_speed_line < "$cfg" > "$new"
      fi
      replace_file "$cfg" "$new"
      rm -f "$new"
    else
      note "I2C bus speed left at ${hz:-100000} Hz: insole run falls back to single-shot mode there, ~50-65 frames/s instead of 215 (README)"
    fi
  fi

  # whatever ran before, is it in effect? (a change to config.txt needs a reboot)
  hz=$(configured_i2c_hz "$cfg")
  local live; live=$(live_i2c_hz)
  if [ "$dry" = 0 ] && i2c_on "$cfg" && [ -z "$live" ]; then
    reboot_for+=("I2C")
  elif [ "$dry" = 0 ] && [ -n "$hz" ] && [ -n "$live" ] && [ "$live" != "$hz" ]; then
    reboot_for+=("the I2C bus speed ($hz Hz set, $live Hz running)")
  fi
}

# stdin config.txt → stdout with the 400 kHz line after the line that turns I2C on (so it shares
# that line's [section]), or at the end under [all] (a line after a [pi4]-style section header
# would apply to that model only)
add_speed_line() {
  awk -v re="$I2C_ON_RE" '
    { line[NR] = $0 }
    $0 ~ re { on = NR }
    /^[[:space:]]*\[/ { section = $0 }
    END {
      add = "# insole (setup.sh): the I2C bus at 400 kHz for the ADS1x15 chips\ndtparam=i2c_arm_baudrate=400000"
      for (i = 1; i <= NR; i++) { print line[i]; if (i == on) print add }
      if (!on) {
        if (section != "" && section !~ /^[[:space:]]*\[all\]/) print "[all]"
        print add
      }
    }'
}

# A Pi 3, Zero 2 W and Pi 4 divide the I2C clock from the VPU core clock, the divider set once at
# boot, and the core clock drops when idle (a Pi 4's from 500 to 200 MHz: 400 kHz set runs at
# ~160 kHz; raspberrypi/firmware#1281, raspberrypi/linux#4884 and #5434). Raspberry Pi's
# engineers' fix: core_freq and core_freq_min at one value ("Both core_freq_min and core_freq
# must be set to get a fixed core frequency", raspberrypi/firmware#1256): a Pi 4 at its 500 MHz,
# a Pi 3 or Zero 2 W at 250 MHz ("the safe solution", raspberrypi/linux#2094). A Pi 5's I2C runs
# from its RP1 chip's own fixed clock: nothing to do there.
core_mhz_for_model() {
  case "$model" in
    *"Raspberry Pi 4"*|*"Raspberry Pi 400"*|*"Compute Module 4"*) echo 500 ;;
    *"Raspberry Pi 3"*|*"Raspberry Pi Zero 2"*|*"Compute Module 3"*) echo 250 ;;
  esac
}

configured_mhz() {   # configured_mhz KEY FILE: the value an active KEY=N line sets (the last one wins)
  sed -nE "/^[[:space:]]*$1=/{s/#.*//;s/^[[:space:]]*$1=([0-9]+).*/\1/p}" "$2" | tail -n 1
}

step_core_clock() {
  local mhz cfg cf cfm
  mhz=$(core_mhz_for_model)
  [ -n "$mhz" ] || return 0
  cfg=$(config_txt) || return 0
  cf=$(configured_mhz core_freq "$cfg"); cfm=$(configured_mhz core_freq_min "$cfg")
  if [ -n "$cf" ] && [ "$cf" = "$cfm" ]; then
    say "core clock: fixed at $cf MHz already (the I2C bus keeps its speed)"
    return 0
  fi
  local what="set core_freq=$mhz and core_freq_min=$mhz in $cfg (the core clock fixed, so the I2C bus keeps the speed it was set to)"
  if [ "$dry" = 1 ]; then
    change "$what" || true
  elif ask "Fix the core clock at $mhz MHz? On this Pi the I2C clock follows the core clock, which drops when idle (400 kHz set then runs at ~160-250 kHz and the kit falls below its full rate); $cfg is backed up first."; then
    change "$what"
    local new; new=$(mktemp)
    fix_core_clock "$mhz" < "$cfg" > "$new"
    replace_file "$cfg" "$new"
    rm -f "$new"
    reboot_for+=("the fixed core clock")
  else
    note "core clock left free: the I2C bus runs slower than set when the Pi idles, and insole run may step down to a lower rate (insole check measures it)"
  fi
}

# stdin config.txt → stdout with any active core_freq/core_freq_min lines taken out and the
# fixed pair added at the end under [all] (a model section before it would scope them)
fix_core_clock() {
  awk -v mhz="$1" '
    /^[[:space:]]*core_freq(_min)?=/ { next }
    { print; if ($0 ~ /^[[:space:]]*\[/) section = $0 }
    END {
      if (section != "" && section !~ /^[[:space:]]*\[all\]/) print "[all]"
      print "# insole (setup.sh): the core clock fixed, so the I2C bus keeps its 400 kHz"
      print "core_freq=" mhz
      print "core_freq_min=" mhz
    }'
}

# i2cdetect (i2c-tools) shows which chips answer on the bus (hardware/README.md, step 8)
step_i2c_tools() {
  if [ -x "$ROOT/usr/sbin/i2cdetect" ] || [ -x "$ROOT/usr/bin/i2cdetect" ]; then
    say "i2c-tools: installed already"
  elif ! command -v apt-get >/dev/null 2>&1; then
    note "apt-get not found: install i2c-tools (i2cdetect) with your system's tool"
  elif change "install i2c-tools (apt-get install -y i2c-tools): i2cdetect, to see the chips on the bus"; then
    as_root apt-get install -y -q i2c-tools ||
      note "i2c-tools did not install: try sudo apt-get update && sudo apt-get install i2c-tools"
  fi
}

in_group() {   # in_group USER GROUP: is USER listed in GROUP in /etc/group?
  awk -F: -v g="$2" -v u="$1" '$1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1 }
                               END { exit !found }' "$ROOT/etc/group"
}

step_groups() {
  if [ "$(id -u)" = 0 ]; then
    say "groups: running as root, which needs none"
    return 0
  fi
  local g
  for g in i2c gpio; do
    if ! grep -q "^$g:" "$ROOT/etc/group" 2>/dev/null; then
      note "there is no group $g here: not added (on Raspberry Pi OS it exists)"
    elif in_group "$user" "$g"; then
      say "group $g: $user is in it already"
    elif change "add $user to the group $g (usermod -aG $g $user): the kit without root"; then
      as_root usermod -aG "$g" "$user"
      relogin=1
    fi
  done
}

step_pin_factory() {
  [ "$is_pi5" = 1 ] || return 0
  local env_file="$ROOT/etc/environment" current=""
  # no /etc/environment yet (some images have none): nothing set, and the file is made below
  if [ -r "$env_file" ]; then
    current=$(sed -nE 's/^[[:space:]]*(export[[:space:]]+)?GPIOZERO_PIN_FACTORY=["'\'']?([^"'\''[:space:]]*).*/\2/p' \
              "$env_file" | tail -n 1)
  fi
  if [ "$current" = lgpio ]; then
    say "gpiozero pin library: lgpio already ($env_file)"
  elif [ -n "$current" ]; then
    note "GPIOZERO_PIN_FACTORY=$current in $env_file: left as it is (on a Pi 5 gpiozero needs lgpio)"
  elif change "add GPIOZERO_PIN_FACTORY=lgpio to $env_file (on a Pi 5 gpiozero needs the lgpio pin library)"; then
    local new; new=$(mktemp)
    if [ -s "$env_file" ]; then cat "$env_file" > "$new"; [ -z "$(tail -c 1 "$env_file")" ] || echo >> "$new"; fi
    echo "GPIOZERO_PIN_FACTORY=lgpio" >> "$new"
    replace_file "$env_file" "$new"
    rm -f "$new"
    relogin=1
  fi
}

RTPRIO=40   # pi/realtime.py PRIORITY (tests/test_setup_sh.py checks they agree)

step_rtprio() {   # the thread reading the chips may run real-time (pi/realtime.py) without root
  if [ "$(id -u)" = 0 ]; then
    say "real-time priority: running as root, which may use it"
    return 0
  fi
  local file="$ROOT/etc/security/limits.d/insole.conf" line="$user - rtprio $RTPRIO"
  if [ -r "$file" ] && grep -qxF "$line" "$file"; then
    say "real-time priority: allowed for $user already ($file)"
  elif change "allow $user real-time priority $RTPRIO (\"$line\" in $file): the chips read on time on a busy Pi"; then
    local new; new=$(mktemp)
    [ -r "$file" ] && cat "$file" > "$new"
    echo "$line" >> "$new"
    as_root mkdir -p "$(dirname "$file")"
    replace_file "$file" "$new"
    rm -f "$new"
    relogin=1
  fi
}

UNIT=insole.service
unit_path() { echo "$ROOT/etc/systemd/system/$UNIT"; }

step_service() {
  local unit new changed=0; unit=$(unit_path)
  if [ ! -x .venv/bin/python ]; then
    echo "setup.sh: --service needs .venv: run ./setup.sh first" >&2; exit 1
  fi
  [ -n "$data" ] || data=sessions
  case "$data" in /*) ;; *) data="$start_dir/$data" ;; esac
  data=$(realpath -m "$data")
  local pin_factory=()
  [ "$is_pi5" = 1 ] && pin_factory=(--pin-factory lgpio)
  new=$(mktemp)
  .venv/bin/python -m pi.service unit --user "$user" --data "$data" "${pin_factory[@]}" > "$new"
  if [ -f "$unit" ] && cmp -s "$new" "$unit"; then
    say "boot service: installed already ($unit; sessions under $data)"
  elif change "install the boot service $unit: at boot, insole run --wait-for-button --out $data, as $user"; then
    as_root install -m 644 "$new" "$unit"
    as_root systemctl daemon-reload
    changed=1
  fi
  rm -f "$new"
  if [ ! -d "$data" ]; then
    if [ "$dry" = 1 ]; then say "would: make the data folder $data"
    else say "making the data folder $data"; mkdir -p "$data"; fi
  fi
  if [ "$(systemctl is-enabled "$UNIT" 2>/dev/null || true)" = enabled ]; then
    say "boot service: enabled at boot already"
  elif change "start the service at every boot (systemctl enable $UNIT)"; then
    as_root systemctl enable "$UNIT"
  fi
  if [ "${#reboot_for[@]}" -gt 0 ]; then
    say "boot service: it starts with the reboot below"
  elif [ "$changed" = 1 ] || ! systemctl is-active --quiet "$UNIT"; then
    if change "start the service now (systemctl restart $UNIT)"; then
      as_root systemctl restart "$UNIT"
    fi
  else
    say "boot service: running"
  fi
}

step_remove_service() {
  local unit; unit=$(unit_path)
  if [ ! -e "$unit" ]; then
    say "boot service: not installed ($unit)"
    return 0
  fi
  if change "stop the boot service and remove $unit"; then
    as_root systemctl disable --now "$UNIT"
    as_root rm -f "$unit"
    as_root systemctl daemon-reload
  fi
}

if [ "$is_pi" = 1 ]; then
  if [ "$dry" = 1 ]; then
    say "system set-up: --no-system, so the changes it needs are shown (would: …), none made"
  elif [ "$(id -u)" != 0 ]; then
    say "system set-up (sudo may ask for your password)"
  fi
  step_i2c
  step_core_clock
  step_i2c_tools
  step_groups
  step_rtprio
  step_pin_factory
  [ "$service" = 1 ] && step_service
  [ "$remove_service" = 1 ] && step_remove_service
else
  note "not a Raspberry Pi: the Pi set-up (I2C, groups, real-time priority, pin library$([ "$service" = 1 ] && echo ', boot service')) is skipped"
fi

say "done."
if [ "${#reboot_for[@]}" -gt 0 ]; then
  reasons=$(printf '%s; ' "${reboot_for[@]}")
  say "reboot needed (for ${reasons%; } to take effect): sudo reboot"
  after=" (after the reboot)"
elif [ "$relogin" = 1 ]; then
  say "log out and back in (or reboot) for the new groups and settings to apply to you"
  after=" (after logging in again)"
else
  after=""
fi
say "Next$after:"
echo "    source .venv/bin/activate"
if [ "$is_pi" = 1 ]; then
  cat <<'MSG'
    insole check               # with the kit wired: is every sensor where the kit file says?
    insole calibrate --mass KG # your body mass in kg; shoes on, stand on each foot in turn
MSG
fi
cat <<'MSG'
    insole run                 # live logger (simulated insole when no kit is attached); Ctrl-C stops
    insole report sessions/<the folder it printed>
    pytest                     # the tests
MSG

if [ "$run_after" = 1 ]; then
  exec .venv/bin/insole run
fi
