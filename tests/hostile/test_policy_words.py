"""An agency (or a neighbour) spelling its way around the policy words: every spelling is refused.

Invariant I10: requests about protests or lawful assembly, and descriptions of people by race
alone, are refused, and a case has at most two requests. Soft hyphens, full-width and Cyrillic
letters, split words and a case number typed four ways must change none of it.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from doorstep.accounts.roles import Role
from doorstep.geo.cells import Coordinates, public_cell
from tests.agencies.test_api import JURISDICTION, verified_agency
from tests.factories import resident
from tests.neighbors.test_api import ADA_HOME, _staff
from tests.requests.test_api import post_rfa

ASSEMBLY_EVASIONS = [
    "Footage of the pro\u00adtest on Main St",  # soft hyphen
    "Footage of the \uff50\uff52\uff4f\uff54\uff45\uff53\uff54 on Main St",  # full-width
    "Footage of the \u0440r\u043etest on Main St",  # Cyrillic er and o
    "Footage of the pro\u200btest on Main St",  # zero-width space
    "Footage of the sit in at city hall",
    "Anyone who filmed the student walk out this morning",
    "Rally at the park",
    "People who march on city hall",
    "Picketers outside the depot",
    "Demonstrators blocked the road",
    "Candlelight vigil on Elm St",
    "Workers on strike at the plant",
    "The p.r.o.t.e.s.t outside the library",
    "Gathering of activists by the fountain",
    "S\u0406T-\u0406N at the library",  # Cyrillic capital i
    # The word forms a narrower vocabulary once let through.
    "march",
    "marches",
    "we marched",
    "people marching",
    "the march downtown",
    "Black Lives Matter march",
    "strike",
    "strikes",
    "demonstrating",
    "Footage of the sit\u2014in at city hall",  # em dash
    "Footage of the sit\u2013in at city hall",  # en dash
    "Footage of the pro\ntest on Main St",  # a line break inside the word
    "Footage of the pro\u200b\ntest on Main St",
]


@pytest.mark.parametrize("description", ASSEMBLY_EVASIONS)
def test_requests_about_assembly_are_refused_however_they_are_spelt(
    app: FastAPI, client: TestClient, description: str
) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    response = post_rfa(agency, csrf, description=description)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "protest"
    assert client.get("/api/v1/requests").json() == []


# Every word the first vocabulary refused (each alternative of its regex): none may pass again.
OLD_VOCABULARY = [
    *(f"protest{end}" for end in ["", "s", "er", "ers", "or", "ors", "ing", "ed"]),
    *(f"counter{dash}protest{end}" for dash in ["", "-"] for end in ["", "s", "er", "ers"]),
    *(f"demonstrat{end}" for end in ["ion", "ions", "or", "ors", "ing", "ed"]),
    *(f"march{end}" for end in ["", "es", "er", "ers", "ing", "ed"]),
    *(f"rall{end}" for end in ["y", "ies", "ying"]),
    *(f"picket{end}" for end in ["", "s", "er", "ers", "ing", "ed"]),
    *"vigil vigils assembly assemblies strike strikes striker strikers boycott boycotts".split(),
    "striking workers",
    *(f"sit{dash}in{end}" for dash in ["", "-"] for end in ["", "s"]),
    *(f"walk{dash}out{end}" for dash in ["", "-"] for end in ["", "s"]),
    "civil disobedience",
    "occupy",
]


def test_no_word_the_first_vocabulary_refused_gets_through(
    app: FastAPI, client: TestClient
) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    passed = []
    for word in OLD_VOCABULARY:
        for description in (word, f"Anyone who saw the {word} near Main St"):
            response = post_rfa(agency, csrf, description=description)
            if response.status_code != 422 or response.json()["reason"] != "protest":
                passed.append((description, response.status_code))
    assert passed == []
    assert client.get("/api/v1/requests").json() == []


def test_assembly_in_the_incident_type_is_refused_too(app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    response = post_rfa(agency, csrf, incident_type="W\u0430lk-\u043eut")
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "protest"


RACE_ONLY_EVASIONS = [
    "Black male seen near the park, footage needed",
    "Bl\u0430ck male seen near the park, footage needed",  # Cyrillic a
    "\uff22\uff4c\uff41\uff43\uff4b male seen near the park, footage needed",  # full-width
    "Black\u00admale seen near the park, footage needed",  # soft hyphen, shown as one word
    # Race with sex, age, height, build or a generic noun: still race alone.
    "suspect is black",
    "mixed race man",
    "black male in his 20s",
    "Black male, about 20",
    "black male, 6ft",
    "tall black male",
    "white male 30s",
]


@pytest.mark.parametrize("description", RACE_ONLY_EVASIONS)
def test_a_person_described_only_by_race_is_refused(
    app: FastAPI, client: TestClient, description: str
) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    response = post_rfa(agency, csrf, description=description)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "race_only"
    assert client.get("/api/v1/requests").json() == []


def test_a_person_described_by_more_than_race_is_accepted(app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    description = "Black male, 6 ft, red hoodie, grey backpack, took a parcel from 12 Elm"
    response = post_rfa(agency, csrf, description=description)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "description",
    [
        "The suspect marched off down Elm St after the break-in on March 3",
        "Paint thrown over a white picket fence",
        "A grey sedan struck a parked car and drove off",
        "A man in a green jacket walked out of the shop with a till drawer",
        "Hit-and-run on Elm St: a grey sedan struck a cyclist",
        "Parcel stolen in March from 12 Elm St",
        "He tried to strike him with a bottle",
        "Tall black male in a grey hoodie took a parcel",
    ],
)
def test_ordinary_crimes_that_share_words_with_assembly_are_accepted(
    app: FastAPI, description: str
) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    response = post_rfa(agency, csrf, description=description)
    assert response.status_code == 201, response.text


def test_four_spellings_of_one_case_number_are_one_case(app: FastAPI, client: TestClient) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    spellings = ["RT-CASE-7", "rt case 7", "RT-CASE-\uff17", "RT-C\u0410SE-7"]
    responses = [post_rfa(agency, csrf, case_number=number) for number in spellings]
    assert [r.status_code for r in responses] == [201, 201, 422, 422]
    assert [r.json()["reason"] for r in responses[2:]] == ["case_limit", "case_limit"]
    assert len(client.get("/api/v1/requests").json()) == 2


def test_a_case_number_of_invisible_characters_is_no_case_number(app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    response = post_rfa(agency, csrf, case_number="\u00ad\u200b-")
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "case_number_missing"


def _send(client: TestClient, csrf: str, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json=body, headers={"x-csrf-token": csrf})


def test_feed_posts_comments_and_tips_refuse_race_only_however_spelt(
    client: TestClient,
) -> None:
    csrf = resident(client, home=ADA_HOME)
    text = "Suspicious Bl\u0430ck m\u0430n in the neighbourhood"
    post = _send(client, csrf, "/api/v1/posts", {"text": text, "category": "suspicious_activity"})
    assert post.status_code == 422, post.text
    assert post.json()["reason"] == "race_only"
    good = _send(client, csrf, "/api/v1/posts", {"text": "Parcel taken", "category": "crime"})
    assert good.status_code == 201, good.text
    comment = _send(client, csrf, f"/api/v1/posts/{good.json()['id']}/comments", {"text": text})
    assert comment.status_code == 422, comment.text
    tip = _send(client, csrf, "/api/v1/tips", {"agency_id": "ppb", "text": text})
    assert tip.status_code == 422, tip.text


def test_alerts_about_assembly_are_refused_however_spelt(app: FastAPI) -> None:
    officer, csrf = _staff(app, "fire@example.org", Role.AGENCY_ADMIN, "Portland Fire")
    cells = [public_cell(Coordinates(**ADA_HOME), 8)]
    text = "Road closed for the \uff52\uff41\uff4c\uff4c\uff59 on Burnside"
    response = _send(officer, csrf, "/api/v1/alerts", {"text": text, "cells": cells})
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "protest"


def _apply(client: TestClient, csrf: str, name: str) -> Any:
    body = {
        "name": name,
        "kind": "law_enforcement",
        "jurisdiction": JURISDICTION,
        "contact": "records@agency.example",
    }
    return _send(client, csrf, "/api/v1/agencies", body)


@pytest.mark.parametrize(
    "name",
    [
        "F.B.I. Portland Field Office",
        "\uff26\uff45\uff44\uff45\uff52\uff41\uff4c Bureau of Investigation",  # full-width
        "Immigration and Customs Enforcement",
        "I\u00adCE Portland",  # soft hyphen
        "U.S. Marshals Service",
        "Immigration & Customs Enforcement",
        "Immigration \u2014 Customs \uff06 Border Protection",  # em dash, full-width ampersand
    ],
)
def test_federal_agencies_cannot_apply_however_they_spell_it(client: TestClient, name: str) -> None:
    csrf = resident(client, "agent@agency.example")
    response = _apply(client, csrf, name)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "federal_agency"


def test_an_agency_cannot_take_a_name_that_looks_like_another(app: FastAPI) -> None:
    verified_agency(app)
    impostor = TestClient(app)
    csrf = resident(impostor, "impostor@example.org")
    response = _apply(impostor, csrf, "Portland P\u043elice  Bureau")  # Cyrillic o
    assert response.status_code == 409, response.text


def test_partnership_terms_cannot_hide_a_footage_condition(app: FastAPI) -> None:
    agency, csrf, _agency_id = verified_agency(app)
    terms = "Residents must agree to sh\u00adare f\u043eotage with police to get a doorbell."
    body = {"name": "Doorbells", "kind": "donated_devices", "terms_text": terms}
    response = _send(agency, csrf, "/api/v1/partnerships", body)
    assert response.status_code == 422, response.text
    assert response.json()["reason"] == "conditional_benefit"
