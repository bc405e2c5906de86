//! No personal data in the logs: everything the application logs while residents log in with
//! their ID numbers and staff view rosters is captured and searched for ID and phone numbers.

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use vaxloop_demo::{DEMO_PASSWORD, DEMO_PIN};

use crate::fixture;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every log line of this test process, at debug level, from every crate.
fn captured() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Captured::default();
        let writer = logs.clone();
        let _ = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::DEBUG)
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .try_init();
        logs
    })
}

vaxloop_store::backend_tests! {
    async fn logs_never_hold_id_or_phone_numbers(t) {
        let logs = captured();
        let f = fixture(t).await;
        let resident = f.town.logins.iter().find_map(|l| l.person).expect("resident");
        let id = f.town.people[resident].id.as_str().to_string();
        let mut r = f.client();
        r.login(&id, "999999").await;
        r.login(&id, DEMO_PIN).await;
        r.get("/me").await;
        let mut a = f.client();
        a.login("admin", DEMO_PASSWORD).await;
        for u in f.town.units.iter().take(5) {
            a.get(&format!("/units/{}", u.code)).await;
        }
        a.get("/units/NOPE").await;
        let text = String::from_utf8_lossy(&logs.0.lock().expect("logs")).into_owned();
        assert!(text.contains("request"), "the application logged requests: {} bytes", text.len());
        for p in &f.town.people {
            assert!(!text.contains(p.id.as_str()), "an ID number reached the logs");
            assert!(!text.contains(&p.phone), "a phone number reached the logs");
        }
        assert!(!text.contains(DEMO_PASSWORD), "a password reached the logs");
    }
}
