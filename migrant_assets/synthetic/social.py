"""The social graph of the synthetic city (SPEC §7): ties with homophily and triadic closure, each
with a formation day, a call rate, a direction bias and a call-duration law.

- Each owner draws ``k_initial`` contacts held before the month (new migrants: brought along at
  arrival, mostly townsmen and other operators' numbers, the first one a relative on another
  operator) and ``k_new`` contacts formed during the month (new migrants: over their first 14
  days, front-loaded).
- A contact is chosen by its attributes: own province with the owner's townsman probability,
  Shanghai with the local probability, otherwise a province drawn like migrants'; same sex with the
  owner's same-sex probability; age within the owner's age spread; on another operator with the
  owner's external probability; new migrants are never drawn (they only choose). The first
  matching stratum (province × sex × 5-year age band,
  then province, then operator) supplies a random member.
- Triadic closure: each owner links pairs of its own contacts, ``closure`` times its degree on
  average; the new tie forms when both of the owner's ties exist.
- Ties between two parties of other operators are dropped (their calls are not the operator's).

Call rates are lognormal tie strengths times both parties' activity, scaled so the expected number
of calls over the presence overlap of each tie (weekends weighted 0.85, quiet spells left out)
sums to ``calls_per_month``. A block's ties never leave the block (``writer``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from migrant_assets.synthetic.population import EXTERNAL, MIGRANT_P, NEW, SERVICE, Population

INITIAL, BROUGHT, GROWN, CLOSED = range(4)
N_AGE_BANDS = 20
N_KEYS = 3 * 64 * 2 * N_AGE_BANDS  # strata keys are below this (pools × provinces × sex × age)


@dataclass(frozen=True)
class Ties:
    """Undirected ties; ``family[p]`` is the tie of new migrant p to their relative."""

    u: np.ndarray
    v: np.ndarray
    form: np.ndarray  # first day the tie exists (−1: before the month)
    kind: np.ndarray
    rate: np.ndarray  # expected calls per day when both are present
    p_u_calls: np.ndarray  # probability that u is the caller of a call on this tie
    mu: np.ndarray  # log-duration location (seconds)
    sigma: np.ndarray  # log-duration scale: heavier tails for strong ties
    family: np.ndarray  # per person: index of the relative's tie, −1 if none
    lo: np.ndarray  # first day both parties are present and the tie exists
    span: np.ndarray  # days from ``lo`` to the last day both are present (0: never)

    @property
    def size(self) -> int:
        return self.u.size


def _pick(member_key: np.ndarray, members: np.ndarray, query: np.ndarray, u: np.ndarray):
    """A random member whose key equals each query key (−1 when the stratum is empty)."""
    order = np.argsort(member_key.astype(np.int16), kind="stable")  # small keys: radix sort
    count = np.bincount(member_key, minlength=N_KEYS)
    left = (np.cumsum(count) - count)[query]
    count = count[query]
    pos = np.minimum(left + (u * count).astype(np.int64), members.size - 1)
    return np.where(count > 0, members[order[pos]], -1)


def _keys(pool: np.ndarray, province: np.ndarray, sex: np.ndarray, age: np.ndarray):
    band = np.clip(age.astype(np.int64) // 5, 0, N_AGE_BANDS - 1)
    by_province = pool.astype(np.int64) * 64 + province
    return (by_province * 2 + sex) * N_AGE_BANDS + band, by_province, pool.astype(np.int64)


def _choose_contacts(rng, pop: Population, ego, p_town, p_local, p_ext) -> np.ndarray:
    n = ego.size
    # Pools: 0 the operator's owners present from the start, 1 other operators, 2 new migrants
    # (nobody draws them: their contacts are their own choices, and friends of friends).
    candidates = np.flatnonzero(pop.role != SERVICE)
    c_pool = np.select([pop.role[candidates] == EXTERNAL, pop.role[candidates] == NEW], [1, 2], 0)
    c_keys = _keys(c_pool, pop.province[candidates], pop.sex[candidates], pop.age[candidates])
    u = rng.random(n)
    province = np.where(
        u < p_town,
        pop.province[ego],
        np.where(u < p_town + p_local, 0, rng.choice(MIGRANT_P.size, n, p=MIGRANT_P)),
    )
    sex = np.where(rng.random(n) < pop.p_same_sex[ego], pop.sex[ego], 1 - pop.sex[ego])
    age = pop.age[ego] + rng.normal(0, pop.age_sd[ego])
    q_pool = (rng.random(n) < p_ext).astype(np.int64)
    q_keys = _keys(q_pool, province, sex, np.clip(age, 0, 99))
    partner = np.full(n, -1, np.int64)
    for c_key, q_key in zip(c_keys, q_keys, strict=True):
        open_ = partner < 0
        partner[open_] = _pick(c_key, candidates, q_key[open_], rng.random(int(open_.sum())))
    return partner


def first_of_each(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort ``key`` and return the distinct keys in order with, for each, the first position
    holding it: the same whatever the sort algorithm (equal keys are broken by position)."""
    order = np.argsort(key)
    key = key[order]
    start = np.ones(key.size, bool)
    start[1:] = key[1:] != key[:-1]
    start = np.flatnonzero(start)
    first = np.minimum.reduceat(order, start) if key.size else order
    return key[start], first


def _dedupe(u, v, form, kind, weight):
    """One tie per unordered pair (the earliest formed); no self ties, none between externals.
    One sort of a packed (pair, formation day) key."""
    a, b = np.minimum(u, v).astype(np.int64), np.maximum(u, v).astype(np.int64)
    bits = int(max(int(b.max(initial=0)), 1)).bit_length()
    key, first = first_of_each((((a << bits) | b) << 16) | (form.astype(np.int64) + 1))
    pair = key >> 16
    keep = np.ones(key.size, bool)
    keep[1:] = pair[1:] != pair[:-1]
    first = first[keep & (a[first] != b[first])]
    return a[first], b[first], form[first], kind[first], weight[first]


def _weight_within(lo, end, q0, q1, cum):
    """Sum of the day weights over the days of ``[lo, end)`` that are also in ``[q0, q1)``."""
    last = cum.size - 1
    a, b = np.minimum(np.maximum(lo, q0), last), np.minimum(np.minimum(end, q1), last)
    return np.where(b > a, cum[np.maximum(b, a)] - cum[a], 0.0)


def build_ties(
    rng: np.random.Generator, pop: Population, n_days: int, calls_per_month: int,
    day_weight: np.ndarray | None = None,
) -> Ties:
    """Draw the social graph; see the module docstring. ``day_weight`` (1 on weekdays) is the
    call-rate factor of each day, so the expected calls add up to ``calls_per_month``."""
    k_total = pop.k_initial + pop.k_new
    ego = np.repeat(np.arange(pop.n_persons), k_total)
    starts = np.cumsum(k_total) - k_total
    pos = np.arange(ego.size) - np.repeat(starts, k_total)
    initial = pos < pop.k_initial[ego]
    is_new = pop.role[ego] == NEW
    brought = initial & is_new
    p_town = np.where(brought, np.where(pop.province[ego] == 0, 0.0, 0.5), pop.p_townsman[ego])
    p_local = np.where(brought, 0.05, pop.p_local[ego])
    p_ext = np.where(brought, 0.5, pop.p_external[ego])
    partner = _choose_contacts(rng, pop, ego, p_town, p_local, p_ext)
    # A new migrant's first brought-along contact is a relative on another operator.
    relative = brought & (pos == 0)
    ext = np.flatnonzero(pop.role == EXTERNAL)
    partner[relative] = ext[rng.integers(0, ext.size, int(relative.sum()))]

    ramp = np.floor(14 * rng.random(ego.size) ** 1.3)
    form = np.where(
        initial, -1, np.where(is_new, pop.first[ego] + ramp, rng.integers(0, n_days, ego.size))
    ).astype(np.int16)
    kind = np.where(brought, BROUGHT, np.where(initial, INITIAL, GROWN)).astype(np.int8)
    weight = rng.lognormal(0.0, 0.9, ego.size) * np.where(brought, 2.5, 1.0)
    weight[relative] *= 2.0
    ok = partner >= 0
    u, v, form, kind, weight = _dedupe(ego[ok], partner[ok], form[ok], kind[ok], weight[ok])

    # Triadic closure among each owner's contacts.
    both = np.concatenate([u, v])
    other = np.concatenate([v, u])
    both_form = np.concatenate([form, form])
    order = np.argsort(both, kind="stable")
    nbr, nbr_form = other[order], both_form[order]
    degree = np.bincount(both, minlength=pop.n_persons)
    offset = np.cumsum(degree) - degree
    n_close = np.where(degree >= 2, rng.poisson(pop.closure * degree), 0)
    cego = np.repeat(np.arange(pop.n_persons), n_close)
    i = offset[cego] + (rng.random(cego.size) * degree[cego]).astype(np.int64)
    j = offset[cego] + (rng.random(cego.size) * degree[cego]).astype(np.int64)
    cu, cv = nbr[i], nbr[j]
    cform = np.maximum(nbr_form[i], nbr_form[j])
    cweight = rng.lognormal(-0.2, 0.8, cego.size)
    u, v, form, kind, weight = _dedupe(
        np.concatenate([u, cu]), np.concatenate([v, cv]), np.concatenate([form, cform]),
        np.concatenate([kind, np.full(cu.size, CLOSED, np.int8)]),
        np.concatenate([weight, cweight]),
    )
    seen = (pop.role[u] != EXTERNAL) | (pop.role[v] != EXTERNAL)
    u, v, form, kind, weight = u[seen], v[seen], form[seen], kind[seen], weight[seen]

    # Rates scaled to the month's call target: the expected calls of a tie are its rate times
    # the weighted days both parties are present (out of quiet spells; fading leavers aside).
    raw = weight * pop.activity[u] * pop.activity[v]
    lo = np.maximum(np.maximum(pop.first[u], pop.first[v]), np.maximum(form, 0))
    hi = np.minimum(pop.last[u], pop.last[v])
    span = np.maximum(0, hi - lo + 1)
    weights = np.ones(n_days) if day_weight is None else np.asarray(day_weight, float)
    cum = np.concatenate([[0.0], np.cumsum(weights)])
    days = np.where(span > 0, cum[np.minimum(hi + 1, n_days)] - cum[np.minimum(lo, n_days)], 0.0)
    quiet = np.flatnonzero((span > 0) & ((pop.quiet_end[u] > pop.quiet_start[u])
                                         | (pop.quiet_end[v] > pop.quiet_start[v])))
    lo_, end = lo[quiet].astype(np.int64), (hi[quiet] + 1).astype(np.int64)
    qu0, qu1 = pop.quiet_start[u[quiet]], pop.quiet_end[u[quiet]]
    qv0, qv1 = pop.quiet_start[v[quiet]], pop.quiet_end[v[quiet]]
    days[quiet] -= (_weight_within(lo_, end, qu0, qu1, cum)
                    + _weight_within(lo_, end, qv0, qv1, cum)
                    - _weight_within(lo_, end, np.maximum(qu0, qv0), np.minimum(qu1, qv1), cum))
    rate = raw * (calls_per_month / max(float((raw * days).sum()), 1e-9))
    logit = pop.out_bias[u] - pop.out_bias[v] + rng.normal(0, 1.2, u.size)
    strength = np.log(weight)
    both_local = (pop.province[u] == 0) & (pop.province[v] == 0)
    mu = 4.0 + 0.35 * strength + (pop.duration_shift[u] + pop.duration_shift[v]) / 2
    mu = mu + 0.3 * both_local
    sigma = 0.85 + 0.15 * np.clip(strength, 0, 2)
    # A new migrant's relative: its strongest brought-along tie to another operator's number.
    family = np.full(pop.n_persons, -1, np.int64)
    external = (pop.role[u] == EXTERNAL) | (pop.role[v] == EXTERNAL)
    rel = np.flatnonzero((kind == BROUGHT) & external)
    rel = rel[np.argsort(weight[rel], kind="stable")]
    family[np.where(pop.role[u[rel]] == EXTERNAL, v[rel], u[rel])] = rel
    return Ties(
        u=u.astype(np.int32), v=v.astype(np.int32), form=form.astype(np.int16), kind=kind,
        rate=rate.astype(np.float64), p_u_calls=1 / (1 + np.exp(-logit)), mu=mu, sigma=sigma,
        family=family, lo=lo.astype(np.int16), span=span.astype(np.int16),
    )
