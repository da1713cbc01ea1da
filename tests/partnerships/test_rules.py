import pytest

from doorstep.errors import InvalidInput, PolicyRefused
from doorstep.partnerships.rules import (
    Condition,
    PartnershipTerms,
    ProgrammeKind,
    check_partnership,
    conditions_in_text,
)

FAIR_TEXT = (
    "The city donates 200 doorbells to residents of Ward 4. One per household. "
    "Recipients are never required to share footage, and joining any request programme "
    "is optional. "
    "No subscription is needed."
)


def terms(text: str = FAIR_TEXT, *conditions: Condition) -> PartnershipTerms:
    return PartnershipTerms(
        partner_id="city-1",
        name="Ward 4 doorbells",
        kind=ProgrammeKind.DONATED_DEVICES,
        terms_text=text,
        conditions=frozenset(conditions),
    )


@pytest.mark.parametrize(
    "conditions",
    [(), (Condition.RESIDENT_OF_AREA,), (Condition.INCOME_QUALIFIED, Condition.ONE_PER_HOUSEHOLD)],
)
def test_fair_programmes_are_accepted(conditions: tuple[Condition, ...]) -> None:
    assert check_partnership(terms(FAIR_TEXT, *conditions)).name == "Ward 4 doorbells"


@pytest.mark.parametrize(
    "condition",
    [Condition.SHARE_FOOTAGE, Condition.JOIN_REQUEST_PROGRAMME, Condition.PAID_PLAN],
)
def test_forbidden_structured_conditions_are_refused(condition: Condition) -> None:
    with pytest.raises(PolicyRefused) as caught:
        check_partnership(terms(FAIR_TEXT, condition))
    assert caught.value.extra["reason"] == "conditional_benefit"
    assert caught.value.extra["conditions"] == [condition.value]


@pytest.mark.parametrize(
    ("text", "condition"),
    [
        ("Recipients must share footage with the police when asked.", Condition.SHARE_FOOTAGE),
        (
            "You will not receive a device unless you upload video of incidents.",
            Condition.SHARE_FOOTAGE,
        ),
        (
            "In exchange for the discount, owners provide access to their recordings.",
            Condition.SHARE_FOOTAGE,
        ),
        (
            "Participants are required to join the police request programme.",
            Condition.JOIN_REQUEST_PROGRAMME,
        ),
        (
            "Eligible only if you register your camera with the camera map.",
            Condition.JOIN_REQUEST_PROGRAMME,
        ),
        ("The code is valid only for customers with a paid plan.", Condition.PAID_PLAN),
        ("Credits require a 12-month subscription.", Condition.PAID_PLAN),
    ],
)
def test_conditions_written_into_the_text_are_found(text: str, condition: Condition) -> None:
    assert conditions_in_text(text) == {condition}
    with pytest.raises(PolicyRefused):
        check_partnership(terms(text))


@pytest.mark.parametrize(
    "text",
    [
        FAIR_TEXT,
        "Owners may share footage if they wish.",
        "Sharing footage is not a condition of receiving a device.",
        "There is no obligation to subscribe to a paid plan.",
        "You are free to decline every request.",
        "Devices go to households in the ward; eligibility depends on residence only.",
    ],
)
def test_permissive_or_unrelated_text_is_not_a_condition(text: str) -> None:
    assert conditions_in_text(text) == set()


def test_several_conditions_are_all_named() -> None:
    text = "Recipients must share footage. Recipients must also keep a premium subscription."
    with pytest.raises(PolicyRefused) as caught:
        check_partnership(terms(text, Condition.JOIN_REQUEST_PROGRAMME))
    assert caught.value.extra["conditions"] == [
        "share_footage",
        "join_request_programme",
        "paid_plan",
    ]
    assert "sharing footage" in caught.value.detail


def test_terms_must_be_published() -> None:
    with pytest.raises(InvalidInput):
        check_partnership(terms("   "))
