#!/usr/bin/env bash
# `make install` / `make uninstall`: Bailanys as a systemd service.
#
#   scripts/install.sh install     the package in a venv under $PREFIX, the user,
#                                  the unit, the config under $CONFDIR (an existing
#                                  file is never overwritten), logrotate; nothing
#                                  is enabled or started
#   scripts/install.sh uninstall   the unit, logrotate and $PREFIX go; the config,
#                                  the data ($STATEDIR), the logs and the user stay
#
# Variables (make passes its own): DESTDIR (a staging root, for packagers and
# tests), PREFIX=/opt/bailanys, CONFDIR=/etc/bailanys, STATEDIR=/var/lib/bailanys,
# LOGDIR=/var/log/bailanys, UNITDIR=/etc/systemd/system, LOGROTATEDIR=/etc/logrotate.d,
# SERVICE_USER=bailanys, PIP_OPTS (e.g. "--no-index --find-links WHEELS" offline),
# SKIP_USER=1 (no useradd), SKIP_VENV=1 (no venv: tests), PYTHON (makes the venv: Debian's
# /usr/bin/python3 when there; never one under /root or /home, which ProtectHome hides),
# BUILD_PY (builds the wheel; default .venv/bin/python, else $PYTHON).
set -euo pipefail
cd "$(dirname "$0")/.."

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/opt/bailanys}
CONFDIR=${CONFDIR:-/etc/bailanys}
STATEDIR=${STATEDIR:-/var/lib/bailanys}
LOGDIR=${LOGDIR:-/var/log/bailanys}
UNITDIR=${UNITDIR:-/etc/systemd/system}
LOGROTATEDIR=${LOGROTATEDIR:-/etc/logrotate.d}
SERVICE_USER=${SERVICE_USER:-bailanys}
PIP_OPTS=${PIP_OPTS:-}
SKIP_USER=${SKIP_USER:-0}
SKIP_VENV=${SKIP_VENV:-0}
if [ -z "${PYTHON:-}" ]; then
    if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
if [ -z "${BUILD_PY:-}" ]; then
    if [ -x .venv/bin/python ]; then BUILD_PY=.venv/bin/python; else BUILD_PY=$PYTHON; fi
fi
D=$DESTDIR

say() { echo "install: $*"; }
root() { [ "$(id -u)" -eq 0 ]; }

# The site's files an administrator edits: copied once, never overwritten.
SITE_FILES=(configs/queues.toml configs/topics.yaml configs/organisation.toml
            configs/cases.yaml configs/case_replies.yaml)
SITE_DIRS=(configs/scorecards configs/calendar)

installed_config() {
    # configs/default.toml with every relative path made absolute: the site's
    # files under $CONFDIR, what the engine writes under $STATEDIR.
    sed -e "s#= \"var/#= \"$STATEDIR/#" \
        -e "s#= \"voice_models/prompts\"#= \"$STATEDIR/prompts\"#" \
        -e "s#^model_dir = \"voice_models\"#model_dir = \"$STATEDIR/voice_models\"#" \
        -e "s#= \"configs/#= \"$CONFDIR/#" \
        -e "s#= \"knowledge/#= \"$CONFDIR/knowledge/#" \
        -e "s#^flow_dir = \"ivr_flows\"#flow_dir = \"$CONFDIR/ivr_flows\"#" \
        -e "1a # Installed by \`make install\`: relative paths of configs/default.toml made\n# absolute (the site's files in $CONFDIR, the engine's in $STATEDIR).\n# Before the engine listens beyond loopback: replace the demo accounts of\n# [registrar.users] and [console.users] (\`bailanys console hash-password\`)." \
        configs/default.toml
}

unit_file() {
    sed -e "s#/opt/bailanys#$PREFIX#g" -e "s#/etc/bailanys#$CONFDIR#g" \
        -e "s#/var/lib/bailanys#$STATEDIR#g" -e "s#/var/log/bailanys#$LOGDIR#g" \
        -e "s#^User=bailanys#User=$SERVICE_USER#" -e "s#^Group=bailanys#Group=$SERVICE_USER#" \
        deploy/bailanys.service
}

copy_once() {  # copy_once SRC DEST: a file or a directory, only when DEST is absent
    if [ -e "$2" ]; then
        say "kept $2"
    else
        mkdir -p "$(dirname "$2")"
        cp -R "$1" "$2"
    fi
}

do_install() {
    if [ "$SKIP_VENV" != 1 ]; then
        base=$("$PYTHON" -c 'import os, sys; print(os.path.realpath(sys.base_prefix))')
        case "$base/" in
            /root/*|/home/*|/run/user/*)
                echo "install: $PYTHON lives in $base, a home directory: the service (ProtectHome=yes," \
                     "user $SERVICE_USER) cannot run it; give PYTHON=/usr/bin/python3" >&2
                exit 1 ;;
        esac
        say "building the wheel with $BUILD_PY"
        rm -rf build/wheel
        "$BUILD_PY" -m pip wheel -q --no-deps -w build/wheel .
        if [ ! -x "$D$PREFIX/venv/bin/python" ]; then
            "$PYTHON" -m venv "$D$PREFIX/venv"
        fi
        say "installing into $D$PREFIX/venv"
        # shellcheck disable=SC2086
        "$D$PREFIX/venv/bin/pip" install -q --upgrade $PIP_OPTS build/wheel/bailanys-*.whl
        # the same version number from a newer checkout: replace the package itself
        # shellcheck disable=SC2086
        "$D$PREFIX/venv/bin/pip" install -q --force-reinstall --no-deps $PIP_OPTS \
            build/wheel/bailanys-*.whl
    fi
    install -d "$D$PREFIX"
    install -m 0644 README.md "$D$PREFIX/README.md"

    if [ "$SKIP_USER" != 1 ] && root && ! getent passwd "$SERVICE_USER" >/dev/null; then
        say "creating the system user $SERVICE_USER"
        useradd --system --user-group --home-dir "$STATEDIR" --no-create-home \
            --shell /usr/sbin/nologin --comment "Bailanys contact-centre engine" "$SERVICE_USER"
    fi

    install -d -m 0750 "$D$CONFDIR"
    if [ -e "$D$CONFDIR/bailanys.toml" ]; then
        say "kept $D$CONFDIR/bailanys.toml (the new defaults: configs/default.toml)"
    else
        installed_config > "$D$CONFDIR/bailanys.toml"
        chmod 0640 "$D$CONFDIR/bailanys.toml"
    fi
    for f in "${SITE_FILES[@]}"; do copy_once "$f" "$D$CONFDIR/$(basename "$f")"; done
    for d in "${SITE_DIRS[@]}"; do copy_once "$d" "$D$CONFDIR/$(basename "$d")"; done
    copy_once ivr_flows "$D$CONFDIR/ivr_flows"
    copy_once knowledge "$D$CONFDIR/knowledge"
    copy_once deploy/bailanys.env "$D$CONFDIR/bailanys.env"
    chmod 0640 "$D$CONFDIR/bailanys.env"

    install -d -m 0750 "$D$STATEDIR" "$D$LOGDIR"
    for lang in kk ru; do  # speech models fetched by `make models`, when there
        if [ -d "voice_models/$lang" ]; then
            copy_once "voice_models/$lang" "$D$STATEDIR/voice_models/$lang"
        fi
    done
    if [ "$SKIP_USER" != 1 ] && root && getent passwd "$SERVICE_USER" >/dev/null; then
        chown -R "root:$SERVICE_USER" "$D$CONFDIR"
        chown -R "$SERVICE_USER:$SERVICE_USER" "$D$STATEDIR" "$D$LOGDIR"
    fi

    install -d "$D$UNITDIR" "$D$LOGROTATEDIR"
    unit_file > "$D$UNITDIR/bailanys.service"
    chmod 0644 "$D$UNITDIR/bailanys.service"
    sed -e "s#/var/log/bailanys#$LOGDIR#g" -e "s# bailanys bailanys# $SERVICE_USER $SERVICE_USER#g" \
        deploy/logrotate.conf > "$D$LOGROTATEDIR/bailanys"
    chmod 0644 "$D$LOGROTATEDIR/bailanys"
    if [ -z "$D" ] && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
    say "done; not started. Next: edit $CONFDIR/bailanys.toml, then"
    say "  $PREFIX/venv/bin/bailanys config check --config $CONFDIR/bailanys.toml"
    say "  systemctl enable --now bailanys"
}

do_uninstall() {
    if [ -z "$D" ] && [ -d /run/systemd/system ]; then
        systemctl disable --now bailanys.service 2>/dev/null || true
    fi
    rm -f "$D$UNITDIR/bailanys.service" "$D$LOGROTATEDIR/bailanys"
    if [ -z "$D" ] && [ -d /run/systemd/system ]; then
        systemctl daemon-reload
    fi
    rm -rf "$D$PREFIX"
    say "removed the unit, logrotate's file and $D$PREFIX"
    say "kept the config $D$CONFDIR, the data $D$STATEDIR, the logs $D$LOGDIR and the user" \
        "$SERVICE_USER (to purge: rm -rf them; userdel $SERVICE_USER)"
}

case "${1:-}" in
    install) do_install ;;
    uninstall) do_uninstall ;;
    *) echo "usage: $0 install|uninstall" >&2; exit 2 ;;
esac
