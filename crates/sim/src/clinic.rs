//! A clinic day (`docs/formats/clinic-scenario.md`): people arrive by appointment, by bus and on their
//! own, pass the stations in order — each a set of desks by shift, first come first served with
//! the green channel first, in a space that may fill — and sit out their observation time.
//!
//! People leave a full station's queue waiting outside (or go home, when the first station turns
//! them away); a person finished at a station whose next one is full stays at their desk, holding
//! it, until a place frees (blocking); the same at the last station when the observation seats are
//! taken. Arrivals come from a sorted list merged with the calendar, so the calendar holds only
//! what is under way: services, observation stays and shift changes.
//!
//! A [`Day`] is the working memory of a run, reused from one replication to the next so a
//! replication allocates nothing once the first has sized it.

use std::collections::VecDeque;

use serde::Serialize;
use serde::ser::SerializeMap;

use crate::engine::{Calendar, Random};
use crate::mmc::replication_seed;
use crate::scenario::{Arrivals, Rate, Sampler, Scenario, Shift};
use crate::stats;

pub const RESULT_FORMAT: &str = "vaxloop-clinic-result/1";

/// A scenario made ready to run.
#[derive(Debug, Clone)]
pub struct Model {
    pub name: String,
    arrivals_until: f64,
    streams: Vec<Stream>,
    stations: Vec<StationModel>,
    observation: Option<ObservationModel>,
    balk: bool,
}

#[derive(Debug, Clone)]
enum Stream {
    Poisson {
        rate: Rate,
        green: f64,
    },
    Appointments {
        slot: f64,
        per_slot: Vec<u32>,
        no_show: f64,
        punctuality: Option<Sampler>,
        green: f64,
    },
    Batch {
        at: Vec<f64>,
        size: u32,
        no_show: f64,
        green: f64,
    },
}

#[derive(Debug, Clone)]
struct StationModel {
    name: String,
    /// Desks at opening, then each change of desks after it.
    opening: u32,
    changes: Vec<(f64, u32)>,
    shifts: Vec<Shift>,
    service: Sampler,
    capacity: u32,
    leave: f64,
}

impl StationModel {
    /// The end of the last shift: after it, its desks stay until the queue is empty.
    fn close(&self) -> f64 {
        self.shifts.last().map_or(0.0, |s| s.to)
    }

    /// Desk-minutes open while the shifts run, and after them until `last_end` (overtime).
    fn available(&self, last_end: f64) -> f64 {
        let scheduled: f64 = self
            .shifts
            .iter()
            .map(|s| s.servers as f64 * (s.to - s.from))
            .sum();
        let last = self.shifts.last().map_or(0, |s| s.servers) as f64;
        scheduled + last * (last_end - self.close()).max(0.0)
    }
}

#[derive(Debug, Clone)]
struct ObservationModel {
    seats: u32,
    minutes: Sampler,
}

impl Model {
    /// Compiles a checked scenario.
    pub fn new(s: &Scenario) -> Self {
        let streams = s
            .arrivals
            .iter()
            .map(|a| match a {
                Arrivals::Poisson {
                    rate_per_hour,
                    priority_share,
                } => Stream::Poisson {
                    rate: rate_per_hour.clone(),
                    green: *priority_share,
                },
                Arrivals::Appointments {
                    slot_minutes,
                    per_slot,
                    no_show,
                    punctuality,
                    priority_share,
                } => Stream::Appointments {
                    slot: *slot_minutes,
                    per_slot: per_slot.clone(),
                    no_show: *no_show,
                    punctuality: punctuality.as_ref().map(|p| p.sampler()),
                    green: *priority_share,
                },
                Arrivals::Batch {
                    at,
                    size,
                    no_show,
                    priority_share,
                } => Stream::Batch {
                    at: at.clone(),
                    size: *size,
                    no_show: *no_show,
                    green: *priority_share,
                },
            })
            .collect();
        let stations = s
            .stations
            .iter()
            .map(|st| {
                let shifts = st.shift_list(s.arrivals_until);
                let mut changes = Vec::new();
                let opening = if shifts[0].from <= 0.0 {
                    shifts[0].servers
                } else {
                    changes.push((shifts[0].from, shifts[0].servers));
                    0
                };
                for pair in shifts.windows(2) {
                    if pair[1].from > pair[0].to {
                        changes.push((pair[0].to, 0));
                    }
                    changes.push((pair[1].from, pair[1].servers));
                }
                StationModel {
                    name: st.name.clone(),
                    opening,
                    changes,
                    shifts,
                    service: st.service.sampler(),
                    capacity: st.capacity.unwrap_or(u32::MAX),
                    leave: st.leave_probability,
                }
            })
            .collect();
        Model {
            name: s.name.clone(),
            arrivals_until: s.arrivals_until,
            streams,
            stations,
            observation: s.observation.as_ref().map(|o| ObservationModel {
                seats: o.seats.unwrap_or(u32::MAX),
                minutes: o.minutes.sampler(),
            }),
            balk: s.stations[0].balk_when_full,
        }
    }

    /// Draws the day's arrivals, sorted by time (streams in order at equal times): `(time, green)`.
    fn draw_arrivals(&self, rng: &mut Random, out: &mut Vec<(f64, bool)>) {
        out.clear();
        let until = self.arrivals_until;
        let green = |rng: &mut Random, share: f64| share > 0.0 && rng.chance(share);
        let shows = |rng: &mut Random, no_show: f64| no_show <= 0.0 || !rng.chance(no_show);
        for stream in &self.streams {
            match stream {
                Stream::Poisson { rate, green: share } => {
                    let mut t = 0.0f64;
                    'people: loop {
                        // Invert the cumulative rate: an exponential(1) of "work" is spent
                        // hour by hour at that hour's rate.
                        let mut work = rng.exponential(1.0);
                        loop {
                            let per_minute = rate.per_minute_at(t);
                            let end = match rate {
                                Rate::Flat(_) => until,
                                Rate::Hourly(_) => ((t / 60.0).floor() + 1.0) * 60.0,
                            }
                            .min(until);
                            if per_minute > 0.0 && t + work / per_minute < end {
                                t += work / per_minute;
                                break;
                            }
                            work -= per_minute * (end - t);
                            t = end;
                            if t >= until {
                                break 'people;
                            }
                        }
                        let g = green(rng, *share);
                        out.push((t, g));
                    }
                }
                Stream::Appointments {
                    slot,
                    per_slot,
                    no_show,
                    punctuality,
                    green: share,
                } => {
                    for (k, booked) in per_slot.iter().enumerate() {
                        let start = k as f64 * slot;
                        for _ in 0..*booked {
                            if !shows(rng, *no_show) {
                                continue;
                            }
                            let t = start + punctuality.as_ref().map_or(0.0, |p| p.draw(rng));
                            let g = green(rng, *share);
                            out.push((t.max(0.0), g));
                        }
                    }
                }
                Stream::Batch {
                    at,
                    size,
                    no_show,
                    green: share,
                } => {
                    for t in at.iter().filter(|t| **t <= until) {
                        for _ in 0..*size {
                            if shows(rng, *no_show) {
                                let g = green(rng, *share);
                                out.push((*t, g));
                            }
                        }
                    }
                }
            }
        }
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
    }

    pub fn station_names(&self) -> Vec<&str> {
        self.stations.iter().map(|s| s.name.as_str()).collect()
    }
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// A service ends.
    Done { station: u16, person: u32 },
    /// An observation stay ends.
    Leave { person: u32 },
    /// A station's desks change (a shift starts or ends).
    Desks { station: u16, servers: u32 },
}

/// What one replication measured at one station.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StationRun {
    pub served: u64,
    pub wait_mean: f64,
    pub wait_p50: f64,
    pub wait_p95: f64,
    pub wait_p99: f64,
    /// The most people waiting in the queue at once.
    pub queue_max: u64,
    /// The most people here at once: queued, in service and blocked (against `capacity`).
    pub peak: u64,
    pub busy_share: f64,
    /// The green channel's mean wait, when any passed.
    pub priority_wait_mean: Option<f64>,
    pub priority_served: u64,
    /// The time integral of the queue's length, and the sum of the waits (Little's law: equal).
    pub queue_area: f64,
    pub wait_sum: f64,
    /// Minutes people spent finished here but blocked by a full next station (or seats).
    pub blocked_minutes: f64,
    pub overtime_minutes: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ObservationRun {
    pub seated: u64,
    pub peak: u64,
    pub mean_occupancy: f64,
    /// People who waited at the last station for a seat.
    pub waited_for_seat: u64,
    /// The time integral of the occupancy, and the sum of the stays (Little's law: equal).
    pub area: f64,
    pub stay_sum: f64,
}

/// What one replication measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DayRun {
    pub arrived: u64,
    pub completed: u64,
    pub left: u64,
    pub balked: u64,
    pub waited_outside_peak: u64,
    pub time_mean: f64,
    pub time_p95: f64,
    /// Each person's total waiting: every station, outside, blocked and for a seat.
    pub wait_mean: f64,
    pub wait_p95: f64,
    /// When the last person left.
    pub day_end: f64,
    /// Arrivals, service starts, service ends and departures.
    pub events: u64,
    pub stations: Vec<StationRun>,
    pub observation: Option<ObservationRun>,
    /// The time integral of the people present, and the sum of their times (Little's law).
    pub present_area: f64,
    pub time_sum: f64,
    /// Queue lengths (per station) and observation occupancy at each step, when asked for.
    pub timeline: Option<(Vec<Vec<u32>>, Vec<u32>)>,
}

#[derive(Debug, Default)]
struct StationState {
    servers: u32,
    in_use: u32,
    /// Queued, in service and blocked here.
    count: u32,
    green_queue: VecDeque<u32>,
    queue: VecDeque<u32>,
    blocked: VecDeque<u32>,
    waits: Vec<f64>,
    green_wait: f64,
    green_served: u64,
    busy: f64,
    queue_max: usize,
    peak: u32,
    queue_area: f64,
    queue_since: f64,
    blocked_minutes: f64,
    last_end: f64,
}

impl StationState {
    /// Back to opening, keeping the room of its lists.
    fn reset(&mut self, servers: u32) {
        let mut waits = std::mem::take(&mut self.waits);
        let mut green_queue = std::mem::take(&mut self.green_queue);
        let mut queue = std::mem::take(&mut self.queue);
        let mut blocked = std::mem::take(&mut self.blocked);
        waits.clear();
        green_queue.clear();
        queue.clear();
        blocked.clear();
        *self = StationState {
            servers,
            waits,
            green_queue,
            queue,
            blocked,
            ..StationState::default()
        };
    }

    fn queued(&self) -> usize {
        self.green_queue.len() + self.queue.len()
    }

    /// Adds the queue's length since its last change to its time integral.
    #[inline]
    fn touch(&mut self, now: f64) {
        self.queue_area += self.queued() as f64 * (now - self.queue_since);
        self.queue_since = now;
    }
}

/// The working memory of a run, kept from one replication to the next.
#[derive(Debug, Default)]
pub struct Day {
    calendar: Option<Calendar<Ev>>,
    arrivals: Vec<(f64, bool)>,
    arrive: Vec<f64>,
    green: Vec<bool>,
    since: Vec<f64>,
    waited: Vec<f64>,
    stations: Vec<StationState>,
    outside: VecDeque<u32>,
    seated: u32,
    seat_peak: u32,
    seat_area: f64,
    seat_since: f64,
    seat_stays: f64,
    seats_taken: u64,
    waited_for_seat: u64,
    present: u32,
    present_area: f64,
    present_since: f64,
    times: Vec<f64>,
    totals: Vec<f64>,
    scratch: Vec<f64>,
    counts: Counts,
    timeline: Option<Timeline>,
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    arrived: u64,
    completed: u64,
    left: u64,
    balked: u64,
    outside_peak: usize,
    events: u64,
    day_end: f64,
}

#[derive(Debug, Default)]
struct Timeline {
    step: f64,
    next: f64,
    queues: Vec<Vec<u32>>,
    seats: Vec<u32>,
}

impl Day {
    pub fn new() -> Self {
        Self::default()
    }

    /// Each station's waits in the last run, in the order service began.
    pub fn station_waits(&self, station: usize) -> &[f64] {
        &self.stations[station].waits
    }

    /// Each person's total wait in the last run, by order of arrival.
    pub fn person_waits(&self) -> &[f64] {
        &self.waited
    }

    /// Each person's arrival time in the last run, in order.
    pub fn person_arrivals(&self) -> &[f64] {
        &self.arrive
    }

    /// Runs one replication of `model`; `timeline_step` (minutes) records queue lengths and
    /// observation occupancy at every step.
    pub fn run(&mut self, model: &Model, seed: u64, timeline_step: Option<f64>) -> DayRun {
        let mut rng = Random::seeded(seed);
        let mut arrivals = std::mem::take(&mut self.arrivals);
        model.draw_arrivals(&mut rng, &mut arrivals);
        let people = arrivals.len();
        for v in [&mut self.arrive, &mut self.since, &mut self.waited] {
            v.clear();
            v.resize(people, 0.0);
        }
        self.green.clear();
        for (p, (t, g)) in arrivals.iter().enumerate() {
            self.arrive[p] = *t;
            self.green.push(*g);
        }
        self.stations
            .resize_with(model.stations.len(), StationState::default);
        for (st, m) in self.stations.iter_mut().zip(&model.stations) {
            st.reset(m.opening);
        }
        self.outside.clear();
        self.times.clear();
        self.totals.clear();
        (
            self.seated,
            self.seat_peak,
            self.seats_taken,
            self.waited_for_seat,
        ) = (0, 0, 0, 0);
        (self.seat_area, self.seat_since, self.seat_stays) = (0.0, 0.0, 0.0);
        (self.present, self.present_area, self.present_since) = (0, 0.0, 0.0);
        self.counts = Counts::default();
        self.timeline = timeline_step.map(|step| Timeline {
            step,
            next: 0.0,
            queues: vec![Vec::new(); model.stations.len()],
            seats: Vec::new(),
        });
        let mut calendar = self
            .calendar
            .take()
            .unwrap_or_else(|| Calendar::with_capacity(1024));
        calendar.clear();
        for (k, m) in model.stations.iter().enumerate() {
            for (at, servers) in &m.changes {
                calendar.at(
                    *at,
                    Ev::Desks {
                        station: k as u16,
                        servers: *servers,
                    },
                );
            }
        }

        let mut run = Run {
            m: model,
            d: self,
            rng,
            calendar,
            now: 0.0,
        };
        let mut next = 0usize;
        loop {
            let arrival = arrivals.get(next).map(|a| a.0);
            let event = run.calendar.peek_time();
            let take_arrival = match (arrival, event) {
                (None, None) => break,
                (Some(a), Some(e)) => a <= e,
                (Some(_), None) => true,
                (None, Some(_)) => false,
            };
            if take_arrival {
                let t = arrivals[next].0;
                run.tick(t);
                run.calendar.advance(t);
                run.now = t;
                run.arrival(next as u32);
                next += 1;
            } else {
                let (t, ev) = run.calendar.pop().expect("peeked");
                run.tick(t);
                run.now = t;
                match ev {
                    Ev::Done { station, person } => run.done(station as usize, person),
                    Ev::Leave { person } => run.leave(person),
                    Ev::Desks { station, servers } => {
                        run.d.stations[station as usize].servers = servers;
                        run.start(station as usize);
                    }
                }
            }
        }
        let end = run.d.counts.day_end;
        run.tick(end);
        let Run { calendar, .. } = run;
        self.calendar = Some(calendar);
        self.arrivals = arrivals;
        self.summarise(model)
    }

    fn summarise(&mut self, model: &Model) -> DayRun {
        let c = self.counts;
        let scratch = &mut self.scratch;
        let mut stations = Vec::with_capacity(self.stations.len());
        for (st, m) in self.stations.iter().zip(&model.stations) {
            scratch.clear();
            scratch.extend_from_slice(&st.waits);
            let wait_sum: f64 = st.waits.iter().sum();
            let served = st.waits.len() as u64;
            let [p50, p95, p99] = quantiles(scratch, [0.5, 0.95, 0.99]);
            let available = m.available(st.last_end);
            stations.push(StationRun {
                served,
                wait_mean: if served > 0 {
                    wait_sum / served as f64
                } else {
                    0.0
                },
                wait_p50: p50,
                wait_p95: p95,
                wait_p99: p99,
                queue_max: st.queue_max as u64,
                peak: st.peak as u64,
                busy_share: if available > 0.0 {
                    st.busy / available
                } else {
                    0.0
                },
                priority_wait_mean: (st.green_served > 0)
                    .then(|| st.green_wait / st.green_served as f64),
                priority_served: st.green_served,
                queue_area: st.queue_area,
                wait_sum,
                blocked_minutes: st.blocked_minutes,
                overtime_minutes: (st.last_end - m.close()).max(0.0),
            });
        }
        let finished = self.times.len();
        let time_sum: f64 = self.times.iter().sum();
        let wait_total: f64 = self.totals.iter().sum();
        let [time_p95] = quantiles(&mut self.times, [0.95]);
        let [wait_p95] = quantiles(&mut self.totals, [0.95]);
        let per = |x: f64| {
            if finished > 0 {
                x / finished as f64
            } else {
                0.0
            }
        };
        DayRun {
            arrived: c.arrived,
            completed: c.completed,
            left: c.left,
            balked: c.balked,
            waited_outside_peak: c.outside_peak as u64,
            time_mean: per(time_sum),
            time_p95,
            wait_mean: per(wait_total),
            wait_p95,
            day_end: c.day_end,
            events: c.events,
            stations,
            observation: model.observation.as_ref().map(|_| ObservationRun {
                seated: self.seats_taken,
                peak: self.seat_peak as u64,
                mean_occupancy: if c.day_end > 0.0 {
                    self.seat_area / c.day_end
                } else {
                    0.0
                },
                waited_for_seat: self.waited_for_seat,
                area: self.seat_area,
                stay_sum: self.seat_stays,
            }),
            present_area: self.present_area,
            time_sum,
            timeline: self.timeline.take().map(|t| (t.queues, t.seats)),
        }
    }
}

/// Nearest-rank quantiles (as [`stats::quantile`]) by selection, without a full sort.
fn quantiles<const N: usize>(v: &mut [f64], ps: [f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    if v.is_empty() {
        return out;
    }
    for (o, p) in out.iter_mut().zip(ps) {
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        let (_, x, _) = v.select_nth_unstable_by(i, f64::total_cmp);
        *o = *x;
    }
    out
}

/// One replication under way.
struct Run<'a> {
    m: &'a Model,
    d: &'a mut Day,
    rng: Random,
    calendar: Calendar<Ev>,
    now: f64,
}

impl Run<'_> {
    /// Records the timeline's steps up to `t`, before the events at `t` change anything.
    #[inline]
    fn tick(&mut self, t: f64) {
        let Some(tl) = self.d.timeline.as_mut() else {
            return;
        };
        while tl.next <= t {
            for (q, st) in tl.queues.iter_mut().zip(&self.d.stations) {
                q.push(st.queued() as u32);
            }
            tl.seats.push(self.d.seated);
            tl.next += tl.step;
        }
    }

    fn present(&mut self, delta: i32) {
        let d = &mut *self.d;
        d.present_area += d.present as f64 * (self.now - d.present_since);
        d.present_since = self.now;
        d.present = d.present.wrapping_add_signed(delta);
    }

    fn arrival(&mut self, p: u32) {
        self.d.counts.arrived += 1;
        self.d.counts.events += 1;
        if self.has_room(0) {
            self.present(1);
            self.enter(0, p);
        } else if self.m.balk {
            self.d.counts.balked += 1;
            self.d.counts.left += 1;
            self.d.counts.events += 1;
        } else {
            self.present(1);
            self.d.since[p as usize] = self.now;
            self.d.outside.push_back(p);
            self.d.counts.outside_peak = self.d.counts.outside_peak.max(self.d.outside.len());
        }
    }

    #[inline]
    fn has_room(&self, k: usize) -> bool {
        self.d.stations[k].count < self.m.stations[k].capacity
    }

    /// `p` joins station `k`'s queue.
    fn enter(&mut self, k: usize, p: u32) {
        let now = self.now;
        self.d.since[p as usize] = now;
        let green = self.d.green[p as usize];
        let st = &mut self.d.stations[k];
        st.touch(now);
        st.count += 1;
        st.peak = st.peak.max(st.count);
        if green {
            st.green_queue.push_back(p);
        } else {
            st.queue.push_back(p);
        }
        st.queue_max = st.queue_max.max(st.queued());
        self.start(k);
    }

    /// Free desks at `k` take the next people: the green channel first.
    fn start(&mut self, k: usize) {
        let now = self.now;
        let d = &mut *self.d;
        let st = &mut d.stations[k];
        while st.in_use < st.servers {
            st.touch(now);
            let Some(p) = st.green_queue.pop_front().or_else(|| st.queue.pop_front()) else {
                break;
            };
            let wait = now - d.since[p as usize];
            d.waited[p as usize] += wait;
            st.waits.push(wait);
            if d.green[p as usize] {
                st.green_wait += wait;
                st.green_served += 1;
            }
            st.in_use += 1;
            d.counts.events += 1;
            let service = self.m.stations[k].service.draw(&mut self.rng);
            st.busy += service;
            self.calendar.at(
                now + service,
                Ev::Done {
                    station: k as u16,
                    person: p,
                },
            );
        }
    }

    /// `p` gives up their desk and their place at `k`.
    #[inline]
    fn release(&mut self, k: usize) {
        let st = &mut self.d.stations[k];
        st.count -= 1;
        st.in_use -= 1;
    }

    /// `p` has finished at `k` but the next place is full: they stay at the desk.
    fn block(&mut self, k: usize, p: u32) {
        self.d.since[p as usize] = self.now;
        self.d.stations[k].blocked.push_back(p);
    }

    /// The end of a blocked stretch or a wait outside.
    fn unblock(&mut self, p: u32) -> f64 {
        let waited = self.now - self.d.since[p as usize];
        self.d.waited[p as usize] += waited;
        waited
    }

    fn done(&mut self, k: usize, p: u32) {
        self.d.counts.events += 1;
        let st = &mut self.d.stations[k];
        st.last_end = self.now;
        let leave = self.m.stations[k].leave;
        if leave > 0.0 && self.rng.chance(leave) {
            self.release(k);
            self.depart(p, false);
            self.freed(k);
            return;
        }
        if k + 1 < self.m.stations.len() {
            if self.has_room(k + 1) {
                self.release(k);
                self.enter(k + 1, p);
                self.freed(k);
            } else {
                self.block(k, p);
            }
            return;
        }
        match &self.m.observation {
            None => {
                self.release(k);
                self.depart(p, true);
                self.freed(k);
            }
            Some(obs) if self.d.seated < obs.seats => {
                self.release(k);
                self.sit(p);
                self.freed(k);
            }
            Some(_) => {
                self.d.waited_for_seat += 1;
                self.block(k, p);
            }
        }
    }

    /// A desk and a place at `k` have come free: the desk takes the next in the queue, then the
    /// place takes whoever waits for it (outside, or blocked at the station before).
    fn freed(&mut self, k: usize) {
        self.start(k);
        self.admit(k);
    }

    fn admit(&mut self, k: usize) {
        while self.has_room(k) {
            if k == 0 {
                let Some(p) = self.d.outside.pop_front() else {
                    break;
                };
                self.unblock(p);
                self.enter(0, p);
            } else {
                let Some(p) = self.d.stations[k - 1].blocked.pop_front() else {
                    break;
                };
                let blocked = self.unblock(p);
                self.d.stations[k - 1].blocked_minutes += blocked;
                self.release(k - 1);
                self.enter(k, p);
                self.freed(k - 1);
            }
        }
    }

    fn sit(&mut self, p: u32) {
        let now = self.now;
        let d = &mut *self.d;
        d.seat_area += d.seated as f64 * (now - d.seat_since);
        d.seat_since = now;
        d.seated += 1;
        d.seat_peak = d.seat_peak.max(d.seated);
        d.seats_taken += 1;
        d.since[p as usize] = now;
        let minutes = self
            .m
            .observation
            .as_ref()
            .expect("seated only with an observation area")
            .minutes
            .draw(&mut self.rng);
        self.calendar.after(minutes, Ev::Leave { person: p });
    }

    fn leave(&mut self, p: u32) {
        let now = self.now;
        let d = &mut *self.d;
        d.seat_area += d.seated as f64 * (now - d.seat_since);
        d.seat_since = now;
        d.seated -= 1;
        d.seat_stays += now - d.since[p as usize];
        self.depart(p, true);
        let last = self.m.stations.len() - 1;
        if let Some(next) = self.d.stations[last].blocked.pop_front() {
            let blocked = self.unblock(next);
            self.d.stations[last].blocked_minutes += blocked;
            self.release(last);
            self.sit(next);
            self.freed(last);
        }
    }

    fn depart(&mut self, p: u32, completed: bool) {
        self.present(-1);
        let d = &mut *self.d;
        d.counts.events += 1;
        d.counts.day_end = self.now;
        if completed {
            d.counts.completed += 1;
        } else {
            d.counts.left += 1;
        }
        d.times.push(self.now - d.arrive[p as usize]);
        d.totals.push(d.waited[p as usize]);
    }
}

/// `replications` runs of `model`, spread over `threads` threads, in replication order whatever
/// the threads: the same seed gives the same runs.
pub fn replicate(
    model: &Model,
    replications: u64,
    seed: u64,
    threads: usize,
    timeline_step: Option<f64>,
) -> Vec<DayRun> {
    let n = replications as usize;
    let threads = threads.clamp(1, n.max(1));
    let per = n.div_ceil(threads).max(1);
    let mut runs: Vec<DayRun> = vec![DayRun::default(); n];
    if threads == 1 {
        let mut day = Day::new();
        for (r, slot) in runs.iter_mut().enumerate() {
            *slot = day.run(model, replication_seed(seed, r as u64), timeline_step);
        }
        return runs;
    }
    std::thread::scope(|scope| {
        for (t, chunk) in runs.chunks_mut(per).enumerate() {
            scope.spawn(move || {
                let mut day = Day::new();
                for (i, slot) in chunk.iter_mut().enumerate() {
                    let r = (t * per + i) as u64;
                    *slot = day.run(model, replication_seed(seed, r), timeline_step);
                }
            });
        }
    });
    runs
}

/// The result of `vaxloop simulate run`: every figure the mean over replications of that
/// replication's figure, `*_ci95` the half-width of its 95% interval across them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClinicResult {
    pub format: &'static str,
    pub name: String,
    pub replications: u64,
    pub seed: u64,
    pub arrived: f64,
    pub completed: f64,
    pub left: f64,
    pub balked: f64,
    pub waited_outside_peak: f64,
    pub overtime_minutes: f64,
    pub system: SystemResult,
    pub stations: Vec<StationResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observation: Option<ObservationResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline: Option<TimelineResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SystemResult {
    pub time_mean: f64,
    pub time_p95: f64,
    pub time_mean_ci95: f64,
    /// Each person's total waiting (all stations, outside, blocked, for a seat).
    pub wait_mean: f64,
    pub wait_p95: f64,
    pub wait_p95_ci95: f64,
    /// When the last person left.
    pub day_end: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationResult {
    pub name: String,
    pub served: f64,
    pub wait_mean: f64,
    pub wait_p50: f64,
    pub wait_p95: f64,
    pub wait_p99: f64,
    pub wait_mean_ci95: f64,
    pub queue_max: f64,
    pub peak: f64,
    pub busy_share: f64,
    pub priority_wait_mean: Option<f64>,
    pub blocked_minutes: f64,
    pub overtime_minutes: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservationResult {
    pub peak: f64,
    pub mean_occupancy: f64,
    pub seats: Option<u32>,
    pub waited_for_seat: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TimelineResult {
    pub step_minutes: f64,
    pub queues: Vec<(String, Vec<f64>)>,
    pub observation: Vec<f64>,
}

/// `{"step_minutes":…, "queues":{"checkin":[…],…}, "observation":[…]}`, stations in their order.
impl Serialize for TimelineResult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Queues<'a>(&'a [(String, Vec<f64>)]);
        impl Serialize for Queues<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut map = s.serialize_map(Some(self.0.len()))?;
                for (name, counts) in self.0 {
                    map.serialize_entry(name, counts)?;
                }
                map.end()
            }
        }
        let mut map = s.serialize_map(Some(3))?;
        map.serialize_entry("step_minutes", &self.step_minutes)?;
        map.serialize_entry("queues", &Queues(&self.queues))?;
        map.serialize_entry("observation", &self.observation)?;
        map.end()
    }
}

/// Rounds a figure for the result (to 1/10,000 of a minute or person).
fn r4(x: f64) -> f64 {
    (x * 1e4).round() / 1e4
}

fn mean_of(runs: &[DayRun], f: impl Fn(&DayRun) -> f64) -> f64 {
    r4(runs.iter().map(f).sum::<f64>() / runs.len().max(1) as f64)
}

fn ci_of(runs: &[DayRun], f: impl Fn(&DayRun) -> f64) -> f64 {
    let figures: Vec<f64> = runs.iter().map(f).collect();
    r4(stats::across(&figures).1)
}

/// Puts the replications together.
pub fn summarise(
    model: &Model,
    runs: &[DayRun],
    seed: u64,
    timeline_step: Option<f64>,
) -> ClinicResult {
    let stations = model
        .stations
        .iter()
        .enumerate()
        .map(|(k, m)| {
            let green: Vec<f64> = runs
                .iter()
                .filter_map(|r| r.stations[k].priority_wait_mean)
                .collect();
            StationResult {
                name: m.name.clone(),
                served: mean_of(runs, |r| r.stations[k].served as f64),
                wait_mean: mean_of(runs, |r| r.stations[k].wait_mean),
                wait_p50: mean_of(runs, |r| r.stations[k].wait_p50),
                wait_p95: mean_of(runs, |r| r.stations[k].wait_p95),
                wait_p99: mean_of(runs, |r| r.stations[k].wait_p99),
                wait_mean_ci95: ci_of(runs, |r| r.stations[k].wait_mean),
                queue_max: mean_of(runs, |r| r.stations[k].queue_max as f64),
                peak: mean_of(runs, |r| r.stations[k].peak as f64),
                busy_share: mean_of(runs, |r| r.stations[k].busy_share),
                priority_wait_mean: (!green.is_empty())
                    .then(|| r4(green.iter().sum::<f64>() / green.len() as f64)),
                blocked_minutes: mean_of(runs, |r| r.stations[k].blocked_minutes),
                overtime_minutes: mean_of(runs, |r| r.stations[k].overtime_minutes),
            }
        })
        .collect();
    let timeline = timeline_step.map(|step| {
        let steps = runs
            .iter()
            .filter_map(|r| r.timeline.as_ref().map(|t| t.1.len()))
            .max()
            .unwrap_or(0);
        let average = |pick: &dyn Fn(&DayRun) -> Option<&[u32]>| -> Vec<f64> {
            (0..steps)
                .map(|i| {
                    r4(runs
                        .iter()
                        .map(|r| pick(r).and_then(|v| v.get(i)).copied().unwrap_or(0) as f64)
                        .sum::<f64>()
                        / runs.len().max(1) as f64)
                })
                .collect()
        };
        TimelineResult {
            step_minutes: step,
            queues: model
                .stations
                .iter()
                .enumerate()
                .map(|(k, m)| {
                    (
                        m.name.clone(),
                        average(&|r: &DayRun| r.timeline.as_ref().map(|t| t.0[k].as_slice())),
                    )
                })
                .collect(),
            observation: average(&|r: &DayRun| r.timeline.as_ref().map(|t| t.1.as_slice())),
        }
    });
    ClinicResult {
        format: RESULT_FORMAT,
        name: model.name.clone(),
        replications: runs.len() as u64,
        seed,
        arrived: mean_of(runs, |r| r.arrived as f64),
        completed: mean_of(runs, |r| r.completed as f64),
        left: mean_of(runs, |r| r.left as f64),
        balked: mean_of(runs, |r| r.balked as f64),
        waited_outside_peak: mean_of(runs, |r| r.waited_outside_peak as f64),
        overtime_minutes: mean_of(runs, |r| {
            r.stations
                .iter()
                .map(|s| s.overtime_minutes)
                .fold(0.0, f64::max)
        }),
        system: SystemResult {
            time_mean: mean_of(runs, |r| r.time_mean),
            time_p95: mean_of(runs, |r| r.time_p95),
            time_mean_ci95: ci_of(runs, |r| r.time_mean),
            wait_mean: mean_of(runs, |r| r.wait_mean),
            wait_p95: mean_of(runs, |r| r.wait_p95),
            wait_p95_ci95: ci_of(runs, |r| r.wait_p95),
            day_end: mean_of(runs, |r| r.day_end),
        },
        stations,
        observation: model.observation.as_ref().map(|o| ObservationResult {
            peak: mean_of(runs, |r| {
                r.observation.as_ref().map_or(0, |x| x.peak) as f64
            }),
            mean_occupancy: mean_of(runs, |r| {
                r.observation.as_ref().map_or(0.0, |x| x.mean_occupancy)
            }),
            seats: (o.seats != u32::MAX).then_some(o.seats),
            waited_for_seat: mean_of(runs, |r| {
                r.observation.as_ref().map_or(0, |x| x.waited_for_seat) as f64
            }),
        }),
        timeline,
    }
}

/// Runs a scenario: `replications` on `threads` threads, put together.
pub fn simulate(
    scenario: &Scenario,
    replications: u64,
    seed: u64,
    threads: usize,
    timeline_step: Option<f64>,
) -> ClinicResult {
    let model = Model::new(scenario);
    let runs = replicate(&model, replications, seed, threads, timeline_step);
    summarise(&model, &runs, seed, timeline_step)
}
