"""Pages lead a stranger to the bystander form and the request policy, residents to lost pets."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import resident


def test_a_signed_out_visitor_finds_the_bystander_form_and_the_policy(client: TestClient) -> None:
    page = client.get("/login").text
    assert 'href="/bystanders"' in page
    assert 'href="/request-policy"' in page
    assert 'href="/pets"' not in page
    assert client.get("/bystanders").status_code == 200
    assert client.get("/request-policy").status_code == 200


def test_a_resident_finds_lost_pets_in_the_menu(client: TestClient) -> None:
    resident(client)
    page = client.get("/cameras").text
    assert '<a href="/pets">Lost pets</a>' in page
    assert client.get("/pets").status_code == 200
