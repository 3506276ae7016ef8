# Sourced by scripts/*.sh: make sure the tools the scripts need are present.
# Installs uv (PyPI), Graphviz and Chromium (Debian) when missing; never touches an
# existing virtual environment.

ensure_uv() {
    if ! command -v uv >/dev/null 2>&1; then
        echo "installing uv"
        python3 -m pip install -q --disable-pip-version-check uv
    fi
}

ensure_graphviz() {
    if ! command -v dot >/dev/null 2>&1; then
        echo "installing graphviz (dot)"
        apt-get update -qq && apt-get install -y -qq graphviz >/dev/null
    fi
}

ensure_chromium() {
    # The UI's browser tests drive Debian's Chromium through its WebDriver.
    if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
        echo "installing chromium and chromium-driver"
        apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null
    fi
}

# fresh_venv DIR SPEC...: create DIR anew (deleting what was there) and install SPECs into it.
fresh_venv() {
    local dir="$1"; shift
    rm -rf "$dir"
    uv venv -q --python "${LINEAGE_PYTHON:-python3}" "$dir"
    # Compile bytecode at install time: with PYTHONDONTWRITEBYTECODE set (as in
    # some CI images) every interpreter would otherwise re-compile the engines
    # from source on each start, which makes subprocess-heavy suites crawl.
    uv pip install -q --compile-bytecode --python "$dir/bin/python" "$@"
}
