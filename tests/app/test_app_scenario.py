"""The Scenario page, as AppTest sees it."""

import pytest
from streamlit.testing.v1 import AppTest

from ccplan.scenario import presets

APP = str(__import__("pathlib").Path(__file__).resolve().parents[2] / "app.py")


def run_app() -> AppTest:
    return AppTest.from_file(APP, default_timeout=60).run()


@pytest.mark.parametrize("name", sorted(presets()))
def test_scenario_page_renders_every_preset(name):
    at = run_app()
    at.selectbox(key="preset").select(name).run()
    assert not at.exception
    assert any("is valid" in s.value for s in at.success)
    assert len(at.dataframe) >= 2  # segments and groups
