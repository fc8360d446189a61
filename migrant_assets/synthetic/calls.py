"""The calls of one day (SPEC §7): behaviour, never features.

- Social calls: each tie that exists and whose two parties are present gets Poisson(rate) calls;
  the caller is drawn with the tie's direction bias; weekends are 15% quieter; a leaver's calls
  fade by up to 40% toward the last day.
- Anchors: a new migrant calls their relative on the arrival day, a leaver on the last day, so the
  planted arrival and departure days are the first and last days with a call.
- Service calls: each service number calls each of its customers once, on a day when the customer
  is present (a fifth of them the other way round).
- Time of day follows a daily rhythm (few calls at night); durations are lognormal with the tie's
  law (longer and heavier-tailed for strong ties), capped at 4 h.
- Each operator party's tower is its home cell (mostly at 20:00–07:00), its work cell (mostly at
  09:00–16:00 on weekdays) or one of its other places; other operators' parties have no cell.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from migrant_assets.synthetic.population import EXTERNAL, SERVICE, Population
from migrant_assets.synthetic.presets import Preset
from migrant_assets.synthetic.seeding import rng_for
from migrant_assets.synthetic.social import Ties

HOUR_WEIGHTS = np.array([0.6, 0.3, 0.15, 0.1, 0.1, 0.25, 0.8, 2.5, 4.5, 6.0, 6.5, 6.5,
                         5.5, 5.5, 6.0, 6.0, 6.0, 6.5, 6.5, 6.5, 6.5, 5.5, 3.5, 1.8])
HOUR_P = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
#: Probability of (home, work, other place) by period of the day.
PLACE_P = {
    "night": (0.85, 0.03, 0.12),  # 20:00-07:00
    "workday": (0.15, 0.65, 0.20),  # 09:00-16:00 on weekdays
    "rest": (0.40, 0.20, 0.40),  # everything else
}
MAX_DURATION_S = 4 * 3600
SECOND_NUMBER_P = 0.3  # share of an owner's calls made from a second number


@dataclass(frozen=True)
class Services:
    """(service number, customer, day) triples, sorted by day; ``offsets[d]`` starts day d."""

    person: np.ndarray
    customer: np.ndarray
    offsets: np.ndarray


def build_services(rng: np.random.Generator, pop: Population, preset: Preset, n_days: int):
    """Each service number gets a customer list of distinct non-service parties, each customer
    called on one day of their presence."""
    services = np.flatnonzero(pop.role == SERVICE)
    pool = np.flatnonzero(pop.role != SERVICE)
    lo, hi = preset.service_customers
    sizes = np.minimum(rng.integers(lo, hi + 1, services.size), pool.size)
    customer = np.concatenate([rng.choice(pool, s, replace=False) for s in sizes])
    person = np.repeat(services, sizes)
    span = pop.last[customer] - pop.first[customer] + 1
    day = pop.first[customer] + (rng.random(customer.size) * span).astype(np.int64)
    order = np.argsort(day, kind="stable")
    offsets = np.searchsorted(day[order], np.arange(n_days + 1))
    return Services(person[order], customer[order], offsets)


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

    def take(self, index: np.ndarray) -> DayCalls:
        return DayCalls(*(getattr(self, f)[index] for f in self.__dataclass_fields__))


class CallModel:
    """Generates day ``d`` (offset from ``start``) independently of every other day."""

    def __init__(self, pop: Population, ties: Ties, services: Services, n_cells: int,
                 seed: int, start: date):
        self.pop, self.ties, self.services = pop, ties, services
        self.n_cells, self.seed, self.start = n_cells, seed, start
        self.leavers = np.flatnonzero(pop.leaver)

    def day(self, d: int) -> DayCalls:
        pop, ties, rng = self.pop, self.ties, rng_for(self.seed, "calls", d)
        weekday = date.fromordinal(self.start.toordinal() + d).weekday()
        present = pop.present(d)
        factor = np.ones(pop.n_persons)
        lv = self.leavers
        progress = (d - pop.first[lv]) / np.maximum(pop.last[lv] - pop.first[lv], 1)
        factor[lv] = 1 - 0.4 * np.clip(progress, 0, 1)
        alive = np.flatnonzero((ties.form <= d) & present[ties.u] & present[ties.v])
        lam = ties.rate[alive] * factor[ties.u[alive]] * factor[ties.v[alive]]
        lam *= 0.85 if weekday >= 5 else 1.0
        edge = np.repeat(alive, rng.poisson(lam))
        u_calls = rng.random(edge.size) < ties.p_u_calls[edge]
        caller = np.where(u_calls, ties.u[edge], ties.v[edge])
        callee = np.where(u_calls, ties.v[edge], ties.u[edge])
        log_dur = rng.normal(ties.mu[edge], ties.sigma[edge])

        anchors = np.flatnonzero((pop.first == d) & (ties.family >= 0))
        anchors = np.concatenate([anchors, self.leavers[pop.last[self.leavers] == d]])
        fam = ties.family[anchors]
        a_callee = np.where(ties.u[fam] == anchors, ties.v[fam], ties.u[fam])

        s0, s1 = self.services.offsets[d], self.services.offsets[d + 1]
        s_person = self.services.person[s0:s1]
        s_customer = self.services.customer[s0:s1]
        ok = present[s_customer]
        s_person, s_customer = s_person[ok], s_customer[ok]
        outbound = rng.random(s_person.size) < 0.8

        caller = np.concatenate([anchors, caller, np.where(outbound, s_person, s_customer)])
        callee = np.concatenate([a_callee, callee, np.where(outbound, s_customer, s_person)])
        log_dur = np.concatenate([rng.normal(5.0, 0.8, anchors.size), log_dur,
                                  rng.normal(3.6, 0.7, s_person.size)])
        protected = np.zeros(caller.size, bool)
        protected[: anchors.size] = True

        n = caller.size
        second = rng.integers(0, 3600, n) + 3600 * rng.choice(24, n, p=HOUR_P)
        # The same caller, callee and second twice would be an exact duplicate: keep the first.
        key = (caller.astype(np.int64) << 40) | (callee.astype(np.int64) << 17) | second
        _, first_seen = np.unique(key, return_index=True)
        keep = np.sort(first_seen)
        caller, callee, second = caller[keep], callee[keep], second[keep]
        log_dur, protected = log_dur[keep], protected[keep]
        n = keep.size

        duration = np.clip(np.round(np.exp(log_dur)), 1, MAX_DURATION_S).astype(np.int64)
        midnight = (self.start.toordinal() + d - date(1970, 1, 1).toordinal()) * 86400
        start_ts = midnight + second
        hour = second // 3600
        return DayCalls(
            caller=self._number(rng, caller),
            callee=self._number(rng, callee),
            start=start_ts,
            end=start_ts + duration,
            start_null=np.zeros(n, bool),
            end_null=np.zeros(n, bool),
            caller_cell=self._cell(rng, caller, hour, weekday),
            callee_cell=self._cell(rng, callee, hour, weekday),
            protected=protected,
        )

    def _number(self, rng: np.random.Generator, person: np.ndarray) -> np.ndarray:
        num2 = self.pop.num2[person]
        use2 = (num2 >= 0) & (rng.random(person.size) < SECOND_NUMBER_P)
        return np.where(use2, num2, self.pop.num1[person])

    def _cell(self, rng, person: np.ndarray, hour: np.ndarray, weekday: int) -> np.ndarray:
        pop = self.pop
        role = pop.role[person]
        owner = np.minimum(person, pop.n_owners - 1)
        night = (hour >= 20) | (hour < 7)
        workday = (hour >= 9) & (hour < 16) & (weekday < 5)
        p_home = np.select([night, workday], [PLACE_P["night"][0], PLACE_P["workday"][0]],
                           PLACE_P["rest"][0])
        p_work = np.select([night, workday], [PLACE_P["night"][1], PLACE_P["workday"][1]],
                           PLACE_P["rest"][1])
        u = rng.random(person.size)
        k = (rng.random(person.size) * pop.n_places[owner]).astype(np.int64)
        cell = np.where(
            u < p_home,
            pop.home_cell[owner],
            np.where(u < p_home + p_work, pop.work_cell[owner], pop.places[owner, k]),
        )
        cell = np.where(role == SERVICE, rng.integers(0, self.n_cells, person.size), cell)
        return np.where(role == EXTERNAL, -1, cell).astype(np.int32)
