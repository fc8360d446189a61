"""The calls of a block's month, day by day (SPEC §7): behaviour, never features.

- Social calls: each tie that exists and whose two parties are present gets Poisson(rate) calls
  a day (drawn for the whole month at once by thinning, :meth:`CallModel.month`); the caller is
  drawn with the tie's direction bias; weekends are 15% quieter; a leaver's calls fade by up to
  LEAVER_FADE toward the last day; nobody calls or is called during a quiet spell.
- Anchors: a new migrant calls their relative on the arrival day, a leaver on the last day, so the
  planted arrival and departure days are the first and last days with a call.
- Service calls: each service number calls each of its customers once, on a day when the customer
  is present (a fifth of them the other way round).
- Time of day follows a daily rhythm (few calls at night); durations are lognormal with the tie's
  law (longer and heavier-tailed for strong ties), shorter in a new migrant's first days
  (ARRIVAL_DIP), capped at 4 h. A leaver's contacts call back less and less (LEAVER_DRIFT).
- Each operator party's tower is its home cell (mostly at 20:00–07:00), its work cell (mostly at
  09:00–16:00 on weekdays) or one of its other places (``roam`` scales how often); a new
  migrant's home is the landing cell until the move day and their places open up nearest first
  (EXPLORE_DAYS); other operators' parties have no cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from migrant_assets.synthetic.population import NEW, SERVICE, Population
from migrant_assets.synthetic.presets import Preset
from migrant_assets.synthetic.social import Ties, first_of_each

HOUR_WEIGHTS = np.array([0.6, 0.3, 0.15, 0.1, 0.1, 0.25, 0.8, 2.5, 4.5, 6.0, 6.5, 6.5,
                         5.5, 5.5, 6.0, 6.0, 6.0, 6.5, 6.5, 6.5, 6.5, 5.5, 3.5, 1.8])
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
#: Probability of (home, work, other place) by period of the day.
PLACE_P = {
    "night": (0.85, 0.03, 0.12),  # 20:00-07:00
    "workday": (0.15, 0.65, 0.20),  # 09:00-16:00 on weekdays
    "rest": (0.40, 0.20, 0.40),  # everything else
}
#: Period of (hour + 24 × weekend): 0 night 20:00-07:00, 1 weekdays 09:00-16:00, 2 otherwise.
_HOURS = np.arange(48) % 24
PERIOD = np.where((_HOURS >= 20) | (_HOURS < 7), 0,
                  np.where((_HOURS >= 9) & (_HOURS < 16) & (np.arange(48) < 24), 1, 2))
P_HOME = np.array([PLACE_P[k][0] for k in ("night", "workday", "rest")])
P_HOME_OR_WORK = P_HOME + np.array([PLACE_P[k][1] for k in ("night", "workday", "rest")])
HOUR_CDF = np.cumsum(HOUR_P)
MAX_DURATION_S = 4 * 3600
RANDOM_CELL = -2  # a service number's tower: a random one for each call
SECOND_NUMBER_P = 0.3  # share of an owner's calls made from a second number
#: A new migrant's first calls are short: their log duration is lowered by ARRIVAL_DIP on the
#: arrival day, less each day, nothing from ARRIVAL_DIP_DAYS on (paper 001 Fig. 2(c): new
#: migrants' calls are the shortest in their first week; paper 000 Fig. 5(b): a week later the
#: staying migrants' are the longest).
ARRIVAL_DIP, ARRIVAL_DIP_DAYS = 2.0, 8
#: A new migrant's other places open up one every EXPLORE_DAYS days after arrival, nearest first
#: (paper 000 Fig. 6(b): staying migrants' active area grows).
EXPLORE_DAYS = 3
#: A leaver's calls fade by up to this share toward the last day (paper 000 Fig. 5(a), 5(d)).
LEAVER_FADE = 0.8
#: ... and their contacts call them back less: the log-odds that the leaver is the caller grow
#: by up to LEAVER_DRIFT toward the last day (paper 000 Fig. 5(d): fewer reciprocal calls).
LEAVER_DRIFT = 1.5


@dataclass(frozen=True)
class Services:
    """(service number, customer, day) triples."""

    person: np.ndarray
    customer: np.ndarray
    day: np.ndarray


def build_services(rng: np.random.Generator, pop: Population, preset: Preset,
                   ties: Ties) -> Services:
    """Each service number gets a customer list of distinct non-service parties, each customer
    called on one day of their presence."""
    services = np.flatnonzero(pop.role == SERVICE)
    pool = np.flatnonzero(pop.role != SERVICE)
    lo, hi = preset.service_customers
    sizes = np.minimum(rng.integers(lo, hi + 1, services.size), pool.size)
    # Customers in proportion to their expected social calls: a hub is then about as likely
    # among anyone's contacts of a week, so it does not reverse the groups' orders of neighbour
    # degree (a user with few contacts and a hub has a huge mean neighbour degree).
    expected = ties.rate * ties.span
    weight = (np.bincount(ties.u, expected, pop.n_persons)
              + np.bincount(ties.v, expected, pop.n_persons))[pool] + 1e-3
    weight = weight / weight.sum()
    customer = np.concatenate([rng.choice(pool, s, replace=False, p=weight) for s in sizes]
                              or [np.zeros(0, np.int64)])
    person = np.repeat(services, sizes)
    span = pop.last[customer] - pop.first[customer] + 1
    day = pop.first[customer] + (rng.random(customer.size) * span).astype(np.int64)
    return Services(person, customer, day)


@dataclass
class DayCalls:
    """One day's calls as arrays; numbers and cells are indices (−1 = null)."""

    caller: np.ndarray
    callee: np.ndarray
    start: np.ndarray  # seconds since the epoch, local time
    end: np.ndarray
    start_null: np.ndarray
    end_null: np.ndarray
    caller_cell: np.ndarray
    callee_cell: np.ndarray
    protected: np.ndarray  # anchor calls, never made malformed

    def __len__(self) -> int:
        return self.caller.size

    def take(self, index: np.ndarray | slice) -> DayCalls:
        return DayCalls(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


def day_weights(start: date, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekday (0 = Monday) and call-rate factor (weekends 15% quieter) of each day."""
    weekday = (start.weekday() + np.arange(n_days)) % 7
    return weekday, np.where(weekday >= 5, 0.85, 1.0)


def _fade(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """A leaver's activity fades by up to LEAVER_FADE toward the last day (1 for everyone else
    and in the null city)."""
    return 1 - LEAVER_FADE * _progress(pop, person, day)


def _progress(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Share of a leaver's stay gone by on ``day`` (0 for everyone else and in the null city)."""
    first, last = pop.first[person], pop.last[person]
    progress = np.clip((day - first) / np.maximum(last - first, 1), 0, 1)
    return progress * (pop.leaver[person] & (not pop.null))


def _arrival_dip(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Log-duration shift of a new migrant's calls in their first days (ARRIVAL_DIP)."""
    new = pop.role[person] == NEW
    if pop.null or not new.any():
        return np.zeros(person.size)
    t = (day - pop.first[person]).astype(float)
    return np.where(new, -ARRIVAL_DIP * np.clip(1 - t / ARRIVAL_DIP_DAYS, 0, 1), 0.0)


def _quiet(pop: Population, person: np.ndarray, day: np.ndarray) -> np.ndarray:
    return (pop.quiet_start[person] <= day) & (day < pop.quiet_end[person])


class CallModel:
    """Generates a block's month of calls at once, day by day in memory order."""

    def __init__(self, pop: Population, ties: Ties, services: Services, n_cells: int,
                 start: date, n_days: int):
        self.pop, self.ties, self.services = pop, ties, services
        self.n_cells, self.start, self.n_days = n_cells, start, n_days
        self.weekday, self.day_weight = day_weights(start, n_days)
        self.leavers = np.flatnonzero(pop.leaver)
        # Each person's cells: home, work, other places (services draw, externals have none).
        cells = np.full((pop.n_persons, 2 + pop.places.shape[1]), -1, np.int32)
        o = pop.n_owners
        cells[:o, 0], cells[:o, 1], cells[:o, 2:] = pop.home_cell, pop.work_cell, pop.places
        cells[pop.role == SERVICE] = RANDOM_CELL
        self.cells, self.width = cells.ravel(), cells.shape[1]
        self.roam = np.ones(pop.n_persons)
        self.roam[:o] = pop.roam[:o]
        self.n_places = np.ones(pop.n_persons, np.int64)
        self.n_places[:o] = pop.n_places
        odd = pop.leaver | (pop.quiet_end > pop.quiet_start)
        self.special = odd[ties.u] | odd[ties.v]

    def month(self, rng: np.random.Generator) -> tuple[DayCalls, np.ndarray, dict[str, int]]:
        """Every call of the month sorted by start time (then caller, callee), where each day
        starts, and the number of anchor, social and service calls. Social calls thin a Poisson
        process: Poisson(rate × span) candidates per tie on uniform days of its span, each kept
        with the day's factor (weekend, quiet spells, a leaver's fade), which makes a
        Poisson(rate × factor) count per day."""
        pop, ties = self.pop, self.ties
        edge = np.repeat(np.arange(ties.size), rng.poisson(ties.rate * ties.span))
        day = ties.lo[edge] + (rng.random(edge.size) * ties.span[edge]).astype(np.int16)
        p_keep = self.day_weight[day]
        s = np.flatnonzero(self.special[edge])  # a leaver or someone with a quiet spell
        su, sv, sd = ties.u[edge[s]], ties.v[edge[s]], day[s]
        p_keep[s] *= _fade(pop, su, sd) * _fade(pop, sv, sd) * ~_quiet(pop, su, sd) \
            * ~_quiet(pop, sv, sd)
        keep = rng.random(edge.size) < p_keep
        edge, day = edge[keep], day[keep]
        u, v = ties.u[edge], ties.v[edge]
        p_u = ties.p_u_calls[edge]
        lv = np.flatnonzero(pop.leaver[u] | pop.leaver[v])
        if lv.size and not pop.null:  # a leaver's contacts call back less and less
            drift = LEAVER_DRIFT * (_progress(pop, u[lv], day[lv]) - _progress(pop, v[lv], day[lv]))
            p_u = p_u.copy()
            p_u[lv] = 1 / (1 + (1 / p_u[lv] - 1) * np.exp(-drift))
        u_calls = rng.random(edge.size) < p_u
        caller, callee = np.where(u_calls, u, v), np.where(u_calls, v, u)
        log_dur = rng.normal(ties.mu[edge], ties.sigma[edge])
        log_dur += _arrival_dip(pop, u, day) + _arrival_dip(pop, v, day)
        n_social = edge.size
        del edge, u, v, u_calls

        # Anchors: a new migrant calls the relative on arrival, a leaver on the last day.
        arriving = np.flatnonzero(ties.family >= 0)
        leaving = self.leavers[ties.family[self.leavers] >= 0]
        visiting = np.flatnonzero((pop.visit >= 0) & (ties.family >= 0))
        anchors = np.concatenate([arriving, leaving, visiting])
        a_day = np.concatenate([pop.first[arriving], pop.last[leaving], pop.visit[visiting]])
        fam = ties.family[anchors]
        a_callee = np.where(ties.u[fam] == anchors, ties.v[fam], ties.u[fam])
        if pop.null:  # the null city: an anchor is an ordinary call of the tie, either way
            swap = rng.random(anchors.size) < 0.5
            anchors, a_callee = np.where(swap, a_callee, anchors), np.where(swap, anchors,
                                                                           a_callee)
            a_log_dur = rng.normal(ties.mu[fam], ties.sigma[fam])
        else:
            a_log_dur = rng.normal(5.0, 0.8, anchors.size)

        # Service calls, on the drawn day when the customer is not silent.
        sv = self.services
        ok = ~_quiet(pop, sv.customer, sv.day)
        s_person, s_customer, s_day = sv.person[ok], sv.customer[ok], sv.day[ok]
        outbound = rng.random(s_person.size) < 0.8

        day = np.concatenate([a_day, day, s_day]).astype(np.int64)
        caller = np.concatenate([anchors, caller, np.where(outbound, s_person, s_customer)])
        callee = np.concatenate([a_callee, callee, np.where(outbound, s_customer, s_person)])
        log_dur = np.concatenate([a_log_dur, log_dur,
                                  rng.normal(3.6, 0.7, s_person.size)])
        n = caller.size
        hour = np.minimum(np.searchsorted(HOUR_CDF, rng.random(n), "right"), 23)
        second = rng.integers(0, 3600, n) + 3600 * hour

        # Sort by (day, second, caller, callee); the same four twice would be an exact
        # duplicate: keep the first (an anchor before any other call).
        bits = int(max(pop.n_persons - 1, 1)).bit_length()
        if 17 + 2 * bits + int(self.n_days - 1).bit_length() > 64:
            raise ValueError("block too large to pack its calls' sort key")
        key = day.astype(np.uint64) << np.uint64(17) | second.astype(np.uint64)
        key = key << np.uint64(bits) | caller.astype(np.uint64)
        key = key << np.uint64(bits) | callee.astype(np.uint64)
        _, order = first_of_each(key)
        protected = order < anchors.size
        n_social = int(((order >= anchors.size) & (order < anchors.size + n_social)).sum())
        n_anchor = int((order < anchors.size).sum())
        counts = {"anchor_calls": n_anchor, "social_calls": n_social,
                  "service_calls": int(order.size) - n_social - n_anchor}
        day, caller, callee = day[order], caller[order], callee[order]
        second, log_dur = second[order], log_dur[order]
        n = order.size
        del key, order

        duration = np.clip(np.round(np.exp(log_dur)), 1, MAX_DURATION_S).astype(np.int64)
        epoch = self.start.toordinal() - date(1970, 1, 1).toordinal()
        start_ts = (epoch + day) * 86400 + second
        hour = second // 3600
        weekend = self.weekday[day] >= 5
        calls = DayCalls(
            caller=self._number(rng, caller),
            callee=self._number(rng, callee),
            start=start_ts,
            end=start_ts + duration,
            start_null=np.zeros(n, bool),
            end_null=np.zeros(n, bool),
            caller_cell=self._cell(rng, caller, hour, weekend, day),
            callee_cell=self._cell(rng, callee, hour, weekend, day),
            protected=protected,
        )
        return calls, np.searchsorted(day, np.arange(self.n_days + 1)), counts

    def _number(self, rng: np.random.Generator, person: np.ndarray) -> np.ndarray:
        num2 = self.pop.num2[person]
        use2 = (num2 >= 0) & (rng.random(person.size) < SECOND_NUMBER_P)
        return np.where(use2, num2, self.pop.num1[person])

    def _cell(self, rng, person: np.ndarray, hour: np.ndarray, weekend: np.ndarray,
              day: np.ndarray):
        """Home, work or one of the other places by period of the day, from one table of each
        person's cells (services: a random tower; other operators' parties: none). A new
        migrant's home is the landing cell before the move day, and their other places open up
        nearest first (EXPLORE_DAYS)."""
        pop = self.pop
        period = PERIOD[hour + 24 * weekend]
        u = rng.random(person.size)
        n_places = self.n_places[person]
        owner = person < pop.n_owners
        if not pop.null:
            new = np.flatnonzero(owner & (pop.role[person] == NEW))
            t = day[new] - pop.first[person[new]]
            n_places[new] = np.clip(1 + t // EXPLORE_DAYS, 1, n_places[new])
        other = 2 + (rng.random(person.size) * n_places).astype(np.int64)
        # roam scales the probability of another place; home and work share the rest as before
        p_other = np.minimum((1 - P_HOME_OR_WORK[period]) * self.roam[person], 0.9)
        scale = (1 - p_other) / P_HOME_OR_WORK[period]
        column = np.where(u < P_HOME[period] * scale, 0,
                          np.where(u < P_HOME_OR_WORK[period] * scale, 1, other))
        cell = self.cells[person * self.width + column]
        landed = np.flatnonzero((column == 0) & owner)
        if landed.size and not pop.null:
            p = person[landed]
            before = (pop.landing_cell[p] >= 0) & (day[landed] < pop.move_day[p])
            cell[landed[before]] = pop.landing_cell[p[before]]
        service = np.flatnonzero(cell == RANDOM_CELL)
        cell[service] = rng.integers(0, self.n_cells, service.size)
        return cell
