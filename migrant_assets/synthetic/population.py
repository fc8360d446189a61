"""Who lives in the synthetic city (SPEC §7): the operator's owners by group, the parties of other
operators, their attributes, numbers, presence calendar, places and behavioural parameters.

Groups and the calendar (day offsets from ``start``; the defaults are the 2016-09 dates of
SPEC §2):

- locals (born in Shanghai) and settled migrants are present all month; a share of them is silent
  for 7–9 consecutive days (so the activity rules of SPEC §3 bite);
- new migrants arrive on 09-05..09-11 (window A, ``share_arriving_in_a``) or 09-12..09-16 and make
  their first call on their arrival day; ``leave_share`` of the A-arrivals are leavers, whose last
  call is on one day of 09-12..09-18 (window B), then silent;
- 'other' owners: half short visitors (2–7 days; a tenth of them with a local number), half
  migrants with only non-local numbers (neither are users under SPEC §3);
- service numbers: flagged ones (delivery, customer service, fraud) and unflagged ones, whose
  customers are in :mod:`.calls`;
- external parties: numbers of other operators, with hidden attributes used only for homophily.

Behaviour is per person: a group's :class:`GroupBehaviour` plus individual noise, so the groups'
distributions overlap. The values plant the papers' findings (docs/synthetic_city.md, issue 16);
new migrants land in a first home nearer the centre and move to their own a few days later.
The null city (``null=True``) gives every studied group ``NULL_BEHAVIOUR`` and puts arrivals and
departures on the study windows' edges.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from migrant_assets.synthetic.geography import Geography, place
from migrant_assets.synthetic.presets import Preset
from migrant_assets.synthetic.seeding import permute

#: Birth provinces; index 0 is the study city. Weights for migrants: neighbours first (SPEC §7).
PROVINCE_WEIGHTS: dict[str, float] = {
    "Shanghai": 0.0,
    "Anhui": 0.22,
    "Jiangsu": 0.17,
    "Zhejiang": 0.10,
    "Henan": 0.08,
    "Jiangxi": 0.06,
    "Sichuan": 0.06,
    "Hubei": 0.05,
    "Shandong": 0.045,
    "Fujian": 0.035,
    "Hunan": 0.035,
    "Chongqing": 0.02,
    "Heilongjiang": 0.012,
    "Guizhou": 0.012,
    "Shanxi": 0.01,
    "Hebei": 0.01,
    "Gansu": 0.008,
    "Liaoning": 0.008,
    "Shaanxi": 0.008,
    "Guangdong": 0.008,
    "Guangxi": 0.006,
    "Yunnan": 0.006,
    "Jilin": 0.006,
    "Beijing": 0.004,
    "Tianjin": 0.003,
    "Inner Mongolia": 0.003,
    "Xinjiang": 0.003,
    "Ningxia": 0.002,
    "Hainan": 0.002,
    "Qinghai": 0.001,
    "Tibet": 0.001,
}
PROVINCES = np.array(list(PROVINCE_WEIGHTS))
MIGRANT_P = np.array(list(PROVINCE_WEIGHTS.values())) / sum(PROVINCE_WEIGHTS.values())

ROLES = ("local", "settled_migrant", "new_migrant", "other", "service", "external")
LOCAL, SETTLED, NEW, OTHER, SERVICE, EXTERNAL = range(6)
USER_TYPES = ("regular", "delivery", "customer_service", "fraud")
MAX_PLACES = 8
#: A new migrant's landing home is this far round the centre from their own home (radians), so
#: it is farther from work (paper 000 Fig. 6(d): home-work distance shrinks once they move).
LANDING_TURN = 0.6
#: Staying migrants who share one of the two leaving traits (few new contacts, or a townsman
#: network), half each: the interaction of :func:`build_population`.
STAYER_LIKE_LEAVER = 0.3
#: Where people live round the centre (generator 3.2): locals mostly east of it, migrants
#: (settled and new) mostly west, in the migrant quarter, each home's bearing from a wrapped
#: Cauchy law of this concentration (0.85: 95% within a quarter turn of their side), the
#: distances unchanged. A linear model can tell the two sides apart (IM01: geography the most
#: influential set for settled migrants vs locals); prices and radii, radial, do not change.
HOME_FOCUS = 0.85
EAST, WEST = 0.0, float(np.pi)


@dataclass(frozen=True)
class GroupBehaviour:
    """Means of a group's behavioural parameters (individuals draw around them)."""

    initial_ties: float  # contacts held at month start (new migrants: brought along at arrival)
    new_ties: float  # contacts made during the month (new migrants: in their first 14 days)
    p_townsman: float  # a new contact is born in one's own province (migrants)
    p_local: float  # a new contact is born in Shanghai
    p_external: float  # a new contact is on another operator
    p_same_sex: float
    age_sd: float  # years between one's age and a contact's
    closure: float  # triangles closed among one's contacts, per contact
    activity: float  # call-rate multiplier
    out_bias: float  # log-odds of being the caller on one's ties
    duration_shift: float  # added to log call duration
    home_km: float  # median distance of home to the centre
    commute_km: float  # median home-work distance
    radius_km: float  # mean distance of other places from home/work
    n_places: float  # mean number of other places
    age_mean: float
    age_spread: float
    p_male: float
    landing_km: float = 0.0  # new migrants: km from one's own home toward the centre of the
    # first (landing) home, pricier and farther from work
    move_after: float = 0.0  # median days after arrival before moving to one's own home (0: none)
    roam: float = 1.0  # multiplies the probability that a call is made from another place
    p_near: float = 0.0  # new migrants: a new contact is a neighbour (social.P_NEAR)
    home_bearing: float = 0.0  # direction of home from the centre (radians, 0: east) ...
    home_focus: float = 0.0  # ... and how concentrated round it (wrapped Cauchy; 0: any)


#: Directions of the papers, planted in behaviour (docs/synthetic_city.md has the table of which
#: finding each value carries): locals have ~75% local contacts, larger and older networks, few
#: other operators' numbers among them and live in the periphery, far from work; settled migrants
#: have the largest networks, the best-connected contacts, the widest places and the fewest
#: triangles; new migrants have fewer contacts, many on other operators, close-knit, more outgoing
#: and, once settled in, longer calls; they land in a pricier home near the centre and move to
#: their own home after a few days. Leavers grow fewer, less diverse, more townsman, same-sex and
#: same-age contacts, call less, move less, and never leave their landing home. Generator 3.1
#: (the model findings, docs/synthetic_city.md): leavers live nearest the centre (3 km: housing
#: prices lead Figure 9) with a moderate active area, locals farther out (22 km) and settled
#: migrants nearer (6 km) than before.
BEHAVIOUR: dict[str, GroupBehaviour] = {
    "local": GroupBehaviour(
        initial_ties=13, new_ties=1.0, p_townsman=0.0, p_local=0.95, p_external=0.45,
        p_same_sex=0.85, age_sd=6, closure=1.5, activity=1.0, out_bias=0.0,
        duration_shift=0.0, home_km=22, commute_km=5, radius_km=4.5, n_places=8.0,
        age_mean=43, age_spread=13, p_male=0.5, roam=2.6, home_bearing=EAST,
        home_focus=HOME_FOCUS),
    "settled_migrant": GroupBehaviour(
        initial_ties=34, new_ties=1.5, p_townsman=0.40, p_local=0.08, p_external=0.10,
        p_same_sex=0.52, age_sd=4, closure=0.0, activity=1.35, out_bias=0.1,
        duration_shift=0.1, home_km=6, commute_km=11, radius_km=12.0, n_places=3.0,
        age_mean=34, age_spread=9, p_male=0.55, roam=0.3, home_bearing=WEST,
        home_focus=HOME_FOCUS),
    "new_staying": GroupBehaviour(
        initial_ties=4, new_ties=13.0, p_townsman=0.38, p_local=0.03, p_external=0.15,
        p_same_sex=0.36, age_sd=12, closure=1.5, activity=1.1, out_bias=0.9,
        duration_shift=0.7, home_km=10, commute_km=3.5, radius_km=6.0, n_places=6.0,
        age_mean=26, age_spread=6, p_male=0.56, landing_km=3.0, move_after=6.0, p_near=0.15,
        home_bearing=WEST, home_focus=HOME_FOCUS),
    "new_leaving": GroupBehaviour(
        initial_ties=4, new_ties=9.0, p_townsman=0.80, p_local=0.10, p_external=0.75,
        p_same_sex=0.75, age_sd=2, closure=10.0, activity=1.3, out_bias=2.3,
        duration_shift=-0.3, home_km=3.0, commute_km=3.5, radius_km=4.0, n_places=4.0,
        age_mean=25, age_spread=6, p_male=0.58, p_near=0.15, home_bearing=WEST,
        home_focus=HOME_FOCUS),
    "other": GroupBehaviour(
        6, 0.5, 0.30, 0.35, 0.40, 0.50, 9, 0.20, 0.6, 0.0, 0.0, 10, 6, 4.0, 2.0, 33, 11, 0.55
    ),
    "external": GroupBehaviour(
        0, 0.0, 0.20, 0.55, 0.35, 0.50, 9, 0.0, 1.0, 0.0, 0.0, 10, 6, 4.0, 2.0, 37, 12, 0.52
    ),
}
#: The null city (``generate(..., null=True)``): every studied owner (locals, settled, new staying
#: and leaving migrants) draws from this one behaviour, values between theirs, with the same
#: attribute laws; no townsman preference, no landing home, no group-specific mechanism.
NULL_BEHAVIOUR = GroupBehaviour(
    initial_ties=12, new_ties=4.0, p_townsman=0.0, p_local=0.45, p_external=0.30,
    p_same_sex=0.5, age_sd=7, closure=0.5, activity=1.1, out_bias=0.0, duration_shift=0.2,
    home_km=10, commute_km=7, radius_km=5.0, n_places=4.0, age_mean=34, age_spread=10,
    p_male=0.55)
STUDIED = ("local", "settled_migrant", "new_staying", "new_leaving")
BKEYS = tuple(BEHAVIOUR)


def _table(name: str, null: bool = False) -> np.ndarray:
    return np.array([getattr(NULL_BEHAVIOUR if null and k in STUDIED else BEHAVIOUR[k], name)
                     for k in BKEYS], dtype=float)


def _beta(rng: np.random.Generator, mean: np.ndarray, concentration: float = 12.0) -> np.ndarray:
    mean = np.clip(mean, 1e-3, 1 - 1e-3)
    return rng.beta(mean * concentration, (1 - mean) * concentration)


@dataclass
class Population:
    """Struct of arrays over persons: owners first (index = owner), then external parties."""

    n_owners: int
    role: np.ndarray
    bkey: np.ndarray  # index into BKEYS (services use 'other', they have no ties)
    leaver: np.ndarray
    first: np.ndarray  # first day present (offset)
    last: np.ndarray  # last day present (inclusive)
    quiet_start: np.ndarray
    quiet_end: np.ndarray  # exclusive; equal to quiet_start when never quiet
    province: np.ndarray
    age: np.ndarray
    sex: np.ndarray  # 1 = M
    missing_age: np.ndarray
    missing_sex: np.ndarray
    missing_province: np.ndarray
    user_type: np.ndarray
    num1: np.ndarray  # index into the number table
    num2: np.ndarray  # -1 when the owner has one number
    local1: np.ndarray
    local2: np.ndarray
    k_initial: np.ndarray
    k_new: np.ndarray
    p_townsman: np.ndarray
    p_local: np.ndarray
    p_external: np.ndarray
    p_same_sex: np.ndarray
    age_sd: np.ndarray
    closure: np.ndarray
    activity: np.ndarray
    out_bias: np.ndarray
    duration_shift: np.ndarray
    radius_km: np.ndarray
    p_near: np.ndarray
    roam: np.ndarray  # multiplies the probability of a call from another place
    home_cell: np.ndarray
    work_cell: np.ndarray
    places: np.ndarray  # (n_owners, MAX_PLACES) cells of other places
    n_places: np.ndarray
    home_xy: np.ndarray
    work_xy: np.ndarray
    numbers: np.ndarray  # int64 11-digit numbers: operator's first, then external parties'
    landing_cell: np.ndarray  # (n_owners,) a new migrant's first home, −1 when none
    move_day: np.ndarray  # (n_owners,) first day at one's own home (before: the landing cell)
    visit: np.ndarray  # day of a visit call before arriving (null city's late arrivals), −1
    null: bool = False  # every studied group draws from NULL_BEHAVIOUR

    @property
    def n_persons(self) -> int:
        return self.role.size

    def present(self, day: int) -> np.ndarray:
        """Who may call or be called on ``day``."""
        quiet = (self.quiet_start <= day) & (day < self.quiet_end)
        return (self.first <= day) & (day <= self.last) & ~quiet

    def summary(self) -> dict[str, int]:
        owners = slice(0, self.n_owners)
        role = self.role[owners]
        out = {name: int((role == i).sum()) for i, name in enumerate(ROLES[:-1])}
        out["leaving_migrant"] = int(self.leaver.sum())
        out["service_flagged"] = int(((role == SERVICE) & (self.user_type[owners] > 0)).sum())
        out["service_unflagged"] = out["service"] - out["service_flagged"]
        out["owners_with_two_numbers"] = int((self.num2 >= 0).sum())
        out["owners_without_local_number"] = int((~self.local1 & ~(self.local2 & (self.num2 >= 0)))
                                                 [owners].sum())
        out["external_parties"] = self.n_persons - self.n_owners
        return out


# China Telecom's mobile prefixes for the operator, others' for external parties.
OPERATOR_PREFIXES = np.array([133, 149, 153, 173, 177, 180, 181, 189, 199])
OTHER_PREFIXES = np.array([130, 131, 132, 134, 135, 136, 137, 138, 139, 150, 151, 152, 155, 156,
                           157, 158, 159, 182, 183, 185, 186, 187, 188])


def _numbers(prefixes: np.ndarray, index: np.ndarray, seed: int, purpose: str) -> np.ndarray:
    """The numbers of a range of the city's numbering: a keyed bijection of the index onto the
    prefixes' 8-digit space, so every block's numbers are unique in the whole city."""
    code = permute(index, prefixes.size * 100_000_000, seed, purpose)
    return prefixes[code // 100_000_000].astype(np.int64) * 100_000_000 + code % 100_000_000


def build_population(
    rng: np.random.Generator, preset: Preset, n_days: int, geo: Geography, *, seed: int = 0,
    owner_offset: int = 0, external_offset: int = 0, city_owners: int | None = None,
    null: bool = False,
) -> Population:
    """Draw every person of a block (by default the whole city); see the module docstring for
    the groups. Owners are numbers ``owner_offset..`` of the city's ``city_owners`` (first
    numbers, then second numbers), external parties ``external_offset..`` of other operators'.
    ``null``: the null city (docs/synthetic_city.md): the studied groups share one behaviour,
    arrivals and departures fall on the study windows' edges and nobody has a quiet spell."""
    p = preset
    n_service = p.n_delivery + p.n_customer_service + p.n_fraud + p.n_unflagged_service
    sizes = [p.n_local, p.n_settled, p.n_new, p.n_other, n_service, p.n_external]
    role = np.repeat(np.arange(6, dtype=np.int8), sizes)
    n_owners = role.size - p.n_external
    n = role.size
    last_day = n_days - 1

    # Calendar: arrivals, leavers, visitors, quiet spells.
    first = np.zeros(n, np.int16)
    last = np.full(n, last_day, np.int16)
    leaver = np.zeros(n, bool)
    new = np.flatnonzero(role == NEW)
    n_a = round(p.share_arriving_in_a * new.size)
    first[new[:n_a]] = 4 + rng.integers(0, 7, n_a)
    first[new[n_a:]] = 11 + rng.integers(0, 5, new.size - n_a)
    leavers = rng.choice(new[:n_a], size=round(p.leave_share * n_a), replace=False)
    leaver[leavers] = True
    last[leavers] = 11 + rng.integers(0, 7, leavers.size)
    visit = np.full(n, -1, np.int16)
    if null:
        # Window edges (SPEC §2 calendar): A-arrivals on 09-05, the first day of week A; leavers'
        # last day 09-18, the last of week B; later arrivals on 09-10, the first day of W2, after
        # a visit call on 09-01/02 (outside W1, so they are the integration study's new migrants,
        # and inside 09-01..04, so the departure study leaves them out). No group is then seen
        # for part of a week only: that would separate the groups whatever their behaviour.
        first[new[:n_a]] = 4
        first[new[n_a:]] = 9
        visit[new[n_a:]] = rng.integers(0, 2, new.size - n_a)
        last[leavers] = 17
    other = np.flatnonzero(role == OTHER)
    visitors = other[: other.size // 2]
    first[visitors] = rng.integers(0, n_days - 2, visitors.size)
    last[visitors] = first[visitors] + rng.integers(1, 7, visitors.size)
    first, last = np.minimum(first, last_day), np.minimum(last, last_day)
    quiet_start = np.zeros(n, np.int16)
    quiet_end = np.zeros(n, np.int16)
    settled_or_local = np.flatnonzero((role == LOCAL) | (role == SETTLED))
    quiet = settled_or_local[rng.random(settled_or_local.size) < (0 if null else p.quiet_share)]
    quiet_start[quiet] = rng.integers(0, max(1, n_days - 7), quiet.size)
    quiet_end[quiet] = quiet_start[quiet] + rng.integers(7, 10, quiet.size)

    bkey = np.select(
        [role == LOCAL, role == SETTLED, (role == NEW) & ~leaver, leaver, role == EXTERNAL],
        [0, 1, 2, 3, 5],
        4,
    ).astype(np.int8)

    def table(name: str) -> np.ndarray:
        return _table(name, null)

    # Attributes (hidden for external parties, a few masked for owners).
    province = np.where(role == LOCAL, 0, rng.choice(PROVINCES.size, n, p=MIGRANT_P))
    ext = role == EXTERNAL
    province[ext & (rng.random(n) < BEHAVIOUR["external"].p_local)] = 0
    province = province.astype(np.int8)
    age = np.clip(
        rng.normal(table("age_mean")[bkey], table("age_spread")[bkey]), 16, 85
    ).astype(np.int16)
    sex = (rng.random(n) < table("p_male")[bkey]).astype(np.int8)
    owner = np.arange(n) < n_owners
    missing = [owner & (rng.random(n) < p.missing_share) for _ in range(3)]
    user_type = np.zeros(n, np.int8)
    service = np.flatnonzero(role == SERVICE)
    flags = np.repeat([1, 2, 3, 0], [p.n_delivery, p.n_customer_service, p.n_fraud,
                                     p.n_unflagged_service])
    user_type[service] = flags

    # Numbers: operator numbers for owners (a second one for some), other operators' for externals.
    nonlocal_only = other[other.size // 2 :]  # migrants with non-local numbers only
    two = owner & (role != SERVICE) & (rng.random(n) < p.two_number_share)
    two[nonlocal_only] = False
    n_op = n_owners + int(two.sum())
    city_owners = n_owners if city_owners is None else city_owners
    first_numbers = owner_offset + np.arange(n_owners)
    op_index = np.concatenate([first_numbers, city_owners + first_numbers[two[:n_owners]]])
    numbers = np.concatenate([
        _numbers(OPERATOR_PREFIXES, op_index, seed, "operator_numbers"),
        _numbers(OTHER_PREFIXES, external_offset + np.arange(p.n_external), seed,
                 "other_numbers")])
    num1 = np.concatenate([np.arange(n_owners), n_op + np.arange(p.n_external)]).astype(np.int32)
    num2 = np.full(n, -1, np.int32)
    num2[two] = n_owners + np.arange(int(two.sum()))
    local1 = owner.copy()
    local1[nonlocal_only] = False
    local1[visitors] = rng.random(visitors.size) < 0.1  # visitors rarely get a local number
    local2 = two & ((province == 0) | (rng.random(n) >= p.nonlocal_second_share))

    # Behaviour: group means with individual noise.
    def noisy(name: str, sigma: float, key: np.ndarray = bkey) -> np.ndarray:
        return table(name)[key] * rng.lognormal(0.0, sigma, n)

    social = owner & (role != SERVICE)
    k_initial = np.where(social, rng.poisson(noisy("initial_ties", 0.45)), 0).astype(np.int32)
    k_initial[role == NEW] = np.maximum(k_initial[role == NEW], 1)  # at least the relative
    # The non-linear signal of leaving (paper 000 §4: the forest beats the linear models): a
    # leaver makes few new contacts AND leans on townsmen; among the staying migrants, a
    # STAYER_LIKE_LEAVER share does one of the two (half each), so neither alone says much.
    like = np.zeros(n, np.int8)
    staying = np.flatnonzero((role == NEW) & ~leaver)
    if not null:
        u = rng.random(staying.size)
        like[staying] = np.where(u < STAYER_LIKE_LEAVER / 2, 1,
                                 np.where(u < STAYER_LIKE_LEAVER, 2, 0))
    leaving_key = np.int8(BKEYS.index("new_leaving"))
    k_new = np.where(social, rng.poisson(noisy("new_ties", 0.45, np.where(like == 1, leaving_key,
                                                                          bkey))), 0)
    k_new = k_new.astype(np.int32)
    town_key = np.where(like == 2, leaving_key, bkey)
    p_townsman = np.where((province == 0) | null, 0.0, _beta(rng, table("p_townsman")[town_key]))
    p_local = _beta(rng, table("p_local")[bkey])
    p_external = _beta(rng, table("p_external")[bkey])
    p_same_sex = _beta(rng, table("p_same_sex")[bkey])
    closure = noisy("closure", 0.5)
    activity = noisy("activity", 0.45)
    out_bias = table("out_bias")[bkey] + rng.normal(0, 0.3, n)
    duration_shift = table("duration_shift")[bkey] + rng.normal(0, 0.2, n)
    radius_km = noisy("radius_km", 0.4)

    # Places of owners: home, work (pulled toward the centre), a few other places.
    o = n_owners
    hx, hy = place(rng, np.zeros(1), np.zeros(1), noisy("home_km", 0.6)[:o],
                   table("home_bearing")[bkey[:o]], table("home_focus")[bkey[:o]])
    wx, wy = place(rng, hx, hy, noisy("commute_km", 0.6)[:o])
    wx, wy = 0.85 * wx, 0.85 * wy
    n_places = np.clip(1 + rng.poisson(np.maximum(noisy("n_places", 0.3)[:o] - 1, 0)), 1,
                       MAX_PLACES).astype(np.int8)
    at_work = rng.random((o, MAX_PLACES)) < 0.4
    ax = np.where(at_work, wx[:, None], hx[:, None]).ravel()
    ay = np.where(at_work, wy[:, None], hy[:, None]).ravel()
    dist = rng.exponential(np.repeat(radius_km[:o], MAX_PLACES)).reshape(o, MAX_PLACES)
    if not null:  # a new migrant's places nearest first: they open up in that order (calls.py)
        newcomer = role[:o] == NEW
        dist[newcomer] = np.sort(dist[newcomer], axis=1)
    dist = dist.ravel()
    px, py = place(rng, ax, ay, dist)
    # A new migrant lands in a first home nearer the centre (pricier, farther from work) and moves
    # to their own home ``move_after`` days after arriving; a leaver never does (paper 000 §3.3-4).
    landing_cell = np.full(o, -1, np.int32)
    move_day = np.zeros(o, np.int16)
    if not null:
        lands = np.flatnonzero((role[:o] == NEW) & (table("move_after")[bkey[:o]] > 0))
        # landing_km nearer the centre than one's home, LANDING_TURN radians round the centre
        r = np.hypot(hx[lands], hy[lands])
        inward = np.minimum(table("landing_km")[bkey[lands]] * rng.lognormal(0, 0.3, lands.size),
                            0.9 * r) / np.maximum(r, 1e-9)
        turn = LANDING_TURN * rng.choice([-1.0, 1.0], lands.size)
        cos, sin = np.cos(turn) * (1 - inward), np.sin(turn) * (1 - inward)
        landing_cell[lands] = geo.nearest_cell(hx[lands] * cos - hy[lands] * sin,
                                               hx[lands] * sin + hy[lands] * cos)
        delay = table("move_after")[bkey[lands]] * rng.lognormal(0, 0.35, lands.size)
        move_day[lands] = first[lands] + np.maximum(1, np.round(delay)).astype(np.int16)
    return Population(
        n_owners=n_owners, role=role, bkey=bkey, leaver=leaver, first=first, last=last,
        quiet_start=quiet_start, quiet_end=quiet_end, province=province, age=age, sex=sex,
        missing_age=missing[0], missing_sex=missing[1], missing_province=missing[2],
        user_type=user_type, num1=num1, num2=num2, local1=local1, local2=local2,
        k_initial=k_initial, k_new=k_new, p_townsman=p_townsman, p_local=p_local,
        p_external=p_external, p_same_sex=p_same_sex, age_sd=table("age_sd")[bkey],
        closure=closure, activity=activity, out_bias=out_bias, duration_shift=duration_shift,
        radius_km=radius_km, p_near=table("p_near")[bkey], roam=table("roam")[bkey],
        home_cell=geo.nearest_cell(hx, hy), work_cell=geo.nearest_cell(wx, wy),
        places=geo.nearest_cell(px, py).reshape(o, MAX_PLACES), n_places=n_places,
        home_xy=np.column_stack([hx, hy]), work_xy=np.column_stack([wx, wy]), numbers=numbers,
        landing_cell=landing_cell, move_day=move_day, visit=visit, null=null,
    )


def behaviour_table(null: bool = False) -> dict[str, dict[str, float]]:
    """The group behaviours as plain dicts (for the manifest); ``null``: those of the null city."""
    return {k: {f.name: getattr(b, f.name) for f in fields(b)}
            for k, b in BEHAVIOUR.items()
            for b in [NULL_BEHAVIOUR if null and k in STUDIED else b]}
