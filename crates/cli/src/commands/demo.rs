//! `vaxloop demo`: builds the demo town on first run (or with `--reset`), then serves it and
//! prints one login per role. The demo makes its own key for personal data, in a file beside it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use vaxloop_demo::{DEMO_PASSWORD, DEMO_PIN, Town, TownSpec};
use vaxloop_store::{PiiCipher, PiiKey, people, stats};
use vaxloop_web::AppState;

use crate::settings::Settings;

#[derive(clap::Args)]
pub struct Args {
    /// `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` [default: sqlite://vaxloop-demo.db]
    #[arg(long)]
    database_url: Option<String>,
    /// How many people live in the town.
    #[arg(long, default_value_t = 250_000)]
    people: usize,
    /// The seed: the same seed builds the same town.
    #[arg(long, default_value_t = 2021)]
    seed: u64,
    /// Throw away an existing demo database and build the town again.
    #[arg(long)]
    reset: bool,
    /// Build the town, print the logins and stop.
    #[arg(long)]
    no_serve: bool,
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long)]
    addr: Option<String>,
    /// Where the demo keeps its key for personal data (created on first run, mode 0600).
    #[arg(long, default_value = "vaxloop-demo.key")]
    key_file: PathBuf,
}

pub async fn run(args: Args, settings: Settings) -> anyhow::Result<()> {
    let url = settings.database_url(args.database_url.as_deref(), "sqlite://vaxloop-demo.db")?;
    if args.people == 0 {
        bail!("--people must be at least 1");
    }
    let addr = args
        .addr
        .clone()
        .or(settings.addr.clone())
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    // Claim the port first, so a busy port fails in a second, not after building a town.
    let listener = if args.no_serve {
        None
    } else {
        Some(super::bind(&addr).await?)
    };
    if args.reset {
        vaxloop_store::Db::destroy(&url)
            .await
            .with_context(|| format!("cannot reset {}", url.redacted()))?;
        if args.key_file.exists() {
            std::fs::remove_file(&args.key_file)
                .with_context(|| format!("cannot remove {}", args.key_file.display()))?;
        }
    }
    let key = demo_key(&args.key_file)?;
    let cipher = PiiCipher::new(&key);
    let db = super::open(&url).await?;
    if !people::key_matches(&db, &cipher).await? {
        bail!(
            "the key in {} does not open the personal data in {}: run again with --reset to rebuild the demo",
            args.key_file.display(),
            url.redacted()
        );
    }

    let existing = stats::overview(&db).await?;
    let today = settings.web.0.today();
    let town = vaxloop_demo::generate(&TownSpec {
        people: args.people,
        seed: args.seed,
        today,
    });
    if existing.work_groups == 0 {
        println!(
            "building the demo town: {} people, seed {} …",
            args.people, args.seed
        );
        let stored = vaxloop_demo::store(&db, &cipher, &town)
            .await
            .context("cannot store the demo town")?;
        println!(
            "stored {} people ({} registered) in {} units and {} sites in {:.1} s on {}",
            stored.people,
            stored.registered,
            stored.units,
            stored.sites,
            stored.seconds,
            db.backend().as_str()
        );
        // Yesterday run and reconciled, today up to now: every page shows a working day.
        let tz = settings.web.0.timezone;
        let now = chrono::Utc::now().with_timezone(&tz).naive_local();
        let started = std::time::Instant::now();
        let story = vaxloop_demo::play(&db, tz, today, now, args.seed)
            .await
            .context("cannot play the demo town's days")?;
        let (y, t) = (story.yesterday, story.today);
        println!(
            "yesterday: {} booked, {} came, {} vaccinated, {} deferred, {} site-days closed; \
             today until {}: {} booked, {} came, {} vaccinated ({} in observation) — in {:.1} s",
            y.booked,
            y.checked_in,
            y.vaccinated,
            y.deferred,
            y.closed,
            now.format("%H:%M"),
            t.booked,
            t.checked_in,
            t.vaccinated,
            t.observing,
            started.elapsed().as_secs_f64()
        );
    } else {
        println!(
            "using the demo town already in {} ({} people); pass --reset to build it again, with \
             yesterday and today played up to now",
            url.redacted(),
            existing.people
        );
    }
    print_logins(&town);

    let Some(listener) = listener else {
        db.close().await;
        return Ok(());
    };
    println!("\nvaxloop demo: open http://{addr}   (Ctrl-C stops it)");
    tokio::spawn(vaxloop_app::site_day::run_sweeper(
        db.clone(),
        settings.web.0.timezone,
    ));
    let state = AppState::new(db, cipher, settings.web.0.clone());
    // A demo town built before migration 0013 kept its contacts' phones in plain text.
    vaxloop_app::org::seal_plain_contact_phones(&state.app).await?;
    // and, before 0014, its queued messages.
    vaxloop_app::outbox::seal_plain_payloads(&state.app).await?;
    vaxloop_web::serve(listener, state)
        .await
        .context("server failed")
}

/// Reads the demo key, or makes one on first run and says so.
fn demo_key(path: &Path) -> anyhow::Result<PiiKey> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        return PiiKey::from_hex(&text).with_context(|| format!("the key file {}", path.display()));
    }
    let key = PiiKey::generate();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(key.to_hex().as_bytes())?;
    println!(
        "made a new key for personal data in {} (mode 0600); keep it with the demo database",
        path.display()
    );
    Ok(key)
}

fn print_logins(town: &Town) {
    println!("\ndemo logins (staff password: {DEMO_PASSWORD}):");
    let mut seen = std::collections::HashSet::new();
    for login in &town.logins {
        // One per role, plus every site post, keeps the list short.
        let key = (login.role, login.post);
        if !seen.insert(key) {
            continue;
        }
        match (&login.username, login.person) {
            (Some(user), _) => println!(
                "  {:<14} {:<22} {}",
                login.role.as_str(),
                user,
                login.display_name
            ),
            (None, Some(p)) => println!(
                "  {:<14} {:<22} PIN {DEMO_PIN} (log in with the ID number)",
                login.role.as_str(),
                town.people[p].id.as_str()
            ),
            (None, None) => {}
        }
    }
}
