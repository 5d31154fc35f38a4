#!/usr/bin/env bash
# Download the Vosk speech models for the speech menus (`make models`):
#   voice_models/ru/vosk-model-small-ru-0.22/
#   voice_models/kk/vosk-model-small-kz-0.15/
# and, with ANALYTICS=1 (`make models ANALYTICS=1`), the larger models that
# speech analytics workers transcribe recordings with (issue 15; gigabytes,
# slower, more accurate on free speech than the menus' small models):
#   voice_models/analytics/ru/vosk-model-ru-0.42/
#   voice_models/analytics/kk/vosk-model-kz-0.15/
# from https://alphacephei.com/vosk/models/. A model already in place is
# skipped; each zip is tested before it is unpacked, and unpacked into a
# temporary folder that is renamed into place only when it holds a model.
# Without internet access it fails with one line saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
BASE_URL=${VOSK_MODELS_URL:-https://alphacephei.com/vosk/models}
DEST=${VOICE_MODELS:-voice_models}
MODELS=("ru vosk-model-small-ru-0.22" "kk vosk-model-small-kz-0.15")
ANALYTICS_MODELS=("analytics/ru vosk-model-ru-0.42" "analytics/kk vosk-model-kz-0.15")
if [ "${ANALYTICS:-0}" = 1 ]; then
    MODELS+=("${ANALYTICS_MODELS[@]}")
fi

fail() {
    echo "fetch-models: $*" >&2
    exit 1
}

is_model() { [ -f "$1/am/final.mdl" ] && [ -d "$1/conf" ]; }

command -v python3 >/dev/null || fail "python3 is needed to test and unpack the zips"

download() { # url file
    if command -v curl >/dev/null; then
        curl -fsSL --connect-timeout 15 --retry 2 -o "$2" "$1" 2>&1 | tail -n 1
        return "${PIPESTATUS[0]}"
    fi
    python3 - "$1" "$2" <<'EOF'
import sys
import urllib.request

try:
    urllib.request.urlretrieve(sys.argv[1], sys.argv[2])
except Exception as e:
    print(e)
    sys.exit(1)
EOF
}

for entry in "${MODELS[@]}"; do
    read -r lang name <<<"$entry"
    target="$DEST/$lang/$name"
    if is_model "$target"; then
        echo "fetch-models: $target already present"
        continue
    fi
    mkdir -p "$DEST/$lang"
    zip="$DEST/$lang/.$name.zip.part"
    tmp="$DEST/$lang/.$name.unpack"
    trap 'rm -rf "$zip" "$tmp"; rmdir "$DEST/$lang" 2>/dev/null || true' EXIT
    echo "fetch-models: downloading $BASE_URL/$name.zip"
    if ! why=$(download "$BASE_URL/$name.zip" "$zip"); then
        fail "cannot download $BASE_URL/$name.zip (no internet access?): ${why:-failed}"
    fi
    python3 -m zipfile -t "$zip" >/dev/null 2>&1 || fail "$BASE_URL/$name.zip is not a valid zip"
    rm -rf "$tmp"
    python3 -m zipfile -e "$zip" "$tmp" || fail "cannot unpack $zip"
    is_model "$tmp/$name" || fail "$name.zip does not hold a Vosk model folder named $name"
    rm -rf "$target"
    mv "$tmp/$name" "$target"
    rm -rf "$zip" "$tmp"
    trap - EXIT
    echo "fetch-models: $target ready"
done
if [ "${ANALYTICS:-0}" != 1 ]; then
    echo "fetch-models: speech analytics workers can use larger models:" \
        "\`make models ANALYTICS=1\` also downloads vosk-model-ru-0.42 and" \
        "vosk-model-kz-0.15 into $DEST/analytics/ (gigabytes)"
fi
