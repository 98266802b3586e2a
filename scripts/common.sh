# Shared by scripts/test.sh and scripts/demo.sh: system packages and the virtual environment.
# shellcheck shell=bash

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}

# ensure_packages "why" pkg...: installs missing Debian packages when root, else says what to install.
ensure_packages() {
    local why=$1; shift
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== Installing ${missing[*]} ($why)"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "Spindle needs these Debian packages ($why): ${missing[*]}" >&2
        echo "Install them with: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
}

# ensure_venv requirements-file: creates .venv and installs the pinned requirements when they changed.
ensure_venv() {
    local requirements=$1
    "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "Spindle needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version)." >&2; exit 1; }
    [ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
    local stamp="$VENV/.installed-$(cat requirements*.txt | sha256sum | cut -c1-16)-$(basename "$requirements")"
    if [ ! -f "$stamp" ]; then
        echo "== Installing Python packages from $requirements"
        "$VENV/bin/pip" install -q --disable-pip-version-check -r "$requirements"
        touch "$stamp"
    fi
}

free_port() {
    "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
