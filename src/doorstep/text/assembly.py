r"""Whether a request or alert is about a protest, strike or other lawful assembly (invariant I10).

The text is read through ``policy_text.words`` first, so soft hyphens, full-width or Cyrillic
letters, accents and spelled-out letters change nothing, and the letters of every word below may
be split by spaces or punctuation ("pro-test", "walk out", "s.i.t in"). Words that also have an
ordinary meaning are matched only where they mean the gathering: "on strike", not "struck a car";
"march on city hall", not "March 3" or "the suspect marched off"; "picket line", not "picket fence";
"a sit-in", not "sit in the car".

Every word form the rule has ever refused is still refused on its own: "march", "we marched",
"strike", "strikes", "demonstrating". The exceptions are narrow, and where a sentence could be
either reading it is refused, since a request about an assembly is the harm this rule prevents:

- "March" the month: next to a day or year ("March 3", "3rd of March", "March 2026"), after a
  word that only takes a date ("since March", "in March", "early March", "end of March"), or
  naming an incident ("the March burglary"); but "in March against the cuts" is a march.
- A person marching off: "the suspect marched off", "marched up to the door", "marched him out";
  but "we marched off" or "people marched away" is a march.
- Striking a person or a thing: "strike him", "strikes the car", "a strike to the head",
  "lightning strike"; but "a strike at the plant", "the strike", "strikes" on their own are
  strikes.
- Demonstrating something: "demonstrated how the lock opens", "demonstrating the product"; but
  "demonstrating outside city hall" is a demonstration.

Line breaks end a clause, but a word may also be broken across a line ("pro\ntest"): the text
is read both ways, and it is about assembly if either reading is.
"""

from __future__ import annotations

import re

from doorstep.text._months import without_months
from doorstep.text.normalize import fold, words

__all__ = ["is_about_assembly"]


def _w(word: str) -> str:
    """A word or phrase whose letters may be split by one space each."""
    return " ?".join(re.escape(ch) for ch in word.replace(" ", ""))


def _any(*forms: str) -> str:
    return "(?:" + "|".join(_w(form) for form in sorted(forms, key=len, reverse=True)) + ")"


def _seq(*parts: str) -> str:
    return " ?".join(parts)


def _one_of(*plain: str) -> str:
    """Whole words, as typed (no letter splitting): for context, not for the matched word."""
    return "(?:" + "|".join(sorted(plain, key=len, reverse=True)) + ")"


_START = r"(?<![a-z0-9])"
_END = r"(?![a-z0-9])"

# What follows "sit in", "walk out" when they are verbs: "sit in the car", "walk out of the shop".
_VERB_OBJECT = _one_of(
    *"""of the a an his her their my our your its him them it me us front
    back with through into onto from to and when while there here car cars van truck vehicle
    driveway yard garden house home shop store""".split()
)
# ... and what comes before them: "he would walk out", "watched him walk out".
_VERB_SUBJECTS = """he she they i we you him her them to would could did not then and saw
    watched let made make didnt dont cant wont""".split()
# Fixed-width lookbehinds, one per subject word (the text is padded with spaces).
_AFTER_NO_SUBJECT = "".join(f"(?<! {word} )" for word in _VERB_SUBJECTS)


def _gathering_noun(word: str) -> str:
    """``word`` as the name of a gathering: not a verb followed by its object or subject."""
    return rf"{_AFTER_NO_SUBJECT}{_START}{word}(?! {_VERB_OBJECT}{_END}){_END}"


# "Rally Road", "rally car": a street or a motor sport, not a gathering.
_PLACE_OR_SPORT = _one_of(
    *"""road rd street st avenue ave lane ln drive dr way close court ct place crescent car cars
    driver drivers driving racing race stage""".split()
)

_ALWAYS = [
    _any(
        "protest",
        "protests",
        "protester",
        "protesters",
        "protestor",
        "protestors",
        "protesting",
        "protested",
        "counterprotest",
        "counterprotests",
        "counterprotester",
        "counterprotesters",
    ),
    _any("demonstration", "demonstrations", "demonstrator", "demonstrators"),
    _any("rally", "rallies", "rallying", "rallygoers") + f"(?! {_PLACE_OR_SPORT}{_END})",
    _any("marcher", "marchers"),
    _any("picketer", "picketers", "picketing", "picket line", "picket lines"),
    _any("vigil", "vigils"),
    _any("civil disobedience"),
    _any("boycott", "boycotts", "boycotting", "boycotted"),
    _any("occupy", "occupation", "occupations", "occupiers"),
    _any("activist", "activists", "activism"),
    _any("blockade", "blockades", "blockading"),
    _any("strikebreaker", "strikebreakers", "striker", "strikers"),
    _any("walkouts", "sitins", "teachins", "dieins"),
    # Strikes: only where "strike" means stopping work.
    _seq(_any("on"), _any("strike")),
    _seq(
        _any(
            "general",
            "hunger",
            "rent",
            "labor",
            "labour",
            "union",
            "student",
            "students",
            "teachers",
            "workers",
            "nurses",
            "climate",
            "school",
            "wildcat",
            "sympathy",
            "sitdown",
            "national",
            "transit",
        ),
        _any("strike", "strikes"),
    ),
    _seq(
        _any("strike", "strikes"),
        _any(
            "action",
            "line",
            "lines",
            "vote",
            "ballot",
            "pay",
            "fund",
            "committee",
            "picket",
            "organizer",
            "organiser",
            "organizers",
            "organisers",
            "leader",
            "leaders",
        ),
    ),
    _seq(
        _any("striking"),
        _any(
            "workers",
            "staff",
            "employees",
            "nurses",
            "teachers",
            "drivers",
            "members",
            "union",
            "miners",
            "students",
        ),
    ),
    _seq(_any("walked", "walk", "walking", "walks"), _any("off the job")),
    _seq(
        _any("workers", "staff", "employees", "students", "teachers", "nurses", "union members"),
        _any("walked", "walk", "walking", "walks"),
        _any("out"),
    ),
    # Marches: not the month, not the suspect who marched off.
    _seq(_any("march", "marches", "marched", "marching"), _any("on", "against")),
    _seq(
        _any(
            "protest",
            "peace",
            "freedom",
            "pride",
            "solidarity",
            "silent",
            "climate",
            "student",
            "civil rights",
            "womens",
            "unity",
            "memorial",
            "torch",
            "torchlit",
            "mass",
            "labor",
            "labour",
            "union",
            "may day",
        ),
        _any("march", "marches"),
    ),
    _seq(
        _any("a", "the"),
        _any("march", "marches"),
        _any(
            "to",
            "through",
            "from",
            "down",
            "along",
            "past",
            "was",
            "were",
            "passed",
            "went",
            "organized",
            "organised",
            "itself",
        ),
    ),
    _seq(
        _any(
            "joined",
            "join",
            "joining",
            "attended",
            "attending",
            "organized",
            "organised",
            "organizing",
            "organising",
            "led",
            "leading",
            "planned",
            "planning",
            "staged",
            "held",
        ),
        _any("a", "the"),
        _any("march", "marches"),
    ),
    # Gatherings and meetings of people as such.
    _seq(
        _any("public", "political", "mass", "peaceful", "large", "religious", "prayer"),
        _any("gathering", "gatherings"),
    ),
    _seq(
        _any("gathering", "gatherings", "gathered"),
        _any("of"),
        _any(
            "activists",
            "protesters",
            "demonstrators",
            "supporters",
            "students",
            "workers",
            "people",
            "residents",
            "members",
            "worshippers",
            "a crowd",
            "the crowd",
        ),
    ),
    _seq(_any("crowd", "crowds"), _any("gathered", "gathering", "assembled")),
    _seq(
        _any("union", "political", "campaign", "public"),
        _any("meeting", "meetings", "event", "events"),
    ),
    _seq(
        _any(
            "a",
            "the",
            "staged",
            "held",
            "hold",
            "holding",
            "organized",
            "organised",
            "planned",
            "student",
            "students",
        ),
        _any("teachin", "diein"),
    ),
    _seq(_any("teachin", "diein"), _any("at", "on", "outside", "against", "near", "over")),
]
# "Assembly line", "assembly required", a fire drill's "assembly point" are not gatherings.
_NOT_A_GATHERING = _one_of(
    "line", "lines", "plant", "required", "instructions", "kit", "point", "points", "area"
)
_ASSEMBLY_WORD = _any("assembly", "assemblies") + rf"(?! {_NOT_A_GATHERING}{_END}){_END}"
# A picket is a fence's board when a fence or gate is named next to it.
_FENCE = _one_of("fence", "fences", "fencing", "gate", "gates", "post", "posts")
_PICKET = (
    r"(?<!fence )"
    + _any("picket", "pickets", "picketed")
    + rf"(?!(?: [a-z0-9]+){{0,5}} {_FENCE}{_END}){_END}"
)

# Marching somewhere on one's own: "the suspect marched off", "marched up to the door".
_MARCH_AWAY = _one_of(
    *"""off away up him her them me us you back into inside across over straight out""".split()
)
# ... unless a group marched: "we marched off", "people marched away".
_GROUP = _one_of(
    *"""we they people crowd crowds hundreds thousands dozens residents students workers
    supporters members everyone everybody families groups""".split()
)
_MARCH_FORMS = _any("march", "marches", "marched", "marching")
_MARCH = (
    rf"{_START}{_GROUP} {_MARCH_FORMS}{_END}"
    rf"|{_START}{_MARCH_FORMS}{_END}(?! {_MARCH_AWAY}{_END})"
)

# "Strike" as a blow or a collision: "strike him", "strikes the car", "a strike to the head".
_STRUCK = _one_of(
    *"""him her them me us it the a an his their my your our its another someone anyone
    somebody victim victims pedestrian pedestrians car cars vehicle""".split()
)
_BODY = _one_of(*"""the his her their its my your""".split())
_BLOW = rf"(?! to {_BODY}{_END})"
_NOT_WEATHER = "".join(
    f"(?<! {word} )" for word in ("lightning", "air", "bird", "drone", "missile", "first")
)
# A strike named as one: "a strike", "the strike", "their strike" mean stopping work.
_DETERMINER = _one_of(
    *"""a the this that their our his her its another planned called threatened""".split()
)
_STRIKE_FORMS = _any("strike", "strikes")
_STRIKE = (
    rf"{_START}{_DETERMINER} {_STRIKE_FORMS}{_END}{_BLOW}"
    rf"|{_NOT_WEATHER}{_START}{_STRIKE_FORMS}{_END}{_BLOW}(?! {_STRUCK}{_END})"
)

# Demonstrating something: "demonstrated how the lock opens", "demonstrating the product".
_SHOWN = _one_of(
    *"""how that the a an his her their its my your our what why where to this these those
    him it them some""".split()
)
_DEMONSTRATE = (
    rf"{_START}"
    + _any("demonstrate", "demonstrates", "demonstrated", "demonstrating")
    + rf"{_END}(?! {_SHOWN}{_END})"
)

_ASSEMBLY = re.compile(
    "|".join(
        [
            *(f"{_START}{pattern}{_END}" for pattern in _ALWAYS),
            f"{_START}{_ASSEMBLY_WORD}",
            f"{_START}{_PICKET}",
            _gathering_noun(_any("sitin", "walkout")),
            _MARCH,
            _STRIKE,
            _DEMONSTRATE,
        ]
    )
)

# Sentences and clauses are read one by one, so "Walk-out. A side door was forced" is not taken
# for "walk out a side door". A dot between letters ("s.i.t") does not end a clause.
_CLAUSE_END = re.compile(r"[.!?;:,]+(?:\s+|$)|[\n\r\v\f\x85\u2028\u2029]+")
# The same, with line breaks read as spaces: "pro\ntest" is one word broken across a line.
_SENTENCE_END = re.compile(r"[.!?;:,]+(?:\s+|$)")


# Every pattern above holds one of these, whatever splits its letters: most text holds none.
_STEMS = (
    "protest demonstrat rall march picket vigil assembl disobedience boycott occup activis "
    "blockad strik walk sitin teachin diein gather crowd meeting event"
).split()
_NOT_LETTERS = re.compile(r"[\W_]+")


def _clauses(folded: str) -> set[str]:
    return {*_CLAUSE_END.split(folded), *_SENTENCE_END.split(folded)}


def is_about_assembly(text: str) -> bool:
    """Return whether ``text`` is about a protest, strike or other lawful assembly."""
    folded = fold(text)
    squeezed = _NOT_LETTERS.sub("", folded)
    if not any(stem in squeezed for stem in _STEMS):
        return False
    for clause in _clauses(folded):
        padded = f" {' '.join(without_months(words(clause)))} "
        if _ASSEMBLY.search(padded) is not None:
            return True
    return False
