"""The clinic day of specs/clinic-scenario.md in SimPy: the peer of `vaxloop simulate run`.

The same model, the usual SimPy way: each person is a process; each station's desks are a
PriorityResource (the green channel first, first come first served within a class,
non-preemptive); each station's space, when limited, is a Resource of places, and a person
finished at a desk asks for the next station's place while still holding the desk (blocking);
observation seats are a Resource the same way. The distributions are drawn as the spec defines
them, from Python's own generator, so the two agree in law, not draw for draw.

Shifts are supported as the spec says: a SimPy resource's size cannot shrink, so a desk
schedule is modelled by a "desk keeper" that holds the desks that are closed at the head of the
queue (priority -1) and lets them go when the next shift opens them.

Usage: clinic_simpy.py SCENARIO.toml --replications R --seed S
The last line printed is one JSON object: per-replication figures and the wall time.
"""

import argparse
import json
import math
import random
import sys
import time
import tomllib

import simpy


def sampler(d, rng):
    kind = d["dist"]
    if kind == "exponential":
        mean = d["mean"]
        return lambda: rng.expovariate(1.0 / mean)
    if kind == "deterministic":
        v = d["value"]
        return lambda: v
    if kind == "normal":
        mean, sd = d["mean"], d["sd"]
        return lambda: rng.gauss(mean, sd)
    if kind == "lognormal":
        mean, cv = d["mean"], d["cv"]
        s2 = math.log(1.0 + cv * cv)
        mu, sigma = math.log(mean) - s2 / 2.0, math.sqrt(s2)
        return lambda: rng.lognormvariate(mu, sigma)
    if kind == "triangular":
        lo, mode, hi = d["min"], d["mode"], d["max"]
        return lambda: rng.triangular(lo, hi, mode)
    if kind == "choice":
        values, weights = d["values"], d["weights"]
        return lambda: rng.choices(values, weights)[0]
    if kind == "empirical":
        values = d["values"]
        return lambda: rng.choice(values)
    raise SystemExit(f"unknown dist {kind}")


def arrivals(sc, rng):
    until = sc["arrivals_until"]
    out = []
    for s in sc.get("arrivals", []):
        share = s.get("priority_share", 0.0)
        kind = s["kind"]
        if kind == "poisson":
            rate = s["rate_per_hour"]
            hourly = rate if isinstance(rate, list) else None
            t = 0.0
            while True:
                work = rng.expovariate(1.0)
                while True:
                    if hourly is None:
                        per_minute, end = rate / 60.0, until
                    else:
                        h = int(t // 60)
                        per_minute = hourly[h] / 60.0 if h < len(hourly) else 0.0
                        end = min((h + 1) * 60.0, until)
                    if per_minute > 0 and t + work / per_minute < end:
                        t += work / per_minute
                        break
                    work -= per_minute * (end - t)
                    t = end
                    if t >= until:
                        break
                if t >= until:
                    break
                out.append((t, rng.random() < share))
        elif kind == "appointments":
            slot = s["slot_minutes"]
            no_show = s.get("no_show", 0.0)
            punct = sampler(s["punctuality"], rng) if "punctuality" in s else (lambda: 0.0)
            for k, booked in enumerate(s["per_slot"]):
                for _ in range(booked):
                    if rng.random() < no_show:
                        continue
                    out.append((max(0.0, k * slot + punct()), rng.random() < share))
        elif kind == "batch":
            no_show = s.get("no_show", 0.0)
            for at in s["at"]:
                if at > until:
                    continue
                for _ in range(s["size"]):
                    if rng.random() < no_show:
                        continue
                    out.append((float(at), rng.random() < share))
    out.sort(key=lambda a: a[0])
    return out


def shifts_of(st, until):
    if "shifts" in st:
        return [(s["from"], s["to"], s["servers"]) for s in st["shifts"]]
    return [(0.0, until, st["servers"])]


def quantile(sorted_values, p):
    if not sorted_values:
        return 0.0
    i = min(max(math.ceil(len(sorted_values) * p), 1), len(sorted_values)) - 1
    return sorted_values[i]


def one_day(sc, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    until = sc["arrivals_until"]
    stations = sc["stations"]
    n = len(stations)
    most = []
    desks = []
    for st in stations:
        shifts = shifts_of(st, until)
        size = max(s[2] for s in shifts)
        most.append(size)
        desks.append(simpy.PriorityResource(env, capacity=size))
    places = [
        simpy.Resource(env, capacity=st["capacity"]) if "capacity" in st else None
        for st in stations
    ]
    service = [sampler(st["service"], rng) for st in stations]
    leave = [st.get("leave_probability", 0.0) for st in stations]
    balk = stations[0].get("balk_when_full", False)
    obs = sc.get("observation")
    seats = None
    minutes = None
    if obs is not None:
        minutes = sampler(obs["minutes"], rng)
        if "seats" in obs:
            seats = simpy.Resource(env, capacity=obs["seats"])

    waits = [[] for _ in range(n)]
    green_waits = [[] for _ in range(n)]
    times, totals = [], []
    tally = {"arrived": 0, "completed": 0, "left": 0, "balked": 0}

    def keeper(k):
        # Holds the desks a shift does not open, at the head of the queue.
        shifts = shifts_of(stations[k], until)
        held = []

        def set_open(count):
            closed = most[k] - count
            while len(held) > closed:
                req = held.pop()
                if req.triggered:
                    desks[k].release(req)
                else:
                    req.cancel()
            while len(held) < closed:
                req = desks[k].request(priority=-1)
                held.append(req)

        changes = [(shifts[0][0], shifts[0][2])]
        for a, b in zip(shifts, shifts[1:]):
            if b[0] > a[1]:
                changes.append((a[1], 0))
            changes.append((b[0], b[2]))
        if changes[0][0] > 0:
            set_open(0)
        for at, count in changes:
            if at > env.now:
                yield env.timeout(at - env.now)
            set_open(count)

    def person(t0, green):
        tally["arrived"] += 1
        prio = 0 if green else 1
        waited = 0.0
        place = None
        if places[0] is not None:
            if balk and places[0].count >= places[0].capacity:
                tally["balked"] += 1
                tally["left"] += 1
                return
            place = places[0].request()
            since = env.now
            yield place
            waited += env.now - since
        for k in range(n):
            desk = desks[k].request(priority=prio)
            since = env.now
            yield desk
            w = env.now - since
            waited += w
            waits[k].append(w)
            if green:
                green_waits[k].append(w)
            yield env.timeout(service[k]())
            if leave[k] > 0 and rng.random() < leave[k]:
                desks[k].release(desk)
                if place is not None:
                    places[k].release(place)
                tally["left"] += 1
                times.append(env.now - t0)
                totals.append(waited)
                return
            if k + 1 < n:
                following = None
                if places[k + 1] is not None:
                    following = places[k + 1].request()
                    since = env.now
                    yield following
                    waited += env.now - since
                desks[k].release(desk)
                if place is not None:
                    places[k].release(place)
                place = following
            else:
                seat = None
                if seats is not None:
                    seat = seats.request()
                    since = env.now
                    yield seat
                    waited += env.now - since
                desks[k].release(desk)
                if place is not None:
                    places[k].release(place)
                if minutes is not None:
                    yield env.timeout(minutes())
                if seat is not None:
                    seats.release(seat)
        tally["completed"] += 1
        times.append(env.now - t0)
        totals.append(waited)

    def source(people):
        for t, green in people:
            if t > env.now:
                yield env.timeout(t - env.now)
            env.process(person(t, green))

    people = arrivals(sc, rng)
    for k in range(n):
        env.process(keeper(k))
    env.process(source(people))
    env.run()

    stations_out = []
    for k, st in enumerate(stations):
        w = sorted(waits[k])
        g = green_waits[k]
        stations_out.append(
            {
                "name": st["name"],
                "served": len(w),
                "wait_mean": sum(w) / len(w) if w else 0.0,
                "wait_p95": quantile(w, 0.95),
                "priority_wait_mean": sum(g) / len(g) if g else None,
            }
        )
    done = len(times)
    totals.sort()
    return {
        **tally,
        "time_mean": sum(times) / done if done else 0.0,
        "wait_mean": sum(totals) / done if done else 0.0,
        "wait_p95": quantile(totals, 0.95),
        "stations": stations_out,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("scenario")
    ap.add_argument("--replications", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    with open(a.scenario, "rb") as f:
        sc = tomllib.load(f)
    started = time.perf_counter()
    runs = [one_day(sc, a.seed * 1_000_003 + r) for r in range(a.replications)]
    seconds = time.perf_counter() - started
    print(
        f"SimPy {simpy.__version__}: {a.replications} replications of {sc.get('name', '')} in {seconds:.2f} s",
        file=sys.stderr,
    )
    print(json.dumps({"peer": "simpy", "version": simpy.__version__, "seconds": seconds, "runs": runs}))


if __name__ == "__main__":
    main()
