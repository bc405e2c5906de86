//! Counts kept for a while: the town's funnel, its groups' progress and the people stuck are
//! counted over every person (250,000 in the demo town: most of a second on SQLite), and the
//! overview, the funnel and the work-group API are read all day by leaders who reload them —
//! issue 18 asks ≤ 100 ms of them. So each count is kept, with the time it was made, and a
//! reader gets the kept one at once; one older than the application's count age is counted
//! again in the background (one recount per key at a time) while readers go on getting the last
//! — the pages say when their figures were counted. The first reader of a key waits for its
//! count. A count age of zero counts on every read (the tests, which look right after they
//! write, and anyone who wants that).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use vaxloop_store::funnel::{Stuck, UnitFunnel};
use vaxloop_store::org::GroupProgress;
use vaxloop_store::stats::Overview;

/// The town's counts over every person, counted together and kept.
#[derive(Debug, Clone)]
pub struct TownCounts {
    /// Every unit's funnel, by unit code.
    pub units: Vec<UnitFunnel>,
    pub groups: Vec<GroupProgress>,
    pub overview: Overview,
    /// Everyone registered, in any journey state.
    pub registered: i64,
}

pub(crate) type KeptTown = Kept<(), TownCounts>;
/// Per group (none: the town) and list length: the people stuck, and how many in all.
pub(crate) type KeptStuck = Kept<(Option<i64>, i64), (Vec<Stuck>, i64)>;

/// A value as counted, and when.
#[derive(Debug)]
pub struct Counted<V> {
    pub value: V,
    /// When it was counted, in milliseconds since the epoch.
    pub at_ms: i64,
    made: Instant,
}

impl<V> Counted<V> {
    fn now(value: V) -> Self {
        Self {
            value,
            at_ms: vaxloop_store::now_ms(),
            made: Instant::now(),
        }
    }
}

struct Entry<V> {
    value: Arc<Counted<V>>,
    /// A recount runs in the background.
    counting: bool,
}

/// Counts kept per key (see the module).
pub struct Kept<K, V> {
    max_age: Duration,
    entries: Mutex<HashMap<K, Entry<V>>>,
}

impl<K, V> std::fmt::Debug for Kept<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kept({:?})", self.max_age)
    }
}

impl<K, V> Kept<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Send + Sync + 'static,
{
    /// Counts kept up to `max_age` before they are counted again (zero: never kept).
    pub fn new(max_age: Duration) -> Arc<Self> {
        Arc::new(Self {
            max_age,
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn entries(&self) -> MutexGuard<'_, HashMap<K, Entry<V>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The count of `key`: the kept one (a recount started when it is too old), or one made
    /// now by `count` when none is kept.
    pub async fn get<F, Fut, E>(self: &Arc<Self>, key: K, count: F) -> Result<Arc<Counted<V>>, E>
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = Result<V, E>> + Send + 'static,
        E: std::fmt::Display + Send + 'static,
    {
        if self.max_age.is_zero() {
            return Ok(Arc::new(Counted::now(count().await?)));
        }
        let kept = self.entries().get_mut(&key).map(|e| {
            let recount = !e.counting && e.value.made.elapsed() > self.max_age;
            e.counting |= recount;
            (Arc::clone(&e.value), recount)
        });
        if let Some((value, recount)) = kept {
            if recount {
                let me = Arc::clone(self);
                tokio::spawn(async move {
                    let counted = count().await;
                    let mut entries = me.entries();
                    let Some(e) = entries.get_mut(&key) else {
                        return;
                    };
                    e.counting = false;
                    match counted {
                        Ok(v) => e.value = Arc::new(Counted::now(v)),
                        Err(err) => {
                            tracing::warn!(error = %err, "a kept count could not be made again; the last one stays")
                        }
                    }
                });
            }
            return Ok(value);
        }
        let value = Arc::new(Counted::now(count().await?));
        self.entries().insert(
            key,
            Entry {
                value: Arc::clone(&value),
                counting: false,
            },
        );
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A count that says how many times it was made.
    fn counter(calls: &Arc<AtomicUsize>) -> impl Future<Output = Result<usize, String>> + use<> {
        let calls = Arc::clone(calls);
        async move { Ok(calls.fetch_add(1, Ordering::SeqCst) + 1) }
    }

    #[tokio::test]
    async fn a_kept_count_is_served_then_recounted_in_the_background_once_too_old() {
        let kept = Kept::<(), usize>::new(Duration::from_millis(50));
        let calls = Arc::new(AtomicUsize::new(0));
        let c = Arc::clone(&calls);
        assert_eq!(
            kept.get((), move || counter(&c))
                .await
                .expect("count")
                .value,
            1
        );
        let c = Arc::clone(&calls);
        assert_eq!(
            kept.get((), move || counter(&c))
                .await
                .expect("count")
                .value,
            1,
            "kept"
        );
        tokio::time::sleep(Duration::from_millis(80)).await;
        let c = Arc::clone(&calls);
        let old = kept.get((), move || counter(&c)).await.expect("count");
        assert_eq!(
            old.value, 1,
            "the old count is served while the new one is made"
        );
        let mut waited = 0;
        loop {
            let c = Arc::clone(&calls);
            let now = kept.get((), move || counter(&c)).await.expect("count");
            if now.value == 2 {
                assert!(now.at_ms >= old.at_ms);
                break;
            }
            waited += 1;
            assert!(waited < 100, "the recount lands");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "one recount, however many read meanwhile"
        );
    }

    #[tokio::test]
    async fn a_count_age_of_zero_counts_every_time_and_keys_are_apart() {
        let fresh = Kept::<(), usize>::new(Duration::ZERO);
        let calls = Arc::new(AtomicUsize::new(0));
        for n in 1..=3 {
            let c = Arc::clone(&calls);
            assert_eq!(
                fresh
                    .get((), move || counter(&c))
                    .await
                    .expect("count")
                    .value,
                n
            );
        }
        let keyed = Kept::<u8, usize>::new(Duration::from_secs(60));
        let calls = Arc::new(AtomicUsize::new(0));
        let (a, b) = (Arc::clone(&calls), Arc::clone(&calls));
        assert_eq!(
            keyed
                .get(1, move || counter(&a))
                .await
                .expect("count")
                .value,
            1
        );
        assert_eq!(
            keyed
                .get(2, move || counter(&b))
                .await
                .expect("count")
                .value,
            2
        );
        let failing = Kept::<u8, usize>::new(Duration::from_secs(60));
        let refused = failing.get(1, || async { Err::<usize, _>("no database".to_string()) });
        assert_eq!(
            refused.await.expect_err("the error comes back"),
            "no database"
        );
    }
}
