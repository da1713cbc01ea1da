import pytest

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.neighbors.rules import (
    MAX_POST_LENGTH,
    PostCategory,
    check_post,
    describes_person_only_by_race,
)

RACE_ONLY = [
    "Suspicious black man in the neighborhood",
    "Hispanic male near the park",
    "Dark-skinned man around 3pm",
    "Watch out, two Asians",
    "Just wanted to report a black guy",
    "Black teen looking suspicious",
    "Young white male lurking",
    "There is an African American woman on our street",
    "Saw a Middle Eastern guy near the school",
    "Latino",
    "A group of Somalis",
    "BLACK MAN",
    # Sex, age, height or build with race is still race alone.
    "suspect is black",
    "mixed race man",
    "black male in his 20s",
    "Black male, about 20",
    "black male, 6ft",
    "tall black male",
    "white male 30s",
]

NOT_RACE_ONLY = [
    "a white van parked outside for an hour",
    "Man in a black jacket tried the door",
    "Black man in a red hoodie",
    "Young white guy took a package from my porch",
    "Great Chinese takeaway on Main St",
    "Indian food truck on the corner tonight",
    "Chinese and Thai restaurants on Main St",
    "Our white picket fence was spray painted",
    "Lost black cat, answers to Tom",
    "Black and white dog found near the school",
    "Asian woman walking her dog stopped to chat",
    "Hispanic man, about 6 ft, grey beanie, rode off on a bike",
    "White male broke my car window and ran toward Elm St",
    "Brown box left on the step",
    "Someone in black tried every car door on the block",
    "Tall black male with a shaved head and a neck tattoo",
    "Black male in his 20s, grey hoodie, took a parcel",
]


@pytest.mark.parametrize("text", RACE_ONLY)
def test_race_only_descriptions_are_recognised(text: str) -> None:
    assert describes_person_only_by_race(text)


@pytest.mark.parametrize("text", NOT_RACE_ONLY)
def test_colours_objects_and_full_descriptions_are_not_race_only(text: str) -> None:
    assert not describes_person_only_by_race(text)


@pytest.mark.parametrize("category", list(PostCategory))
def test_every_category_accepts_a_good_post(category: PostCategory) -> None:
    post = check_post("  Package taken from my porch at 2pm by a man in a red hoodie  ", category)
    assert post.text == "Package taken from my porch at 2pm by a man in a red hoodie"
    assert post.category is category


def test_category_may_be_given_as_text() -> None:
    assert check_post("Lost tabby cat", "lost_pet").category is PostCategory.LOST_PET


@pytest.mark.parametrize("category", ["gossip", "", "Crime"])
def test_unknown_categories_are_refused(category: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_post("Lost tabby cat", category)
    assert caught.value.field == "category"


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_posts_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        check_post(text, PostCategory.SAFETY)
    assert caught.value.field == "text"


def test_post_length_limit_is_exactly_two_thousand() -> None:
    assert len(check_post("x" * MAX_POST_LENGTH, PostCategory.SAFETY).text) == 2000
    with pytest.raises(InvalidInput) as caught:
        check_post("x" * (MAX_POST_LENGTH + 1), PostCategory.SAFETY)
    assert not isinstance(caught.value, PolicyRefused)


def test_race_only_post_is_refused_with_an_invitation_to_edit() -> None:
    with pytest.raises(PolicyRefused) as caught:
        check_post("Suspicious black man in the neighborhood", PostCategory.SUSPICIOUS_ACTIVITY)
    assert caught.value.extra["reason"] == "race_only"
    assert "post again" in caught.value.detail
    assert caught.value.problem()["reason"] == "race_only"
