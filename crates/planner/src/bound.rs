//! A valid upper bound on the objective, to say how far a plan can be from the best.
//!
//! The bound relaxes the planning problem to an aggregated one — team → site × day × half-day,
//! a team may be split over several such cells, slots within a half-day pooled, buses dropped —
//! with these rows, each implied by the real constraints:
//!
//! - per site-day: people ≤ min(Σ slot capacity, doses);
//! - per site-day and afternoon: people of teams starting in the afternoon ≤ the afternoon's
//!   capacity;
//! - per site-day and morning: people of teams starting in the morning ≤ the morning's capacity
//!   plus the first `max_parts − 1` afternoon slots (a split team may spill over noon).
//!
//! Its linear relaxation is bounded from above by the Lagrangian dual: for any prices ≥ 0 on
//! those rows, `Σ_teams max(0, best worth of the team net of prices) + Σ prices × right-hand
//! sides`. Every price vector gives a valid bound; subgradient steps (Polyak's rule, aiming at a
//! known plan's objective) bring it down towards the relaxation's optimum.

use std::time::{Duration, Instant};

use crate::instance::{Instance, Window};
use crate::solve::state::Model;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bound {
    /// No plan of the instance has a larger objective.
    pub value: i64,
    pub iterations: u32,
    pub seconds: f64,
}

/// A row of the relaxation, with its price.
struct Row {
    /// Right-hand side.
    rhs: f64,
    price: f64,
    used: f64,
}

/// The bound, improved for up to `budget` (and at most `max_iterations` steps); `target` is the
/// objective of a known plan, if any (it steers the step size, never the bound's validity).
pub fn upper_bound(
    instance: &Instance,
    target: Option<i64>,
    budget: Duration,
    max_iterations: u32,
) -> Bound {
    let started = Instant::now();
    let m = Model::new(instance);
    let mut relaxed = Relaxation::new(instance, &m);
    let mut best = f64::INFINITY;
    let mut theta = 2.0;
    let mut stale = 0;
    let mut iterations = 0;
    while iterations < max_iterations && started.elapsed() < budget {
        iterations += 1;
        let value = relaxed.dual_value(instance, &m);
        if value < best - 1e-9 {
            best = value;
            stale = 0;
        } else {
            stale += 1;
            if stale >= 20 {
                theta /= 2.0;
                stale = 0;
                if theta < 1e-5 {
                    break;
                }
            }
        }
        let aim = target.map_or(best * 0.97, |t| t as f64);
        if !relaxed.step(theta, value, aim, best) {
            break; // The prices are optimal: every row is used exactly or free at price 0.
        }
    }
    Bound {
        // Rounded up past any floating-point error before taking the integer part: the
        // objective is an integer no larger than the bound.
        value: if best.is_finite() {
            (best + 1e-3 + best.abs() * 1e-9).floor() as i64
        } else {
            0
        },
        iterations,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The aggregated problem's rows with their prices, and what the search over them needs.
struct Relaxation {
    /// `[sd]` totals, then `[halves_at + sd*2 + half]` halves (0 = am, 1 = pm).
    rows: Vec<Row>,
    halves_at: usize,
    /// Per site-day, whether its morning and its afternoon have any place.
    open: Vec<[bool; 2]>,
    /// Each team's sites by travel, to stop the search once travel alone costs too much.
    by_travel: Vec<Vec<u32>>,
}

fn row(rhs: f64) -> Row {
    Row {
        rhs,
        price: 0.0,
        used: 0.0,
    }
}

impl Relaxation {
    fn new(instance: &Instance, m: &Model) -> Self {
        let (sites, days, slots) = (m.sites, m.days, m.slots);
        let spill = (instance.teams.iter().map(|t| t.max_parts as usize))
            .max()
            .unwrap_or(1)
            .saturating_sub(1);
        let mut rows: Vec<Row> = Vec::with_capacity(sites * days * 3);
        let mut open = vec![[false; 2]; sites * days];
        for (s, site) in instance.sites.iter().enumerate() {
            for d in 0..days {
                let caps = &site.slot_capacity[d];
                let total: u64 = caps.iter().map(|&c| u64::from(c)).sum();
                let dose = u64::from(site.doses[d]);
                rows.push(row(total.min(dose) as f64));
                for k in 0..slots {
                    if caps[k] > 0 {
                        open[s * days + d][usize::from(!instance.in_window(k, Window::Am))] = true;
                    }
                }
            }
        }
        let halves_at = rows.len();
        for site in &instance.sites {
            for d in 0..days {
                let (mut am, mut pm, mut spilled) = (0u64, 0u64, 0usize);
                for (k, &c) in site.slot_capacity[d].iter().enumerate() {
                    if instance.in_window(k, Window::Am) {
                        am += u64::from(c);
                    } else {
                        pm += u64::from(c);
                        if spilled < spill {
                            am += u64::from(c);
                            spilled += 1;
                        }
                    }
                }
                rows.push(row(am as f64));
                rows.push(row(pm as f64));
            }
        }
        let by_travel = (0..m.teams())
            .map(|t| {
                let mut v: Vec<u32> = (0..sites as u32).collect();
                v.sort_by_key(|&s| m.travel(t, s as usize));
                v
            })
            .collect();
        Self {
            rows,
            halves_at,
            open,
            by_travel,
        }
    }

    /// The Lagrangian dual at the current prices: each team where it is worth most net of them
    /// (if anywhere), and the rows' use recorded for the next step.
    fn dual_value(&mut self, instance: &Instance, m: &Model) -> f64 {
        for r in self.rows.iter_mut() {
            r.used = 0.0;
        }
        let min_price = (self.rows.iter().map(|r| r.price))
            .fold(f64::INFINITY, f64::min)
            .max(0.0);
        let mut value: f64 = self.rows.iter().map(|r| r.price * r.rhs).sum();
        let w = &instance.weights;
        let person = w.person as f64;
        for (t, team) in instance.teams.iter().enumerate() {
            let (cost, pick) = self.cheapest(instance, m, t, min_price);
            let size = f64::from(team.size);
            let worth =
                size * (person - cost) + w.priority_person as f64 * f64::from(team.priority_people);
            if worth > 0.0
                && let Some((a, b)) = pick
            {
                value += worth;
                self.rows[a].used += size;
                self.rows[b].used += size;
            }
        }
        value
    }

    /// Team `t`'s cheapest option per person — travel, window miss and the rows' prices — and
    /// the two rows it uses.
    fn cheapest(
        &self,
        instance: &Instance,
        m: &Model,
        t: usize,
        min_price: f64,
    ) -> (f64, Option<(usize, usize)>) {
        let team = &instance.teams[t];
        let days = m.days;
        let w = &instance.weights;
        let (tpm, miss_cost) = (w.travel_person_minute as f64, w.window_miss_person as f64);
        let mut cost = f64::INFINITY;
        let mut pick = None;
        for &s in &self.by_travel[t] {
            let s = s as usize;
            if !instance.serves(s, t) {
                continue;
            }
            let travel = tpm * f64::from(m.travel(t, s));
            if travel + 2.0 * min_price >= cost {
                break;
            }
            for d in 0..days {
                let sd = s * days + d;
                if !instance.allows_day(t, d) || instance.sites[s].doses[d] < team.size {
                    continue;
                }
                for half in 0..2 {
                    if !self.open[sd][half] {
                        continue;
                    }
                    let in_window = match team.window {
                        Window::Any => true,
                        Window::Am => half == 0,
                        Window::Pm => half == 1,
                    };
                    if team.hard_window && !in_window {
                        continue;
                    }
                    let half_row = self.halves_at + sd * 2 + half;
                    let c = travel
                        + if in_window { 0.0 } else { miss_cost }
                        + self.rows[sd].price
                        + self.rows[half_row].price;
                    if c < cost {
                        cost = c;
                        pick = Some((sd, half_row));
                    }
                }
            }
        }
        (cost, pick)
    }

    /// A step against the subgradient (right-hand side minus use), projected on prices ≥ 0;
    /// false when there is none to take.
    fn step(&mut self, theta: f64, value: f64, aim: f64, best: f64) -> bool {
        let norm: f64 = (self.rows.iter())
            .map(|r| {
                let g = r.rhs - r.used;
                if r.price <= 0.0 && g > 0.0 {
                    0.0
                } else {
                    g * g
                }
            })
            .sum();
        if norm <= 0.0 {
            return false;
        }
        let step = theta * (value - aim).max(best * 1e-4) / norm;
        for r in self.rows.iter_mut() {
            r.price = (r.price - step * (r.rhs - r.used)).max(0.0);
        }
        true
    }
}
