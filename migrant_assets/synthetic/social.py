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
- New migrants' own new contacts are partly other new migrants (P_NEWCOMER) and neighbours
  (``p_near``: same NEAR_KM square); locals' contacts born elsewhere come from the main sending
  provinces (LOCALS_OTHER_P).
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
#: Townsmen among a new migrant's brought-along contacts, relative to their later choices: fewer,
#: so their townsman share grows as they settle in (paper 001 §4, Fig. 3(j)).
BROUGHT_TOWNSMAN = 0.1
#: A new migrant's new contact is a neighbour with their probability ``p_near``: someone whose
#: home is in the same NEAR_KM square (any province, sex, age), so friends' areas follow one's own
#: (paper 000 Fig. 7(b)); with probability P_NEWCOMER it is another new migrant (chosen as any
#: contact), less connected than the settled population (paper 001 Fig. 2(b)).
NEAR_KM, P_NEWCOMER = 3.0, 0.25
#: Log-duration shift of calls on a new migrant's brought-along ties: long calls home.
HOME_CALL_SHIFT = 0.4
#: s.d. of a tie's own log-odds of who calls, around the parties' out_bias difference.
DIRECTION_SD = 0.6
#: Locals' contacts born elsewhere come from the provinces sending most migrants, with weights
#: MIGRANT_P cubed: locals know the least diverse provinces (paper 001 Fig. 2(c)).
LOCALS_OTHER_P = MIGRANT_P**3 / (MIGRANT_P**3).sum()
#: Log-strength of a tie closed among one's contacts: as strong as a chosen tie, so its calls
#: (and the triangle) show in a week's graph (synthetic clustering was ~0.01 with weaker ones).
CLOSED_LOG_WEIGHT = 0.8
#: A leaver's brought-along ties are this much stronger again: their calls go to a few people
#: from home (paper 000 Fig. 3(h): leavers spread their calls less evenly).
LEAVER_HOME_TIES = 3.0
#: Added to the log duration of calls between two locals (paper 000 Fig. 5(c)).
LOCAL_CALL_SHIFT = 0.75
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


def _square(xy: np.ndarray, province: np.ndarray | None = None) -> np.ndarray:
    """Key of the NEAR_KM square of points in km around the centre, times the province when
    given (below N_KEYS: 15 x 15 squares x 31 provinces)."""
    side = 15
    g = np.clip(np.floor(xy / NEAR_KM).astype(np.int64) + side // 2, 0, side - 1)
    square = g[:, 0] * side + g[:, 1]
    return square if province is None else square * 31 + province


def _keys(pool: np.ndarray, province: np.ndarray, sex: np.ndarray, age: np.ndarray):
    band = np.clip(age.astype(np.int64) // 5, 0, N_AGE_BANDS - 1)
    by_province = pool.astype(np.int64) * 64 + province
    return (by_province * 2 + sex) * N_AGE_BANDS + band, by_province, pool.astype(np.int64)


def _choose_contacts(rng, pop: Population, ego, pos, p_town, p_local, p_ext) -> np.ndarray:
    n = ego.size
    # Pools: 0 the operator's owners present from the start, 1 other operators, 2 new migrants
    # (nobody draws them: their contacts are their own choices, and friends of friends).
    candidates = np.flatnonzero(pop.role != SERVICE)
    c_pool = np.select([pop.role[candidates] == EXTERNAL,
                        (pop.role[candidates] == NEW) & (not pop.null)], [1, 2], 0)
    c_keys = _keys(c_pool, pop.province[candidates], pop.sex[candidates], pop.age[candidates])
    u = rng.random(n)
    elsewhere = rng.choice(MIGRANT_P.size, n, p=MIGRANT_P)
    if not pop.null:
        local = np.flatnonzero(pop.province[ego] == 0)
        elsewhere[local] = rng.choice(MIGRANT_P.size, local.size, p=LOCALS_OTHER_P)
    province = np.where(u < p_town, pop.province[ego], np.where(u < p_town + p_local, 0, elsewhere))
    sex = np.where(rng.random(n) < pop.p_same_sex[ego], pop.sex[ego], 1 - pop.sex[ego])
    age = pop.age[ego] + rng.normal(0, pop.age_sd[ego])
    q_pool = (rng.random(n) < p_ext).astype(np.int64)
    newcomer = (pop.role[ego] == NEW) & (not pop.null) & (pos >= pop.k_initial[ego])
    local_ties = newcomer | (pop.leaver[ego] & (not pop.null))  # neighbours: all of a leaver's
    q_pool[newcomer & (q_pool == 0) & (rng.random(n) < P_NEWCOMER)] = 2
    q_keys = _keys(q_pool, province, sex, np.clip(age, 0, 99))
    partner = np.full(n, -1, np.int64)
    # Neighbours: the operator's owners (pool 0) whose home is in the ego's square.
    o = pop.n_owners
    owners = candidates[(candidates < o) & (c_pool == 0)]
    near = np.flatnonzero((rng.random(n) < pop.p_near[ego]) & local_ties & (q_pool == 0))
    if owners.size and near.size:  # a neighbour of the target province, else any neighbour
        partner[near] = _pick(_square(pop.home_xy[owners], pop.province[owners]), owners,
                              _square(pop.home_xy[ego[near]], province[near]),
                              rng.random(near.size))
        open_ = near[partner[near] < 0]
        partner[open_] = _pick(_square(pop.home_xy[owners]), owners,
                               _square(pop.home_xy[ego[open_]]), rng.random(open_.size))
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
    planted = brought & (not pop.null)  # the null city: brought-along ties follow the owner's law
    # a leaver's brought-along contacts are townsmen as much as their later ones
    p_town = np.where(planted & ~pop.leaver[ego], BROUGHT_TOWNSMAN * pop.p_townsman[ego],
                      pop.p_townsman[ego])
    p_local = np.where(planted, 0.05, pop.p_local[ego])
    p_ext = np.where(planted, 0.5, pop.p_external[ego])
    partner = _choose_contacts(rng, pop, ego, pos, p_town, p_local, p_ext)
    # A new migrant's first brought-along contact is a relative on another operator (the null
    # city: everyone's first contact held at the start is one).
    social = pop.role[ego] != EXTERNAL
    relative = (brought | (initial & social & pop.null)) & (pos == 0)
    ext = np.flatnonzero(pop.role == EXTERNAL)
    partner[relative] = ext[rng.integers(0, ext.size, int(relative.sum()))]

    ramp = np.floor(14 * rng.random(ego.size) ** 1.3)
    form = np.where(
        initial, -1, np.where(is_new & (not pop.null), pop.first[ego] + ramp,
                              rng.integers(0, n_days, ego.size))
    ).astype(np.int16)
    if pop.null:  # the null city: no trend over the month, every tie exists from the start
        form[:] = -1
    kind = np.where(brought, BROUGHT, np.where(initial, INITIAL, GROWN)).astype(np.int8)
    weight = rng.lognormal(0.0, 0.9, ego.size) * np.where(planted, 2.5, 1.0)
    weight[relative & planted] *= 2.0
    weight[planted & pop.leaver[ego]] *= LEAVER_HOME_TIES
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
    cweight = rng.lognormal(CLOSED_LOG_WEIGHT, 0.8, cego.size)
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
    logit = pop.out_bias[u] - pop.out_bias[v] + rng.normal(0, DIRECTION_SD, u.size)
    # a closed tie is called as often as a chosen one but its calls are of ordinary length
    strength = np.where(kind == CLOSED, 0.0, np.log(weight))
    both_local = (pop.province[u] == 0) & (pop.province[v] == 0) & (not pop.null)
    mu = 4.0 + 0.35 * strength + pop.duration_shift[u] + pop.duration_shift[v]
    mu = mu + LOCAL_CALL_SHIFT * both_local + HOME_CALL_SHIFT * (kind == BROUGHT) * (not pop.null)
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
