#!/usr/bin/env bash
# Set up insole in ./.venv (idempotent: run it again at any time), then say what to run next.
#   ./setup.sh            install (with the Raspberry Pi hardware extra when on a Pi)
#   ./setup.sh --run      install, then start the live logger (simulated insole without a kit)
set -euo pipefail
cd "$(dirname "$0")"

run_after=0
for arg in "$@"; do
  case "$arg" in
    --run) run_after=1 ;;
    -h|--help) sed -n '2,4p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option: $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m==>\033[0m %s\n' "$*"; }

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

model=""
[ -r /proc/device-tree/model ] && model=$(tr -d '\0' < /proc/device-tree/model)
extras="test"
case "$model" in
  *"Raspberry Pi"*) extras="pi,test"; say "Raspberry Pi found ($model): installing the hardware libraries too" ;;
  *) say "not a Raspberry Pi: installing without the hardware libraries (the simulated insole works everywhere)" ;;
esac

if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
say "installing insole[$extras] into .venv"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
.venv/bin/python -m pip install -qq --disable-pip-version-check -e ".[$extras]"

say "done. Next:"
cat <<'MSG'
    source .venv/bin/activate
    insole run                 # live logger (simulated insole when no kit is attached); Ctrl-C stops
    insole report sessions/<the folder it printed>
    pytest                     # the tests
MSG

if [ "$run_after" = 1 ]; then
  exec .venv/bin/insole run
fi
