//! Exact repair: the best way to seat a handful of freed teams around everyone else, by
//! depth-first search over every place each could take (every class, allowed day and start
//! slot), pruned by the most the teams still to seat could add. Used by the search on small
//! neighbourhoods, where greedy re-seating cannot make the trades a better plan needs (a team
//! stepping aside to its second-best site so two others fit).

use super::place;
use super::state::{Model, Placement, State};

/// Re-seats `teams` (none placed now) as well as an exhaustive search within `node_budget`
/// finds; returns whether the search finished (the seating is then the best there is). When
/// the budget runs out the best found so far is used.
pub(crate) fn repair(
    m: &Model,
    st: &mut State,
    teams: &[usize],
    classes: &[Vec<(i64, u32, bool)>],
    node_budget: u64,
) -> bool {
    let mut order: Vec<usize> = teams.to_vec();
    order.sort_by_key(|&t| std::cmp::Reverse(classes[t].first().map_or(0, |c| c.0)));
    // rest[i]: the most teams i.. could add.
    let mut rest = vec![0i64; order.len() + 1];
    for i in (0..order.len()).rev() {
        rest[i] = rest[i + 1] + classes[order[i]].first().map_or(0, |c| c.0.max(0));
    }
    let mut search = Search {
        m,
        classes,
        order: &order,
        rest: &rest,
        best: st.objective,
        best_seats: vec![None; order.len()],
        seats: vec![None; order.len()],
        nodes: 0,
        budget: node_budget,
    };
    search.go(st, 0);
    let finished = search.nodes < search.budget;
    let seats = std::mem::take(&mut search.best_seats);
    for (i, p) in seats.into_iter().enumerate() {
        if let Some(p) = p {
            st.place(m, order[i], p);
        }
    }
    finished
}

struct Search<'a, 'm> {
    m: &'a Model<'m>,
    classes: &'a [Vec<(i64, u32, bool)>],
    order: &'a [usize],
    rest: &'a [i64],
    best: i64,
    best_seats: Vec<Option<Placement>>,
    seats: Vec<Option<Placement>>,
    nodes: u64,
    budget: u64,
}

impl Search<'_, '_> {
    fn go(&mut self, st: &mut State, i: usize) {
        self.nodes += 1;
        if st.objective > self.best {
            self.best = st.objective;
            self.best_seats.clone_from(&self.seats);
        }
        if i == self.order.len()
            || st.objective + self.rest[i] <= self.best
            || self.nodes >= self.budget
        {
            return;
        }
        let t = self.order[i];
        for p in place::all(self.m, st, t, &self.classes[t]) {
            if st.objective + (self.m.value(t, p.site as usize, p.miss)) + self.rest[i + 1]
                <= self.best
            {
                // Places come most valuable first: no later one can do better either.
                break;
            }
            st.place(self.m, t, p.clone());
            self.seats[i] = Some(p);
            self.go(st, i + 1);
            self.seats[i] = None;
            st.remove(self.m, t);
            if self.nodes >= self.budget {
                return;
            }
        }
        // Left out.
        self.go(st, i + 1);
    }
}
