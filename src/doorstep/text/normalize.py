r"""Policy text as the rules read it: one spelling for every way of writing the same words.

A rule about words is only as strong as the text it reads. ``pro\u00adtest`` (a soft hyphen),
full-width ``ｐｒｏｔｅｓｔ``, Cyrillic ``рrotest`` and ``p.r.o.t.e.s.t`` all say "protest", and
``rt case 7``, ``RT-CASE-７`` and ``RT-CАSE-7`` all name one case. Every rule that looks at free
text or an identifier reads it through this module first:

- ``fold``: compatibility forms (NFKC), default-ignorable code points (soft hyphen, zero-width
  joiners, variation selectors, bidi controls, tags) and accents removed, case folded, and
  every non-ASCII look-alike replaced by the ASCII prototype that Unicode's confusables table
  (UTS #39) gives it. Every dash (Unicode category Pd: en and em dashes, the Katakana double
  hyphen, ...) and the minus sign become ``-`` first, since UTS #39 maps some of them to letters
  (an em dash would otherwise read as the Katakana letter ``ー`` and join ``sit—in`` into one
  word). Punctuation is kept, for rules that read sentences.
- ``policy_text``: ``fold`` with ``&`` read as "and" ("Immigration & Customs Enforcement") and
  every run of punctuation, spaces and line breaks made one space, so a newline inside a word
  (``pro\ntest``) splits it like any other separator and the rules join it again.
- ``words``: the words of ``policy_text``, with letters typed one by one (``s i t``) joined again.
- ``case_key``: one key per case number, from the full UTS #39 skeleton (ASCII look-alikes too:
  ``1``, ``l`` and ``I`` are one letter), with separators and leading zeros dropped.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from doorstep.text._confusables import TABLE

__all__ = [
    "CASE_KEY_MAX_LENGTH",
    "case_key",
    "fold",
    "is_default_ignorable",
    "name_key",
    "policy_text",
    "skeleton",
    "words",
]

#: Longest key a case number may fold to (a 60-character case number folds to far fewer).
CASE_KEY_MAX_LENGTH = 240

# Default_Ignorable_Code_Point (Unicode DerivedCoreProperties.txt): invisible when rendered.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def is_default_ignorable(char: str) -> bool:
    """Return whether ``char`` is a default-ignorable code point (drawn as nothing)."""
    point = ord(char)
    return any(low <= point <= high for low, high in _DEFAULT_IGNORABLE)


def _parse(table: str) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for entry in table.split():
        source, target = entry.split(":")
        mapping[chr(int(source, 16))] = "".join(chr(int(p, 16)) for p in target.split("."))
    return mapping


#: Every confusable code point to its prototype, as UTS #39 gives it.
_PROTOTYPE = _parse(TABLE)


_IGNORABLE = re.compile(
    "["
    + "".join(f"{re.escape(chr(low))}-{re.escape(chr(high))}" for low, high in _DEFAULT_IGNORABLE)
    + "]"
)


def _casefold_nfkd(text: str) -> str:
    if text.isascii():
        return text.lower()
    return unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())


def _visible(text: str) -> str:
    if text.isascii():
        return text
    # Accents and other combining marks go too: "prótest" is read as "protest".
    return "".join(
        ch
        for ch in _IGNORABLE.sub("", text)
        if ch.isascii() or unicodedata.category(ch) not in ("Mn", "Me", "Cf")
    )


def _prototype(char: str) -> str:
    """The prototype of ``char`` that is ASCII once case-folded, if it has one.

    Lower case is tried first (Cyrillic "І" is "і", so "i", not the "l" UTS #39 gives "І"),
    then the character as written, then upper case: Cyrillic "т" maps to a small capital T, but
    "Т" to "T", and "proтest" must read as "protest".
    """
    candidates = [
        "".join(_PROTOTYPE.get(ch, ch) for ch in form)
        for form in (char.casefold(), char, char.upper())
    ]
    for candidate in candidates:
        if _casefold_nfkd(candidate).isascii():
            return candidate
    return candidates[0]


@lru_cache(maxsize=4096)
def _ascii_look_alike(char: str) -> str:
    """A non-ASCII character's prototype, folded; ASCII characters are left alone."""
    text = char
    for _ in range(4):
        mapped = "".join(ch if ch.isascii() else _prototype(ch) for ch in text)
        changed = _visible(_casefold_nfkd(mapped))
        if changed == text:
            break
        text = changed
    return text


def _ascii_digits(text: str) -> str:
    # Arabic-Indic, Devanagari and every other decimal digit read as the digit it is.
    if text.isascii():
        return text
    return "".join(
        str(unicodedata.decimal(ch)) if ch.isdecimal() and not ch.isascii() else ch for ch in text
    )


# Every dash (Unicode category Pd) and the minus sign, read as the ASCII hyphen.
_DASHES = str.maketrans(
    dict.fromkeys(
        "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e17\u2e1a"
        "\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\U00010ead",
        "-",
    )
)


def fold(text: str) -> str:
    """Return ``text`` as the rules read it, with its punctuation kept.

    Compatibility forms, invisible characters, accents, case and non-ASCII look-alikes are folded;
    every dash is ``-``.
    """
    if text.isascii():
        return text.lower()
    decomposed = _ascii_digits(_visible(unicodedata.normalize("NFKD", text.translate(_DASHES))))
    mapped = "".join(ch if ch.isascii() else _ascii_look_alike(ch) for ch in decomposed)
    return unicodedata.normalize("NFKC", mapped).casefold()


_SEPARATORS = re.compile(r"[\W_]+")


def policy_text(text: str) -> str:
    """Return ``fold(text)``, ``&`` read as "and", every run of punctuation and space one space."""
    return _SEPARATORS.sub(" ", fold(text).replace("&", " and ")).strip()


def words(text: str) -> list[str]:
    """Return the words of ``text`` as the rules read them.

    Letters typed one at a time ("s.i.t in", "p r o t e s t") are joined back into the word they
    spell: three or more single characters in a row become one word.
    """
    found: list[str] = []
    run: list[str] = []
    for word in policy_text(text).split():
        if len(word) == 1:
            run.append(word)
            continue
        found.extend(["".join(run)] if len(run) >= 3 else run)
        run = []
        found.append(word)
    found.extend(["".join(run)] if len(run) >= 3 else run)
    return found


def skeleton(text: str) -> str:
    """Return the UTS #39 skeleton of ``text``, case folded: confusable strings share one.

    Unlike ``fold`` this maps ASCII too (``1`` and ``l``, ``0`` and ``o`` share a skeleton), so it
    is for identifiers, never for prose a rule reads.
    """
    # Mapped before case folding too: UTS #39 gives "I" the prototype "l", and "i" stays "i".
    current = _ascii_digits(_visible(unicodedata.normalize("NFKD", text)))
    for _ in range(4):
        mapped = "".join(_PROTOTYPE.get(ch, ch) for ch in current)
        folded = _visible(_casefold_nfkd(mapped))
        if folded == current:
            break
        current = folded
    return unicodedata.normalize("NFKC", current)


_LEADING_ZEROS = re.compile(r"(?<![0-9])0+(?=[0-9])")
_NOT_ALNUM = re.compile(r"[\W_]+")


def case_key(case_number: str) -> str:
    r"""Return the one key every way of writing a case number shares.

    ``rt case 7``, ``RT-CASE-7``, ``RT-CASE-７``, ``RT-CАSE-7`` (Cyrillic А), ``RT.CASE.007`` and
    ``RT-CASE-\u00ad7`` are one case: look-alikes and case folded to one skeleton, then
    separators, leading zeros and the i/l/1 distinction dropped. An empty key means the case
    number has no letters or digits at all.
    """
    runs = _LEADING_ZEROS.sub("", fold(case_number))
    key = _NOT_ALNUM.sub("", skeleton(runs))
    # "I" (capital i) is "l" in UTS #39 but folds to "i" first; read all three as one letter.
    return key.replace("i", "l")


def name_key(name: str) -> str:
    """Return the key two names share when they look alike (an agency may not impersonate another).

    Case, look-alike letters, accents, invisibles and punctuation are folded; spaces between words
    are kept, so "Fire District 9" and "Fire District 90" stay different names.
    """
    return " ".join(_NOT_ALNUM.sub("", skeleton(part)) for part in policy_text(name).split())
