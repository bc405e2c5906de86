//! Group commit for bookings. When a release opens and a thousand phones book at once, every
//! booking is its own small transaction, and on SQLite (one writer, `synchronous=FULL`) each
//! commit is a flush to disk: the flushes, not the work, would set the pace. The [`Writer`]
//! instead takes every booking waiting at that moment and applies them one after another in
//! **one** transaction, each inside a savepoint of its own: a refused booking is rolled back to
//! its savepoint alone, the others stand, and one commit makes them all durable before anyone
//! is answered. Nothing changes for the invariants — each booking is the same conditional
//! updates as ever, and nobody hears "booked" before the commit that keeps it.
//!
//! A retried request with an `Idempotency-Key` is answered inside the same batch from the key's
//! stored answer; a new key is claimed, and its answer stored, in the booking's own savepoint.
//! Each booking's audit row is written with it: in its savepoint, or — for the single bookings
//! made set-wise — in one statement for the lot, inside theirs.
//!
//! One writer serves both backends, on a thread, runtime and connection of its own: a booking
//! is several statements one after another, and on the requests' runtime every one of them
//! would queue behind the requests in flight. Several writers, one per site-day, were tried on
//! PostgreSQL: with the server on the same two cores they bought no throughput (the work per
//! request, not the commit, is the limit there) and lengthened the tail, so there is one.

use std::sync::OnceLock;

use tokio::sync::{mpsc, oneshot};
use vaxloop_store::audit::{self, Entry, Outcome};
use vaxloop_store::booking;
use vaxloop_store::idempotency::{self, Claim};
use vaxloop_store::teams::Team;
use vaxloop_store::{Db, StoreError, WriteTx, db};

use crate::booking::engine::{Placed, Placement, TeamOf, place_in};
use crate::booking::{BookRefusal, Checked, Request};
use crate::days::DayCache;

/// Most bookings in one commit: large enough that a surge needs few commits, small enough that
/// the first in a batch does not wait long for the last.
const MAX_BATCH: usize = 256;

/// A booking's idempotency key, as the API received it.
#[derive(Debug, Clone)]
pub struct Keyed {
    pub user_id: i64,
    pub key: String,
    /// A hash of the request, so that a key reused for another request is told apart.
    pub request_hash: String,
}

/// What became of a booking handed to the [`Writer`].
#[derive(Debug, Clone, PartialEq)]
pub enum Written {
    /// Booked and committed: the appointments' ids, the team they were booked as (when the
    /// booking asked for one) and the answer rendered for them.
    Booked {
        appointments: Vec<i64>,
        team: Option<Team>,
        body: String,
    },
    /// Refused by the invariants; nothing of it was kept.
    Refused(BookRefusal),
    /// A retry of a request already answered: that answer.
    Replayed { status: i64, body: String },
    /// The key was used for another request, or its first request is still running.
    KeyReused,
    /// A move whose appointment to give up is no longer active (cancelled or moved meanwhile);
    /// nothing of it was kept.
    Gone,
}

/// A booking checked and planned (see [`crate::booking::check_place`]), as handed to the
/// [`Writer`]: it ends in [`place_in`], like every booking.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// The site-day of the first group.
    pub site_id: i64,
    pub day: String,
    /// `(slot, people)`: one group, or a team's groups in consecutive slots.
    pub groups: Vec<(i64, Vec<i64>)>,
    pub dose_number: i64,
    pub vaccine_id: i64,
    pub walk_in: bool,
    /// Book the people as one new team of this unit, numbered on the site-day.
    pub team_of: Option<i64>,
    /// Who booked (their login; none for the operator), for the booking's audit row.
    pub by: Option<i64>,
}

impl Order {
    /// The checked booking `req`, as one group: no new team.
    pub fn of(req: &Request<'_>, checked: &Checked, by: Option<i64>) -> Self {
        Order {
            site_id: checked.site_id,
            day: checked.day.clone(),
            groups: vec![(req.slot_id, req.people.to_vec())],
            dose_number: req.dose_number,
            vaccine_id: checked.vaccine_id,
            walk_in: req.walk_in,
            team_of: None,
            by,
        }
    }

    fn size(&self) -> usize {
        self.groups.iter().map(|(_, g)| g.len()).sum()
    }
}

/// Makes the answer (stored under a key, if any) from the appointments' ids and the team.
type Render = Box<dyn Fn(&[i64], Option<&Team>) -> String + Send>;

/// One booking to apply.
struct Job {
    order: Order,
    keyed: Option<Keyed>,
    /// The body stored with the key when the booking succeeds (the API's 201 answer).
    render: Render,
    /// A move: the appointment given up in the same savepoint, and its site-day.
    replaces: Option<(i64, i64, String)>,
}

/// A refusal's answer to keep under its key, so a retry hears the same refusal.
struct Answer {
    keyed: Keyed,
    status: i64,
    body: String,
}

type Reply = oneshot::Sender<Result<Written, String>>;

enum Work {
    Book(Job, Reply),
    Answer(Answer, Reply),
}

/// The single task that commits bookings in groups. Cheap to clone; started on first use, on the
/// running Tokio runtime.
#[derive(Clone)]
pub struct Writer {
    db: Db,
    days: DayCache,
    queue: std::sync::Arc<OnceLock<mpsc::UnboundedSender<Work>>>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Writer")
    }
}

fn lost() -> StoreError {
    StoreError::NotFound("booking writer")
}

impl Writer {
    /// A writer on `db` that, after each commit, makes `days` forget the site-days it booked
    /// into (or found fuller than `days` thought).
    pub fn new(db: Db, days: DayCache) -> Self {
        Self {
            db,
            days,
            queue: std::sync::Arc::new(OnceLock::new()),
        }
    }

    /// The writer's queue; the writer starts on first use, on a thread of its own with a
    /// runtime and a connection of its own: its statements follow one another, and on the
    /// requests' runtime each would wait its turn behind every request in flight. It stops
    /// when the last [`Writer`] is dropped.
    fn queue(&self) -> &mpsc::UnboundedSender<Work> {
        self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            let db = self.db.clone();
            let days = self.days.clone();
            let started = std::thread::Builder::new()
                .name("vaxloop-writer".into())
                .spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build();
                    match runtime {
                        Ok(runtime) => runtime.block_on(async move {
                            let own = match db.sibling(1).await {
                                Ok(own) => own,
                                Err(e) => {
                                    tracing::warn!(error = %e, "booking writer: no connection of its own, sharing the pool");
                                    db
                                }
                            };
                            run(own, days, rx).await;
                        }),
                        Err(e) => tracing::error!(error = %e, "booking writer: no runtime"),
                    }
                });
            if let Err(e) = started {
                tracing::error!(error = %e, "booking writer: no thread");
            }
            tx
        })
    }

    async fn send(
        &self,
        work: Work,
        rx: oneshot::Receiver<Result<Written, String>>,
    ) -> Result<Written, StoreError> {
        self.queue().send(work).map_err(|_| lost())?;
        match rx.await {
            Ok(Ok(w)) => Ok(w),
            Ok(Err(message)) => Err(StoreError::Commit(message)),
            Err(_) => Err(lost()),
        }
    }

    /// Applies a checked booking in the next group commit, with its audit row; with
    /// `team_of`, its people become one new team of that unit in the same savepoint. `render`
    /// makes the answer (stored under the key, if any) when it succeeds.
    pub async fn book(
        &self,
        order: Order,
        keyed: Option<Keyed>,
        render: impl Fn(&[i64], Option<&Team>) -> String + Send + 'static,
    ) -> Result<Written, StoreError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            order,
            keyed,
            render: Box::new(render),
            replaces: None,
        };
        self.send(Work::Book(job, reply), rx).await
    }

    /// Moves a person's appointment `old` (at `old_site` on `old_day`) to the checked booking
    /// `order`, in the next group commit: the old place comes back and the new one is taken in
    /// one savepoint, or — when the new one is refused — the old appointment stands.
    pub async fn move_to(
        &self,
        order: Order,
        (old, old_site, old_day): (i64, i64, String),
    ) -> Result<Written, StoreError> {
        let (reply, rx) = oneshot::channel();
        let job = Job {
            order,
            keyed: None,
            render: Box::new(|_, _| String::new()),
            replaces: Some((old, old_site, old_day)),
        };
        self.send(Work::Book(job, reply), rx).await
    }

    /// Keeps a refusal's answer under its key, in the next group commit. Returns the answer the
    /// key holds afterwards ([`Written::Replayed`]: this one, or an earlier one when the key was
    /// already answered) or [`Written::KeyReused`].
    pub async fn answer(
        &self,
        keyed: Keyed,
        status: i64,
        body: String,
    ) -> Result<Written, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.send(
            Work::Answer(
                Answer {
                    keyed,
                    status,
                    body,
                },
                reply,
            ),
            rx,
        )
        .await
    }
}

/// The writer's loop: wait for work, take all that is waiting (up to [`MAX_BATCH`]), apply it in
/// one transaction, commit, answer everyone.
async fn run(db: Db, days: DayCache, mut rx: mpsc::UnboundedReceiver<Work>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        apply(&db, &days, std::mem::take(&mut batch)).await;
        batch.reserve(MAX_BATCH);
    }
}

async fn apply(db: &Db, days: &DayCache, batch: Vec<Work>) {
    let mut done: Vec<(Reply, Result<Written, String>)> = Vec::with_capacity(batch.len());
    let mut tx = match db.begin_write().await {
        Ok(tx) => tx,
        Err(e) => {
            let message = e.to_string();
            for work in batch {
                let (Work::Book(_, reply) | Work::Answer(_, reply)) = work;
                let _ = reply.send(Err(message.clone()));
            }
            return;
        }
    };
    let now = vaxloop_store::now_ms();
    let mut answers = Vec::new();
    let mut touched: Vec<(i64, String)> = Vec::new();
    // One person each, for a first dose, nobody twice: booked together, set-wise. The rest
    // (teams, later doses, a person asking twice) one by one after them.
    let mut singles = Vec::new();
    let mut others = Vec::new();
    let mut people = std::collections::HashSet::new();
    for work in batch {
        match work {
            Work::Book(job, reply) => {
                let key = (job.order.site_id, job.order.day.clone());
                if !touched.contains(&key) {
                    touched.push(key);
                }
                if let Some((_, site, day)) = &job.replaces
                    && !touched.contains(&(*site, day.clone()))
                {
                    touched.push((*site, day.clone()));
                }
                if job.single() && people.insert(job.order.groups[0].1[0]) {
                    singles.push((job, reply));
                } else {
                    others.push((job, reply));
                }
            }
            Work::Answer(a, reply) => answers.push((a, reply)),
        }
    }
    if !singles.is_empty() {
        match together(&mut tx, &singles, now).await {
            Ok(Some(outcomes)) => {
                for ((_, reply), outcome) in singles.into_iter().zip(outcomes) {
                    done.push((reply, Ok(outcome)));
                }
            }
            Ok(None) => {
                others.splice(0..0, singles);
            }
            Err(e) => {
                tracing::warn!(error = %e, "booking writer: set-wise booking failed, booking one by one");
                others.splice(0..0, singles);
            }
        }
    }
    for (job, reply) in others {
        done.push((reply, one(&mut tx, job, now).await));
    }
    if !answers.is_empty() {
        done.extend(kept(&mut tx, answers, now).await);
    }
    let committed = tx.commit().await;
    for (site_id, day) in &touched {
        days.forget(*site_id, day);
    }
    match committed {
        Ok(()) => {
            for (reply, outcome) in done {
                let _ = reply.send(outcome);
            }
        }
        Err(e) => {
            let message = e.to_string();
            for (reply, _) in done {
                let _ = reply.send(Err(message.clone()));
            }
        }
    }
}

impl Job {
    /// One person, alone, for a first dose: what [`together`] books.
    fn single(&self) -> bool {
        let o = &self.order;
        o.groups.len() == 1
            && o.groups[0].1.len() == 1
            && o.team_of.is_none()
            && self.replaces.is_none()
            && o.dose_number == 1
    }

    /// The booking's audit row, once booked as `placed`: what was done (booked, booked a team,
    /// a walk-in, a move), to which appointment or team, and how many people where — ids and
    /// codes only.
    fn audited(&self, placed: &Placed) -> Audited {
        let o = &self.order;
        let action = if self.replaces.is_some() {
            "move"
        } else if o.team_of.is_some() {
            "book_team"
        } else if o.walk_in {
            "walk_in"
        } else {
            "book"
        };
        let target = match (&placed.team, placed.appointments.as_slice()) {
            (Some(team), _) => format!("team:{}", team.code),
            (None, [one]) => format!("appointment:{one}"),
            (None, _) => format!("slot:{}", o.groups[0].0),
        };
        let mut detail = format!(
            "slot={} people={} dose={}",
            o.groups[0].0,
            o.size(),
            o.dose_number
        );
        if let Some((old, ..)) = &self.replaces {
            detail.push_str(&format!(" from=appointment:{old}"));
        }
        Audited {
            by: o.by,
            action,
            target,
            detail,
        }
    }
}

/// A booking's audit row, to write with it.
struct Audited {
    by: Option<i64>,
    action: &'static str,
    target: String,
    detail: String,
}

impl Audited {
    fn entry(&self) -> Entry<'_> {
        Entry {
            actor_user_id: self.by,
            action: self.action,
            target: &self.target,
            reason: None,
            outcome: Outcome::Ok,
            detail: Some(&self.detail),
        }
    }
}

/// Single bookings (see [`Job::single`]) all at once, inside a savepoint: keys claimed, places
/// shared out and written, answers kept, in a few statements for the lot (see
/// [`booking::book_singles`]). `None` (or an error) when that could not be done — everything of
/// it is then rolled back and the caller books them one by one.
async fn together(
    tx: &mut WriteTx,
    jobs: &[(Job, Reply)],
    now: i64,
) -> Result<Option<Vec<Written>>, StoreError> {
    db::savepoint(tx, "together").await?;
    let outcome = all_at_once(tx, jobs, now).await;
    match outcome {
        Ok(Some(written)) => {
            db::release(tx, "together").await?;
            Ok(Some(written))
        }
        other => {
            db::rollback_to(tx, "together").await?;
            other
        }
    }
}

async fn all_at_once(
    tx: &mut WriteTx,
    jobs: &[(Job, Reply)],
    now: i64,
) -> Result<Option<Vec<Written>>, StoreError> {
    let mut written: Vec<Option<Written>> = vec![None; jobs.len()];
    let keyed: Vec<(usize, &Keyed)> = jobs
        .iter()
        .enumerate()
        .filter_map(|(i, (job, _))| job.keyed.as_ref().map(|k| (i, k)))
        .collect();
    let to_claim: Vec<idempotency::ToClaim> = keyed
        .iter()
        .map(|(_, k)| (k.user_id, k.key.as_str(), k.request_hash.as_str()))
        .collect();
    let claims = idempotency::claim_many(tx, &to_claim, now).await?;
    for ((i, _), claim) in keyed.iter().zip(claims) {
        written[*i] = match claim {
            Claim::Fresh => None,
            Claim::Answered { status, body } => Some(Written::Replayed { status, body }),
            Claim::Mismatch | Claim::InFlight { .. } => Some(Written::KeyReused),
        };
    }
    let todo: Vec<usize> = (0..jobs.len()).filter(|&i| written[i].is_none()).collect();
    let items: Vec<booking::Single> = todo
        .iter()
        .map(|&i| {
            let o = &jobs[i].0.order;
            booking::Single {
                slot_id: o.groups[0].0,
                person_id: o.groups[0].1[0],
                vaccine_id: o.vaccine_id,
                walk_in: o.walk_in,
            }
        })
        .collect();
    let Some(outcomes) = booking::book_singles(tx, &items, 1, now).await? else {
        return Ok(None);
    };
    let mut bodies: Vec<(usize, String)> = Vec::new();
    let mut given_back: Vec<(i64, &str)> = Vec::new();
    let mut audited: Vec<Audited> = Vec::new();
    for (&i, outcome) in todo.iter().zip(outcomes) {
        let job = &jobs[i].0;
        written[i] = Some(match outcome {
            Ok(id) => {
                let placed = Placed {
                    appointments: vec![id],
                    team: None,
                    slots: vec![(job.order.groups[0].0, 1)],
                };
                audited.push(job.audited(&placed));
                let body = (job.render)(&[id], None);
                bodies.push((i, body.clone()));
                Written::Booked {
                    appointments: vec![id],
                    team: None,
                    body,
                }
            }
            Err(refusal) => {
                if let Some(k) = &job.keyed {
                    given_back.push((k.user_id, k.key.as_str()));
                }
                Written::Refused(BookRefusal::Store(refusal))
            }
        });
    }
    let answers: Vec<idempotency::Settle> = bodies
        .iter()
        .filter_map(|(i, body)| {
            jobs[*i].0.keyed.as_ref().map(|k| idempotency::Settle {
                user_id: k.user_id,
                key: &k.key,
                request_hash: &k.request_hash,
                status: 201,
                body,
            })
        })
        .collect();
    idempotency::answer_many(tx, &answers, now).await?;
    idempotency::release_many(tx, &given_back).await?;
    let entries: Vec<Entry<'_>> = audited.iter().map(Audited::entry).collect();
    audit::record_many(tx, &entries, now).await?;
    Ok(written.into_iter().collect())
}

/// One booking inside its own savepoint: kept if booked, undone otherwise.
/// Tries of one booking that meets a deadlock (PostgreSQL, with a desk's move on the same slots
/// in a transaction of its own): each rolls back to the booking's savepoint and goes again.
const DEADLOCK_TRIES: usize = 5;

async fn one(tx: &mut WriteTx, job: Job, now: i64) -> Result<Written, String> {
    let mut tries = 0;
    loop {
        tries += 1;
        db::savepoint(tx, "booking")
            .await
            .map_err(|e| e.to_string())?;
        let outcome = attempt(tx, &job, now).await;
        if tries < DEADLOCK_TRIES
            && let Err(e) = &outcome
            && e.is_retryable()
        {
            tracing::debug!(error = %e, "booking writer: a deadlock, the booking goes again");
            db::rollback_to(tx, "booking")
                .await
                .map_err(|e| e.to_string())?;
            continue;
        }
        return close(tx, outcome, |w| matches!(w, Written::Booked { .. })).await;
    }
}

/// Refusals' answers kept under their keys — unless a key already holds an answer (a retry of
/// a request that went through before), which is then the answer. All in one statement (see
/// [`idempotency::settle_many`]) inside a savepoint of their own, so a failure spoils none of
/// the bookings.
async fn kept(
    tx: &mut WriteTx,
    answers: Vec<(Answer, Reply)>,
    now: i64,
) -> Vec<(Reply, Result<Written, String>)> {
    let items: Vec<_> = answers
        .iter()
        .map(|(a, _)| idempotency::Settle {
            user_id: a.keyed.user_id,
            key: &a.keyed.key,
            request_hash: &a.keyed.request_hash,
            status: a.status,
            body: &a.body,
        })
        .collect();
    let claims = async {
        db::savepoint(tx, "answers").await?;
        let claims = idempotency::settle_many(tx, &items, now).await;
        if claims.is_ok() {
            db::release(tx, "answers").await?;
        } else {
            db::rollback_to(tx, "answers").await?;
        }
        claims
    }
    .await
    .map_err(|e| e.to_string());
    drop(items);
    match claims {
        Ok(claims) => answers
            .into_iter()
            .zip(claims)
            .map(|((a, reply), claim)| {
                let written = match claim {
                    Claim::Fresh => Written::Replayed {
                        status: a.status,
                        body: a.body,
                    },
                    Claim::Answered { status, body } => Written::Replayed { status, body },
                    Claim::Mismatch | Claim::InFlight { .. } => Written::KeyReused,
                };
                (reply, Ok(written))
            })
            .collect(),
        Err(message) => answers
            .into_iter()
            .map(|(_, reply)| (reply, Err(message.clone())))
            .collect(),
    }
}

/// Releases the savepoint when `keep` says so and the work did not fail, otherwise rolls back
/// to it, so a failure never spoils the others' transaction.
async fn close(
    tx: &mut WriteTx,
    outcome: Result<Written, StoreError>,
    keep: impl Fn(&Written) -> bool,
) -> Result<Written, String> {
    let keep = outcome.as_ref().is_ok_and(keep);
    let closed = if keep {
        db::release(tx, "booking").await
    } else {
        db::rollback_to(tx, "booking").await
    };
    closed.map_err(|e| e.to_string())?;
    outcome.map_err(|e| e.to_string())
}

async fn attempt(tx: &mut WriteTx, job: &Job, now: i64) -> Result<Written, StoreError> {
    if let Some(k) = &job.keyed {
        match idempotency::claim(tx, k.user_id, &k.key, &k.request_hash, now).await? {
            Claim::Fresh => {}
            Claim::Answered { status, body } => return Ok(Written::Replayed { status, body }),
            Claim::Mismatch | Claim::InFlight { .. } => return Ok(Written::KeyReused),
        }
    }
    if let Some((old, ..)) = &job.replaces
        && !booking::cancel_in(tx, *old, now).await?
    {
        return Ok(Written::Gone);
    }
    let o = &job.order;
    let placement = Placement {
        site_id: o.site_id,
        day: &o.day,
        groups: o.groups.iter().map(|(s, g)| (*s, g.as_slice())).collect(),
        dose_number: o.dose_number,
        vaccine_id: o.vaccine_id,
        team: o.team_of.map_or(TeamOf::Nobody, TeamOf::New),
        walk_in: o.walk_in,
    };
    match place_in(tx, &placement, now).await? {
        Ok(placed) => {
            audit::record_in(tx, &job.audited(&placed).entry(), now).await?;
            let body = (job.render)(&placed.appointments, placed.team.as_ref());
            if let Some(k) = &job.keyed {
                idempotency::answer(tx, k.user_id, &k.key, &k.request_hash, 201, &body, now)
                    .await?;
            }
            Ok(Written::Booked {
                appointments: placed.appointments,
                team: placed.team,
                body,
            })
        }
        Err(refusal) => Ok(Written::Refused(refusal)),
    }
}
