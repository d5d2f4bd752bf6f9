"""High-precision reference values computed here with mpmath, independent of planner/ code.

Erlang B from its definition; Erlang A from the birth-death chain of M/M/n+M
(stationary sums), with the service level and ASA from the tagged caller's
stage-by-stage race (small n) or from quadrature of the offered-wait density.
"""

import mpmath as mp

mp.mp.dps = 50


def erlang_b(n: int, a: float) -> mp.mpf:
    """B(n, a) = (a^n / n!) / sum_{k<=n} a^k / k!, by the exact recursion in high precision."""
    a = mp.mpf(a)
    inv_b = mp.mpf(1)
    for k in range(1, n + 1):
        inv_b = 1 + inv_b * k / a
    return 1 / inv_b


def erlang_c(n: int, a: float) -> mp.mpf:
    b = erlang_b(n, a)
    rho = mp.mpf(a) / n
    return b / (1 - rho * (1 - b))


def _chain(n: int, a: float, aht: float, pat: float):
    a, aht, pat = mp.mpf(a), mp.mpf(aht), mp.mpf(pat)
    x = n * pat / aht  # n mu / theta
    y = a * pat / aht  # lambda / theta
    low = [mp.mpf(1)]  # a^k / k! relative to k = 0
    for k in range(1, n + 1):
        low.append(low[-1] * a / k)
    q = [low[-1]]  # pi_{n+j} relative
    j = 0
    while True:
        j += 1
        q.append(q[-1] * y / (x + j))
        if j > y - x + 10 and q[-1] < sum(q) * mp.mpf(10) ** -40:
            break
    z = sum(low[:-1]) + sum(q)
    return [v / z for v in low[:-1]], [v / z for v in q], x, y


def erlang_a(n: int, a: float, aht: float, pat: float, t: float, tagged: bool = False):
    """(p_wait, p_abandon, service_level, asa_s) of M/M/n+M in high precision."""
    low, q, x, y = _chain(n, a, aht, pat)
    theta = 1 / mp.mpf(pat)
    p_wait = sum(q)
    # a caller finding j waiting abandons unless it reaches service first: P(answered) = x / (x + j + 1)
    p_ab = sum(qj * (j + 1) / (x + j + 1) for j, qj in enumerate(q))
    t = mp.mpf(t)
    if tagged:
        # race of stages: with i ahead, rates theta (x + i) (advance) and theta (own abandonment);
        # answered within t = P(all j+1 advances happen before own abandonment, and by t)
        sl = sum(low)
        w_ans = mp.mpf(0)
        for j, qj in enumerate(q):
            rates = [theta * (x + i + 1) for i in range(j + 1)]  # total exit rate per stage
            p_adv = mp.fprod([(x + i) / (x + i + 1) for i in range(j + 1)])
            # hypoexponential CDF with distinct rates by partial fractions
            cdf = 1 - mp.fsum(
                mp.fprod([r2 / (r2 - r) for r2 in rates if r2 != r]) * mp.exp(-r * t) for r in rates
            )
            sl += qj * p_adv * cdf
            w_ans += qj * p_adv * mp.fsum(1 / r for r in rates)
        return p_wait, p_ab, sl, w_ans / (1 - p_ab)
    # offered-wait density of M/M/n+G (Baccelli & Hebuterne): f(v) = lambda pi_{n-1} exp(lambda int_0^v G(u) du - n mu v)
    mu, lam = 1 / mp.mpf(aht), mp.mpf(a) / mp.mpf(aht)
    f = lambda v: lam * low[-1] * mp.exp(y * (1 - mp.exp(-theta * v)) - n * mu * v)  # noqa: E731
    sl = sum(low) + mp.quad(lambda v: mp.exp(-theta * v) * f(v), [0, t])
    w_ans = mp.quad(lambda v: v * mp.exp(-theta * v) * f(v), [0, 1 / theta, 10 / theta, mp.inf])
    return p_wait, p_ab, sl, w_ans / (1 - p_ab)


def erlang_a_still_waiting(n: int, a: float, aht: float, pat: float, t: float, tagged: bool = False) -> mp.mpf:
    """P(a call is neither answered nor abandoned by t) in M/M/n+M = P(V > t) P(patience > t), V the offered wait.

    ``tagged``: a caller finding j waiting needs j+1 advances at rates theta (x + i), i = 0..j
    (hypoexponential tail by partial fractions); otherwise quadrature of the offered-wait density."""
    low, q, x, y = _chain(n, a, aht, pat)
    theta = 1 / mp.mpf(pat)
    t = mp.mpf(t)
    if tagged:
        tail = mp.mpf(0)
        for j, qj in enumerate(q):
            rates = [theta * (x + i) for i in range(j + 1)]
            tail += qj * mp.fsum(mp.fprod([r2 / (r2 - r) for r2 in rates if r2 != r]) * mp.exp(-r * t) for r in rates)
        return tail * mp.exp(-theta * t)
    mu, lam = 1 / mp.mpf(aht), mp.mpf(a) / mp.mpf(aht)
    f = lambda v: lam * low[-1] * mp.exp(y * (1 - mp.exp(-theta * v)) - n * mu * v)  # noqa: E731
    return mp.quad(f, [t, t + 1 / theta, t + 10 / theta, mp.inf]) * mp.exp(-theta * t)


def finite_lines(n: int, a: float, aht: float, pat: float | None, lines: int, t: float):
    """(p_block, p_abandon, service_level, still_waiting, asa_s) of M/M/n/N(+M) in high precision, per offered call.

    The chain's states 0..N by detailed balance; a caller admitted with j waiting ahead races j+1 stages
    (rates n mu + i theta) against its own patience, evaluated stage by stage (hypoexponential CDF by partial
    fractions); without patience the stages are Erlang(j+1, n mu) (Poisson tail)."""
    a, aht, t = mp.mpf(a), mp.mpf(aht), mp.mpf(t)
    mu = 1 / aht
    lam = a * mu
    c = min(n, lines)
    theta = mp.mpf(0) if pat is None else 1 / mp.mpf(pat)
    w = [mp.mpf(1)]
    for k in range(1, lines + 1):
        w.append(w[-1] * lam / (min(k, c) * mu + max(k - c, 0) * theta))
    z = mp.fsum(w)
    p = [v / z for v in w]
    sl = mp.fsum(p[:c])
    ab = still = w_ans = mp.mpf(0)
    for k in range(c, lines):
        j = k - c
        if theta == 0:
            rate = c * mu
            tail = mp.fsum((rate * t) ** i / mp.factorial(i) for i in range(j + 1)) * mp.exp(-rate * t)
            sl += p[k] * (1 - tail)
            still += p[k] * tail
            w_ans += p[k] * (j + 1) / rate
            continue
        x = c * mu / theta
        adv = [theta * (x + i) for i in range(j + 1)]  # the stages, without own abandonment
        tot = [r + theta for r in adv]  # each stage also ends by the caller's own abandonment
        p_adv = mp.fprod([r / r2 for r, r2 in zip(adv, tot)])
        cdf = 1 - mp.fsum(mp.fprod([r2 / (r2 - r) for r2 in tot if r2 != r]) * mp.exp(-r * t) for r in tot)
        sl += p[k] * p_adv * cdf
        ab += p[k] * (1 - p_adv)
        tail_v = mp.fsum(mp.fprod([r2 / (r2 - r) for r2 in adv if r2 != r]) * mp.exp(-r * t) for r in adv)
        still += p[k] * tail_v * mp.exp(-theta * t)
        w_ans += p[k] * p_adv * mp.fsum(1 / r for r in tot)
    answered = 1 - p[lines] - ab
    return p[lines], ab, sl, still, w_ans / answered
