"""Abbreviations: learn the corpus's own ("state-owned enterprises (SOEs)") and expand them in a question."""
from __future__ import annotations

import re
from collections.abc import Iterable

#: Common abbreviations of public life a reader types where a text spells the words out, each with its long
#: form(s), best first: a country's or body's everyday name may be what the text uses ("PRC" for China). The
#: first form the corpus holds is used, else the first whose every content word the corpus uses; none when
#: neither. Abbreviations the corpus defines itself take precedence.
GENERAL = {
    "doj": "Department of Justice", "dod": ("Department of Defense", "Pentagon"),
    "dhs": "Department of Homeland Security", "ip": "intellectual property",
    "usa": ("United States of America", "United States"), "uk": ("United Kingdom", "Britain"),
    "eu": "European Union", "un": "United Nations", "nato": "North Atlantic Treaty Organization",
    "ccp": ("Chinese Communist Party", "Communist Party of China", "Communist Party"),
    "cpc": ("Communist Party of China", "Chinese Communist Party", "Communist Party"),
    "pla": "People's Liberation Army", "prc": ("People's Republic of China", "China"),
    "roc": ("Republic of China", "Taiwan"), "dprk": ("Democratic People's Republic of Korea", "North Korea"),
    "rok": ("Republic of Korea", "South Korea"), "ussr": ("Soviet Union", "USSR"),
    "uae": "United Arab Emirates", "soe": "state-owned enterprise", "gdp": "gross domestic product",
    "ai": "artificial intelligence", "it": "information technology",
    "ict": "information and communication technologies",
    "fbi": "Federal Bureau of Investigation", "nsa": "National Security Agency",
    "cia": "Central Intelligence Agency", "sec": "Securities and Exchange Commission",
    "wto": "World Trade Organization", "imf": "International Monetary Fund",
    "opec": "Organization of the Petroleum Exporting Countries", "iaea": "International Atomic Energy Agency",
    "mit": "Massachusetts Institute of Technology", "ngo": "non-governmental organization",
    "ceo": "chief executive", "govt": "government", "gov": "government",
    "dept": "department", "intl": "international", "natl": "national", "info": "information",
    "org": "organization", "orgs": "organizations", "tech": "technology", "mtg": "meeting",
    "admin": "administration", "mgmt": "management", "univ": "university", "approx": "approximately",
}
#: Words a long form may hold that say nothing on their own: the rest must all be in the corpus.
_FORM_WORDS_SKIPPED = frozenset("of the and for on in to a an".split())
#: A lower-case token this common in English is read as the word, not an abbreviation ("us", "it").
COMMON_WORD_ZIPF = 5.0

_DEFINED = re.compile(r"\(([A-Z][A-Za-z&]*[A-Z])(s?)\)")
_WORDS = re.compile(r"[\w’']+")
_SKIPPABLE = frozenset({"and", "of", "the", "for", "on", "in", "to", "&", "a", "an"})
_TOKEN = re.compile(r"\b[A-Za-z][A-Za-z&]*\b")


def _apostrophes(text: str) -> str:
    return text.replace("’", "'")


def learn(texts: Iterable[str]) -> dict[str, str]:
    """Abbreviations the texts define: ``{"soe": "state-owned enterprises", "ict": "Information and ..."}``.

    A definition is a parenthesised capitalised abbreviation whose letters are the initials,
    in order, of the words just before it (small words such as "and", "of" may be skipped;
    hyphenated words give one initial per part).

    Example:
        >>> learn(["China's numerous state-owned enterprises (SOEs) may act."])
        {'soe': 'state-owned enterprises'}
    """
    found: dict[str, str] = {}
    for text in texts:
        for match in _DEFINED.finditer(text):
            letters = match.group(1).lower()
            before = text[: match.start()].rstrip()
            words = list(_WORDS.finditer(before))[-2 * len(letters) - 2:]
            long_start = _initials_start(letters, words)
            if long_start is not None:
                found.setdefault(letters, before[long_start:])
    return found


def _initials_start(letters: str, words: list[re.Match]) -> int | None:
    """Where the words whose initials spell ``letters`` begin, matching from the last word back."""
    position = len(letters) - 1
    for word in reversed(words):
        parts = re.split(r"[-]", word.group())
        if word.group().lower() in _SKIPPABLE and (position < 0 or word.group()[0].lower() != letters[position]):
            continue
        for part in reversed(parts):
            if position >= 0 and part[:1].lower() == letters[position]:
                position -= 1
            else:
                return None
        if position < 0:
            return word.start()
    return None


class Abbreviations:
    """Expands abbreviations in a question to the words the corpus uses.

    Usage example:
        >>> abbreviations = Abbreviations(["The U.S. Department of Justice’s effort."])
        >>> abbreviations.expand("what did the doj do")
        ('what did the Department of Justice do', ["read 'doj' as 'Department of Justice'"])

    Args:
        texts: the corpus's sentences; its own definitions are learned from them.
        general: common abbreviations and their long form(s), best first; one is used when the corpus holds a
            long form or all its content words. Defaults to :data:`GENERAL`.
    """

    def __init__(self, texts: Iterable[str], general: dict[str, str] | None = None) -> None:
        texts = list(texts)
        corpus = _apostrophes(" ".join(texts)).lower()
        general = GENERAL if general is None else general
        words = frozenset(_WORDS.findall(corpus))
        self.table = {}
        for short, forms in general.items():
            long = _long_form((forms,) if isinstance(forms, str) else tuple(forms), corpus, words)
            if long is not None:
                self.table[short] = long
        self.table.update(learn(texts))

    def expand(self, question: str) -> tuple[str, list[str]]:
        """``question`` with each known abbreviation replaced by its long form, and notes saying so.

        A token that is a common English word ("us", "It") is left alone unless written in capitals; a
        plural ("SOEs") or possessive ("DoJ's") is read as the abbreviation.
        """
        notes: list[str] = []

        def replace(match: re.Match) -> str:
            token = match.group()
            key = token.lower()
            long = self.table.get(key) or (self.table.get(key[:-1]) if key.endswith("s") else None)
            if long is None or (not token.isupper() and _common(key)):   # "us", "It", "Who": the word
                return token
            note = f"read '{token}' as '{long}'"
            if note not in notes:
                notes.append(note)
            return long

        return _TOKEN.sub(replace, question), notes


def _long_form(forms: tuple[str, ...], corpus: str, words: frozenset[str]) -> str | None:
    """The first of ``forms`` that ``corpus`` (lower case, straight apostrophes) holds, else the first whose
    content words it all uses (its ``words``), else None."""
    for form in forms:
        if _apostrophes(form).lower() in corpus:
            return form
    for form in forms:
        needed = [w for w in _WORDS.findall(_apostrophes(form).lower()) if w not in _FORM_WORDS_SKIPPED]
        if needed and all(w in words for w in needed):
            return form
    return None


def _common(word: str) -> bool:
    from .spelling import zipf

    return zipf(word) >= COMMON_WORD_ZIPF
