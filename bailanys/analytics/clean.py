"""A channel's recognised words made fit to store: numbers as digits, personal data masked.

Issue 15, "Numbers and PII": the worker calls :func:`clean_words` on the
transcriber's raw words before anything is written; :mod:`.itn` first
(«девяносто ноль один ...» -> one token of digits), then :mod:`.pii`
(that token -> ``[IIN]``).  A token made of several words is one
:class:`~bailanys.analytics.model.Word` spanning them: the start of the
first, the end of the last, the lowest confidence (the player jumps to it;
its confidence is no better than its weakest part).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bailanys.analytics import itn, pii
from bailanys.analytics.model import Utterance, Word


def _merge(words: Sequence[Word], spans: Sequence[itn.Span]) -> tuple[Word, ...]:
    out: list[Word] = []
    for span in spans:
        if span.first == span.last and words[span.first].text == span.text:
            out.append(words[span.first])
            continue
        part = words[span.first:span.last + 1]
        out.append(Word(span.text, part[0].start, part[-1].end, min(w.conf for w in part)))
    return tuple(out)


def clean_words(words: Sequence[Word], lang: str) -> tuple[Word, ...]:
    """ITN, then masking, over one utterance's (or one channel's) words in order.

    ``lang`` is the utterance's language ("kk", "ru"); both languages'
    number words are read either way, it only decides whether «он» is 10.
    Words whose text is empty are dropped.
    """
    numbered = clean_numbers(words, lang)
    return _merge(numbered, pii.mask([w.text for w in numbered]))


def clean_numbers(words: Sequence[Word], lang: str) -> tuple[Word, ...]:
    """ITN alone (no masking): words with empty text dropped, numbers as digits."""
    kept = [w for w in words if w.text.strip()]
    return _merge(kept, itn.normalize([w.text for w in kept], lang))


def clean_utterances(utterances: Sequence[Utterance]) -> tuple[Utterance, ...]:
    """:func:`clean_words` over a channel's utterances, masking across their borders.

    A caller dictating an IIN pauses between groups, and the recogniser may
    end an utterance at a pause: numbers are read per utterance (in its
    language), then personal data is masked over all utterances of a
    channel in order, and a mask spanning two utterances goes to the first
    (an utterance left without words is dropped).  Utterances of several
    channels are each cleaned with their own channel's, in the order given.
    """
    numbered = [(u, clean_numbers(u.words, u.language)) for u in utterances]
    out: dict[int, list[Word]] = {i: [] for i in range(len(utterances))}
    for channel in dict.fromkeys(u.channel for u in utterances):
        owner: list[int] = []
        flat: list[Word] = []
        for i, (u, words) in enumerate(numbered):
            if u.channel == channel:
                owner += [i] * len(words)
                flat.extend(words)
        merged = _merge(flat, spans := pii.mask([w.text for w in flat]))
        for span, word in zip(spans, merged, strict=True):
            out[owner[span.first]].append(word)
    return tuple(replace(u, words=tuple(out[i])) for i, u in enumerate(utterances) if out[i])
