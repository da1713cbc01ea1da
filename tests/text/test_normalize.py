"""Policy text: every spelling of the same words reads the same to the rules."""

import re
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from doorstep.agencies.rules import is_federal_agency
from doorstep.neighbors.rules import describes_person_only_by_race
from doorstep.text.assembly import is_about_assembly
from doorstep.text.normalize import (
    case_key,
    fold,
    is_default_ignorable,
    name_key,
    policy_text,
    skeleton,
    words,
)

PROTEST_SPELLINGS = [
    "protest",
    "PROTEST",
    "pro\u00adtest",  # soft hyphen
    "pro\u200btest",  # zero-width space
    "pro\u200dtest",  # zero-width joiner
    "pro\u2060test",  # word joiner
    "pro\ufe0ftest",  # variation selector
    "pro\u202etest",  # right-to-left override
    "pro\U000e0074test",  # tag character
    "\uff50\uff52\uff4f\uff54\uff45\uff53\uff54",  # full-width
    "\u0440rotest",  # Cyrillic er
    "pr\u043etest",  # Cyrillic o
    "\u03c1r\u03bft\u0435st",  # Greek rho and omicron, Cyrillic ie
    "pr\u00f3test",  # accent
    "pro\u0301test",  # combining accent
    "\U0001d429\U0001d42b\U0001d428\U0001d42d\U0001d41e\U0001d42c\U0001d42d",  # mathematical bold
    "\u24df\u24e1\u24de\u24e3\u24d4\u24e2\u24e3",  # circled letters
]


@pytest.mark.parametrize("spelling", PROTEST_SPELLINGS)
def test_every_spelling_of_a_word_folds_to_it(spelling: str) -> None:
    assert fold(spelling) == "protest"
    assert is_about_assembly(f"Footage of the {spelling} on Main St")


def test_default_ignorables_are_recognised() -> None:
    for char in "\u00ad\u034f\u061c\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u2066\ufeff":
        assert is_default_ignorable(char)
    for char in "a -\u00e9\u0301":
        assert not is_default_ignorable(char)


def test_punctuation_and_spaces_fold_to_one_space() -> None:
    assert policy_text("  Sit-in,\tat\u3000the   LIBRARY!! ") == "sit in at the library"


def test_letters_typed_one_by_one_are_joined() -> None:
    assert words("s.i.t in") == ["sit", "in"]
    assert words("P R O T E S T now") == ["protest", "now"]
    assert words("a b in") == ["a", "b", "in"]


def test_digits_of_every_script_read_as_ascii() -> None:
    assert fold("\u0663 ft") == "3 ft"
    assert fold("\uff17") == "7"


def test_ascii_is_left_alone_by_fold_but_not_by_skeleton() -> None:
    assert fold("m1l0") == "m1l0"
    assert skeleton("m1l0") == skeleton("rnlIO")


CASE_SEVEN = [
    "RT-CASE-7",
    "rt case 7",
    "RT-CASE-\uff17",  # full-width seven
    "RT-C\u0410SE-7",  # Cyrillic capital A
    "\uff32\uff34\uff0d\uff23\uff21\uff33\uff25\uff0d\uff17",  # all full-width
    "RT-CASE-\u00ad7",
    "RT.CASE.007",
    "RTCASE7",
    "rt_case_\u0667",  # Arabic-Indic seven
    "R\u0422-CASE-7",  # Cyrillic capital te
]


@pytest.mark.parametrize("spelling", CASE_SEVEN)
def test_every_spelling_of_a_case_number_has_one_key(spelling: str) -> None:
    assert case_key(spelling) == case_key("RT-CASE-7")


@pytest.mark.parametrize(
    "other", ["RT-CASE-8", "RT-CASE-70", "RT-CASE-17", "RT-CASF-7", "RT-2026-7", "PPB-7"]
)
def test_different_case_numbers_keep_different_keys(other: str) -> None:
    assert case_key(other) != case_key("RT-CASE-7")


def test_look_alike_digits_and_letters_are_one_case() -> None:
    assert case_key("RT-CASE-1") == case_key("RT-CASE-l") == case_key("RT-CASE-I")
    assert case_key("RT-CASE-O7") == case_key("RT-CASE-o7")


def test_a_case_number_of_punctuation_only_has_no_key() -> None:
    assert case_key(" -- . \u00ad") == ""


def test_look_alike_names_share_a_key_and_different_names_do_not() -> None:
    assert name_key("Portland Police Bureau") == name_key("P\u043ertland  Police Bureau.")
    assert name_key("Portland Police Bureau") == name_key("PORTLAND POLICE BUREAU")
    assert name_key("Fire District 9") != name_key("Fire District 90")


ASSEMBLY = [
    "Protest on Main St",
    "Footage of the sit in at city hall",
    "Sit-in at the library",
    "s.i.t in at the library",
    "the student walk out",
    "walk out at the factory gates",
    "Walkout by nurses",
    "Rally at the park",
    "the march on city hall",
    "Picketers outside the store",
    "Union picket line",
    "the picket at the depot",
    "Demonstrators blocked traffic",
    "Candlelight vigil",
    "Workers on strike",
    "General strike downtown",
    "Striking workers at the plant",
    "Strike action at the depot",
    "teach-in on campus",
    "staged a die-in at the plaza",
    "boycott of the store",
    "lawful assembly",
    "Unlawful assembly",
    "gathering of activists",
    "occupation of the library",
    "Peace march through downtown",
    "joined the march",
    "a crowd gathered outside city hall",
    "political meeting at the hall",
    "S\u0406T \u0406N",  # Cyrillic capital i
    "W A L K  O U T",
    # Bare forms of march, strike and demonstrate, refused before the vocabulary changed.
    "march",
    "marches",
    "we marched",
    "people marching",
    "the march downtown",
    "Black Lives Matter march",
    "strike",
    "strikes",
    "demonstrating",
    "the strike at the plant",
    "demonstrating outside city hall",
    "we marched off to city hall",
    "Footage from the march in March",
    "Anyone in March against the cuts",
    # Every dash, and a line break, zero-width space or soft hyphen inside a word.
    "sit\u2014in",  # em dash
    "sit\u2013in",  # en dash
    "sit\u2015in",  # horizontal bar
    "sit\u30a0in",  # Katakana double hyphen
    "pro\ntest",
    "pro\r\ntest",
    "pro\u2028test",  # line separator
    "Walk-out\nA side door was forced",
    "pro\u200btest",
    "pro\u00adtest",
]


@pytest.mark.parametrize("text", ASSEMBLY)
def test_assembly_is_recognised_however_it_is_written(text: str) -> None:
    assert is_about_assembly(text)


# Descriptions of ordinary crimes that share words with assembly: all must pass.
ORDINARY = [
    "Burglary on 3 March, rear window forced",
    "Break-in on March 14th",
    "Car broken into in March 2026",
    "Early March burglary on Oak St",
    "The March burglary on Oak St",
    "The suspect marched off down Elm St",
    "Man marched up to the door and kicked it",
    "Paint thrown over a white picket fence",
    "Picket fence kicked in",
    "Two pickets were pulled off the fence",
    "A car struck a parked van and drove off",
    "He tried to strike the victim with a bottle",
    "Lightning strike set the garage on fire",
    "A strike to the head",
    "Suspect walked out of the store with a TV",
    "Saw him walk out of the shop",
    "Shoplifting: man walked out without paying",
    "Two men sit in a grey car every night",
    "He would sit in his van",
    "The victim could die in hospital",
    "Flat-pack furniture, assembly required, stolen from the porch",
    "Fire drill: meet at the assembly point",
    "Gathering evidence for a burglary",
    "Protestant church vandalised",
    "Occupant of the vehicle fled",
    "Demolition site theft",
    "Vigilant neighbours reported a break-in",
    "Hit and run on Rally Road",
    "Marchetti bakery window smashed",
    "Remonstrated with the driver, then he left",
    "Man in grey hoodie damaged a car",
    "Graffiti sprayed on the school wall",
    "Dog attack in the park",
    "Car stolen from the driveway after the owners walked out to dinner",
    "Parcel stolen in March",
    "Burglaries from March to May on Elm St",
    "Break-in on the 3rd of March",
    "Car broken into at the end of March",
    "Break-in in March on Monday",
    "The suspect marched him out of the shop",
    "Hit-and-run on Elm St",
    "A grey sedan struck a parked car and drove off",
    "He would strike him with a bat",
    "The suspect strikes the car with a bat",
    "He demonstrated how the lock opens",
    "The salesman was demonstrating the product when the bag was taken",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_crimes_are_not_assembly(text: str) -> None:
    assert not is_about_assembly(text)


RACE_ONLY = [
    "Black male seen near the park, footage needed",
    "Black male seen near the park, footage urgently requested",
    "Bl\u0430ck male seen near the park",  # Cyrillic a
    "\uff22\uff2c\uff21\uff23\uff2b \uff2d\uff21\uff2c\uff25 near the park",  # full-width
    "B l a c k male near the park",
    "Black\u00admale near the park",  # soft hyphen, shown as one word
    "Hispanic man at the corner, please send video",
    "African-American woman on our street",
    "Male, black, seen near the park, footage needed",
    "Suspect: male, Hispanic, footage wanted",
    # Race with sex, age, height, build or a generic noun is still race alone.
    "suspect is black",
    "The suspect was described as Hispanic",
    "mixed race man",
    "Mixed-race woman near the shop",
    "black male in his 20s",
    "Black male, about 20",
    "black male, 6ft",
    "tall black male",
    "white male 30s",
    "Hispanic man, 5'10\", near the park",
    "Heavyset white man, 40 years old",
    "Black male walking down Elm St",
]


@pytest.mark.parametrize("text", RACE_ONLY)
def test_race_alone_is_recognised_however_it_is_written(text: str) -> None:
    assert describes_person_only_by_race(text)


DESCRIBED = [
    "Black male, 6 ft, red hoodie, grey backpack, took a parcel from 12 Elm",
    "Black man in red near the park",
    "White woman in her 30s with a limp",
    "Asian man on a blue bike rode off with the package",
    "Black teen kicked the gate and ran toward Elm St",
    "Latino male with a tattoo on his neck",
    "Man, black hoodie, ran off with the parcel",
    "Suspect in a black jacket near the park",
    "Tall black male in a grey hoodie",
    "Black male in his 20s with dreadlocks",
    "White male, 30s, beard, took the parcel",
    "Black man broke the side window",
    "The suspect's car is black",
    "Asian woman walking her dog stopped to chat",
]


@pytest.mark.parametrize("text", DESCRIBED)
def test_race_with_other_description_passes(text: str) -> None:
    assert not describes_person_only_by_race(text)


_INVISIBLE = st.sampled_from(["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u202e"])


def _sprinkle(text: str, invisibles: list[str]) -> str:
    """``text`` with one invisible character after each of its first characters."""
    return "".join(ch + (invisibles[i] if i < len(invisibles) else "") for i, ch in enumerate(text))


@given(st.lists(_INVISIBLE, max_size=12), st.sampled_from(ASSEMBLY))
def test_invisible_characters_never_hide_assembly(invisibles: list[str], text: str) -> None:
    assert is_about_assembly(_sprinkle(text, invisibles))


@given(
    st.lists(_INVISIBLE, max_size=12),
    st.lists(st.sampled_from([" ", "-", ".", "_", "/", "\u3000"]), min_size=1, max_size=3),
    st.booleans(),
    st.booleans(),
)
def test_case_keys_ignore_invisibles_separators_width_and_case(
    invisibles: list[str], separators: list[str], upper: bool, wide: bool
) -> None:
    parts = ["rt", "case", "7"]
    number = "".join(p + separators[i % len(separators)] for i, p in enumerate(parts)).strip()
    number = number.upper() if upper else number
    if wide:
        number = "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in number)
    assert case_key(_sprinkle(number, invisibles)) == case_key("RT-CASE-7")


# Every word the first vocabulary refused, from every alternative of its regex.
_OLD_ASSEMBLY = re.compile(
    r"\b(?:"
    r"protest(?:s|ers?|ors?|ing|ed)?|counter-?protest(?:s|ers?)?|demonstrat(?:ion|ions|ors?|ing|ed)"
    r"|march(?:es|ers?|ing|ed)?|rall(?:y|ies|ying)|picket(?:s|ers?|ing|ed)?(?!\s+fences?\b)"
    r"|vigils?|assembl(?:y|ies)|strikes?|strikers?|striking\s+workers|sit-?ins?|walk-?outs?"
    r"|boycotts?|civil\s+disobedience|occupy"
    r")\b",
    re.IGNORECASE,
)
_OLD_MONTH_MARCH = re.compile(
    r"\bmarch\s+\d{1,4}(?:st|nd|rd|th)?\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?march\b",
    re.IGNORECASE,
)
OLD_VOCABULARY = [
    *(f"protest{end}" for end in ["", "s", "er", "ers", "or", "ors", "ing", "ed"]),
    *(f"counter{dash}protest{end}" for dash in ["", "-"] for end in ["", "s", "er", "ers"]),
    *(f"demonstrat{end}" for end in ["ion", "ions", "or", "ors", "ing", "ed"]),
    *(f"march{end}" for end in ["", "es", "er", "ers", "ing", "ed"]),
    *(f"rall{end}" for end in ["y", "ies", "ying"]),
    *(f"picket{end}" for end in ["", "s", "er", "ers", "ing", "ed"]),
    "vigil",
    "vigils",
    "assembly",
    "assemblies",
    "strike",
    "strikes",
    "striker",
    "strikers",
    "striking workers",
    *(f"sit{dash}in{end}" for dash in ["", "-"] for end in ["", "s"]),
    *(f"walk{dash}out{end}" for dash in ["", "-"] for end in ["", "s"]),
    "boycott",
    "boycotts",
    "civil disobedience",
    "occupy",
]
# How the words were met in requests: on their own and in sentences.
_SETTINGS = ["{}", "Anyone who saw the {} near Main St", "{} outside city hall last night"]


def test_the_list_is_every_word_the_first_vocabulary_refused() -> None:
    assert len(OLD_VOCABULARY) == len(set(OLD_VOCABULARY)) == 58
    for word in OLD_VOCABULARY:
        assert _OLD_ASSEMBLY.fullmatch(word), word


@pytest.mark.parametrize("word", OLD_VOCABULARY)
def test_every_word_the_first_vocabulary_refused_is_still_refused(word: str) -> None:
    for setting in _SETTINGS:
        for form in (word, word.capitalize(), word.upper()):
            text = setting.format(form)
            assert _OLD_ASSEMBLY.search(text), text
            assert is_about_assembly(text), text


@pytest.mark.parametrize(
    "date", ["March 3", "March 3rd", "march 2026", "3 March", "3rd March", "3rd of March"]
)
def test_march_as_a_date_the_first_vocabulary_allowed_is_still_allowed(date: str) -> None:
    text = f"Burglary on {date}, rear window forced"
    assert not _OLD_ASSEMBLY.search(_OLD_MONTH_MARCH.sub(" ", text))
    assert not is_about_assembly(text)


def test_every_dash_and_the_minus_sign_fold_to_a_hyphen() -> None:
    dashes = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) == "Pd"]
    assert len(dashes) >= 25
    for dash in [*dashes, "\u2212"]:
        assert fold(f"sit{dash}in") == "sit-in", hex(ord(dash))
        assert words(f"sit{dash}in") == ["sit", "in"]
        assert is_about_assembly(f"Footage of the sit{dash}in at the library"), hex(ord(dash))


def test_an_ampersand_reads_as_and() -> None:
    assert words("Immigration & Customs Enforcement") == [
        "immigration",
        "and",
        "customs",
        "enforcement",
    ]
    assert words("Immigration \uff06 Customs") == ["immigration", "and", "customs"]
    assert name_key("Fire & Rescue") == name_key("Fire and Rescue")


@pytest.mark.parametrize("joiner", ["\n", "\r\n", "\u2028", "\u00ad", "\u200b", "\u200d", " "])
def test_a_word_broken_across_a_line_or_by_an_invisible_is_read_whole(joiner: str) -> None:
    assert is_about_assembly(f"Footage of the pro{joiner}test on Main St")
    assert is_about_assembly(f"Footage of the demon{joiner}strators on Main St")


@pytest.mark.parametrize(
    "name",
    [
        "Immigration & Customs Enforcement",
        "Immigration \uff06 Customs Enforcement",  # full-width ampersand
        "U.S. Customs & Border Protection",
        "Immigration\u2014and\u2014Customs Enforcement",  # em dashes
        "Homeland\nSecurity Investigations",
    ],
)
def test_an_ampersand_or_a_dash_hides_no_federal_agency(name: str) -> None:
    assert is_federal_agency(name)
