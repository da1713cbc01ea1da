"""The README's configuration table names every setting Doorstep reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from doorstep.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented(name: str) -> None:
    assert f"`DOORSTEP_{name.upper()}`" in README
