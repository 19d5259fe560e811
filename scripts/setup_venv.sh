#!/usr/bin/env bash
# Create .venv if missing and install the project into it with the extras named in
# $AUTOML_EXTRAS (comma-separated, e.g. "all,dev"; empty: the base install, which is what the
# core and the AutoNumerics space need). Sourced by the quick-start scripts from the
# repository root.
#
# With the dev extra (the test suite's tools) the example space of examples/activations is
# installed too, as a user installs their own package: the suite tests it and runs the space
# contract over it.
#
# pip runs once per state of pyproject.toml and examples/activations/pyproject.toml:
# .venv/.automl-installed records their hash and the extras installed with them, and a later
# call that asks for nothing new skips pip (the installs are editable, so code changes need no
# reinstall). pip's output goes to .venv/pip-install.log and is shown only when it fails.
# pip byte-compiles what it installs on purpose: where PYTHONDONTWRITEBYTECODE is set (as on the
# CI image) Python never writes a .pyc itself, and without pip's every process would compile
# its imports from source (~4.4 s of CPU for jax, ray, scipy and the project, 2026-12-08).
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
_stamp=.venv/.automl-installed
_hash=$(.venv/bin/python -c "import hashlib; print(hashlib.sha256(b''.join(open(f, 'rb').read() for f in ('pyproject.toml', 'examples/activations/pyproject.toml'))).hexdigest()[:16])")
_have=""
if [ -f "$_stamp" ] && [ "$(head -n 1 "$_stamp")" = "$_hash" ]; then
    _have=$(sed -n 2p "$_stamp")
fi
_missing=""
for _extra in $(echo "${AUTOML_EXTRAS:-}" | tr "," " "); do
    case ",$_have," in *",$_extra,"*) ;; *) _missing="$_missing $_extra" ;; esac
done
if [ ! -f "$_stamp" ] || [ "$(head -n 1 "$_stamp")" != "$_hash" ] || [ -n "$_missing" ]; then
    _all=$(echo "$_have,${AUTOML_EXTRAS:-}" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)
    _example=""
    case ",$_all," in *",dev,"*) _example="examples/activations" ;; esac
    echo "installing the project into .venv${_all:+ with [$_all]}${_example:+ and $_example} (pip output: .venv/pip-install.log)" >&2
    if ! PIP_DISABLE_PIP_VERSION_CHECK=1 .venv/bin/python -m pip install -e ".${_all:+[$_all]}" \
            ${_example:+-e "$_example"} > .venv/pip-install.log 2>&1; then
        tail -n 30 .venv/pip-install.log >&2
        echo "error: pip install failed; the whole log is .venv/pip-install.log" >&2
        exit 1
    fi
    printf '%s\n%s\n' "$_hash" "$_all" > "$_stamp"
fi
unset _stamp _hash _have _missing _extra _all _example
