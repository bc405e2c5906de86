//! Where one team goes, given everyone else: the best-valued place it fits.
//!
//! A team's worth depends only on the site (travel) and on whether its first slot is in its
//! window, so the candidates fall into classes (site, in window or not) of equal worth. Classes
//! are tried from the most valuable down; within the first class that has room anywhere, the
//! place that leaves its slots and day least loaded wins (spreading a site's day), then the
//! earlier day and slot.

use super::state::{Model, Placement, State};

/// A team's candidate classes, most valuable first: (worth, site, out of window). Only classes
/// worth more than leaving the team out.
pub(crate) fn classes(m: &Model, t: usize) -> Vec<(i64, u32, bool)> {
    let team = &m.inst.teams[t];
    let mut out = Vec::with_capacity(m.sites * 2);
    for s in (0..m.sites).filter(|&s| m.inst.serves(s, t)) {
        for miss in [false, true] {
            if miss && (team.hard_window || team.window == crate::Window::Any) {
                continue;
            }
            let v = m.value(t, s, miss);
            if v > 0 {
                out.push((v, s as u32, miss));
            }
        }
    }
    out.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    out
}

/// People per slot if team `t` starts in slot `k` of site-day (s, d): each slot takes what it
/// can until the team is seated, over at most `max_parts` slots; `None` when it does not fit.
pub(crate) fn parts(
    m: &Model,
    st: &State,
    t: usize,
    s: usize,
    d: usize,
    k: usize,
) -> Option<Vec<u32>> {
    let team = &m.inst.teams[t];
    let mut left = team.size;
    let mut parts = Vec::new();
    let max = (team.max_parts as usize).min(m.slots - k);
    for i in 0..max {
        let free = st.cap[m.slot_index(s, d, k + i)];
        if free == 0 {
            return None;
        }
        let take = free.min(left);
        parts.push(take);
        left -= take;
        if left == 0 {
            return Some(parts);
        }
    }
    None
}

/// Whether the buses can carry these parts (all trips of one placement at once).
pub(crate) fn buses_fit(
    m: &Model,
    st: &State,
    t: usize,
    s: usize,
    d: usize,
    k: usize,
    parts: &[u32],
) -> bool {
    if !m.inst.teams[t].bus {
        return true;
    }
    if parts.len() == 1 {
        return st.buses_free(m, d, m.trip_span(t, s, k), State::trips(m, parts[0]));
    }
    // Trips of consecutive parts overlap on the timeline: count them together.
    let spans: Vec<_> = (0..parts.len()).map(|i| m.trip_span(t, s, k + i)).collect();
    let from = spans.iter().map(|x| x.0).min().unwrap_or(0);
    let to = spans.iter().map(|x| x.1).max().unwrap_or(0);
    (from..to).all(|minute| {
        let extra: u32 = spans
            .iter()
            .zip(parts)
            .filter(|((a, b), _)| (*a..*b).contains(&minute))
            .map(|(_, &p)| u32::from(State::trips(m, p)))
            .sum();
        u32::from(st.buses[d * m.span + minute]) + extra <= u32::from(m.bus_count)
    })
}

/// The best place for team `t` among its classes, if any fits.
pub(crate) fn best(
    m: &Model,
    st: &State,
    t: usize,
    classes: &[(i64, u32, bool)],
) -> Option<Placement> {
    nth_best(m, st, t, classes, 0, None)
}

/// The best place in the `skip + 1`-th class that has room (or the last that has any): the
/// search's way of trying a team somewhere other than its best, which it may need to make room.
/// With `scatter`, a random place of the class instead of the least loaded.
pub(crate) fn nth_best(
    m: &Model,
    st: &State,
    t: usize,
    classes: &[(i64, u32, bool)],
    mut skip: usize,
    mut scatter: Option<&mut rand_chacha::ChaCha8Rng>,
) -> Option<Placement> {
    let team = &m.inst.teams[t];
    let mut found = None;
    for &(_, s, miss) in classes {
        let s = s as usize;
        let mut best: Option<(f64, Placement)> = None;
        for d in 0..m.days {
            if !m.inst.allows_day(t, d) {
                continue;
            }
            let sd = m.site_day(s, d);
            let doses = st.doses[sd];
            if doses < team.size {
                continue;
            }
            let day_total = m.inst.sites[s].doses[d].max(1);
            for k in 0..m.slots {
                // A slot in the window when the class is in it, out of it when not.
                if m.in_window[t * m.slots + k] == miss {
                    continue;
                }
                let Some(parts) = parts(m, st, t, s, d, k) else {
                    continue;
                };
                if !buses_fit(m, st, t, s, d, k, &parts) {
                    continue;
                }
                // Lower is better: fewer parts, then the load left in the slots and the day.
                let mut load = 0.0;
                for (i, &p) in parts.iter().enumerate() {
                    let idx = m.slot_index(s, d, k + i);
                    let full = f64::from(m.inst.sites[s].slot_capacity[d][k + i].max(1));
                    load += 1.0 - f64::from(st.cap[idx] - p) / full;
                }
                let score = match scatter.as_deref_mut() {
                    Some(rng) => rand::Rng::random::<f64>(rng),
                    None => {
                        parts.len() as f64 * 10.0 + load / parts.len() as f64 + 1.0
                            - f64::from(doses - team.size) / f64::from(day_total)
                    }
                };
                if best.as_ref().is_none_or(|(b, _)| score < *b - 1e-12) {
                    best = Some((
                        score,
                        Placement {
                            site: s as u32,
                            day: d as u32,
                            first: k as u32,
                            parts,
                            miss,
                        },
                    ));
                }
            }
        }
        if let Some((_, p)) = best {
            if skip == 0 {
                return Some(p);
            }
            skip -= 1;
            found = Some(p);
        }
    }
    found
}

/// Teams up to this size are tried in every split over their slots by [`all`]; larger ones
/// only slot by slot (the number of splits grows as size^(parts−1)).
const EVERY_SPLIT_UP_TO: u32 = 12;

/// Every place team `t` fits now, most valuable class first (within a class: by day, then
/// slot): parts filled slot by slot as in [`best`], and for small teams every other split too
/// (how a team is split decides how many buses each part needs, and when).
pub(crate) fn all(m: &Model, st: &State, t: usize, classes: &[(i64, u32, bool)]) -> Vec<Placement> {
    let team = &m.inst.teams[t];
    let mut out = Vec::new();
    for &(_, s, miss) in classes {
        let s = s as usize;
        for d in 0..m.days {
            if !m.inst.allows_day(t, d) || st.doses[m.site_day(s, d)] < team.size {
                continue;
            }
            for k in 0..m.slots {
                if m.in_window[t * m.slots + k] == miss {
                    continue;
                }
                let mut splits = Vec::new();
                if team.size <= EVERY_SPLIT_UP_TO {
                    let max = (team.max_parts as usize).min(m.slots - k);
                    let free: Vec<u32> = (0..max)
                        .map(|i| st.cap[m.slot_index(s, d, k + i)])
                        .collect();
                    every_split(team.size, &free, &mut Vec::new(), &mut splits);
                } else if let Some(parts) = parts(m, st, t, s, d, k) {
                    splits.push(parts);
                }
                for parts in splits {
                    if buses_fit(m, st, t, s, d, k, &parts) {
                        out.push(Placement {
                            site: s as u32,
                            day: d as u32,
                            first: k as u32,
                            parts,
                            miss,
                        });
                    }
                }
            }
        }
    }
    out
}

/// Every way to seat `left` people in the slots whose free places are `free`, one part per
/// slot from the first, each part at least one person.
fn every_split(left: u32, free: &[u32], prefix: &mut Vec<u32>, out: &mut Vec<Vec<u32>>) {
    let Some((&here, rest)) = free.split_first() else {
        return;
    };
    if left <= here {
        let mut whole = prefix.clone();
        whole.push(left);
        out.push(whole);
    }
    for take in 1..left.min(here + 1) {
        prefix.push(take);
        every_split(left - take, rest, prefix, out);
        prefix.pop();
    }
}

/// Whether team `t` can take exactly this place now (a previous plan's, or a hand-made one).
pub(crate) fn fits(m: &Model, st: &State, t: usize, p: &Placement) -> bool {
    let team = &m.inst.teams[t];
    let (s, d, k) = (p.site as usize, p.day as usize, p.first as usize);
    s < m.sites
        && m.inst.serves(s, t)
        && d < m.days
        && m.inst.allows_day(t, d)
        && !p.parts.is_empty()
        && p.parts.len() <= team.max_parts as usize
        && k + p.parts.len() <= m.slots
        && p.parts.iter().sum::<u32>() == team.size
        && (!team.hard_window || m.in_window[t * m.slots + k])
        && st.doses[m.site_day(s, d)] >= team.size
        && p.parts
            .iter()
            .enumerate()
            .all(|(i, &people)| people > 0 && st.cap[m.slot_index(s, d, k + i)] >= people)
        && buses_fit(m, st, t, s, d, k, &p.parts)
}
