"""`ccplan validate`: ok with a summary, or every problem and exit 1; never a traceback."""


import pytest

from ccplan.scenario import presets
from tests.conftest import ccplan


@pytest.mark.parametrize("name", sorted(presets()))
def test_validate_prints_ok_and_a_summary_for_every_preset(name):
    r = ccplan("validate", str(presets()[name]))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok")
    assert "Segments" in r.stdout and "Agent groups" in r.stdout and "Erlangs" in r.stdout


def test_validate_lists_every_problem_and_exits_1(tmp_path):
    f = tmp_path / "bad.toml"
    f.write_text(
        'name = "bad"\n[[segments]]\nname = "a"\ncalls_per_interval = [1, 2]\naht_s = -4\nretrial_probability = 2\n'
        '[[agent_groups]]\nname = "g"\nskills = ["a", "zz"]\nagents = 3\n'
    )
    r = ccplan("validate", str(f))
    assert r.returncode == 1
    for path in ("segments[0].aht_s", "segments[0].retrial_probability", "agent_groups[0].skills[1]"):
        assert path in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


@pytest.mark.parametrize(
    "content,needle",
    [(b"", "empty"), (b"\x00\x01\x02binary", "binary"), (b'name = "x"\nfoo = [1,\n', "line")],
)
def test_unreadable_files_give_one_line_and_exit_1(tmp_path, content, needle):
    f = tmp_path / "s.toml"
    f.write_bytes(content)
    r = ccplan("validate", str(f))
    assert r.returncode == 1
    assert needle in r.stderr and str(f) in r.stderr
    assert "Traceback" not in r.stderr


def test_wrong_command_line_exits_2():
    r = ccplan("validate")
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert ccplan("no-such-verb").returncode == 2
