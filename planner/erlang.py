"""Erlang B, C and A as pure, vectorised functions of numpy arrays.

Units: ``traffic_erlangs`` = arrival rate x mean handle time (dimensionless);
all times in seconds. Every function broadcasts its arguments like a numpy
ufunc and returns float arrays (0-d for scalar input). ``agents`` may be
non-integer (the continuous extension through the incomplete gamma
function); the formulas are exact for integer agents.

Numerical method: nothing is computed with factorials. The Poisson
probability uses Loader's saddle-point form (deviance ``bd0`` and Stirling
remainder, as in R's ``dpois_raw``), the Poisson distribution function uses
``scipy.special.gammaincc``; Erlang A reduces to Kummer's function
``A(x, y) = 1F1(1; x+1; y)``, summed as a positive series below the critical
load and through the regularised incomplete gamma function above it. This
keeps full double precision from 1 to 100,000+ agents.

References:
- Erlang B / C: e.g. Gross & Harris, *Fundamentals of Queueing Theory*, ch. 2;
  Cooper, *Introduction to Queueing Theory* (1981).
- Erlang A (M/M/n+M): Garnett, Mandelbaum & Reiman, "Designing a call center
  with impatient customers", MSOM 4(3), 2002; Mandelbaum & Zeltyn, "The
  Palm/Erlang-A queue, with applications to call centers" (2007), whose
  notation ``A(x, y)``, ``E_{1,n}`` is used here. The service-level and ASA
  formulas integrate the offered-wait density of the M/M/n+G queue
  (Baccelli & Hebuterne 1981; Zeltyn & Mandelbaum, Queueing Systems 2005)
  against exponential patience.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import special as sc

_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def traffic_erlangs(calls_per_interval: ArrayLike, aht_s: ArrayLike, interval_s: ArrayLike) -> np.ndarray:
    """Offered load in Erlangs: calls per interval x AHT (s) / interval length (s)."""
    return np.asarray(calls_per_interval, float) * np.asarray(aht_s, float) / np.asarray(interval_s, float)


# ---------------------------------------------------------------------------
# Poisson building blocks (Loader 2000, "Fast and accurate computation of
# binomial probabilities")


def _stirlerr(n: np.ndarray) -> np.ndarray:
    """log(n!) - [(n + 1/2) log n - n + log sqrt(2 pi)], accurate for n > 0."""
    n = np.asarray(n, float)
    out = np.empty_like(n)
    big = n > 15
    nb = n[big]
    nn = nb * nb
    s0, s1, s2, s3, s4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
    out[big] = (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / nb
    ns = n[~big]
    out[~big] = sc.gammaln(ns + 1) - (ns + 0.5) * np.log(ns) + ns - _LOG_SQRT_2PI
    return out


def _bd0(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Deviance term x log(x/m) + m - x, without cancellation when x ~ m."""
    x, m = np.broadcast_arrays(np.asarray(x, float), np.asarray(m, float))
    out = x * np.log(x / m) + m - x
    near = np.abs(x - m) < 0.1 * (x + m)
    if near.any():
        xn, mn = x[near], m[near]
        v = (xn - mn) / (xn + mn)
        s = (xn - mn) * v
        ej = 2 * xn * v
        v2 = v * v
        for j in range(1, 40):
            ej = ej * v2
            s1 = s + ej / (2 * j + 1)
            if np.all(s1 == s):
                break
            s = s1
        out[near] = s
    return out


def _log_poisson_pmf(n: np.ndarray, a: np.ndarray) -> np.ndarray:
    """log P(N = n) for N ~ Poisson(a), n >= 0 real, a > 0."""
    n, a = np.broadcast_arrays(np.asarray(n, float), np.asarray(a, float))
    out = np.empty(n.shape)
    zero = n == 0
    out[zero] = -a[zero]
    nz = ~zero
    nn, an = n[nz], a[nz]
    out[nz] = -_stirlerr(nn) - _bd0(nn, an) - _LOG_SQRT_2PI - 0.5 * np.log(nn)
    return out


# ---------------------------------------------------------------------------
# Erlang B and C


def erlang_b(agents: ArrayLike, traffic_erlangs: ArrayLike) -> np.ndarray:
    """Blocking probability of M/M/n/n (Erlang B) with ``agents`` servers and offered load in Erlangs.

    B(n, a) = P(N = n) / P(N <= n) for N ~ Poisson(a). Zero traffic gives 0;
    zero agents give 1.
    """
    n, a = np.broadcast_arrays(np.asarray(agents, float), np.asarray(traffic_erlangs, float))
    out = np.zeros(n.shape)
    ok = (a > 0) & (n > 0)
    out[(a > 0) & (n <= 0)] = 1.0
    if ok.any():
        nn, aa = n[ok], a[ok]
        cdf = sc.gammaincc(nn + 1.0, aa)
        tiny = cdf < 1e-250  # far overloaded (n << a): P(N <= n) underflows
        vals = np.empty(nn.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            vals[~tiny] = np.exp(_log_poisson_pmf(nn[~tiny], aa[~tiny])) / cdf[~tiny]
        if tiny.any():
            # 1/B = sum_k n (n-1) ... (n-k+1) / a^k, a positive series with ratio < n/a < 1
            nt, at = nn[tiny], aa[tiny]
            term = np.ones_like(nt)
            inv_b = np.ones_like(nt)
            k = 0
            while True:
                term = term * np.maximum(nt - k, 0.0) / at
                k += 1
                inv_b = inv_b + term
                if np.all(term <= 1e-17 * inv_b):
                    break
            vals[tiny] = 1.0 / inv_b
        out[ok] = vals
    return out[()] if out.ndim == 0 else out


def erlang_c(agents: ArrayLike, traffic_erlangs: ArrayLike) -> np.ndarray:
    """Probability that a call waits in M/M/n (Erlang C). 1 when agents <= traffic (unstable)."""
    n, a = np.broadcast_arrays(np.asarray(agents, float), np.asarray(traffic_erlangs, float))
    b = np.asarray(erlang_b(n, a), float)
    out = np.ones(n.shape)
    stable = n > a
    rho = np.divide(a, n, out=np.zeros(n.shape), where=n > 0)
    out[stable] = b[stable] / (1.0 - rho[stable] * (1.0 - b[stable]))
    out[(a <= 0) & (n > 0)] = 0.0
    return out[()] if out.ndim == 0 else out


def service_level(agents: ArrayLike, traffic_erlangs: ArrayLike, aht_s: ArrayLike,
                  answer_within_s: ArrayLike) -> np.ndarray:
    """Erlang C service level: P(wait <= answer_within_s) = 1 - C exp(-(n - a) t / AHT). 0 when unstable."""
    n, a, aht, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (agents, traffic_erlangs, aht_s, answer_within_s)))
    c = np.asarray(erlang_c(n, a), float)
    out = np.zeros(n.shape)
    stable = n > a
    out[stable] = 1.0 - c[stable] * np.exp(-(n[stable] - a[stable]) * t[stable] / aht[stable])
    return out[()] if out.ndim == 0 else out


def asa_s(agents: ArrayLike, traffic_erlangs: ArrayLike, aht_s: ArrayLike) -> np.ndarray:
    """Erlang C average speed of answer (mean wait of all calls), seconds: C x AHT / (n - a). inf when unstable."""
    n, a, aht = np.broadcast_arrays(*(np.asarray(v, float) for v in (agents, traffic_erlangs, aht_s)))
    c = np.asarray(erlang_c(n, a), float)
    out = np.full(n.shape, np.inf)
    stable = n > a
    out[stable] = c[stable] * aht[stable] / (n[stable] - a[stable])
    return out[()] if out.ndim == 0 else out


def occupancy(agents: ArrayLike, traffic_erlangs: ArrayLike) -> np.ndarray:
    """Share of agent time busy in Erlang C: min(a / n, 1) (1 when agents <= traffic)."""
    n, a = np.broadcast_arrays(np.asarray(agents, float), np.asarray(traffic_erlangs, float))
    out = np.ones(n.shape)
    pos = n > 0
    out[pos] = np.minimum(a[pos] / n[pos], 1.0)
    return out[()] if out.ndim == 0 else out


# ---------------------------------------------------------------------------
# Erlang A (M/M/n+M)


_KUMMER_MAX_TERMS = 20_480
_KUMMER_BLOCK = 256


def _kummer(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For A(x, y) = sum_j y^j / ((x+1)...(x+j)) = 1F1(1; x+1; y), x > 0, y >= 0, return

    - log(A - 1)            (``-inf`` when y = 0)
    - D = 1 - A (1 - y/x)   (>= 0; the abandonment factor, computed without cancellation;
      NaN where y >= x, where it is not needed)

    Below the critical load (y < x) the positive series is summed directly;
    above it A - 1 = e^y y^-x Gamma(x+1) P(x+1, y) with P the regularised
    lower incomplete gamma function (not small there, so no underflow).
    """
    x, y = np.broadcast_arrays(np.asarray(x, float), np.asarray(y, float))
    log_am1 = np.full(x.shape, -np.inf)
    d = np.ones(x.shape)
    below = (y < x) & (y > 0)
    above = y >= x
    if below.any():
        xb, yb = x[below], y[below]
        term = np.ones_like(xb)  # c_0
        am1 = np.zeros_like(xb)
        s = 1.0 / (xb + 1.0)  # c_0 (0+1)/(x+0+1)
        j = 0
        done = False
        while j < _KUMMER_MAX_TERMS:  # bounded: the terms fall at least like (y/(x+j))^j
            # vectorised over a block of terms (a running product of y / (x + k)), not one term per loop
            ks = j + 1.0 + np.arange(_KUMMER_BLOCK)
            terms = term[:, None] * np.cumprod(yb[:, None] / (xb[:, None] + ks[None, :]), axis=1)  # c_k
            incs = terms * (ks + 1.0) / (xb[:, None] + ks + 1.0)
            am1 = am1 + terms.sum(axis=1)
            s = s + incs.sum(axis=1)
            term, inc = terms[:, -1], incs[:, -1]
            j += _KUMMER_BLOCK
            if np.all(term <= 1e-17 * am1) and np.all(inc <= 1e-17 * s):
                done = True
                break
        log_am1[below] = np.log(am1)
        d[below] = yb / xb * s
        if not done:  # huge pools near the critical load: the incomplete-gamma form, and D from it
            slow = ~((term <= 1e-17 * am1) & (inc <= 1e-17 * s))
            idx = np.flatnonzero(below)[slow]
            xs, ys = x[idx], y[idx]
            log_k = ys - xs * np.log(ys) + sc.gammaln(xs + 1.0)
            log_am1[idx] = log_k + np.log(sc.gammainc(xs + 1.0, ys))
            d[idx] = 1.0 - (1.0 + np.exp(log_am1[idx])) * (1.0 - ys / xs)
    if above.any():
        xa, ya = x[above], y[above]
        log_k = ya - xa * np.log(ya) + sc.gammaln(xa + 1.0)
        log_am1[above] = log_k + np.log(sc.gammainc(xa + 1.0, ya))
        d[above] = np.nan  # 1 + A (y/x - 1) may overflow; callers use the form without D there
    return log_am1, d


class ErlangA(NamedTuple):
    """Erlang A (M/M/n+M) steady-state measures; arrays broadcast from the inputs.

    p_wait: probability an arriving call must wait (all agents busy).
    p_abandon: probability a call abandons (= abandonment rate).
    service_level: P(answered within answer_within_s); abandoned calls count as misses.
    asa_s: mean wait of answered calls, seconds.
    mean_wait_s: mean time in queue of all calls (answered or abandoned), seconds.
    throughput_per_s: answered calls per second.
    occupancy: share of agent time busy.
    still_waiting: P(neither answered nor abandoned by answer_within_s) = P(V > t) P(patience > t), with
      V the offered wait; so calls abandoned within the threshold are 1 - service_level - still_waiting.
    """

    p_wait: np.ndarray
    p_abandon: np.ndarray
    service_level: np.ndarray
    asa_s: np.ndarray
    mean_wait_s: np.ndarray
    throughput_per_s: np.ndarray
    occupancy: np.ndarray
    still_waiting: np.ndarray


def erlang_a(agents: ArrayLike, traffic_erlangs: ArrayLike, aht_s: ArrayLike, patience_s: ArrayLike,
             answer_within_s: ArrayLike = 0.0, with_asa: bool = True) -> ErlangA:
    """All Erlang A measures for ``agents`` servers, offered load (Erlangs), mean handle time and
    mean (exponential) patience in seconds, and the service-level threshold in seconds.

    Always stable (callers abandon), so agents <= traffic is valid. ``patience_s = inf``
    gives Erlang C (where stable). ``with_asa=False`` skips the (costlier) ASA series
    and returns NaN for ``asa_s``.
    """
    n, a, aht, pat, t = np.broadcast_arrays(
        *(np.asarray(v, float) for v in (agents, traffic_erlangs, aht_s, patience_s, answer_within_s))
    )
    shape = n.shape
    n, a, aht, pat, t = (v.ravel() for v in (n, a, aht, pat, t))
    size = n.size
    p_wait = np.zeros(size)
    p_ab = np.zeros(size)
    sl = np.ones(size)
    asa = np.zeros(size)
    wait = np.zeros(size)
    still = np.zeros(size)
    lam = np.divide(a, aht, out=np.zeros(size), where=aht > 0)

    no_agents = (n <= 0) & (a > 0)
    p_wait[no_agents] = 1.0
    p_ab[no_agents] = 1.0
    sl[no_agents] = 0.0
    asa[no_agents] = np.nan
    wait[no_agents] = pat[no_agents]
    with np.errstate(invalid="ignore"):
        still[no_agents] = np.exp(-t[no_agents] / pat[no_agents])

    inf_pat = np.isinf(pat) & (n > 0) & (a > 0)
    if inf_pat.any():
        nn, aa, hh, tt = n[inf_pat], a[inf_pat], aht[inf_pat], t[inf_pat]
        p_wait[inf_pat] = erlang_c(nn, aa)
        p_ab[inf_pat] = 0.0
        sl[inf_pat] = service_level(nn, aa, hh, tt)
        asa[inf_pat] = asa_s(nn, aa, hh)
        wait[inf_pat] = asa[inf_pat]
        still[inf_pat] = 1.0 - sl[inf_pat]

    m = (n > 0) & (a > 0) & np.isfinite(pat)
    if m.any():
        nn, aa, hh, pp, tt = n[m], a[m], aht[m], pat[m], t[m]
        x = nn * pp / hh  # n mu / theta
        y = aa * pp / hh  # lambda / theta
        e = np.asarray(erlang_b(nn, aa), float)
        log_am1, d = _kummer(x, y)
        with np.errstate(divide="ignore"):
            log_e = np.log(e)
        log_t = log_am1 + log_e  # t = (A - 1) E, possibly astronomically large
        log_1pt = np.logaddexp(0.0, log_t)
        inv = sc.expit(-log_t)  # 1 / (1 + t)
        t_inv = sc.expit(log_t)  # t / (1 + t)
        pw = e * inv + t_inv  # P(W > 0) = A E / (1 + (A - 1) E)
        # P(Ab) = P(W>0) D / (rho A) = E D (x/y) / (1 + t); above the critical load the
        # equivalent form (E + (1 - 1/rho) t) / (1 + t) has no cancellation and no overflow.
        above = y >= x
        pa = np.where(above, e * inv + (1.0 - x / y) * t_inv, e * np.nan_to_num(d) * (x / y) * inv)
        p_wait[m] = pw
        p_ab[m] = pa
        # service level: P(V=0) + pi_n (x/y) [(A(x,y) - 1) - e^{y(1-u)} u^x (A(x,yu) - 1)], u = e^{-theta t}
        theta_t = tt / pp
        log_am1_u, _ = _kummer(x, y * np.exp(-theta_t))
        with np.errstate(invalid="ignore"):
            log_second = log_e + y * (-np.expm1(-theta_t)) - x * theta_t + log_am1_u - log_1pt
        second = np.exp(np.minimum(log_second, 700.0))
        sl_m = (1.0 - e) * inv + (x / y) * np.maximum(t_inv - second, 0.0)
        sl[m] = np.clip(sl_m, 0.0, 1.0)
        # P(V > t) = pi_n e^{y(1-u)} u^x A(x, yu) (the tail of the offered-wait density
        # n mu pi_n exp(y(1 - e^{-theta s}) - n mu s)), times P(patience > t) = u
        with np.errstate(invalid="ignore"):
            log_still = (log_e - log_1pt + y * (-np.expm1(-theta_t)) - x * theta_t
                         + np.logaddexp(0.0, log_am1_u) - theta_t)
        still[m] = np.clip(np.exp(np.minimum(log_still, 0.0)), 0.0, 1.0 - sl[m])
        wait[m] = pa * pp  # E[W] = P(Ab) / theta
        if with_asa:
            p_ans = 1.0 - pa
            log_pi_n = log_e - log_1pt
            w_ans = _erlang_a_wait_answered(x, y, pp, log_pi_n)
            asa[m] = np.divide(w_ans, p_ans, out=np.full(p_ans.shape, np.nan), where=p_ans > 0)
        else:
            asa[m] = np.nan

    throughput = lam * (1.0 - p_ab)
    occ = np.divide(throughput * aht, n, out=np.ones(size), where=n > 0)
    occ = np.minimum(occ, 1.0)

    def shaped(v: np.ndarray) -> np.ndarray:
        v = v.reshape(shape)
        return v[()] if v.ndim == 0 else v

    return ErlangA(*(shaped(v) for v in (p_wait, p_ab, sl, asa, wait, throughput, occ, still)))


def _erlang_a_wait_answered(x: np.ndarray, y: np.ndarray, patience_s: np.ndarray,
                            log_pi_n: np.ndarray) -> np.ndarray:
    """E[W 1{answered}] in seconds.

    A call arriving to find j waiting (probability pi_n c_j, c_j = y^j / ((x+1)...(x+j)))
    is answered with probability x / (x+j+1), and the e^{-theta V}-weighted mean of its
    offered wait V is (1/theta) h_j with h_j = sum_{i=1}^{j+1} 1/(x+i). The sum over j is
    taken in log space over a window around its largest term (the terms are unimodal
    in j: Gaussian-like with variance ~max(x, y), decaying at least geometrically below
    the critical load), using running sums for log c_j and h_j.
    """
    out = np.zeros(x.shape)
    if x.size == 0:
        return out
    peak = np.maximum(0.0, np.floor(y - x))
    half = np.ceil(9.5 * np.sqrt(np.maximum(x, y)) + 40.0)
    j0 = np.maximum(peak - half, 0.0)
    width = int(2 * half.max() + 1)
    if width > _ASA_MAX_TERMS:
        return _erlang_a_wait_answered_strided(x, y, patience_s, log_pi_n, j0, width)
    chunk = max(1, int(2e6 // width))
    steps = np.arange(1, width)[None, :]
    for s0 in range(0, x.size, chunk):
        sl_ = slice(s0, s0 + chunk)
        xs, ys, js = x[sl_, None], y[sl_, None], j0[sl_, None]
        # log c_j for j = j0, j0+1, ...: log c_j0 + cumulative sum of log(y / (x + j))
        log_c0 = js * np.log(ys) + sc.gammaln(xs + 1.0) - sc.gammaln(xs + 1.0 + js)
        jj = js + steps
        log_c = np.concatenate([log_c0, log_c0 + np.cumsum(np.log(ys) - np.log(xs + jj), axis=1)], axis=1)
        h0 = sc.digamma(xs + js + 2.0) - sc.digamma(xs + 1.0)
        h = np.concatenate([h0, h0 + np.cumsum(1.0 / (xs + jj + 1.0), axis=1)], axis=1)
        jall = np.concatenate([js, jj], axis=1)
        log_terms = log_c + np.log(xs) - np.log(xs + jall + 1.0) + np.log(h)
        top = log_terms.max(axis=1)
        log_total = top + np.log(np.exp(log_terms - top[:, None]).sum(axis=1))
        out[sl_] = np.exp(log_pi_n[sl_] + log_total) * patience_s[sl_]
    return out


_ASA_MAX_TERMS = 200_001


def _erlang_a_wait_answered_strided(x, y, patience_s, log_pi_n, j0, width):
    """The same sum for pools so large that its window exceeds ``_ASA_MAX_TERMS`` terms: every k-th term
    from closed forms (log c_j with gammaln, h_j with digamma), times k. The terms change on a scale of
    sqrt(x) >> k there, so this Riemann sum differs from the full one by a relative O((k / sqrt x)^2)."""
    stride = int(np.ceil(width / _ASA_MAX_TERMS))
    steps = np.arange(0, width, stride, dtype=float)[None, :]
    out = np.zeros(x.shape)
    chunk = max(1, int(2e6 // steps.size))
    for s0 in range(0, x.size, chunk):
        sl_ = slice(s0, s0 + chunk)
        xs, ys = x[sl_, None], y[sl_, None]
        jall = j0[sl_, None] + steps
        log_c = jall * np.log(ys) + sc.gammaln(xs + 1.0) - sc.gammaln(xs + 1.0 + jall)
        h = sc.digamma(xs + jall + 2.0) - sc.digamma(xs + 1.0)
        log_terms = log_c + np.log(xs) - np.log(xs + jall + 1.0) + np.log(h)
        top = log_terms.max(axis=1)
        log_total = top + np.log(np.exp(log_terms - top[:, None]).sum(axis=1)) + np.log(stride)
        out[sl_] = np.exp(log_pi_n[sl_] + log_total) * patience_s[sl_]
    return out


# ---------------------------------------------------------------------------
# Finite lines: M/M/n/N (+M)

_LINES_WINDOW_SD = 40.0  # states kept around the mode, in standard deviations of the load (plus a margin)
_LINES_MAX_STATES = 400_000


class FiniteLines(NamedTuple):
    """Measures of M/M/n/N+M (``lines`` = N places, waiting or in service), per offered call.

    p_block: blocked (all lines busy on arrival). p_wait: admitted and waits. p_abandon: admitted and
    abandons. service_level: answered within the threshold, of offered calls (blocked calls are misses).
    still_waiting: admitted and neither answered nor abandoned by the threshold. asa_s: mean wait of
    answered calls (s). occupancy: share of agent time busy.
    """

    p_block: np.ndarray
    p_wait: np.ndarray
    p_abandon: np.ndarray
    service_level: np.ndarray
    still_waiting: np.ndarray
    asa_s: np.ndarray
    occupancy: np.ndarray


def finite_lines(agents: ArrayLike, traffic_erlangs: ArrayLike, aht_s: ArrayLike, patience_s: ArrayLike,
                 lines: ArrayLike, answer_within_s: ArrayLike = 0.0) -> FiniteLines:
    """Measures of the M/M/n/N+M queue: ``agents`` n, offered load (Erlangs), mean handle time and mean
    exponential patience (``inf``: callers never abandon, M/M/n/N) in seconds, ``lines`` N (calls in the
    system never exceed it; N < n leaves n - N agents idle) and the service-level threshold in seconds.

    Exact, from the finite birth-death chain (death rate min(k, n) mu + max(k - n, 0) theta) and, for a
    caller admitted with j callers ahead in the queue, closed forms of its offered wait V_j (j + 1 stages
    at rates n mu + i theta, i = j .. 0). With x = n mu / theta and u = e^{-theta t}:

    - P(V_j > t) = I_u(x, j + 1), the regularised incomplete beta function;
    - P(answered within t | j) = E[e^{-theta V_j} 1{V_j <= t}] = x / (x + j + 1) (1 - I_u(x + 1, j + 1));
    - P(answered | j) = x / (x + j + 1); E[V_j 1{answered}] = x / (x + j + 1) (psi(x + j + 2) - psi(x + 1)) / theta;

    without patience V_j is Erlang(j + 1, n mu). Arrivals see the stationary chain (PASTA). Only the states
    within ~40 standard deviations of the chain's mode are summed (at most 400,000 of them); the rest
    carry less than e^-40 of the probability. Vectorised over broadcast inputs by a loop over elements.
    """
    n, a, aht, pat, big_n, t = np.broadcast_arrays(*(np.asarray(v, float) for v in (
        agents, traffic_erlangs, aht_s, patience_s, lines, answer_within_s)))
    shape = n.shape
    out = np.zeros((7, n.size))
    for i, (ni, ai, hi, pi, li, ti) in enumerate(zip(*(v.ravel() for v in (n, a, aht, pat, big_n, t)))):
        out[:, i] = _finite_lines_one(int(ni), ai, hi, pi, int(li), ti)

    def shaped(v: np.ndarray) -> np.ndarray:
        v = v.reshape(shape)
        return v[()] if v.ndim == 0 else v

    return FiniteLines(*(shaped(v) for v in out))


def _finite_lines_one(n: int, a: float, aht: float, pat: float, lines: int, t: float) -> tuple[float, ...]:
    """(p_block, p_wait, p_abandon, service_level, still_waiting, asa_s, occupancy) of one M/M/n/N+M queue."""
    if a <= 0:
        return (0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)
    c = min(n, lines)  # agents that can ever be busy
    if c <= 0:
        return (1.0, 0.0, 0.0, 0.0, 0.0, np.nan, 1.0 if n > 0 else 0.0)
    theta = 0.0 if not np.isfinite(pat) else 1.0 / pat
    # the window of states: around the mode, wide enough that the rest is negligible
    if a < c:
        mode = int(np.floor(a))
    elif theta > 0:
        mode = c + int(np.floor((a - c) * pat / aht))
    else:
        mode = lines
    width = int(_LINES_WINDOW_SD * np.sqrt(max(a, 1.0)) + 100)
    hi = min(lines, mode + width)
    if theta == 0 and a < c:  # geometric tail beyond n: ratio a / c
        hi = min(lines, max(hi, c + int(np.ceil(_LINES_WINDOW_SD / -np.log(a / c))) + 1))
    if hi < lines:  # the chain never gets near the lines (less than e^-40): the closed forms without them
        if theta > 0:
            r = erlang_a(n, a, aht, pat, t)
            return (0.0, float(r.p_wait), float(r.p_abandon), float(r.service_level), float(r.still_waiting),
                    float(r.asa_s), float(r.occupancy))
        sl = float(service_level(n, a, aht, t))
        return (0.0, float(erlang_c(n, a)), 0.0, sl, 1.0 - sl, float(asa_s(n, a, aht)), float(occupancy(n, a)))
    lo = max(0, min(mode, c) - width)
    hi = min(hi, lo + _LINES_MAX_STATES)
    k = np.arange(lo, hi + 1, dtype=float)
    below = k <= c
    log_p = np.empty(k.shape)
    log_p[below] = k[below] * np.log(a) - sc.gammaln(k[below] + 1.0)
    j = k[~below] - c  # callers waiting
    log_pc = c * np.log(a) - sc.gammaln(c + 1.0)
    if theta > 0:
        x, y = c / aht / theta, a / aht / theta
        log_p[~below] = log_pc + j * np.log(y) - (sc.gammaln(x + j + 1.0) - sc.gammaln(x + 1.0))
    else:
        log_p[~below] = log_pc + j * np.log(a / c)
    log_z = np.logaddexp.reduce(log_p)
    p = np.exp(log_p - log_z)
    p_block = float(p[-1]) if hi == lines else 0.0
    # arrivals admitted at state k < N; those at k >= c wait with j = k - c ahead
    adm = k < lines
    now = adm & (k < c)
    wait = adm & (k >= c)
    jw = k[wait] - c
    pw = p[wait]
    mu = 1.0 / aht
    if theta > 0:
        x = c * mu / theta
        u = np.exp(-theta * t)
        p_ans = x / (x + jw + 1.0)
        within = p_ans * (1.0 - sc.betainc(x + 1.0, jw + 1.0, u)) if t > 0 else np.zeros_like(jw)
        still = u * sc.betainc(x, jw + 1.0, u) if t > 0 else np.ones_like(jw)
        w_ans = p_ans * (sc.digamma(x + jw + 2.0) - sc.digamma(x + 1.0)) / theta
    else:
        p_ans = np.ones_like(jw)
        within = sc.gammainc(jw + 1.0, c * mu * t) if t > 0 else np.zeros_like(jw)
        still = 1.0 - within
        w_ans = (jw + 1.0) / (c * mu)
    p_now = float(p[now].sum())
    answered = p_now + float((pw * p_ans).sum())
    sl = p_now + float((pw * within).sum())
    busy = float((p * np.minimum(k, c)).sum())
    asa = float((pw * w_ans).sum()) / answered if answered > 0 else np.nan
    return (p_block, float(pw.sum()), float((pw * (1.0 - p_ans)).sum()), min(sl, 1.0), float((pw * still).sum()),
            asa, busy / n if n > 0 else 0.0)
