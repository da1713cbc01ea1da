"""Rules for Neighbors: its limits, the feed's reach, posts, and the race-only description check.

The race-only check is shared with agency requests. Everything here is pure: the clock is passed in.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import h3

from doorstep.accounts.roles import REVIEWERS
from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.geo import reach
from doorstep.geo.cells import coarsen
from doorstep.text.normalize import words

MAX_POST_LENGTH = 2000
METERS_PER_MILE = 1609.344
MIN_RADIUS_MILES = 0.5
MAX_RADIUS_MILES = 5.0
DEFAULT_RADIUS_MILES = 1.0
PAGE_SIZE = 20
MAX_PAGE_SIZE = 50
#: Posts one account may publish per hour; more looks like flooding the neighbourhood.
POSTS_PER_HOUR = 10
POST_WINDOW = timedelta(hours=1)
#: Distinct reports that take a post out of the feed until a reviewer looks at it.
HOLD_AFTER_REPORTS = 3
#: How far back the feed looks at first, then again wider while a page is not yet full.
FEED_WINDOWS: tuple[timedelta | None, ...] = (
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=60),
    None,
)
#: How long the window that last filled a page is remembered (see ``service.FeedWindows``).
WINDOW_MEMORY_S = 60.0
MAX_COMMENT_LENGTH = 1000
MAX_REASON_LENGTH = 500
MAX_MESSAGE_LENGTH = 2000
MAX_TIP_LENGTH = 4000
MAX_ALERT_LENGTH = 2000
MAX_ALERT_CELLS = reach.MAX_ALERT_CELLS
MAX_AGENCY_ID_LENGTH = 64
MAX_AGENCY_NAME_LENGTH = 120
MAX_PHOTO_BYTES = 5 * 1024 * 1024
#: Resolution of the coarse area named next to "Neighbor" on a post (res 6 is ~36 km²).
AREA_RESOLUTION = 6
#: The label a clip's owner sets to say it shows nobody; until redaction exists only such clips
#: may be attached to a post.
NO_PEOPLE_LABEL = "no_people"
PERSON_LABEL = "person"
#: The filter value that shows agency alerts instead of residents' posts.
ALERTS_FILTER = "agency_alert"


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


# Several-word names are joined first so the tokeniser sees them as one word (the text has been
# through ``policy_text.words``: lower case, punctuation gone, so "African-American" is two words).
_PHRASES = {
    "african american": "africanamerican",
    "middle eastern": "middleeastern",
    "native american": "nativeamerican",
    "pacific islander": "pacificislander",
    "south asian": "southasian",
    "east asian": "eastasian",
    "dark skinned": "darkskinned",
    "light skinned": "lightskinned",
    "brown skinned": "brownskinned",
    "mixed race": "mixedrace",
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
    vietnamese gypsy roma romani aboriginal indigenous ethnic mixedrace biracial multiracial
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
    small male female middle aged suspicious shady sketchy creepy strange unknown random
    """
)
# A race word and a person typed as one word ("blackmale").
_RUN_TOGETHER = re.compile(
    "({})({})".format(
        "|".join(sorted(_COLOUR_RACES | _ETHNIC, key=len, reverse=True)),
        "|".join(sorted(_PERSON_NOUNS | _PERSON_MODIFIERS, key=len, reverse=True)),
    )
)
# What distinguishes one person from others of the same race, sex and age: what they wore or
# carried, their hair, facial hair and marks, the vehicle, and what they did in the incident.
# Being somewhere ("seen near the park"), moving ("walking", "ran off"), the words of the request
# itself ("footage needed"), and sex, age, height or build describe no one in particular.
_DESCRIPTIVE = _words(
    """
    wearing wore wears worn dressed jacket jackets coat coats parka hoodie hoodies hood hooded
    hat hats cap caps beanie helmet shirt shirts tshirt top tops sweater jumper sweatshirt
    tracksuit pants trousers jeans shorts leggings skirt dress shoes sneakers trainers boots
    sandals gloves mask masked balaclava scarf bandana sunglasses glasses uniform vest
    hivis jersey apron overalls tattoo tattoos tattooed scar scars scarred piercing
    piercings birthmark beard bearded goatee moustache mustache stubble bald balding hair
    haired blond blonde brunette redhead ginger curly dreadlocks dreads braids braided
    ponytail afro mohawk buzzcut limp limping cane crutches wheelchair
    car cars van truck suv sedan hatchback pickup motorcycle motorbike moped bike bicycle
    scooter skateboard vehicle plate plates registration license licence
    backpack rucksack bag bags duffel holdall purse handbag suitcase box boxes parcel parcels
    package packages crowbar tool tools toolbox knife gun weapon bat flashlight torch phone
    umbrella trolley cart dog dogs pram pushchair stroller buggy
    took taken take takes taking stole stolen steal steals stealing grabbed grab grabs
    grabbing snatched snatch snatching broke broken break breaks breaking smashed smash
    smashing forced forcing pried prying jimmied kicked kick kicking punched punching hit
    hitting struck assaulted attacked robbed mugged burgled burglarized burglarised
    vandalised vandalized damaged damaging sprayed spraying painted tagged tagging keyed
    slashed opened opening entered entering exited climbed climbing jumped jumping carried
    carrying carry holding held threw throwing dropped dumped delivered delivering picked
    loaded loading unloaded pointed brandished brandishing threatened threatening yelled
    yelling shouted shouting fired firing shot shooting stabbed stabbing knocked knocking
    rang ringing peered peering photographed photographing filmed filming followed following
    chased chasing exposed urinated tried trying pulled pulling pushed pushing tugged
    checked checking shoplifted
    """
)
_COLOURS = _words(
    """
    red blue green yellow orange purple pink grey gray white black brown dark light navy
    beige tan khaki camo camouflage
    """
)
# Words that may join a person to a race named after them: "the suspect is black", "male,
# described as Hispanic".
_LINKING = _words("is was were are a an described as appeared appears seemed possibly probably")


def _split_run_together(word: str) -> list[str]:
    """Split a race word run together with a person ("blackmale", hyphen hidden or left out)."""
    joined = _RUN_TOGETHER.fullmatch(word)
    return [joined.group(1), joined.group(2)] if joined else [word]


def _tokens(text: str) -> list[str]:
    joined = f" {' '.join(words(text))} "
    for phrase, single in _PHRASES.items():
        joined = joined.replace(f" {phrase} ", f" {single} ")
    return [part for word in joined.split() for part in _split_run_together(word)]


def _refers_to_person_by_race(tokens: list[str], i: int) -> bool:
    word = tokens[i]
    if word in _ETHNIC_PLURALS:
        return True
    if word not in _COLOUR_RACES and word not in _ETHNIC:
        return False
    # After the person: "male, black, seen near the park", "the suspect is black" (but "man,
    # black hoodie" is clothing).
    k = i - 1
    while k >= 0 and i - k <= 3 and tokens[k] in _LINKING:
        k -= 1
    after_person = k >= 0 and tokens[k] in _PERSON_NOUNS
    if after_person and (i + 1 == len(tokens) or tokens[i + 1] not in _DESCRIPTIVE):
        return True
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
    is was were are at near in on by outside around who that with from seen
    """
)


def _describes_more(tokens: list[str]) -> bool:
    """Whether anything distinguishes the person: clothing, hair, marks, vehicle, what they did."""
    for i, word in enumerate(tokens):
        if word in _DESCRIPTIVE:
            return True
        # "a man in red", "in a grey top": a colour worn, not a race.
        if word == "in" and any(t in _COLOURS for t in tokens[i + 1 : i + 3]):
            return True
    return False


def describes_person_only_by_race(text: str) -> bool:
    """Return whether ``text`` describes a person by race or ethnicity and nothing else.

    The rule: a description names something that tells the person apart from everyone else of
    that race, sex and age. That is clothing or anything worn ("red hoodie", "in grey"), hair
    style or colour, facial hair, tattoos, scars or a limp, something carried (a backpack, a
    parcel, a dog), a vehicle, or an action tied to the incident ("took a parcel", "broke a
    window", "tried the door"). Race with only sex, age, height, build or a generic noun is
    race-only: "black male", "tall black male", "black male, 6ft", "white male 30s", "black male
    in his 20s", "Black male, about 20", "the suspect is black", "mixed race man". So is race
    with only a place or a movement ("seen near the park", "walking down Elm St", "ran off").

    The text is read as ``policy_text`` reads it, so look-alike letters, full-width forms and
    invisible characters hide neither the race word nor the lack of any other description.
    """
    tokens = _tokens(text)
    by_race = any(_refers_to_person_by_race(tokens, i) for i in range(len(tokens)))
    return by_race and not _describes_more(tokens)


RACE_ONLY_EXPLANATION = (
    "this describes a person only by race or ethnicity (sex, age, height or build do not tell "
    "anyone apart). Say what they did and what they wore, carried or drove (clothing, hair, "
    "marks, actions, vehicle), then post again."
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


def parse_category(category: str | None) -> PostCategory | None:
    """Turn a category filter into a category, or raise naming the choices."""
    if not category:
        return None
    try:
        return PostCategory(category)
    except ValueError as err:
        allowed = ", ".join(c.value for c in PostCategory)
        raise InvalidInput(f"choose a category: {allowed}", field="category") from err


def clean_text(text: str, *, field: str, limit: int, what: str) -> str:
    """Return ``text`` trimmed, or raise when it is empty or longer than ``limit``."""
    value = text.strip()
    if not value:
        raise InvalidInput(f"write {what} first", field=field)
    if len(value) > limit:
        raise InvalidInput(f"{what} has at most {limit:,} characters", field=field)
    return value


def posting_wait(recent: Sequence[datetime], now: datetime) -> int | None:
    """Seconds until the author may post again, given their posts of the last hour (oldest first).

    ``None`` while they are under the hourly maximum.
    """
    if len(recent) < POSTS_PER_HOUR:
        return None
    return int((recent[-POSTS_PER_HOUR] + POST_WINDOW - now).total_seconds()) + 1


def check_radius(radius_miles: float) -> float:
    """Return the radius if it is within what the feed offers, else raise."""
    if not math.isfinite(radius_miles) or not (
        MIN_RADIUS_MILES <= radius_miles <= MAX_RADIUS_MILES
    ):
        raise InvalidInput(
            f"the radius is {MIN_RADIUS_MILES:g} to {MAX_RADIUS_MILES:g} miles", field="radius"
        )
    return radius_miles


def feed_cells(home_cell: str, radius_miles: float) -> list[str]:
    """Return the cells that reach within ``radius_miles`` of the home cell's centre."""
    check_radius(radius_miles)
    return list(_cells_within(home_cell, radius_miles))


# Every feed read asks for these; working them out takes hundreds of H3 calls.
@functools.lru_cache(maxsize=256)
def _cells_within(home_cell: str, radius_miles: float) -> tuple[str, ...]:
    resolution = h3.get_resolution(home_cell)
    edge = h3.average_hexagon_edge_length(resolution, unit="m")
    # Half an edge more, so a cell the circle cuts through counts as inside.
    radius_m = radius_miles * METERS_PER_MILE + edge / 2
    # Neighbouring centres are at least 1.5 edges apart along the worst direction, so this many
    # rings always reach the radius; the distance check below trims the disk to a circle.
    rings = math.ceil(radius_m / (1.5 * edge)) + 1
    centre = h3.cell_to_latlng(home_cell)
    return tuple(
        cell
        for cell in h3.grid_disk(home_cell, rings)
        if h3.great_circle_distance(centre, h3.cell_to_latlng(cell), unit="m") <= radius_m
    )


@functools.lru_cache(maxsize=4096)
def area_name(cell: str) -> str:
    """A coarse name for the area around ``cell``, shown next to "Neighbor"."""
    return "area " + coarsen(cell, min(AREA_RESOLUTION, h3.get_resolution(cell)))[:9]


class HasRole(Protocol):
    """Anything with an account's role (a user, a principal's user)."""

    @property
    def role(self) -> str:
        """The account's role."""
        ...


def is_reviewer(account: HasRole) -> bool:
    """Whether the account works the moderation queue."""
    return account.role in REVIEWERS
