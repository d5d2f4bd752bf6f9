"""State shared by the app's pages: the scenario being edited, caches, formatting helpers.

``st.session_state`` holds:
- ``base``: the scenario as a plain dict, exactly as the user has edited it (may be invalid);
- ``scenario``: the last valid :class:`Scenario` (what the engines run);
- ``problems``: the validation problems of ``base`` (empty when valid);
- ``source``: where it came from (preset or file name); ``version``: bumped when ``base`` is replaced.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any, Callable

import pandas as pd
import streamlit as st

from ccplan.scenario import Scenario, ScenarioError, dumps, from_dict, load, loads, presets, to_dict

DEFAULT_PRESET = "retail_bank"


def _validate(data: dict) -> None:
    try:
        sc = from_dict(copy.deepcopy(data))
    except ScenarioError as exc:
        st.session_state["problems"] = exc.problems
        return
    st.session_state["problems"] = []
    st.session_state["scenario"] = sc


def set_base(data: dict, source: str, saved: bool = False) -> None:
    """Replace the scenario being edited (a preset, an upload, an import) and validate it. ``saved``: the data is
    a file's as it stands (a preset, an upload), so there are no unsaved edits yet."""
    st.session_state["base"] = copy.deepcopy(data)
    st.session_state["source"] = source
    st.session_state["version"] = st.session_state.get("version", 0) + 1
    if saved:
        st.session_state["saved"] = copy.deepcopy(data)
    for stale in ("toml_error", "volume_error"):
        st.session_state.pop(stale, None)
    _validate(data)


def has_unsaved_edits() -> bool:
    """True when the scenario being edited differs from the preset or file it came from, or from its last download."""
    return st.session_state.get("base") != st.session_state.get("saved")


def mark_saved() -> None:
    """The scenario as it stands has been downloaded: switching away no longer loses anything."""
    st.session_state["saved"] = copy.deepcopy(st.session_state.get("base"))


def commit(data: dict) -> None:
    """Store the user's edited dict (valid or not) and validate it; the last valid scenario stays runnable.
    Errors of earlier TOML or import attempts are dropped: they no longer describe what is on the page."""
    st.session_state["base"] = data
    for stale in ("toml_error", "volume_error"):
        st.session_state.pop(stale, None)
    _validate(data)


def init_state() -> None:
    if "base" not in st.session_state:
        sc = load(presets()[DEFAULT_PRESET])
        st.session_state["scenario"] = sc
        set_base(to_dict(sc), f"{DEFAULT_PRESET}.toml", saved=True)
        st.session_state["preset_current"] = DEFAULT_PRESET


def _on_preset() -> None:
    """Switch preset; with unsaved edits, ask first (the selector goes back until the user says)."""
    name = st.session_state["preset"]
    if has_unsaved_edits():
        st.session_state["preset_offer"] = name
        st.session_state["preset"] = st.session_state.get("preset_current", DEFAULT_PRESET)
        return
    _switch_preset(name)


def _switch_preset(name: str) -> None:
    st.session_state.pop("preset_offer", None)
    st.session_state["preset"] = name
    st.session_state["preset_current"] = name
    set_base(to_dict(load(presets()[name])), f"{name}.toml", saved=True)


def _keep_edits() -> None:
    st.session_state.pop("preset_offer", None)


def _on_upload() -> None:
    f = st.session_state.get("upload")
    if f is None:
        return
    try:
        sc = loads(f.getvalue().decode("utf-8", errors="replace"), f.name)
    except ScenarioError as exc:
        st.session_state["upload_error"] = exc
        return
    st.session_state.pop("upload_error", None)
    set_base(to_dict(sc), f.name, saved=True)


def sidebar() -> None:
    """Scenario chooser shown on every page."""
    init_state()
    names = list(presets())
    with st.sidebar:
        st.markdown("### Scenario")
        st.selectbox("Preset", names, index=names.index(DEFAULT_PRESET), key="preset", on_change=_on_preset,
                     help="Built-in scenarios from the scenarios/ folder.")
        offer = st.session_state.get("preset_offer")
        if offer:
            st.warning(f"**{esc(st.session_state['scenario'].name)}** has edits that are not downloaded. Switch to "
                       f"{esc(offer)} and lose them?", icon=":material/warning:")
            b = st.columns(2)
            b[0].button("Switch", key="preset_switch", on_click=_switch_preset, args=(offer,), width="stretch")
            b[1].button("Keep editing", key="preset_keep", on_click=_keep_edits, type="primary", width="stretch")
        st.file_uploader("…or upload a scenario (TOML)", type=["toml"], key="upload", on_change=_on_upload)
        err = st.session_state.get("upload_error")
        if err is not None:
            st.error(f"The uploaded file was not loaded; the current scenario is unchanged.\n\n{esc(err)}")
        sc: Scenario = st.session_state["scenario"]
        st.caption(f"Working on **{esc(sc.name)}** ({esc(st.session_state['source'])})")
        if st.session_state["problems"]:
            st.warning(f"Your edits have {len(st.session_state['problems'])} problem(s); the engines use the last "
                       "valid version until they are fixed (see the Scenario page).")


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#!|$<>~])")  # what starts Markdown, links, images, LaTeX or colour


def esc(text: Any) -> str:
    """User text (names, echoed values, messages quoting them) made safe for Streamlit's Markdown: every
    Markdown or LaTeX character is escaped, control characters dropped, so a name like
    ``![](http://host/px.png)`` shows as itself instead of making viewers' browsers fetch a URL."""
    clean = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", str(text))
    return _MD_SPECIAL.sub(r"\\\1", clean)


def scenario() -> Scenario:
    """The last valid scenario."""
    init_state()
    return st.session_state["scenario"]


def scenario_key(sc: Scenario, *extra: Any) -> str:
    """A stable key for caching results of a scenario and settings."""
    h = hashlib.sha1(dumps(sc).encode())
    for e in extra:
        h.update(repr(e).encode())
    return h.hexdigest()


def cached(kind: str, key: str, compute: Callable[[], Any]) -> Any:
    """Keep the last few results of ``kind`` in the session, so changing a chart option never re-runs them."""
    cache: dict = st.session_state.setdefault("_results", {})
    store: dict = cache.setdefault(kind, {})
    if key not in store:
        if len(store) >= 4:
            store.pop(next(iter(store)))
        store[key] = compute()
    return store[key]


def result(kind: str, key: str) -> Any:
    """A result stored by :func:`cached`."""
    return st.session_state["_results"][kind][key]


def has_result(kind: str, key: str) -> bool:
    return key in st.session_state.get("_results", {}).get(kind, {})


def progress_callback(label: str) -> Callable[[int, int], None]:
    bar = st.progress(0.0, text=label)

    def update(done: int, total: int) -> None:
        bar.progress(done / total, text=f"{label}: {done}/{total} replications")

    return update


def fmt_ci(mean: float, lo: float, hi: float, fmt: str) -> str:
    """mean ± half-width (:func:`ccplan.report.mean_ci`)."""
    from ccplan.report import mean_ci

    return mean_ci(mean, lo, hi, fmt)


def parse_factors(text: Any) -> dict | str | None:
    """'a=1.25, b=0.9' -> {'a': 1.25, 'b': 0.9}; text that is not of that form is kept as typed, so that
    validation names the field and the user's input is not lost."""
    if text is None or not str(text).strip():
        return None
    out = {}
    for part in str(text).split(","):
        name, eq, value = part.partition("=")
        try:
            out[name.strip()] = float(value.replace(" ", "")) if eq and name.strip() else float("x")
        except ValueError:
            return str(text)
    return out


APP_CONFIRM_CALLS = 10_000_000  # policy: about 30 s on 2 cores; above it the app asks first


def confirm_work(scenarios: list, replications: int, key: str) -> bool:
    """Say how large a simulation job is before it starts: refuse what cannot fit in memory, and ask for a
    tick above :data:`APP_CONFIRM_CALLS` calls. True when the job may run."""
    from ccplan.workload import WorkloadError, check, estimate

    work = estimate(list(scenarios), int(replications))
    try:
        check(work, yes=True)
    except WorkloadError as exc:
        st.error(esc(str(exc).replace("--yes", "the confirmation")), icon=":material/block:")
        return False
    if work.total_calls <= APP_CONFIRM_CALLS:
        return True
    st.warning(f"A large job: {work.describe()}.", icon=":material/hourglass:")
    return st.checkbox("Yes, run it", key=f"confirm_{key}")


def table(df: pd.DataFrame, currency: str = "", hide: tuple[str, ...] = ("group_index",), **kwargs: Any) -> None:
    """A data table as people read it: every known column labelled and formatted once (:data:`ccplan.report.COLUMNS`),
    rates as percentages, money rounded, no internal names, no raw floats; infinite values (an ASA with no call
    answered) shown blank, and said under the table."""
    import numpy as np

    from ccplan.report import COLUMNS, column_label

    df = df.drop(columns=[c for c in hide if c in df.columns])
    fmt = {"percent": "percent", "seconds": "%.1f", "money": "%.0f", "money2": "%.2f", "count": "%d",
           "number": "%.1f", "hours": "%.1f"}
    config: dict[str, Any] = {}
    infinite = []
    for c in df.columns:
        kind = COLUMNS.get(c, ("", "number"))[1]
        label = column_label(c, currency)
        if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c]):
            if np.isinf(df[c].to_numpy(dtype=float, na_value=np.nan)).any():
                infinite.append(label)
                df = df.assign(**{c: df[c].replace([np.inf, -np.inf], np.nan)})
            config[c] = st.column_config.NumberColumn(label, format=fmt.get(kind, "%.2f"))
        else:
            config[c] = st.column_config.Column(label)
    config.update(kwargs.pop("column_config", {}))
    st.dataframe(df, hide_index=True, width="stretch", column_config=config, **kwargs)
    if infinite:
        st.caption(f"Blank in {', '.join(infinite)}: no value (no call was answered there).")
