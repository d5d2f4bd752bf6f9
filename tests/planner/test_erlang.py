"""Erlang B / C / A against mpmath references, published values and their limits."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.erlang import asa_s, erlang_a, erlang_b, erlang_c, finite_lines, occupancy, service_level, traffic_erlangs

from . import reference as ref


def rel(x: float, y) -> float:
    y = float(y)
    return abs(x - y) / abs(y)


@pytest.mark.parametrize(
    "n,a",
    [(1, 0.5), (2, 3.0), (10, 8.0), (14, 10.0), (50, 45.0), (100, 95.0), (500, 480.0), (1000, 980.0),
     (3000, 2900.0), (5, 40.0), (200, 150.0)],
)
def test_erlang_b_matches_mpmath(n, a):
    assert rel(float(erlang_b(n, a)), ref.erlang_b(n, a)) < 1e-9


@pytest.mark.parametrize("n,a", [(10_000, 9_900.0), (50_000, 49_700.0), (100_000, 99_000.0), (100_000, 100_500.0)])
def test_erlang_b_matches_mpmath_for_huge_centres(n, a):
    import mpmath as mp

    mp.mp.dps = 40
    # closed form with mpmath's own incomplete gamma (the recursion is too slow at this size)
    pmf = mp.exp(n * mp.log(a) - a - mp.loggamma(n + 1))
    expected = pmf / mp.gammainc(n + 1, a, mp.inf, regularized=True)
    assert rel(float(erlang_b(n, a)), expected) < 1e-9


@pytest.mark.parametrize("n,a", [(2, 1.0), (14, 10.0), (100, 95.0), (1000, 990.0), (3000, 2950.0)])
def test_erlang_c_matches_mpmath(n, a):
    assert rel(float(erlang_c(n, a)), ref.erlang_c(n, a)) < 1e-9


def test_textbook_case_100_calls_180s_80_in_20():
    """100 calls per 30 min, AHT 180 s, 80% in 20 s: 14 agents with service level 0.888."""
    a = traffic_erlangs(100, 180, 1800)
    assert a == pytest.approx(10.0)
    assert float(service_level(13, a, 180, 20)) < 0.8
    assert float(service_level(14, a, 180, 20)) == pytest.approx(0.888, abs=5e-4)


def test_erlang_c_published_value():
    # Erlang C(2, 1) = 1/3 (two servers, one Erlang)
    assert float(erlang_c(2, 1.0)) == pytest.approx(1 / 3, rel=1e-14)


def test_stable_for_every_size_from_1_to_100000_agents():
    n = np.arange(1, 100_001)
    for load in (0.5, 0.95, 1.0, 1.2):
        a = n * load
        b, c = erlang_b(n, a), erlang_c(n, a)
        assert np.all(np.isfinite(b)) and np.all((b >= 0) & (b <= 1))
        assert np.all(np.isfinite(c)) and np.all((c >= 0) & (c <= 1))


def test_unstable_queue_gives_certain_wait_not_an_error():
    assert float(erlang_c(10, 10.0)) == 1.0
    assert float(erlang_c(10, 12.0)) == 1.0
    assert float(service_level(10, 12.0, 180, 20)) == 0.0
    assert math.isinf(float(asa_s(10, 12.0, 180)))
    assert float(occupancy(10, 12.0)) == 1.0


def test_functions_broadcast_over_intervals():
    a = np.array([[5.0, 10.0, 20.0]])
    n = np.array([[8], [12], [25]])
    assert erlang_c(n, a).shape == (3, 3)
    assert service_level(n, a, 180, 20).shape == (3, 3)


SMALL_A_CASES = [(5, 4.0, 300, 200, 20), (14, 10.0, 180, 300, 20), (10, 12.0, 240, 120, 30), (3, 1.0, 100, 50, 10)]


@pytest.mark.parametrize("n,a,aht,pat,t", SMALL_A_CASES)
def test_erlang_a_matches_independent_tagged_caller_reference(n, a, aht, pat, t):
    pw, pab, sl, asa = ref.erlang_a(n, a, aht, pat, t, tagged=True)
    r = erlang_a(n, a, aht, pat, t)
    assert rel(float(r.p_wait), pw) < 1e-7
    assert rel(float(r.p_abandon), pab) < 1e-7
    assert rel(float(r.service_level), sl) < 1e-7
    assert rel(float(r.asa_s), asa) < 1e-7


@pytest.mark.parametrize(
    "n,a,aht,pat,t",
    [(50, 55.0, 300, 600, 20), (100, 90.0, 200, 100, 30), (1000, 990.0, 300, 300, 20), (2000, 2100.0, 300, 600, 20),
     (20, 5.0, 300, 60, 10)],
)
def test_erlang_a_matches_mpmath_at_medium_and_large_loads(n, a, aht, pat, t):
    pw, pab, sl, asa = ref.erlang_a(n, a, aht, pat, t)
    r = erlang_a(n, a, aht, pat, t)
    for got, want in ((r.p_wait, pw), (r.p_abandon, pab), (r.service_level, sl), (r.asa_s, asa)):
        assert rel(float(got), want) < 1e-7


def test_erlang_a_is_finite_for_huge_centres_and_overload():
    n = np.array([10_000, 50_000, 100_000, 100_000, 40_000])
    a = np.array([9_900.0, 50_000.0, 99_000.0, 120_000.0, 50_000.0])
    r = erlang_a(n, a, 300, 300, 20)
    for v in r:
        assert np.all(np.isfinite(v))
    assert np.all((r.p_abandon >= 0) & (r.p_abandon <= 1))
    # heavy overload: the excess load abandons
    assert float(r.p_abandon[3]) == pytest.approx(1 - 100_000 / 120_000, rel=1e-3)


def test_erlang_a_with_endless_patience_approaches_erlang_c():
    n, a, aht, t = 14, 10.0, 180.0, 20.0
    r = erlang_a(n, a, aht, 1e9, t)
    assert float(r.p_wait) == pytest.approx(float(erlang_c(n, a)), rel=1e-6)
    assert float(r.service_level) == pytest.approx(float(service_level(n, a, aht, t)), rel=1e-6)
    assert float(r.asa_s) == pytest.approx(float(asa_s(n, a, aht)), rel=1e-5)
    assert float(r.p_abandon) < 1e-6


@given(
    a=st.floats(0.5, 300), aht=st.floats(30, 900), pat=st.floats(10, 2000),
    t=st.floats(0, 120), extra=st.integers(-20, 40),
)
def test_erlang_a_service_level_rises_and_abandonment_falls_with_agents(a, aht, pat, t, extra):
    n = max(1, int(a) + extra)
    r1, r2 = erlang_a(n, a, aht, pat, t), erlang_a(n + 1, a, aht, pat, t)
    # absolute rounding of a service level computed from terms near 1 is a few 1e-12 (hypothesis found 3.6e-12
    # against 9e-14 at 89 and 90 agents for 99 Erlangs, t = 1 s): monotone beyond that
    assert float(r2.service_level) >= float(r1.service_level) - 1e-10
    assert float(r2.p_abandon) <= float(r1.p_abandon) + 1e-12
    assert float(r2.asa_s) <= float(r1.asa_s) * (1 + 1e-9) + 1e-12


@given(a=st.floats(0.5, 2000), aht=st.floats(30, 900), t=st.floats(0, 120), extra=st.integers(1, 60))
def test_erlang_c_service_level_rises_and_asa_falls_with_agents(a, aht, t, extra):
    n = math.floor(a) + extra
    assert float(service_level(n + 1, a, aht, t)) >= float(service_level(n, a, aht, t)) - 1e-12
    assert float(asa_s(n + 1, a, aht)) <= float(asa_s(n, a, aht)) + 1e-12


@given(pat=st.floats(1e5, 1e8))
def test_erlang_a_converges_to_erlang_c_as_patience_grows(pat):
    r = erlang_a(20, 16.0, 300, pat, 20)
    c = float(service_level(20, 16.0, 300, 20))
    assert abs(float(r.service_level) - c) < 300 * 50 / pat + 1e-9


def test_asa_of_a_huge_pool_by_every_kth_term_matches_the_full_sum(monkeypatch):
    from planner import erlang as E

    x = np.array([2.5e8, 4.0e8])
    y = x * np.array([0.999, 1.001])  # both sides of the critical load
    pat = np.array([60.0, 60.0])
    log_pi = np.array([-20.0, -5.0])
    monkeypatch.setattr(E, "_ASA_MAX_TERMS", 10**9)
    full = E._erlang_a_wait_answered(x, y, pat, log_pi)
    monkeypatch.setattr(E, "_ASA_MAX_TERMS", 20_001)
    strided = E._erlang_a_wait_answered(x, y, pat, log_pi)
    assert np.allclose(strided, full, rtol=1e-6)


def test_an_astronomical_load_is_sized_in_bounded_time():
    import time

    t0 = time.perf_counter()
    r = erlang_a(8e13, 1e14, 180.0, 60.0, 20.0)
    assert time.perf_counter() - t0 < 20
    assert 0 <= float(r.service_level) <= 1 and np.isfinite(float(r.asa_s))


@pytest.mark.parametrize("n,a,aht,pat,t", SMALL_A_CASES)
def test_erlang_a_still_waiting_matches_tagged_caller_reference(n, a, aht, pat, t):
    r = erlang_a(n, a, aht, pat, t)
    assert rel(float(r.still_waiting), ref.erlang_a_still_waiting(n, a, aht, pat, t, tagged=True)) < 1e-7


@pytest.mark.parametrize("n,a,aht,pat,t", [(50, 55.0, 300, 600, 20), (100, 90.0, 200, 100, 30),
                                           (1000, 990.0, 300, 300, 20), (20, 5.0, 300, 60, 10)])
def test_erlang_a_still_waiting_matches_mpmath_quadrature(n, a, aht, pat, t):
    r = erlang_a(n, a, aht, pat, t)
    assert rel(float(r.still_waiting), ref.erlang_a_still_waiting(n, a, aht, pat, t)) < 1e-7


def test_short_abandons_run_from_zero_at_no_threshold_to_all_abandons_at_an_endless_one():
    n, a, aht, pat = 10, 9.5, 300.0, 200.0
    t = np.array([0.0, 5.0, 20.0, 60.0, 1e7])
    r = erlang_a(n, a, aht, pat, t)
    short = 1.0 - r.service_level - r.still_waiting
    assert short[0] == pytest.approx(0.0, abs=1e-12)
    assert float(r.still_waiting[0]) == pytest.approx(float(r.p_wait[0]), rel=1e-12)
    assert short[-1] == pytest.approx(float(r.p_abandon[0]), rel=1e-9)
    assert np.all(np.diff(short) > 0)


@pytest.mark.parametrize("n,a,aht,pat,lines,t", [
    (10, 9.0, 300, None, 14, 20), (10, 9.5, 300, 200, 14, 20), (5, 8.0, 180, 60, 12, 10), (14, 10.0, 180, None, 30, 20),
    (6, 5.0, 300, 120, 4, 20),  # fewer lines than agents: a loss system on 4 agents
    (3, 1.0, 100, 50, 3, 10)])
def test_finite_lines_matches_mpmath_chain_and_tagged_caller(n, a, aht, pat, lines, t):
    want = ref.finite_lines(n, a, aht, pat, lines, t)
    r = finite_lines(n, a, aht, np.inf if pat is None else pat, lines, t)
    for got, w in zip((r.p_block, r.p_abandon, r.service_level, r.still_waiting, r.asa_s), want):
        assert abs(float(got) - float(w)) <= 1e-9 + 1e-7 * abs(float(w))


def test_finite_lines_with_lines_to_spare_is_erlang_a_and_erlang_c():
    r = finite_lines(10, 9.5, 300, 200, 100_000, 20)
    e = erlang_a(10, 9.5, 300, 200, 20)
    assert float(r.p_block) == 0.0
    for got, want in ((r.service_level, e.service_level), (r.p_abandon, e.p_abandon), (r.asa_s, e.asa_s),
                      (r.still_waiting, e.still_waiting), (r.p_wait, e.p_wait)):
        assert rel(float(got), float(want)) < 1e-10
    c = finite_lines(14, 10.0, 180, np.inf, 100_000, 20)
    assert rel(float(c.service_level), float(service_level(14, 10.0, 180, 20))) < 1e-10
    assert rel(float(c.asa_s), float(asa_s(14, 10.0, 180))) < 1e-10


def test_finite_lines_with_as_many_lines_as_agents_is_erlang_b():
    r = finite_lines(20, 18.0, 300, np.inf, 20, 20)
    assert rel(float(r.p_block), float(erlang_b(20, 18.0))) < 1e-10
    assert float(r.p_wait) == 0.0 and float(r.service_level) == pytest.approx(1 - float(erlang_b(20, 18.0)))


def test_finite_lines_stays_finite_for_huge_pools_and_overload():
    r = finite_lines([5_000, 5_000, 20], [4_900.0, 6_000.0, 40.0], 300, [np.inf, 300.0, np.inf], [400_000, 6_000, 25],
                     20)
    for v in r:
        assert np.all(np.isfinite(v))
    assert float(r.p_block[2]) == pytest.approx(1 - 20 / 40, abs=0.02)  # overload without patience: the lines fill
