# Shared by scripts/run, scripts/test and scripts/bench: the project's virtualenv, kept up to date.
# Sourced, not run. Sets ROOT and PY.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="$ROOT/.venv"
PY="$VENV/bin/python"

say() { printf '==> %s\n' "$*" >&2; }

# ensure_venv REQUIREMENTS_FILE: create .venv with Python 3.11 and install the pinned requirements,
# skipping pip when the requirements have not changed since the last install.
ensure_venv() {
  local req="$1" python stamp want
  python=$(command -v python3.11 || command -v python3) || { echo "Python 3.11 is needed (apt-get install python3.11)." >&2; exit 1; }
  if ! "$python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "Python 3.11 is needed; $python is $("$python" --version 2>&1)." >&2; exit 1
  fi
  if [ ! -x "$PY" ]; then
    say "creating the virtualenv in .venv"
    "$python" -m venv "$VENV" || { echo "python3 -m venv failed: apt-get install python3.11-venv" >&2; exit 1; }
  fi
  stamp="$VENV/.installed-$(basename "$req")"
  want=$(cat "$ROOT"/requirements*.txt | sha256sum | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing $(basename "$req")"
    "$PY" -m pip install --quiet --disable-pip-version-check -r "$ROOT/$req"
    echo "$want" > "$stamp"
  fi
}

# apt_install PACKAGE...: install Debian packages that are missing (needs root, as on our machines).
# ensure_npm_tools: the browser-side checkers the tests inject or run, pinned, from the npm registry
# into .cache/npm (gitignored): axe-core (accessibility) and vnu-jar (the Nu HTML checker; Java).
NPM_TOOLS="axe-core@4.10.2 vnu-jar@24.10.17"
ensure_npm_tools() {
  local stamp="$ROOT/.cache/npm/.installed"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$NPM_TOOLS" ]; then
    say "installing $NPM_TOOLS with npm"
    mkdir -p "$ROOT/.cache/npm"
    # shellcheck disable=SC2086  # one word a package
    npm install --prefix "$ROOT/.cache/npm" --no-audit --no-fund --no-save --loglevel=error $NPM_TOOLS >&2
    echo "$NPM_TOOLS" > "$stamp"
  fi
}

apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing ${missing[*]} with apt-get"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
}

# free_port: a TCP port nothing listens on right now.
free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
