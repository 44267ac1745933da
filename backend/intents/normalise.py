"""From what people type to what the rules and the model read (issue 10 §2).

In order: traditional → simplified (OpenCC ``t2s``); half-width and lower case; pinyin shorthands standing alone
(``ye多少`` → 余额多少, ``rg`` → 人工); the typo table (``typos.json``); same-sounding misspellings of domain
terms (pypinyin, tones ignored: 共计 → 共济, but 公积金 stays); and, for the colloquial words of the lexicon
(老伴, 闺女, 个账, 门特 …), their canonical word appended so that rules and model see both (``expanded``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import opencc
from pypinyin import lazy_pinyin

from backend.intents.entities import to_halfwidth

DATA_DIR = Path(__file__).parent / "data"
TYPOS_FILE = DATA_DIR / "typos.json"
LEXICON_FILE = DATA_DIR / "lexicon.json"

_ASCII_RUN = re.compile(r"[a-z]+")
_HANZI = re.compile(r"[\u4e00-\u9fff]")


@functools.lru_cache(maxsize=8192)
def _syllable(char: str) -> str:
    return lazy_pinyin(char)[0] if _HANZI.match(char) else char


def _alternation(words: Sequence[str]) -> re.Pattern | None:
    ordered = sorted(words, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, ordered))) if ordered else None


class Normaliser:
    def __init__(self, typos: Mapping[str, str], shorthands: Mapping[str, str] = {},
                 homophones: Sequence[str] = (), not_homophones: Sequence[str] = (),
                 synonyms: Mapping[str, str] = {}):
        self._t2s = opencc.OpenCC("t2s")
        self.typos = dict(typos)
        self._typo_pattern = _alternation(list(self.typos))
        self.shorthands = dict(shorthands)
        # Terms by their syllables: a window of the text with the same syllables and other characters is a typo.
        self._terms = {tuple(_syllable(char) for char in term): term for term in homophones}
        self._term_lengths = sorted({len(term) for term in homophones}, reverse=True)
        self._first_syllables = {syllables[0] for syllables in self._terms}
        self._not_homophones = re.compile("|".join(not_homophones)) if not_homophones else None
        self.synonyms = dict(synonyms)
        self._synonym_pattern = _alternation(list(self.synonyms))

    @classmethod
    def from_files(cls, typos: Path | str = TYPOS_FILE, lexicon: Path | str = LEXICON_FILE) -> Normaliser:
        with open(typos, encoding="utf-8") as source:
            typo_table = json.load(source)["replace"]
        with open(lexicon, encoding="utf-8") as source:
            words = json.load(source)
        return cls(typo_table, words["shorthands"], words["homophones"], words["not_homophones"],
                   words["synonyms"])

    def simplified(self, text: str) -> str:
        return self._t2s.convert(text)

    def __call__(self, text: str) -> str:
        """Simplified, half-width, lower case, shorthands spelled out, typos and homophones corrected."""
        text = to_halfwidth(self._t2s.convert(text)).lower()
        text = _ASCII_RUN.sub(lambda match: self.shorthands.get(match.group(0), match.group(0)), text)
        if self._typo_pattern is not None:
            text = self._typo_pattern.sub(lambda match: self.typos[match.group(0)], text)
        return self._homophones_fixed(text)

    def expanded(self, text: str) -> str:
        """The normalised text followed by the canonical words of its colloquial ones (for rules and model)."""
        found = self._synonym_pattern.findall(text) if self._synonym_pattern else []
        if not found:
            return text
        return text + " " + " ".join(dict.fromkeys(self.synonyms[word] for word in found))

    def _homophones_fixed(self, text: str) -> str:
        syllables = [_syllable(char) for char in text]
        protected = self._protected_positions(text)
        pieces, position = [], 0
        index = 0
        while index < len(text):
            replaced = self._term_at(text, syllables, index, protected)
            if replaced is None:
                index += 1
                continue
            term, length = replaced
            pieces += [text[position:index], term]
            index = position = index + length
        pieces.append(text[position:])
        return "".join(pieces)

    def _term_at(self, text: str, syllables: list[str], index: int, protected: set[int]) -> tuple[str, int] | None:
        if syllables[index] not in self._first_syllables or index in protected:
            return None
        for length in self._term_lengths:
            window = tuple(syllables[index:index + length])
            term = self._terms.get(window)
            if term is not None and text[index:index + length] != term:
                return term, length
        return None

    def _protected_positions(self, text: str) -> set[int]:
        if self._not_homophones is None:
            return set()
        return {position for match in self._not_homophones.finditer(text)
                for position in range(match.start(), match.end())}
