//! `onetrip`: the headless command line for a hall's administrator.
//!
//! Output is stable (scripts read it); errors go to stderr as `错误 [code]: message` with a
//! non-zero exit. The database is chosen by `--db PATH`, else `ONETRIP_DB`, else the platform
//! data directory (`~/.local/share/onetrip/onetrip.sqlite` on Linux).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use onetrip_core::staff::auth;
use onetrip_core::{Clock, CoreError, Store, SystemClock, demo, store};

#[derive(Parser)]
#[command(name = "onetrip", version = onetrip_core::VERSION, about = "一次办 OneTrip：政务服务大厅管理命令行")]
struct Cli {
    /// The hall database (SQLite file).
    #[arg(long, global = true, env = "ONETRIP_DB")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or migrate the database to this build's schema (backs up first).
    Migrate,
    /// Create the demo hall in an empty database.
    Demo,
    /// Print the program and schema versions.
    Version,
    /// Run one operation by name with a JSON request, as the local administrator, and print
    /// its JSON response (e.g. `onetrip op category.list '{}'`). The same operations the app
    /// and the hall server serve; `onetrip op --list` names them.
    Op {
        /// Operation name, e.g. `queue.board`.
        #[arg(required_unless_present = "list")]
        name: Option<String>,
        /// The request as JSON (default `{}`).
        #[arg(default_value = "{}")]
        request: String,
        /// List every operation with its access level.
        #[arg(long)]
        list: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let clock = SystemClock;
    match run(cli, &clock) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("错误 [{}]: {}", e.code, e.message);
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli, clock: &dyn Clock) -> Result<(), CoreError> {
    let db = cli.db.unwrap_or_else(store::default_path);
    match cli.command {
        Command::Version => {
            println!(
                "onetrip {} (schema {})",
                onetrip_core::VERSION,
                store::SCHEMA_VERSION
            );
        }
        Command::Migrate => {
            let (s, report) = Store::open(&db, clock.now())?;
            if let Some(b) = &report.backup {
                println!("backup: {}", b.display());
            }
            if report.created {
                println!("created: {} (schema {})", db.display(), report.to_version);
            } else if report.from_version == report.to_version {
                println!(
                    "up to date: {} (schema {})",
                    db.display(),
                    report.to_version
                );
            } else {
                println!(
                    "migrated: {} (schema {} -> {})",
                    db.display(),
                    report.from_version,
                    report.to_version
                );
            }
            if let Some(first) = auth::bootstrap(&s, clock.now())? {
                println!("first admin: {}", first.login);
                println!("one-time password: {}", first.one_time_password);
                println!("首次登录须修改此一次性密码。");
            }
        }
        Command::Op {
            name,
            request,
            list,
        } => {
            if list {
                for o in onetrip_core::OPERATIONS {
                    let access = serde_json::to_value(o.access)?;
                    println!(
                        "{:<28} {:<10} {}",
                        o.name,
                        access.as_str().unwrap_or(""),
                        if o.writes { "write" } else { "read" }
                    );
                }
                return Ok(());
            }
            let name = name.unwrap_or_default();
            let req: serde_json::Value = serde_json::from_str(&request).map_err(|e| {
                CoreError::new(
                    onetrip_core::ErrorCode::InvalidFormat,
                    format!("请求不是有效的 JSON：{e}"),
                )
            })?;
            let (s, _) = Store::open(&db, clock.now())?;
            let caller = onetrip_core::Caller::system("cli");
            let (resp, _) = onetrip_core::execute_json(&s, &caller, clock.now(), &name, req)?;
            println!("{}", serde_json::to_string_pretty(&resp)?);
        }
        Command::Demo => {
            let (s, _) = Store::open(&db, clock.now())?;
            let report = demo::create(&s, clock.now())?;
            println!("demo hall: {} ({})", report.hall, db.display());
            println!(
                "windows: {}, categories: {}",
                report.windows, report.categories
            );
            println!("accounts (password {}):", report.password);
            for (login, name, role) in report.accounts {
                println!("  {login:<10} {name}  {role}");
            }
        }
    }
    Ok(())
}
