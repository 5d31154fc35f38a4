"""Speech model discovery and the private model copy (bailanys.voice.models); no Vosk."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from bailanys.voice.models import (
    DITHER_OFF,
    discover_models,
    env_var,
    find_model,
    model_problem,
    model_status_lines,
    prepare_model,
)

MFCC = "--use-energy=false\n--dither=1.0\n--num-ceps=40\n"


def make_model(root: Path, mfcc: str | None = MFCC) -> Path:
    """A directory with the Vosk model layout (files are stand-ins)."""
    (root / "am").mkdir(parents=True)
    (root / "am" / "final.mdl").write_bytes(b"mdl")
    (root / "conf").mkdir()
    (root / "conf" / "model.conf").write_text("--beam=10.0\n")
    if mfcc is not None:
        (root / "conf" / "mfcc.conf").write_text(mfcc)
    (root / "graph").mkdir()
    (root / "graph" / "HCLr.fst").write_bytes(b"fst")
    (root / "README").write_text("a model\n")
    return root


# ---------------------------------------------------------------- discovery


def test_env_var_name() -> None:
    assert env_var("kk") == "VOSK_MODEL_KK"
    assert env_var("ru") == "VOSK_MODEL_RU"


def test_env_var_wins_over_base_dir(tmp_path: Path) -> None:
    make_model(tmp_path / "voice_models" / "ru")
    elsewhere = make_model(tmp_path / "elsewhere" / "vosk-model-small-ru-0.22")
    found = discover_models(["ru"], tmp_path / "voice_models", {"VOSK_MODEL_RU": str(elsewhere)})
    assert found == {"ru": elsewhere}


def test_env_var_may_name_the_folder_above_the_model(tmp_path: Path) -> None:
    model = make_model(tmp_path / "models" / "vosk-model-small-kz-0.15")
    found = discover_models(["kk"], tmp_path / "none", {"VOSK_MODEL_KK": str(tmp_path / "models")})
    assert found == {"kk": model}


def test_base_dir_lang_folder_is_the_model(tmp_path: Path) -> None:
    model = make_model(tmp_path / "kk")
    assert discover_models(["kk"], tmp_path, {}) == {"kk": model}


def test_base_dir_one_subfolder_down(tmp_path: Path) -> None:
    model = make_model(tmp_path / "ru" / "vosk-model-small-ru-0.22")
    (tmp_path / "ru" / "vosk-model-small-ru-0.22.zip").write_bytes(b"zip")
    assert discover_models(["ru"], tmp_path, {}) == {"ru": model}


def test_two_levels_down_is_not_searched(tmp_path: Path) -> None:
    make_model(tmp_path / "ru" / "unpacked" / "vosk-model-small-ru-0.22")
    assert discover_models(["ru"], tmp_path, {}) == {"ru": None}


def test_several_subfolders_take_the_first_by_name(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = make_model(tmp_path / "ru" / "a-model")
    make_model(tmp_path / "ru" / "b-model")
    with caplog.at_level(logging.WARNING, logger="bailanys.voice.models"):
        assert find_model(tmp_path / "ru") == first
    assert "several Vosk models" in caplog.text


def test_missing_model_is_none_with_keypad_only_line(tmp_path: Path) -> None:
    (tmp_path / "kk").mkdir()
    (tmp_path / "kk" / "README").write_text("nothing here")
    found = discover_models(["kk", "ru"], tmp_path, {})
    assert found == {"kk": None, "ru": None}
    lines = model_status_lines(found, {}, Path("voice_models"))
    assert lines == [
        "menus in kk run keypad-only (no Vosk model: put one in voice_models/kk/ or set "
        "VOSK_MODEL_KK; `make models` downloads them)",
        "menus in ru run keypad-only (no Vosk model: put one in voice_models/ru/ or set "
        "VOSK_MODEL_RU; `make models` downloads them)",
    ]


def test_found_model_line_says_where_from(tmp_path: Path) -> None:
    model = make_model(tmp_path / "ru" / "vosk-model-small-ru-0.22")
    env = {"VOSK_MODEL_KK": str(make_model(tmp_path / "kz"))}
    found = discover_models(["ru", "kk"], tmp_path, env)
    lines = model_status_lines(found, env, tmp_path)
    assert lines[0] == (
        f"speech menus in ru: Vosk model vosk-model-small-ru-0.22 from {model} ({tmp_path}/ru/)"
    )
    assert lines[1].startswith("speech menus in kk: Vosk model kz from ")
    assert lines[1].endswith(f"(VOSK_MODEL_KK={tmp_path / 'kz'})")


@pytest.mark.parametrize("kind", ["missing", "file", "not-a-model"])
def test_bad_env_path_is_one_clear_line_not_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    make_model(tmp_path / "voice_models" / "ru")  # never used instead of the bad setting
    bad = tmp_path / "bad"
    if kind == "file":
        bad.write_text("x")
    elif kind == "not-a-model":
        (bad / "conf").mkdir(parents=True)
    env = {"VOSK_MODEL_RU": str(bad)}
    with caplog.at_level(logging.ERROR, logger="bailanys.voice.models"):
        found = discover_models(["ru"], tmp_path / "voice_models", env)
    assert found == {"ru": None}
    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith(f"VOSK_MODEL_RU={bad}: ")
    assert message.endswith("menus in ru run keypad-only")
    assert record.exc_info is None
    [line] = model_status_lines(found, env)
    assert line.startswith(f"menus in ru run keypad-only (VOSK_MODEL_RU={bad}: {bad} ")


def test_empty_env_var_counts_as_unset(tmp_path: Path) -> None:
    model = make_model(tmp_path / "kk")
    assert discover_models(["kk"], tmp_path, {"VOSK_MODEL_KK": "  "}) == {"kk": model}


def test_model_problem_texts(tmp_path: Path) -> None:
    assert model_problem(tmp_path / "nope") == f"{tmp_path / 'nope'} does not exist"
    (tmp_path / "f").write_text("")
    assert model_problem(tmp_path / "f") == f"{tmp_path / 'f'} is not a directory"
    assert "no am/final.mdl and conf/" in (model_problem(tmp_path) or "")
    assert model_problem(make_model(tmp_path / "m")) is None


# ------------------------------------------------------------- private copy


def test_private_copy_links_all_but_mfcc_conf(tmp_path: Path) -> None:
    model = make_model(tmp_path / "model")
    mirror = prepare_model(model, tmp_path / "var" / "asr")
    assert mirror.parent == tmp_path / "var" / "asr"
    assert mirror.name.startswith("model-") and len(mirror.name) == len("model-") + 12
    for name in ("am", "graph", "README"):
        assert (mirror / name).is_symlink()
        assert (mirror / name).resolve() == (model / name).resolve()
    assert (mirror / "am" / "final.mdl").read_bytes() == b"mdl"
    assert not (mirror / "conf").is_symlink()
    assert (mirror / "conf" / "model.conf").is_symlink()
    mfcc = mirror / "conf" / "mfcc.conf"
    assert not mfcc.is_symlink()
    assert mfcc.read_text() == "--use-energy=false\n--dither=0.0\n--num-ceps=40\n"
    assert (model / "conf" / "mfcc.conf").read_text() == MFCC  # the source is untouched


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("--num-ceps=40\n", f"--num-ceps=40\n{DITHER_OFF}\n"),
        ("--num-ceps=40", f"--num-ceps=40\n{DITHER_OFF}\n"),
        ("", f"{DITHER_OFF}\n"),
        ("  --dither = 0.5\n--x=1\n", f"{DITHER_OFF}\n--x=1\n"),
        (f"{DITHER_OFF}\n", f"{DITHER_OFF}\n"),
    ],
)
def test_dither_line_replaced_or_appended(tmp_path: Path, source: str, expected: str) -> None:
    model = make_model(tmp_path / "model", mfcc=source)
    mirror = prepare_model(model, tmp_path / "work")
    assert (mirror / "conf" / "mfcc.conf").read_text() == expected


def test_prepare_is_idempotent(tmp_path: Path) -> None:
    model = make_model(tmp_path / "model")
    first = prepare_model(model, tmp_path / "work")
    mfcc = first / "conf" / "mfcc.conf"
    stamp = mfcc.stat().st_mtime_ns
    links = {p.name: os.readlink(p) for p in first.iterdir() if p.is_symlink()}
    second = prepare_model(model, tmp_path / "work")
    assert second == first
    assert mfcc.stat().st_mtime_ns == stamp
    assert {p.name: os.readlink(p) for p in second.iterdir() if p.is_symlink()} == links
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == [first.name]


def test_prepare_follows_changes_in_the_source(tmp_path: Path) -> None:
    model = make_model(tmp_path / "model")
    mirror = prepare_model(model, tmp_path / "work")
    (model / "README").unlink()
    (model / "ivector").mkdir()
    (model / "conf" / "mfcc.conf").write_text("--num-ceps=13\n")
    assert prepare_model(model, tmp_path / "work") == mirror
    assert not (mirror / "README").exists() and not (mirror / "README").is_symlink()
    assert (mirror / "ivector").is_symlink()
    assert (mirror / "conf" / "mfcc.conf").read_text() == f"--num-ceps=13\n{DITHER_OFF}\n"


def test_same_name_different_source_gets_its_own_copy(tmp_path: Path) -> None:
    a = prepare_model(make_model(tmp_path / "a" / "model"), tmp_path / "work")
    b = prepare_model(make_model(tmp_path / "b" / "model"), tmp_path / "work")
    assert a != b and a.name.startswith("model-") and b.name.startswith("model-")


def test_prepare_refuses_a_non_model(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a Vosk model"):
        prepare_model(tmp_path, tmp_path / "work")


def test_no_feature_conf_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    model = make_model(tmp_path / "model", mfcc=None)
    with caplog.at_level(logging.WARNING, logger="bailanys.voice.models"):
        prepare_model(model, tmp_path / "work")
    assert "dither stays on" in caplog.text
