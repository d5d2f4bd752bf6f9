"""Callbacks and queue caps in the app (issue 29): the scenario editor's table, the Simulate page's table and the
Trainer's callback lesson."""

import ast
import copy
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from ccplan.scenario import ScenarioError, from_dict, load, presets, to_dict

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "app.py")


def page_helpers(page: str) -> dict:
    """A page's imports, constants and functions, without running the page (AppTest cannot type into a
    data_editor, so its edit handling is tested as the functions the editor's on_change calls)."""
    tree = ast.parse((ROOT / page).read_text())
    keep = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef))
            or (isinstance(n, ast.Assign) and all(isinstance(t, ast.Name) and t.id.isupper() for t in n.targets))]
    ns: dict = {}
    exec(compile(ast.Module(body=keep, type_ignores=[]), page, "exec"), ns)  # noqa: S102
    return ns


@pytest.fixture(scope="module")
def editor():
    return page_helpers("app_pages/scenario.py")


def start(preset: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180).run()
    if preset:
        at.selectbox(key="preset").select(preset).run()
    return at


def put_base(at: AppTest, edited: dict) -> None:
    """The edited dict into the session, validated as common.commit does, then rerun."""
    at.session_state["base"] = edited
    try:
        sc = from_dict(copy.deepcopy(edited))
    except ScenarioError as exc:
        at.session_state["problems"] = exc.problems
    else:
        at.session_state["problems"] = []
        at.session_state["scenario"] = sc
    at.run()


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error).replace("\\", "")


def test_callback_rows_show_the_preset_and_defaults(editor):
    base = to_dict(load(presets()["callbacks"]))
    rows = {r["name"]: r for r in editor["_callback_rows"](base)}
    assert rows["basic"]["offer"] and rows["basic"]["offer_after_s"] == 60 and rows["basic"]["attempts"] == 3
    assert rows["basic"]["accept_probability"] == 0.5 and rows["basic"]["mode"] == "waited"
    assert not rows["premium"]["offer"] and rows["premium"]["max_queue_s"] is None
    assert rows["premium"]["max_queue_outcome"] == "abandon"
    cols = editor["_cb_cols"](["premium", "basic"])
    assert "overflow:basic" in cols["max_queue_outcome"]["type_config"]["options"]


def test_callback_editor_round_trip_through_the_app(editor):
    at = start()  # retail_bank: no callbacks, no caps
    base = at.session_state["base"]
    names = [s["name"] for s in base["segments"]]
    basic = names.index("basic")
    edited, notes = editor["_callback_edits"](base, {
        basic: {"offer": True, "offer_after_s": 45.0, "accept_probability": 0.4, "attempts": 2.0,
                "mode": "expected_wait", "max_queue_s": 600.0, "max_queue_outcome": "callback"},
        0: {"max_queue_s": 300.0, "max_queue_outcome": f"overflow:{names[1]}"}})
    assert not notes
    put_base(at, edited)
    assert not at.exception and not at.error
    sc = at.session_state["scenario"]
    seg = {s.name: s for s in sc.segments}
    cb = seg["basic"].callback
    assert cb is not None and cb.offer_after_s == 45 and cb.accept_probability == 0.4 and cb.attempts == 2
    assert cb.mode == "expected_wait" and cb.window_s == 3600  # an untouched cell keeps the shown default
    assert seg["basic"].max_queue_s == 600 and seg["basic"].max_queue_outcome == "callback"
    assert seg[names[0]].max_queue_s == 300 and seg[names[0]].max_queue_outcome == f"overflow:{names[1]}"
    assert isinstance(edited["segments"][basic]["callback"]["attempts"], int)
    # the table shows what was stored
    rows = {r["name"]: r for r in editor["_callback_rows"](at.session_state["base"])}
    assert rows["basic"]["offer"] and rows["basic"]["offer_after_s"] == 45.0
    # and the TOML download carries it
    assert "[segments.callback]" in at.text_area(key="toml_text").value

    # a bad cell: the usual message naming the field, no exception, the last valid scenario kept
    bad, _ = editor["_callback_edits"](at.session_state["base"], {basic: {"accept_probability": 1.5}})
    put_base(at, bad)
    assert not at.exception
    assert "callback.accept_probability" in errors(at) and "basic" in errors(at)
    assert at.session_state["scenario"].segments[basic].callback.accept_probability == 0.4

    # an emptied cell is not stored as 0: the key goes (the default applies) and the note says so
    emptied, notes = editor["_callback_edits"](bad, {basic: {"accept_probability": None, "offer_after_s": float("nan")}})
    cbd = emptied["segments"][basic]["callback"]
    assert "accept_probability" not in cbd and "offer_after_s" not in cbd
    assert any("accept_probability emptied" in n for n in notes) and any("offer_after_s emptied" in n for n in notes)
    put_base(at, emptied)
    assert not at.exception and not at.error
    assert at.session_state["scenario"].segments[basic].callback.accept_probability == 1.0

    # 'callback' at the cap without callbacks is named; unticking removes the table
    off, notes = editor["_callback_edits"](emptied, {basic: {"offer": False}})
    assert "callback" not in off["segments"][basic] and any("no longer offered" in n for n in notes)
    put_base(at, off)
    assert not at.exception and "max_queue_outcome" in errors(at)
    # a callback setting on a segment that offers none is not stored silently
    _, notes = editor["_callback_edits"](off, {0: {"window_s": 99.0}})
    assert any("tick 'offer callbacks'" in n for n in notes)


def test_the_scenario_page_has_the_callbacks_expander():
    at = start("callbacks")
    assert not at.exception and not at.error
    assert any(e.label == "Callbacks and queue caps" for e in at.expander)


def test_simulate_page_shows_the_callback_table_on_the_callbacks_preset():
    at = start("callbacks")
    at.switch_page("app_pages/simulate.py").run()
    at.number_input(key="sim_reps").set_value(2).run()
    at.button(key="sim_run").click().run()
    assert not at.exception
    assert any(h.value == "Callbacks and queue caps" for h in at.subheader)
    table = next(d.value for d in at.dataframe if "callback SL" in d.value.columns)
    assert list(table["segment"]) == ["premium", "standard", "basic"]
    for col in ("offered", "accepted", "made", "within window", "late", "expired", "time to resolution (s)",
                "capped: abandoned", "capped: overflowed", "capped: callback"):
        assert col in table.columns
    basic = table.set_index("segment").loc["basic"]
    assert float(basic["accepted"].split()[0].replace(",", "")) > 0 and "%" in basic["callback SL"]


def test_simulate_page_has_no_callback_table_without_callbacks():
    at = start("trainer")
    at.switch_page("app_pages/simulate.py").run()
    at.number_input(key="sim_reps").set_value(2).run()
    at.button(key="sim_run").click().run()
    assert not at.exception
    assert not any(h.value == "Callbacks and queue caps" for h in at.subheader)


def test_trainer_callback_lesson_renders_and_gold_waits_less():
    at = start()
    at.switch_page("app_pages/trainer.py").run()
    at.radio(key="tr_lesson").set_value("callbacks").run()
    assert not at.exception and not at.error
    cmp = next(v for v in at.session_state["_results"]["trainer"].values() if v.variants[0][0] == "no callbacks")
    assert [name for name, _, _ in cmp.variants] == ["no callbacks", "callbacks for silver"]
    wait = {name: res.summary["segments"].set_index("segment")["mean_wait_s"] for name, res, _ in cmp.variants}
    assert wait["callbacks for silver"]["gold"] < wait["no callbacks"]["gold"]
    cb = cmp.variants[1][1].summary["segments"].set_index("segment")
    assert cb.loc["silver", "callbacks_accepted"] > 0 and cb.loc["gold", "callbacks_offered"] == 0
    def silver_resolution(res) -> float:  # arrival to the end of the answered call or of the call back
        log = res.call_log
        end = log["callback_end_s"].where(log["callback_end_s"].notna(), log["end_s"].where(log["answered"]))
        return float((end - log["arrival_s"])[log["segment"].astype(str) == "silver"].mean())

    assert silver_resolution(cmp.variants[1][1]) > silver_resolution(cmp.variants[0][1])
    story = " ".join(m.value for m in at.markdown)
    assert "Gold callers wait" in story and "time to resolution" in story
