//! `vaxloop`: one binary for the whole system. Each subcommand lives in its own file under
//! `commands/`; settings come from defaults, an optional TOML file and `VAXLOOP_*` environment
//! variables ([`settings`]), and command-line flags override them.

mod commands;
mod settings;

/// mimalloc rather than the system allocator: under load the server allocates and frees from
/// many threads at once, where it spends markedly less time (see docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "vaxloop",
    version,
    about = "Closed-loop management of a mass-vaccination campaign"
)]
struct Cli {
    /// A TOML settings file (default: ./vaxloop.toml when it exists; env VAXLOOP_CONFIG).
    #[arg(long, global = true, env = "VAXLOOP_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the web application and API.
    Serve(commands::serve::Args),
    /// Bring the database schema up to date.
    Migrate(commands::migrate::Args),
    /// Build (or reuse) the demo town and serve it.
    Demo(commands::demo::Args),
    /// Import data from a spreadsheet.
    #[command(subcommand)]
    Import(commands::import::What),
    /// The team planner on instance and plan files: generate, solve, check, bound, live.
    #[command(subcommand)]
    Plan(commands::plan::What),
    /// The staff roster on instance and plan files: generate, solve, check.
    #[command(subcommand)]
    Roster(commands::roster::What),
    /// The clinic-flow simulator: a clinic day, a site's safe capacity, an M/M/c queue.
    #[command(subcommand)]
    Simulate(commands::simulate::What),
    /// Print a new random key for encrypting personal data (VAXLOOP_PII_KEY).
    Keygen,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match settings::Settings::load(cli.config.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    settings::init_logging(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args, settings).await,
            Command::Migrate(args) => commands::migrate::run(args, settings).await,
            Command::Demo(args) => commands::demo::run(args, settings).await,
            Command::Import(what) => commands::import::run(what, settings).await,
            Command::Plan(what) => commands::plan::run(what, settings).await,
            Command::Simulate(what) => commands::simulate::run(what, settings).await,
            Command::Roster(what) => commands::roster::run(what),
            Command::Keygen => {
                println!("{}", vaxloop_store::PiiKey::generate().to_hex());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
