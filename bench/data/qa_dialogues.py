"""Synthetic 1414 dialogues with known ground truth, for bench/qa_phrases.py (issue 16).

Each dialogue is built from bench/data/qa_dialogues.yaml: an agent's opening
(greeting and the centre's name, or not, sometimes late), a caller's
question, long colloquial agent turns (Kazakh, Russian and code-switched),
near misses of every criterion on the agent's side, caller turns that say
the very phrases (which must not count for the agent), sometimes a hold
(a silence of 20-70 s, announced or not), sometimes a forbidden phrase, an
agent reading an IIN aloud, "anything else" and a closing, or not, or a
closing followed by more talk. Then recognition errors are injected word by
word (:func:`garble`): letters dropped, swapped or changed into a sound-alike,
words merged or split, short words dropped, fillers inserted, and for a third
of the Kazakh calls every Kazakh letter flattened (ә->а, і->и, ң->н...).

The truth is what the agent SAID, with the times of its first and last words;
whether the recogniser kept it readable is what the bench measures.
``half`` 0 draws the even entries of every list of the YAML (the dev half),
``half`` 1 the odd ones (held out).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bailanys.analytics.model import Channel, Utterance, Word
from bailanys.qa.phrases import FLAT

DATA = Path(__file__).with_suffix(".yaml")
CONCEPTS = ("greeting", "centre", "anything_else", "closing", "forbidden", "hold", "pii")
#: Seconds per word of agent and caller speech (about 150 words a minute).
WORD_S = (0.28, 0.45)
SOUND_ALIKE = {"е": "и", "и": "е", "а": "о", "о": "а", "ы": "и", "т": "д", "д": "т",
               "с": "з", "з": "с", "к": "г", "г": "к", "п": "б", "б": "п", "ш": "щ",
               "н": "м", "м": "н", "ә": "е", "і": "ы", "ұ": "у", "ү": "у", "қ": "к"}
FILLERS = ("э", "ну", "вот", "мм", "енді")


@dataclass
class Dialogue:
    """One call: both sides' words, the holds, and the truth per concept."""

    index: int
    half: int
    language: str
    noise: str
    utterances: list[Utterance] = field(default_factory=list)
    #: concept -> (start, end) seconds of each time the agent said it
    said: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    silences: list[tuple[float, float]] = field(default_factory=list)
    duration: float = 0.0


class Builder:
    """Lays turns on a clock, keeping each concept's start time."""

    def __init__(self, d: Dialogue, rng: random.Random, bank: dict[str, Any]) -> None:
        self.d, self.rng, self.bank, self.t = d, rng, bank, rng.uniform(0.2, 1.0)

    def pick(self, key: str, lang: str | None = None) -> str:
        langs = self.bank[key]
        lang = lang or self.lang()
        if lang not in langs:
            lang = self.d.language
        items = langs[lang][self.d.half::2]
        return str(self.rng.choice(items))

    def lang(self) -> str:
        """The call's language, switched for one sentence in one case in five."""
        other = "ru" if self.d.language == "kk" else "kk"
        roll = self.rng.random()
        return "mixed" if roll < 0.12 else other if roll < 0.22 else self.d.language

    def turn(self, channel: Channel, parts: Sequence[tuple[str | None, str]]) -> None:
        """One turn: (concept or None, text) parts said one after the other."""
        words: list[Word] = []
        for concept, text in parts:
            first = len(words)
            for w in text.split():
                dur = self.rng.uniform(*WORD_S)
                words.append(Word(w, round(self.t, 3), round(self.t + dur, 3)))
                self.t += dur + self.rng.uniform(0.02, 0.12)
            if concept is not None and channel is Channel.AGENT:
                span = (words[first].start, words[-1].end)
                self.d.said.setdefault(concept, []).append(span)
        if words:
            self.d.utterances.append(Utterance(channel, self.d.language, tuple(words)))
        self.t += self.rng.uniform(0.3, 1.4)

    def agent_talk(self, n: int) -> list[tuple[str | None, str]]:
        return [(None, self.pick("agent_talk")) for _ in range(n)]


def build(index: int, half: int, rng: random.Random, bank: dict[str, Any]) -> Dialogue:
    d = Dialogue(index, half, rng.choice(("kk", "ru")), "clean")
    b = Builder(d, rng, bank)
    _opening(b)
    b.turn(Channel.CALLER, [(None, b.pick("caller_talk")) for _ in range(rng.randint(1, 2))])
    hold_at = rng.randint(1, 4) if rng.random() < 0.4 else -1
    for k in range(rng.randint(3, 7)):
        parts = b.agent_talk(rng.randint(1, 3))
        if rng.random() < 0.45:
            near = rng.choice(("near_greeting", "near_centre", "near_anything_else",
                               "near_closing", "near_forbidden", "near_hold"))
            parts.insert(rng.randrange(len(parts) + 1), (None, b.pick(near)))
        if rng.random() < 0.07:
            parts.insert(rng.randrange(len(parts) + 1), ("forbidden", b.pick("forbidden")))
        if rng.random() < 0.06:
            iin = "ваш иин [IIN] верно" if b.lang() == "ru" else "сіздің иін [IIN] дұрыс па"
            parts.append(("pii", iin))
        if k == hold_at:
            _hold(b, parts)
        else:
            b.turn(Channel.AGENT, parts)
        caller = [(None, b.pick("caller_talk")) for _ in range(rng.randint(1, 2))]
        if rng.random() < 0.2:
            caller.append((None, "[IIN]"))
        b.turn(Channel.CALLER, caller)
    _ending(b)
    d.duration = round(b.t + rng.uniform(0.2, 2.0), 3)
    _noise(d, rng)
    return d


def _opening(b: Builder) -> None:
    rng, parts = b.rng, []
    if rng.random() < 0.12:  # a late greeting: the agent talks first, greets later
        parts = [(None, b.pick("near_greeting")), *b.agent_talk(2)]
    if rng.random() < 0.8:
        parts.append(("greeting", b.pick("greeting")))
    elif rng.random() < 0.6:
        parts.append((None, b.pick("near_greeting")))
    if rng.random() < 0.75:
        parts.insert(rng.randrange(len(parts) + 1), ("centre", b.pick("centre")))
    elif rng.random() < 0.5:
        parts.append((None, b.pick("near_centre")))
    b.turn(Channel.AGENT, parts or [(None, "алло")])


def _hold(b: Builder, parts: list[tuple[str | None, str]]) -> None:
    rng = b.rng
    roll = rng.random()
    if roll < 0.7:
        parts.append(("hold", b.pick("hold")))
    elif roll < 0.8:  # announced, then talked on for long before the silence
        parts[:0] = [("hold", b.pick("hold"))]
        parts.extend(b.agent_talk(6))
    elif roll < 0.9:  # not announced, but something like it said just before
        parts.append((None, b.pick("near_hold")))
    b.turn(Channel.AGENT, parts)
    start = b.t
    b.t += rng.uniform(20.5, 70.0)
    b.d.silences.append((round(start, 3), round(b.t, 3)))


def _ending(b: Builder) -> None:
    rng, parts = b.rng, b.agent_talk(1)
    if rng.random() < 0.7:
        parts.append(("anything_else", b.pick("anything_else")))
    elif rng.random() < 0.5:
        parts.append((None, b.pick("near_anything_else")))
    b.turn(Channel.AGENT, parts)
    b.turn(Channel.CALLER, [(None, "нет спасибо" if b.d.language == "ru" else "жоқ рахмет")])
    closing = rng.random() < 0.75
    b.turn(Channel.AGENT, [("closing", b.pick("closing"))] if closing
           else [(None, b.pick("near_closing"))])
    if rng.random() < 0.15:  # the caller talks on: the closing is no longer last
        for _ in range(rng.randint(3, 6)):
            b.turn(Channel.CALLER, [(None, b.pick("caller_talk"))])
        b.turn(Channel.AGENT, b.agent_talk(1))


def _noise(d: Dialogue, rng: random.Random) -> None:
    roll = rng.random()
    d.noise, rate = (("clean", 0.0) if roll < 0.3 else ("light", 0.05) if roll < 0.7
                     else ("heavy", 0.12))
    flatten = d.language == "kk" and rng.random() < 0.35
    if flatten:
        d.noise += "+flat"
    d.utterances = [Utterance(u.channel, u.language, tuple(garble(list(u.words), rate, rng,
                                                                  flatten)))
                    for u in d.utterances]


def garble(words: list[Word], rate: float, rng: random.Random, flatten: bool) -> list[Word]:
    """Recognition errors, each word hit with probability ``rate``."""
    out: list[Word] = []
    i = 0
    while i < len(words):
        w = words[i]
        text = w.text.translate(FLAT) if flatten else w.text
        i += 1
        if text.startswith("[") or rng.random() >= rate:
            out.append(Word(text, w.start, w.end))
            continue
        op = rng.choice(("drop", "swap", "alike", "alike", "merge", "split", "short", "filler"))
        if op == "merge" and i < len(words) and not words[i].text.startswith("["):
            nxt = words[i].text.translate(FLAT) if flatten else words[i].text
            out.append(Word(text + nxt, w.start, words[i].end))
            i += 1
        elif op == "split" and len(text) >= 7:
            cut = rng.randint(3, len(text) - 3)
            mid = (w.start + w.end) / 2
            out += [Word(text[:cut], w.start, mid), Word(text[cut:], mid, w.end)]
        elif op == "short" and len(text) <= 3:
            continue  # a short word lost
        elif op == "filler":
            out += [Word(rng.choice(FILLERS), w.start - 0.05, w.start), Word(text, w.start, w.end)]
        else:
            out.append(Word(_letters(text, op, rng), w.start, w.end))
    return out


def _letters(text: str, op: str, rng: random.Random) -> str:
    if len(text) < 3:
        return text
    k = rng.randrange(len(text) - 1)
    if op == "drop":
        return text[:k] + text[k + 1:]
    if op == "swap":
        return text[:k] + text[k + 1] + text[k] + text[k + 2:]
    spots = [j for j, c in enumerate(text) if c in SOUND_ALIKE]
    if not spots:
        return text
    j = rng.choice(spots)
    return text[:j] + SOUND_ALIKE[text[j]] + text[j + 1:]


def dialogues(n: int, seed: int) -> list[Dialogue]:
    """``n`` dialogues, the first half from the dev material, the rest held out."""
    bank = yaml.safe_load(DATA.read_text("utf-8"))
    out = []
    for i in range(n):
        half = 0 if i < n // 2 else 1
        out.append(build(i, half, random.Random(f"{seed}:{i}"), bank))
    return out
