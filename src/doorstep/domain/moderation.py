"""Rules for Neighbors posts, and the race-only description check shared with agency requests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from doorstep.errors import InvalidInput, PolicyRefused

MAX_POST_LENGTH = 2000


class PostCategory(StrEnum):
    """What a Neighbors post is about."""

    CRIME = "crime"
    SAFETY = "safety"
    SUSPICIOUS_ACTIVITY = "suspicious_activity"
    UNEXPECTED_VISITOR = "unexpected_visitor"
    LOST_PET = "lost_pet"
    FOUND_PET = "found_pet"
    NEIGHBORLY_MOMENT = "neighborly_moment"


@dataclass(frozen=True, slots=True)
class CheckedPost:
    """A post that passed the rules, with its text trimmed."""

    text: str
    category: PostCategory


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Several-word names are joined first so the tokeniser sees them as one word.
_PHRASES = {
    "african american": "africanamerican",
    "african-american": "africanamerican",
    "middle eastern": "middleeastern",
    "middle-eastern": "middleeastern",
    "native american": "nativeamerican",
    "pacific islander": "pacificislander",
    "south asian": "southasian",
    "east asian": "eastasian",
    "dark skinned": "darkskinned",
    "dark-skinned": "darkskinned",
    "light skinned": "lightskinned",
    "light-skinned": "lightskinned",
    "brown skinned": "brownskinned",
    "brown-skinned": "brownskinned",
    "person of color": "poc",
    "people of color": "poc",
    "person of colour": "poc",
    "people of colour": "poc",
}

# Colour words are races only when a person noun follows ("a white van" is a van).
_COLOUR_RACES = frozenset({"white", "black", "brown"})
_ETHNIC = _words(
    """
    africanamerican middleeastern nativeamerican pacificislander southasian eastasian
    darkskinned lightskinned brownskinned poc asian hispanic latino latina latinx caucasian
    arab arabic african mexican chinese indian pakistani somali korean japanese filipino
    vietnamese gypsy roma romani aboriginal indigenous ethnic
    """
)
_ETHNIC_PLURALS = _words(
    """
    blacks whites asians hispanics latinos latinas caucasians arabs africans mexicans
    pakistanis somalis koreans filipinos vietnamese gypsies
    """
)
_PERSON_NOUNS = _words(
    """
    man men woman women guy guys male males female females person people persons individual
    individuals kid kids boy boys girl girls teen teens teenager teenagers youth youths dude
    dudes lady ladies gentleman gentlemen suspect suspects subject subjects child children
    adult adults gang group couple family stranger strangers fella fellow
    """
)
# Words that may sit between a race word and the person it describes without changing the meaning.
_PERSON_MODIFIERS = _words(
    """
    young old older younger elderly teenage adult tall short skinny thin heavy heavyset big
    small male female middle-aged suspicious shady sketchy creepy strange unknown random
    """
)
# Vague words that say nothing about what a person did or looked like.
_VAGUE = _words(
    """
    looking looked acting acted seeming seemed appearing appeared lurking lurked hanging
    being wandering wandered loitering loitered suspected skinned colored coloured concerned
    worried scared interested noticed wondering something anything nothing everything
    morning evening wanted wanting reported reporting posted posting warned warning alerted
    spotted seeing sighted heads-up neighborhood neighbourhood
    """
)
_DESCRIPTIVE = _words(
    """
    wearing wore wears dressed jacket coat hoodie hood hat cap beanie shirt t-shirt tshirt
    top pants jeans shorts trousers skirt dress shoes sneakers boots gloves mask scarf
    sunglasses glasses backpack bag purse uniform vest jersey tattoo tattoos beard moustache
    mustache hair haired bald ponytail dreadlocks braids scar limp height ft feet inches
    build car van truck suv sedan pickup motorcycle bike bicycle scooter vehicle plate
    license licence carrying carried holding held took take taking stole steal stealing
    grabbed grab broke break breaking opened open opening tried trying knocked rang ring
    ringing climbed jumped drove driving ran running walked walking entered left leaving
    kicked hit punched threw throwing smashed damaged sprayed spray painted tagging checked
    checking pulled pushed tugged peered peering photographed filming followed following
    yelled shouted threatened delivered dropped picked package packages door handle window
    gate mailbox fence
    """
)
_WORD = re.compile(r"[a-z0-9'\-]+")


def _tokens(text: str) -> list[str]:
    lowered = text.lower()
    for phrase, joined in _PHRASES.items():
        lowered = lowered.replace(phrase, joined)
    return _WORD.findall(lowered)


def _refers_to_person_by_race(tokens: list[str], i: int) -> bool:
    word = tokens[i]
    if word in _ETHNIC_PLURALS:
        return True
    if word not in _COLOUR_RACES and word not in _ETHNIC:
        return False
    j = i + 1
    while j < len(tokens) and j - i <= 3 and tokens[j] in _PERSON_MODIFIERS:
        if tokens[j] in _PERSON_NOUNS:
            return True
        j += 1
    if j < len(tokens) and tokens[j] in _PERSON_NOUNS:
        return True
    # "a Hispanic" at the end of a clause is a person; "Chinese takeaway" is not.
    return word in _ETHNIC and (j >= len(tokens) or tokens[j] in _CLAUSE_WORDS)


_CLAUSE_WORDS = _words(
    """
    is was were are at near in on by outside around who that with from
    """
)


def _describes_more(tokens: list[str]) -> bool:
    for word in tokens:
        if word in _DESCRIPTIVE:
            return True
        if word in _VAGUE or word in _ETHNIC or len(word) <= 4:
            continue
        # Most other verbs in -ing/-ed report something a person did.
        if word.endswith(("ing", "ed")):
            return True
    return False


def describes_person_only_by_race(text: str) -> bool:
    """Return whether ``text`` describes a person by race or ethnicity and nothing else."""
    tokens = _tokens(text)
    by_race = any(_refers_to_person_by_race(tokens, i) for i in range(len(tokens)))
    return by_race and not _describes_more(tokens)


RACE_ONLY_EXPLANATION = (
    "this describes a person only by race or ethnicity. Say what they did and what they "
    "wore or drove (clothing, actions, vehicle), then post again."
)


def refuse_race_only(text: str, *, field: str = "text") -> None:
    """Raise ``PolicyRefused`` (reason ``race_only``) if ``text`` names a person by race alone."""
    if describes_person_only_by_race(text):
        raise PolicyRefused(RACE_ONLY_EXPLANATION, field=field, extra={"reason": "race_only"})


def check_post(text: str, category: PostCategory | str) -> CheckedPost:
    """Check a Neighbors post against the rules and return it trimmed, or raise with the reason."""
    try:
        kind = PostCategory(category)
    except ValueError as err:
        allowed = ", ".join(c.value for c in PostCategory)
        raise InvalidInput(f"choose a category: {allowed}", field="category") from err
    trimmed = text.strip()
    if not trimmed:
        raise InvalidInput("write something before posting", field="text")
    if len(trimmed) > MAX_POST_LENGTH:
        raise InvalidInput(
            f"posts are at most {MAX_POST_LENGTH:,} characters; this one has {len(trimmed):,}",
            field="text",
        )
    refuse_race_only(trimmed)
    return CheckedPost(text=trimmed, category=kind)
