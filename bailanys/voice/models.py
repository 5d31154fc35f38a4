"""Vosk speech models: where they are, a private copy of each, loading.

Discovery (:func:`discover_models`), per language code such as ``"kk"``:

1. ``VOSK_MODEL_<LANG>`` (e.g. ``VOSK_MODEL_KK``) from the environment, when
   set and not empty. It names a model directory, or a folder holding one
   model directory. An explicit setting that is not a model is logged as an
   error and the language gets no model: a wrong setting is never silently
   replaced by another model.
2. Otherwise ``<base_dir>/<lang>/`` (``voice_models/kk/``), the model itself or
   one sub-folder down (``voice_models/ru/vosk-model-small-ru-0.22/``), which
   is what unpacking the release zip gives.

A directory is a Vosk model when it holds ``am/final.mdl`` and ``conf/``
(the layout of every alphacephei.com model).

Private copy (:func:`prepare_model`): Kaldi's MFCC front end adds random
dither (``--dither``, default 1.0) to every frame, so the same audio can give
different words and confidences from run to run. Vosk reads its options from
``conf/mfcc.conf`` inside the model, which may be read-only (a wheel, a
shared folder), so decoding loads a mirror of the model made of symbolic
links, with its own ``conf/mfcc.conf`` that sets ``--dither=0.0``.

Loading (:class:`VoskModel`) takes seconds (2.2 s for the small Korean model
here): the service runs it in a worker thread. :class:`SpeechModel` and
:class:`Recognizer` are the small protocols the speech sessions depend on, so
tests can put a fake model there.

No asyncio here: file I/O and model loading, for a worker thread at start-up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Protocol, cast

import vosk

from bailanys.errors import VoiceError
from bailanys.voice.resample import OUT_RATE

__all__ = [
    "DITHER_OFF",
    "ENV_PREFIX",
    "ModelLoader",
    "Recognizer",
    "SpeechModel",
    "VoskModel",
    "discover_models",
    "env_var",
    "find_model",
    "model_problem",
    "model_status_lines",
    "prepare_model",
]

log = logging.getLogger(__name__)

#: Environment variable prefix: ``VOSK_MODEL_KK``, ``VOSK_MODEL_RU``.
ENV_PREFIX: Final = "VOSK_MODEL_"
#: The option line written into the private ``conf/mfcc.conf``.
DITHER_OFF: Final = "--dither=0.0"
#: Files that make a directory a Vosk model (alphacephei.com model layout).
_MARKERS: Final = (Path("am") / "final.mdl", Path("conf"))
#: Front-end configuration files whose dither is switched off when present.
_FEATURE_CONFS: Final = ("mfcc.conf", "fbank.conf")
_DITHER_LINE: Final = re.compile(r"^\s*--dither\s*=.*$", re.MULTILINE)
#: Vosk's (Kaldi's) log level: -1 keeps warnings and errors, drops the
#: per-model LOG lines.
VOSK_LOG_LEVEL: Final = -1


def env_var(lang: str) -> str:
    """The environment variable naming the model for ``lang``: ``VOSK_MODEL_KK``."""
    return ENV_PREFIX + lang.upper()


def _is_model(path: Path) -> bool:
    return all((path / marker).exists() for marker in _MARKERS)


def find_model(path: Path) -> Path | None:
    """``path`` itself when it is a Vosk model, else its one model sub-folder, else None.

    With several model sub-folders the first by name is taken (and logged).
    """
    if _is_model(path):
        return path
    if not path.is_dir():
        return None
    try:
        found = sorted(p for p in path.iterdir() if p.is_dir() and _is_model(p))
    except OSError:
        return None
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        log.warning("%s holds several Vosk models (%s); using %s", path, names, found[0].name)
    return found[0] if found else None


def model_problem(path: Path) -> str | None:
    """Why ``path`` (or its one sub-folder) is not a usable model, or None if it is."""
    if not path.exists():
        return f"{path} does not exist"
    if not path.is_dir():
        return f"{path} is not a directory"
    if find_model(path) is None:
        return f"{path} is not a Vosk model (no am/final.mdl and conf/, here or one folder down)"
    return None


def discover_models(
    languages: Sequence[str], base_dir: Path, environ: Mapping[str, str]
) -> dict[str, Path | None]:
    """The model directory for each language, or None (that language is keypad-only).

    See the module docstring for the search order. A bad ``VOSK_MODEL_<LANG>``
    is logged as one error line naming the variable and the path.
    """
    models: dict[str, Path | None] = {}
    for lang in languages:
        name = env_var(lang)
        value = environ.get(name, "").strip()
        if value:
            path = Path(value).expanduser()
            problem = model_problem(path)
            if problem is not None:
                log.error("%s=%s: %s; menus in %s run keypad-only", name, value, problem, lang)
                models[lang] = None
            else:
                models[lang] = find_model(path)
            continue
        models[lang] = find_model(base_dir / lang)
    return models


def model_status_lines(
    models: Mapping[str, Path | None],
    environ: Mapping[str, str],
    base_dir: Path = Path("voice_models"),
) -> list[str]:
    """One start-up log line per language: which model, from where, or why keypad-only."""
    lines: list[str] = []
    for lang, path in models.items():
        name = env_var(lang)
        value = environ.get(name, "").strip()
        if path is not None:
            source = f"{name}={value}" if value else f"{base_dir / lang}/"
            lines.append(f"speech menus in {lang}: Vosk model {path.name} from {path} ({source})")
        elif value:
            problem = model_problem(Path(value).expanduser()) or "not usable"
            lines.append(f"menus in {lang} run keypad-only ({name}={value}: {problem})")
        else:
            lines.append(
                f"menus in {lang} run keypad-only (no Vosk model: put one in "
                f"{base_dir / lang}/ or set {name}; `make models` downloads them)"
            )
    return lines


def _with_dither_off(text: str) -> str:
    if _DITHER_LINE.search(text):
        return _DITHER_LINE.sub(DITHER_OFF, text)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + DITHER_OFF + "\n"


def _write_if_changed(path: Path, text: str) -> None:
    """Write atomically (temp file + ``os.replace``) unless ``path`` already holds ``text``."""
    try:
        if not path.is_symlink() and path.read_text(encoding="utf-8") == text:
            return
    except (OSError, UnicodeDecodeError):
        pass
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _link(link: Path, target: Path) -> None:
    """Make ``link`` a symbolic link to ``target``, replacing whatever is there."""
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    if link.is_dir() and not link.is_symlink():
        raise OSError(f"{link} is a directory where a link to {target} belongs")
    tmp = link.with_name(f".{link.name}.link")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, link)


def _prune(directory: Path, keep: Iterable[str]) -> None:
    """Remove links and files in ``directory`` whose names are not in ``keep``."""
    wanted = set(keep)
    for entry in directory.iterdir():
        if entry.name not in wanted and (entry.is_symlink() or entry.is_file()):
            entry.unlink()


def prepare_model(path: Path, work_dir: Path) -> Path:
    """Mirror the model at ``path`` under ``work_dir`` with dither switched off.

    The mirror is ``work_dir/<model name>-<12 hex of the source path hash>/``:
    every top-level entry is a symbolic link into the model, except ``conf/``,
    a real folder whose files are links too, apart from ``mfcc.conf`` (and
    ``fbank.conf``) written as copies with ``--dither=0.0`` (an existing
    ``--dither`` line is replaced, else the line is appended). Idempotent:
    a second call changes nothing and returns the same directory.
    """
    source = path.resolve()
    if not _is_model(source):
        raise FileNotFoundError(model_problem(source) or f"{source} is not a Vosk model")
    digest = hashlib.sha256(str(source).encode("utf-8")).hexdigest()[:12]
    mirror = work_dir / f"{source.name}-{digest}"
    conf = mirror / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    top = [entry for entry in sorted(source.iterdir()) if entry.name != "conf"]
    for entry in top:
        _link(mirror / entry.name, entry)
    _prune(mirror, [entry.name for entry in top])
    written = False
    conf_files = sorted(p for p in (source / "conf").iterdir())
    for entry in conf_files:
        if entry.name in _FEATURE_CONFS and entry.is_file():
            text = entry.read_text(encoding="utf-8")
            target = conf / entry.name
            if target.is_symlink():
                target.unlink()
            _write_if_changed(target, _with_dither_off(text))
            written = True
        else:
            _link(conf / entry.name, entry)
    _prune(conf, [entry.name for entry in conf_files])
    if not written:
        log.warning(
            "%s: no conf/mfcc.conf or conf/fbank.conf; dither stays on and decoding "
            "is not repeatable",
            source,
        )
    return mirror


class Recognizer(Protocol):
    """The part of ``vosk.KaldiRecognizer`` a session uses (16 kHz int16 input)."""

    def AcceptWaveform(self, data: bytes) -> int: ...

    def Result(self) -> str: ...

    def FinalResult(self) -> str: ...


class SpeechModel(Protocol):
    """A loaded model: vocabulary look-up and grammar recognizers."""

    def knows(self, word: str) -> bool: ...

    def recognizer(self, phrases: Sequence[str]) -> Recognizer: ...


#: Loads the model at a path, using the work folder for its private copy.
ModelLoader = Callable[[Path, Path], SpeechModel]


class VoskModel:
    """A ``vosk.Model`` loaded from a private copy with dither off."""

    def __init__(self, model: Any, path: Path) -> None:
        self._model = model
        self.path = path

    @classmethod
    def load(cls, path: Path, work_dir: Path) -> VoskModel:
        """Prepare the private copy and load it (seconds: run it in a thread)."""
        vosk.SetLogLevel(VOSK_LOG_LEVEL)
        try:
            private = prepare_model(path, work_dir)
        except OSError as e:
            raise VoiceError(f"{path}: cannot prepare the model under {work_dir}: {e}") from e
        try:
            model = vosk.Model(str(private))
        except Exception as e:  # vosk raises a bare Exception("Failed to create a model")
            raise VoiceError(f"{path}: Vosk cannot load the model: {e}") from e
        return cls(model, path)

    def knows(self, word: str) -> bool:
        return int(self._model.vosk_model_find_word(word)) >= 0

    def recognizer(self, phrases: Sequence[str]) -> Recognizer:
        # ensure_ascii=False: Vosk's JSON reader does not decode \\u escapes,
        # so escaped Cyrillic or Hangul words would all be "missing".
        if phrases:
            grammar = json.dumps(list(phrases), ensure_ascii=False)
            rec = vosk.KaldiRecognizer(self._model, float(OUT_RATE), grammar)
        else:  # free-form: the model's own language model
            rec = vosk.KaldiRecognizer(self._model, float(OUT_RATE))
        rec.SetWords(True)  # per-word confidences in results
        return cast(Recognizer, rec)
