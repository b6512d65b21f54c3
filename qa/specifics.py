"""Specifics: which words of a question name something (a person, a company, a year), whatever their case."""
from __future__ import annotations

import re
import statistics
from functools import lru_cache

#: Languages whose word frequencies tell a name from an English word: a name ("putin", "huawei",
#: "interpol") is about as common in all of them, an English word ("pilfered", "shortfall") is not.
OTHER_LANGUAGES = ("de", "fr", "es", "it", "nl", "pt")
#: A word this common in the other languages (median Zipf) is international: a name or a loan word.
INTERNATIONAL_ZIPF = 3.0
#: ... and one less common than this in English is not an everyday English word ("zone", "digital").
NAME_MAX_ZIPF = 4.3
#: Everyday English ("ok", "thanks", "I've") is never evidence of a name, capitalised or not.
EVERYDAY_ZIPF = 5.5
# Words of conversation that users capitalise: never a name.
_CHAT = frozenset("i i'm i've i'd i'll ok okay hi hello hey thanks thank please sorry yes no".split())
_WORD = re.compile(r"[\w’'-]+")
_VOWELS = re.compile(r"[aeiouy]")


@lru_cache(maxsize=65536)
def _other_zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return statistics.median(zipf_frequency(word, lang, wordlist="small") for lang in OTHER_LANGUAGES)


def looks_specific(word: str, sentence_start: bool = False) -> bool:
    """Whether ``word`` of a question names something specific rather than being a plain word.

    True for numbers ("2019"); acronyms (two or more capitals, or letters without a vowel:
    "FBI", "gdp"); international words that are not everyday English, in any case ("putin",
    "Huawei", "interpol": see :data:`OTHER_LANGUAGES`; but not one with common English forms such
    as "freelancer" or "reins"); and capitalised words that are not
    at a sentence start and not everyday English or conversation ("Secretary", but not
    "I've", "OK").

    Example:
        >>> [w for w in "did putin and Interpol meet in 2019 , ok I've thanks".split() if looks_specific(w)]
        ['putin', 'Interpol', '2019']
    """
    lowered = word.lower().replace("’", "'").removesuffix("'s")
    if not lowered or lowered in _CHAT or lowered.startswith("i'"):
        return False
    if any(ch.isdigit() for ch in lowered):
        return True
    letters = lowered.replace("-", "").replace("'", "")
    if not letters.isalpha():
        return False
    if sum(ch.isupper() for ch in word) >= 2 or (2 <= len(letters) <= 5 and not _VOWELS.search(letters)):
        return True
    from .spelling import zipf

    english = zipf(lowered)
    if english >= EVERYDAY_ZIPF:
        return False
    if word[0].isupper() and not sentence_start:
        return True
    return english < NAME_MAX_ZIPF and _other_zipf(lowered) >= INTERNATIONAL_ZIPF and not _inflects(lowered, english)


#: English endings of inflected and derived forms: names rarely take them ("putins"), words do ("freelancer").
_ENDINGS = ("s", "es", "d", "ed", "ing", "r", "er", "ers", "ly", "ness")
#: A form this close (Zipf) to the word's own frequency makes it an English word rather than a name.
INFLECTION_GAP = 1.2


def _inflects(word: str, english: float) -> bool:
    """Whether ``word`` has an inflected or derived English form nearly as common as itself."""
    from .spelling import zipf

    return max(zipf(word + ending) for ending in _ENDINGS) >= english - INFLECTION_GAP


def specific_words(question: str) -> list[str]:
    """The words of ``question`` that :func:`looks_specific`, in order (a sentence start is the first
    word or one after ``.``, ``!`` or ``?``)."""
    found = []
    previous_end = None
    for match in _WORD.finditer(question):
        start = previous_end is None or question[previous_end:match.start()].strip()[-1:] in (".", "!", "?")
        previous_end = match.end()
        if looks_specific(match.group(), sentence_start=start):
            found.append(match.group())
    return found
