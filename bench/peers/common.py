"""What both peer solvers share: reading an instance, the candidate placements they choose
from, the bus rows, and writing a plan file (specs/planner-format.md).

The peers place each team whole, in one slot (no splits), at one of its `NEAREST` nearest
sites: a pruned model, as generic solvers are usually given. Buses are modelled on a
10-minute grid: each trip is widened to whole 10-minute steps and, at every step, the widened
trips under way must not outnumber the buses. That is stricter than the format (so every plan
is valid) and makes the bus rows a few per day instead of one per minute.
"""

import argparse
import json
import math
import time
from collections import defaultdict

NEAREST = 3
GRID = 10
# A town's model has about 220,000 candidate placements and CP-SAT holds it in about 2 GB; a
# city's 20 times as many would not fit this machine's memory, so a peer declines past this.
MAX_OPTIONS = 1_500_000


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def travel(team, site, speed):
    km = math.hypot(team["x_km"] - site["x_km"], team["y_km"] - site["y_km"])
    return max(0, math.ceil(60 * km / speed - 1e-9))


def clock(text):
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def in_window(inst, k, window):
    start = clock(inst["horizon"]["day_start"]) + k * inst["horizon"]["slot_minutes"]
    if window == "am":
        return start < 12 * 60
    if window == "pm":
        return start >= 12 * 60
    return True


class Option:
    __slots__ = ("team", "site", "day", "slot", "value", "trips", "span")

    def __init__(self, team, site, day, slot, value, trips, span):
        self.team, self.site, self.day, self.slot = team, site, day, slot
        self.value, self.trips, self.span = value, trips, span


def options(inst):
    """Every (team, site, day, slot) a team may take whole, at its nearest sites."""
    w = inst.get("weights") or {}
    person = w.get("person", 100)
    prio = w.get("priority_person", 50)
    tpm = w.get("travel_person_minute", 1)
    miss_cost = w.get("window_miss_person", 10)
    h = inst["horizon"]
    days, slots, slot_minutes = len(h["dates"]), h["slots_per_day"], h["slot_minutes"]
    buses = inst["buses"]
    speed, seats, stop = buses["speed_kmh"], max(1, buses["seats"]), buses["stop_minutes"]
    out = []
    for t, team in enumerate(inst["teams"]):
        size = team["size"]
        window = team.get("window", "any")
        hard = team.get("hard_window", False)
        allowed = team.get("days") or list(range(days))
        tr = [travel(team, s, speed) for s in inst["sites"]]
        near = sorted(range(len(inst["sites"])), key=lambda s: (tr[s], s))[:NEAREST]
        for s in near:
            site = inst["sites"][s]
            for d in allowed:
                if site["doses"][d] < size:
                    continue
                for k in range(slots):
                    if site["slot_capacity"][d][k] < size:
                        continue
                    inside = in_window(inst, k, window)
                    if hard and not inside:
                        continue
                    value = (person * size + prio * team.get("priority_people", 0)
                             - tpm * size * tr[s] - (0 if inside else miss_cost * size))
                    if value <= 0:
                        continue
                    trips, span = 0, None
                    if team.get("bus"):
                        trips = math.ceil(size / seats)
                        a = k * slot_minutes
                        span = (a - tr[s] - stop, a + tr[s])
                    out.append(Option(t, s, d, k, value, trips, span))
    return out


def grid_steps(span):
    """The 10-minute steps a trip's widened interval covers."""
    lo = math.floor(span[0] / GRID)
    hi = math.ceil(span[1] / GRID)
    return range(lo, hi)


def rows(inst, opts):
    """The model's rows as (index list, coefficient list, upper bound)."""
    one = defaultdict(list)
    slot = defaultdict(list)
    dose = defaultdict(list)
    bus = defaultdict(list)
    for i, o in enumerate(opts):
        size = inst["teams"][o.team]["size"]
        one[o.team].append((i, 1))
        slot[(o.site, o.day, o.slot)].append((i, size))
        dose[(o.site, o.day)].append((i, size))
        if o.trips:
            for step in grid_steps(o.span):
                bus[(o.day, step)].append((i, o.trips))
    result = []
    for entries in one.values():
        if len(entries) > 1:
            result.append((entries, 1))
    for (s, d, k), entries in slot.items():
        cap = inst["sites"][s]["slot_capacity"][d][k]
        if sum(c for _, c in entries) > cap:
            result.append((entries, cap))
    for (s, d), entries in dose.items():
        cap = inst["sites"][s]["doses"][d]
        if sum(c for _, c in entries) > cap:
            result.append((entries, cap))
    count = inst["buses"]["count"]
    for entries in bus.values():
        if sum(c for _, c in entries) > count:
            result.append((entries, count))
    return result


def write_plan(inst, opts, chosen, path, reason):
    """The plan file for the chosen options (indexes), buses named in order of departure."""
    h = inst["horizon"]
    seats = max(1, inst["buses"]["seats"])
    placed = {}
    for i in chosen:
        placed[opts[i].team] = opts[i]
    trips_of = defaultdict(list)
    for d in range(len(h["dates"])):
        todo = []
        for t, o in placed.items():
            if o.day == d and o.trips:
                size = inst["teams"][t]["size"]
                for j in range(o.trips):
                    people = size // o.trips + (1 if j < size % o.trips else 0)
                    todo.append((o.span[0], o.span[1], t, people))
        todo.sort()
        free_at = [-10**9] * inst["buses"]["count"]
        for start, end, t, people in todo:
            bus = next(b for b, f in enumerate(free_at) if f <= start)
            free_at[bus] = end
            trips_of[t].append({"bus": bus, "part": 0, "people": people})
    assignments, unassigned = [], []
    for t, team in enumerate(inst["teams"]):
        o = placed.get(t)
        if o is None:
            unassigned.append({"team": team["id"], "reason": reason})
            continue
        a = {"team": team["id"], "site": inst["sites"][o.site]["id"], "day": o.day,
             "parts": [{"slot": o.slot, "people": team["size"]}]}
        if trips_of[t]:
            a["trips"] = trips_of[t]
        assignments.append(a)
    plan = {"format": "vaxloop-plan/1", "instance": inst["name"],
            "assignments": assignments, "unassigned": unassigned}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(plan, f)


def start(solver, doc):
    """Reads the command line and the instance and lists the candidate placements; prints the
    refusal line and returns None when the model would be too large to build here. Returns
    (args, instance, options, started)."""
    ap = argparse.ArgumentParser(description=doc)
    ap.add_argument("instance")
    ap.add_argument("--out", required=True)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--max-options", type=int, default=MAX_OPTIONS)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    started = time.monotonic()
    inst = load(args.instance)
    opts = options(inst)
    if len(opts) > args.max_options:
        print(json.dumps({"solver": solver, "status": "too large to build here", "options": len(opts),
                          "seconds": round(time.monotonic() - started, 2)}))
        return None
    return args, inst, opts, started
