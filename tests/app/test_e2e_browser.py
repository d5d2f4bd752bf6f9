"""End to end in a real headless Chromium (Debian's), driven by Playwright, against `streamlit run app.py`.

Screenshots of every page go to test-artifacts/screenshots/.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage"]

# `make test` installs Debian's chromium; on CI a missing browser is a failure, not a skip
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not os.environ.get("CI"),
                                reason="Debian's chromium is not installed (run `make test`)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start")
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # stop the server by its PID (and its children)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1500, "height": 2600}, accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(90_000)
    expect.set_options(timeout=60_000)  # a rerun on a busy machine takes a while
    yield pg
    ctx.close()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.wait_for_timeout(800)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def wait_idle(page) -> None:
    """Wait until Streamlit has finished running the script."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=180_000)


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the selectbox labelled ``label``: open it (again, if a redraw closed it) until the option
    shows, then click it."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.wait_for()
    item = page.get_by_role("option", name=option, exact=True)
    for _ in range(5):
        box.click()
        try:
            item.wait_for(timeout=5_000)
            break
        except Exception:  # the list closed under a redraw: open it again
            page.keyboard.press("Escape")
    item.click()


# st.data_editor is Glide Data Grid: it paints the table on a <canvas> and keeps an accessible copy of the visible
# part inside it (<table role="grid">: a header row of role="columnheader" cells, then rows with aria-rowindex 2, 3, ...
# of role="gridcell" cells; a column's header and cells share aria-colindex). Being canvas fallback content, that copy
# is never drawn, so role queries need include_hidden=True. Focusing one of its cells selects that cell in the grid;
# the keys pressed then go to the grid. The row-marker column (of a table that adds rows) has no accessible cells.
GRIDS = '[data-testid="stElementContainer"]:not([data-stale="true"]) [data-testid="stDataFrame"]'  # not a stale copy


def header(scope, column: str):
    return scope.get_by_role("columnheader", name=column, exact=True, include_hidden=True)


def table(page, *columns: str):
    """The (current, not stale) data grid with all these column headers."""
    grid = page.locator(GRIDS)
    for column in columns:
        grid = grid.filter(has=header(page, column))
    expect(grid).to_have_count(1)
    return grid


def grid_cell(grid, column: str, row: int):
    """The cell of ``grid`` under the header ``column`` in data row ``row`` (0: the first row); the grid's accessible
    table holds the cells in view only."""
    index = header(grid, column).get_attribute("aria-colindex")
    return grid.locator(f'[role="row"][aria-rowindex="{row + 2}"] > [role="gridcell"][aria-colindex="{index}"]')


def select_cell(grid, column: str, row: int):
    """Select a cell: the pointer rests on the table (Streamlit ignores a selection in a table the pointer has left),
    the grid takes the keyboard focus and selects a cell (its first, or the one selected before), then the cell
    takes the focus. Each step waits for the grid to show it; a step the grid had not yet taken is done again."""
    cell = grid_cell(grid, column, row)
    selected = grid.locator('[role="gridcell"][aria-selected="true"]')
    for attempt in range(3):
        grid.hover()
        grid.get_by_test_id("data-grid-canvas").focus()
        try:
            expect(selected.first).to_be_attached(timeout=5_000)
            cell.focus()
            expect(cell).to_have_attribute("aria-selected", "true", timeout=5_000)
            return cell
        except AssertionError:
            if attempt == 2:
                raise
    return cell


def edit_cell(page, grid, column: str, row: int, value: str):
    """Type ``value`` into a cell: select it, open its editor with Enter, replace the text, Enter commits. The grid
    shows the new value before the app has seen it."""
    for attempt in range(2):
        cell = select_cell(grid, column, row)
        cell.press("Enter")
        editor = page.locator("#portal").get_by_role("textbox")  # Glide's cell editor, drawn over the cell
        editor.select_text()
        editor.press_sequentially(value)
        expect(editor).to_have_value(value)
        editor.press("Enter")
        expect(editor).to_have_count(0)
        try:
            # a grid redrawn by a script run that started before the edit (the page's first runs) shows the old
            # value: a person would see it and type again, so the test does too, once
            expect(cell).to_have_text(value, timeout=15_000 if attempt == 0 else 60_000)
            return cell
        except AssertionError:
            if attempt == 1:
                raise
            wait_idle(page)
    return cell


def test_every_page_opens_without_an_error(server, page):
    for path, text in [("", "is valid"), ("erlang", "Offered load"), ("plan", "Predicted service per segment"),
                       ("roster", "Shift rules"), ("forecast", "Upload a history"),
                       ("simulate", "Run simulation"), ("compare", "Run comparison"),
                       ("trainer", "What you see"), ("glossary", "Find a term")]:
        page.goto(f"{server}/{path}")
        page.get_by_text(text).first.wait_for()
        wait_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0, path
        assert page.get_by_text("Deploy", exact=True).count() == 0, path  # toolbarMode = "minimal"
        shot(page, path or "scenario")


def test_simulation_shows_numbers(server, page):
    page.goto(f"{server}/simulate")
    page.get_by_role("button", name="Run simulation").click()
    page.get_by_text("KPI table").wait_for()
    wait_idle(page)
    # the cards may still be redrawn after the table appears: wait for a service level among them
    page.locator('[data-testid="stMetricValue"]', has_text="%").first.wait_for(timeout=60_000)
    body = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
    assert any("%" in t for t in body)  # service levels
    assert any(" s" in t for t in body)  # ASA in seconds
    shot(page, "simulate_results")


def test_comparison_shows_differences(server, page):
    page.goto(f"{server}/compare")
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("Differences to").wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "compare_results")


def test_download_the_scenario_and_upload_it_again(server, page, tmp_path):
    page.goto(server)
    page.get_by_text("is valid").first.wait_for()
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download scenario (TOML)").click()
    path = tmp_path / "downloaded.toml"
    dl.value.save_as(path)
    text = path.read_text()
    assert "[[segments]]" in text and 'name = "premium"' in text
    # edit it outside the app, then upload it
    path.write_text(text.replace('name = "Retail bank, weekday"', 'name = "Retail bank, re-uploaded"'))
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(path))
    page.get_by_text("Retail bank, re-uploaded").first.wait_for()
    wait_idle(page)
    shot(page, "scenario_reuploaded")


def test_a_broken_upload_is_reported_and_keeps_the_scenario(server, page, tmp_path):
    page.goto(server)
    page.get_by_text("is valid").first.wait_for()
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[[segments]]\nname = "a"\ncalls_per_interval = [1]\naht_s = -3\n'
                   '[[agent_groups]]\nname = "g"\nskills = ["a", "zz"]\nagents = 1\n')
    page.locator('[data-testid="stSidebar"] input[type="file"]').set_input_files(str(bad))
    page.get_by_text("segments[0].aht_s").first.wait_for()
    wait_idle(page)
    page.get_by_text("Retail bank, weekday").first.wait_for(timeout=60_000)  # present (waits for the redraw)
    shot(page, "scenario_bad_upload")


def test_importing_interval_volumes_from_csv(server, page, tmp_path):
    page.goto(server)
    page.get_by_text("is valid").first.wait_for()
    csv_input = page.locator('[data-testid="stMain"] input[type="file"]')
    bad = tmp_path / "bad.csv"
    bad.write_text("time,premium,standard,gold\n08:00,1,x,3\n")
    csv_input.set_input_files(str(bad))
    page.get_by_text("The volumes were not imported").wait_for()
    for needle in ("is not a number", "'gold'", "has no volumes", "24 intervals"):
        page.get_by_text(needle, exact=False).first.wait_for(timeout=60_000)  # present (waits for the redraw)
    shot(page, "scenario_bad_volumes")
    good = tmp_path / "good.csv"
    rows = ["time,premium,standard,basic"] + [f"{8 + i // 2:02d}:{30 * (i % 2):02d},10,50,70" for i in range(24)]
    good.write_text("\n".join(rows) + "\n")
    csv_input.set_input_files(str(good))
    page.get_by_text("Volumes from good.csv loaded").wait_for()
    wait_idle(page)
    page.get_by_text("is valid").first.wait_for(timeout=60_000)  # present (waits for the redraw)


def test_editing_a_cell_to_an_invalid_value_shows_the_problem_next_to_the_table(server, page):
    page.goto(server)
    page.get_by_text("is valid").first.wait_for()
    wait_idle(page)
    segments = table(page, "segment", "AHT (s)")
    expect(grid_cell(segments, "segment", 0)).to_have_text("premium")
    edit_cell(page, segments, "AHT (s)", 0, "0")  # premium's AHT
    page.get_by_text("must be > 0").first.wait_for()
    wait_idle(page)
    page.get_by_text("segment 'premium' (row 1), aht_s").first.wait_for(timeout=60_000)  # present (waits for the redraw)
    # the table keeps what the user typed, and the rest of the user's scenario is still there
    segments = table(page, "segment", "AHT (s)")
    expect(grid_cell(segments, "AHT (s)", 0)).to_have_text("0")
    expect(grid_cell(segments, "segment", 1)).to_have_text("standard")
    expect(grid_cell(segments, "AHT (s)", 1)).to_have_text("330")
    shot(page, "scenario_invalid_edit")


def test_editing_the_staffing_and_volume_tables_changes_the_downloaded_scenario(server, page, tmp_path):
    open_scenario(server, page, "Edit as TOML")
    toml = page.get_by_label("Scenario TOML")  # the scenario as text: it follows every edit of the tables
    expect(toml).to_have_value(re.compile(r"calls_per_interval = \[\s*17\.0,\s*20\.0,"))  # premium
    expect(toml).to_have_value(re.compile(r"agents_per_interval = \[\s*44,\s*50,"))  # generalists
    for columns, column, value, line in (
            (("interval", "premium"), "premium", "9", r"calls_per_interval = \[\s*9\.0,\s*20\.0,"),  # volumes
            (("interval", "generalists"), "generalists", "3", r"agents_per_interval = \[\s*3,\s*50,")):  # staffing
        grid = table(page, *columns)
        expect(grid_cell(grid, "interval", 0)).to_have_text("08:00")
        edit_cell(page, grid, column, 0, value)  # the first interval
        expect(toml).to_have_value(re.compile(line))  # the app has it
        wait_idle(page)
    # both edits are in the tables, the neighbours untouched
    volumes, staffing = table(page, "interval", "premium"), table(page, "interval", "generalists")
    expect(grid_cell(volumes, "premium", 0)).to_have_text("9")
    expect(grid_cell(volumes, "premium", 1)).to_have_text("20")
    expect(grid_cell(staffing, "generalists", 0)).to_have_text("3")
    expect(grid_cell(staffing, "generalists", 1)).to_have_text("50")
    page.get_by_text("is valid").first.wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "scenario_tables_edited")
    with page.expect_download() as dl:
        page.get_by_role("button", name="Download scenario (TOML)").click()
    path = tmp_path / "edited.toml"
    dl.value.save_as(path)
    data = tomllib.loads(path.read_text())
    assert data["segments"][0]["calls_per_interval"][0] == 9.0
    assert data["agent_groups"][0]["agents_per_interval"][0] == 3
    assert data["agent_groups"][0]["agents_per_interval"][1] == 50  # other cells untouched


def test_verify_the_plan_by_simulation_and_apply_it(server, page):
    page.goto(f"{server}/plan")
    page.get_by_text("Verify by simulation").first.wait_for()
    wait_idle(page)
    choose(page, "Preset", "trainer")
    page.get_by_text("Trainer: priorities").first.wait_for()
    wait_idle(page)
    reps = page.get_by_label("Replications")
    reps.fill("3")
    reps.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Verify by simulation").click()
    page.get_by_text("Agent hours, verified").wait_for(timeout=300_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    # the charts: images load after the script ends, later still on a busy machine
    page.wait_for_function("document.querySelectorAll('img').length >= 3", timeout=60_000)
    assert page.locator('[data-testid="stImage"], [data-testid="stPyplot"] img, img').count() >= 3
    page.set_viewport_size({"width": 1500, "height": 1700})
    page.get_by_role("heading", name="Verify by simulation").scroll_into_view_if_needed()
    page.evaluate("document.querySelector('[data-testid=\"stMain\"]')?.scrollBy(0, 600)")
    page.wait_for_timeout(800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "plan_verified.png"))
    page.get_by_role("button", name="Apply the verified staffing to the scenario").click()
    page.get_by_text("verified staffing is now the scenario's").wait_for()
    wait_idle(page)
    assert "verified staffing" in page.locator('[data-testid="stSidebar"]').inner_text()


def test_roster_solve_apply_and_simulate(server, page):
    page.goto(f"{server}/roster")
    page.get_by_text("Shift rules").first.wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Solve the roster").click()
    page.get_by_text("Optimal roster").wait_for(timeout=120_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.locator('[data-testid="stMetricLabel"]', has_text="Headcount").first.wait_for(timeout=60_000)
    values = dict(zip(page.locator('[data-testid="stMetricLabel"]').all_inner_texts(),
                      page.locator('[data-testid="stMetricValue"]').all_inner_texts()))
    assert int(values["Headcount"]) > 0 and values["Efficiency"].endswith("%")
    page.wait_for_timeout(800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "roster.png"), full_page=True)
    page.get_by_role("button", name="Apply roster to scenario").click()
    page.get_by_text("roster's coverage is now the scenario's staffing").wait_for()
    wait_idle(page)
    assert "roster" in page.locator('[data-testid="stSidebar"]').inner_text()
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Simulate", exact=True).click()  # same session
    page.get_by_role("button", name="Run simulation").click()
    page.get_by_text("KPI table").wait_for(timeout=300_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_forecast_from_an_uploaded_history(server, page):
    page.goto(f"{server}/forecast")
    page.get_by_text("Upload a history").first.wait_for()
    wait_idle(page)
    sample = ROOT / "examples" / "data" / "bank_calls_2003_mar_may.csv"
    page.locator('[data-testid="stMain"] input[type="file"]').set_input_files(str(sample))
    page.get_by_text("Days with data").wait_for()
    wait_idle(page)
    page.get_by_role("button", name="Forecast", exact=True).click()
    page.get_by_text("Use this forecast").wait_for(timeout=180_000)
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.get_by_text("Rolling origin").first.wait_for(timeout=60_000)  # present (waits for the redraw)
    page.wait_for_timeout(800)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "forecast.png"), full_page=True)


def test_trainer_replay_plays_pauses_and_seeks(server, page):
    page.set_viewport_size({"width": 1400, "height": 1000})
    page.goto(f"{server}/trainer")
    page.get_by_text("Replay one hour").first.wait_for()
    wait_idle(page)
    frame = page.frame_locator("iframe").first
    clock = frame.locator("#clock")
    clock.wait_for(timeout=60_000)
    start = clock.inner_text()
    frame.locator("#play").click()
    page.wait_for_timeout(2500)
    frame.locator("#play").click()  # pause
    paused = clock.inner_text()
    assert paused > start  # the clock ran (hh:mm:ss compares as text)
    page.wait_for_timeout(1200)
    assert clock.inner_text() == paused  # and stopped
    frame.locator("#time").fill("500")  # seek to the middle of the hour
    assert clock.inner_text() > paused
    page.locator("iframe").first.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    shot(page, "trainer_replay")


def open_scenario(server, page, section: str | None = None) -> None:
    """The Scenario page, loaded and idle; ``section``: an expander to open."""
    page.goto(server)
    page.get_by_text("is valid").first.wait_for()
    wait_idle(page)
    if section:
        page.get_by_text(section).click()


def test_changing_the_interval_length_rebuckets_the_day(server, page):
    open_scenario(server, page, "Day, targets, routing and costs")
    choose(page, "Interval (minutes)", "15")
    page.get_by_text("Interval length 30 → 15 minutes").wait_for()
    wait_idle(page)
    shot(page, "scenario_interval_offer")
    page.get_by_role("button", name="Re-bucket (keep the day and totals)").click()
    page.get_by_text("24 → 48 intervals, the same day").wait_for()
    wait_idle(page)
    page.get_by_text("is valid").first.wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0


def test_bulk_staffing_edit_in_the_browser(server, page):
    open_scenario(server, page, "Change many intervals at once")
    choose(page, "Edit", "add")
    wait_idle(page)
    n = page.get_by_label("N", exact=True)
    n.fill("2")
    n.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Apply to the staffing").click()
    page.get_by_text("generalists: add 2 on 08:00–19:30: 24 interval(s) changed.").wait_for()
    wait_idle(page)
    shot(page, "scenario_bulk_edit")


def test_adding_and_removing_a_segment_in_the_table(server, page):
    open_scenario(server, page)
    segments = table(page, "segment", "AHT (s)")
    rows = segments.locator('tbody [role="row"]')
    expect(rows).to_have_count(3)
    segments.hover()  # the toolbar shows on hover
    segments.get_by_role("button", name="Add row").click()
    expect(rows).to_have_count(4)  # a new, empty fourth row
    edit_cell(page, segments, "segment", 3, "vip")
    page.get_by_text("segment 'vip' added").wait_for()
    wait_idle(page)
    page.get_by_text("no agent group has the skill 'vip'").first.wait_for(timeout=60_000)  # said, not silent
    segments = table(page, "segment", "AHT (s)")
    expect(grid_cell(segments, "segment", 3)).to_have_text("vip")
    shot(page, "scenario_segment_added")
    # select the row of 'vip' (its row marker is not in the accessible table: Shift+Space selects the focused
    # cell's row, as a click on the marker does), then Delete removes it
    select_cell(segments, "segment", 3)
    page.keyboard.press("Shift+Space")
    expect(segments.locator('[role="row"][aria-rowindex="5"]')).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Delete")
    page.get_by_text("segment 'vip' removed").wait_for()
    wait_idle(page)
    page.get_by_text("is valid").first.wait_for(timeout=60_000)
    segments = table(page, "segment", "AHT (s)")
    expect(segments.locator('tbody [role="row"]')).to_have_count(3)
    expect(segments.get_by_role("gridcell", name="vip", exact=True, include_hidden=True)).to_have_count(0)
    expect(grid_cell(segments, "segment", 2)).to_have_text("basic")


def test_switching_preset_with_edits_asks_first_in_the_browser(server, page):
    open_scenario(server, page, "Day, targets, routing and costs")
    name = page.get_by_label("Name", exact=True)
    name.fill("My bank")
    name.press("Enter")
    page.get_by_text("My bank").first.wait_for()
    wait_idle(page)
    choose(page, "Preset", "telecom")
    page.get_by_text("has edits that are not downloaded").wait_for()
    wait_idle(page)
    shot(page, "preset_switch_asks")
    page.wait_for_timeout(1000)  # the sidebar settles before the click (a redraw can swallow it)
    page.get_by_role("button", name="Switch", exact=True).click()
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("Telecom operator").first.wait_for()
    # the old caption stays on the page until the rerun ends: wait for it to go (it would time out if it stayed)
    page.wait_for_function("!document.querySelector('[data-testid=\"stSidebar\"]').innerText.includes('My bank')",
                           timeout=60_000)
    wait_idle(page)
    assert "My bank" not in sidebar.inner_text()
