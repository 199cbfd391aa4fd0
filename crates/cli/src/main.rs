//! `onetrip`: the headless command line for a hall's administrator.
//!
//! Output is stable (scripts read it); errors go to stderr as `错误 [code]: message` with a
//! non-zero exit. The database is chosen by `--db PATH`, else `ONETRIP_DB`, else the platform
//! data directory (`~/.local/share/onetrip/onetrip.sqlite` on Linux).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use onetrip_core::calendar::{self, DayCount, WorkCalendar};
use onetrip_core::staff::auth;
use onetrip_core::{Clock, CoreError, Store, SystemClock, demo, store};

#[derive(Parser)]
#[command(name = "onetrip", version = onetrip_core::VERSION, about = "一次办 OneTrip：政务服务大厅管理命令行")]
struct Cli {
    /// The hall database (SQLite file).
    #[arg(long, global = true, env = "ONETRIP_DB")]
    db: Option<PathBuf>,
    /// A PostgreSQL database instead of the SQLite file (large halls, several hall servers):
    /// `postgres://user@host:port/dbname`. Needs `--data-dir`.
    #[arg(long, global = true, env = "ONETRIP_DATABASE")]
    database: Option<String>,
    /// With `--database`: the folder for archive copies of printed notices and filed reports
    /// (shared storage when several servers run).
    #[arg(long, global = true, env = "ONETRIP_DATA_DIR")]
    data_dir: Option<PathBuf>,
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
    /// The working-day calendar: `check DATE`, `list FROM TO`, `add-workdays DATE N`. Output:
    /// one `DATE workday|offday[ provisional]` line per date, or the ISO date. A year without a
    /// published notice is refused (exit 2) unless `--provisional` is given.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// Run the hall server: every operation over HTTP, live events over WebSocket, the UI for
    /// browser kiosks (`/kiosk`) and displays (`/display`). Stops gracefully on Ctrl-C/SIGTERM.
    Serve(ServeArgs),
    /// Print the hall server's OpenAPI 3 document.
    Openapi,
    /// Back up the database to PATH while the hall works (online backup; the copy is checked,
    /// written whole or not at all). Prints `backup: PATH (schema N, M audit rows)`.
    Backup { path: PathBuf },
    /// Replace the database by the backup PATH: checked first (intact, not newer, audit chain
    /// verified); the current file is kept in `backups/`. Stop the app and server first.
    Restore { path: PathBuf },
    /// The audit log: `verify` prints `audit: OK (N rows)` or the first broken link (exit 3).
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Generate a history of tickets, ratings and cases into a hall (the reports benchmark,
    /// a lively demo): `--days N` ending yesterday, or `--from`/`--to`. Working days only.
    /// Prints `history: N tickets, M cases, FROM..TO`.
    History {
        #[arg(long)]
        from: Option<String>,
        #[arg(long)]
        to: Option<String>,
        #[arg(long, default_value_t = 90)]
        days: u32,
        #[arg(long, default_value_t = 6000)]
        tickets: u64,
        #[arg(long, default_value_t = 1200)]
        cases: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Anonymise the personal data of cases completed before the retention time (the hall
    /// setting; `--before DATE` for an earlier cutoff). Statistics are kept. Prints
    /// `purge: before DATE: N cases, M applications, K tickets anonymised`.
    Purge {
        #[arg(long)]
        before: Option<String>,
    },
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

/// The built UI when `--ui` is not given: `ui/dist` under the working directory (a checkout),
/// else `ui/` beside the executable (an installed server).
fn default_ui_dir() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join("ui")));
    [Some(PathBuf::from("ui/dist")), beside]
        .into_iter()
        .flatten()
        .find(|d| d.join("index.html").exists())
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on. The default serves the hall's LAN on port 8720.
    #[arg(long, default_value = "0.0.0.0:8720", env = "ONETRIP_BIND")]
    bind: std::net::SocketAddr,
    /// The built UI (ui/dist) served to browser kiosks and displays; default `ui/dist` under
    /// the working directory, else `ui/` beside the executable. Without one the server warns
    /// and its pages say that the UI is missing.
    #[arg(long, env = "ONETRIP_UI")]
    ui: Option<PathBuf>,
    /// Logs as JSON lines (for a log collector) instead of key=value text.
    #[arg(long)]
    log_json: bool,
    /// Minutes between scheduled online backups into `backups/scheduled/` (0 = off).
    #[arg(long, default_value_t = 60, env = "ONETRIP_BACKUP_EVERY")]
    backup_every: u64,
    /// Scheduled backups kept (older ones are pruned).
    #[arg(long, default_value_t = 48, env = "ONETRIP_BACKUP_KEEP")]
    backup_keep: usize,
    /// Seconds a server's claim on an outbox message it is delivering lasts: a server killed
    /// mid-delivery leaves its messages to another (or to itself restarted) after this long.
    #[arg(long, default_value_t = 60, env = "ONETRIP_OUTBOX_LEASE")]
    outbox_lease: u64,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Check every link of the hash chain.
    Verify,
    /// Export the whole log for an inspector as CSV with a signed footer (SHA-256 of the file
    /// above it). Prints `exported: PATH (N rows, sha256 HEX)`.
    Export { path: PathBuf },
    /// Check an exported file's footer: `export: OK (N rows)`, or exit 3 if it was edited.
    CheckExport { path: PathBuf },
}

#[derive(Subcommand)]
enum CalendarCommand {
    /// Is DATE a working day?
    Check {
        date: String,
        #[arg(long)]
        provisional: bool,
    },
    /// Every date from FROM to TO.
    List {
        from: String,
        to: String,
        #[arg(long)]
        provisional: bool,
    },
    /// The N-th working day after DATE (the hall's day-count setting applies; by default DATE
    /// itself is not counted).
    AddWorkdays {
        date: String,
        n: u32,
        #[arg(long)]
        provisional: bool,
    },
}

/// Which database the command works on: the SQLite file, or PostgreSQL.
struct Target {
    db: PathBuf,
    database: Option<String>,
    data_dir: Option<PathBuf>,
}

impl Target {
    fn open(&self, now: jiff::Timestamp) -> Result<(Store, store::OpenReport), CoreError> {
        match &self.database {
            Some(url) => onetrip_core::open(url, self.data_dir.as_deref(), now),
            None => onetrip_core::open_file(&self.db, now),
        }
    }
    /// For messages: the file, or the URL without its password.
    fn name(&self) -> String {
        match &self.database {
            Some(url) => match url.parse::<postgres_url::Config>() {
                Ok(c) => format!(
                    "postgres://{}@{:?}/{}",
                    c.get_user().unwrap_or(""),
                    c.get_hosts(),
                    c.get_dbname().unwrap_or("")
                ),
                Err(_) => "postgres://…".into(),
            },
            None => self.db.display().to_string(),
        }
    }
    /// File backups are SQLite's; PostgreSQL is backed up with its own tools.
    fn sqlite_only(&self, what: &str) -> Result<(), CoreError> {
        if self.database.is_some() {
            return Err(CoreError::new(
                onetrip_core::ErrorCode::SettingDisabled,
                format!(
                    "{what}只适用于 SQLite 数据库文件；PostgreSQL 请用 pg_dump / pg_restore 或流复制"
                ),
            ));
        }
        Ok(())
    }
}

/// The hall's calendar when the database exists; the bundled notices (next-day counting)
/// otherwise, so the command never creates a database as a side effect.
fn calendar_of(
    target: &Target,
    clock: &dyn Clock,
) -> Result<(std::sync::Arc<WorkCalendar>, DayCount), CoreError> {
    if target.database.is_some() || target.db.exists() {
        let (s, _) = target.open(clock.now())?;
        onetrip_core::deadlines::settings::calendar_and_rule(&s)
    } else {
        Ok((
            std::sync::Arc::new(calendar::data::bundled_calendar(0)),
            DayCount::NextDay,
        ))
    }
}

fn day_line(d: &calendar::DayInfo) -> String {
    format!(
        "{} {}{}",
        d.date,
        if d.workday { "workday" } else { "offday" },
        if d.provisional { " provisional" } else { "" }
    )
}

fn run_calendar(target: &Target, clock: &dyn Clock, cmd: CalendarCommand) -> Result<(), CoreError> {
    let (cal, rule) = calendar_of(target, clock)?;
    match cmd {
        CalendarCommand::Check { date, provisional } => {
            let d = calendar::parse_date("date", &date)?;
            for day in calendar::days_between(&cal, d, d, provisional)? {
                println!("{}", day_line(&day));
            }
        }
        CalendarCommand::List {
            from,
            to,
            provisional,
        } => {
            let (a, b) = (
                calendar::parse_date("from", &from)?,
                calendar::parse_date("to", &to)?,
            );
            if b < a {
                return Err(CoreError::new(
                    onetrip_core::ErrorCode::OutOfRange,
                    "结束日期不能早于开始日期",
                ));
            }
            for day in calendar::days_between(&cal, a, b, provisional)? {
                println!("{}", day_line(&day));
            }
        }
        CalendarCommand::AddWorkdays {
            date,
            n,
            provisional,
        } => {
            let d = calendar::parse_date("date", &date)?;
            println!(
                "{}",
                calendar::add_workdays(&cal, d, n, rule, provisional)?.date
            );
        }
    }
    Ok(())
}

/// glibc's allocator, bounded for a long-running server. Two causes of growth measured under
/// `make load` (from 130 MB idle to 480 MB):
/// - every thread that allocates gets an arena of its own (up to eight per core), and the
///   server's threads fragment them: two arenas serve its two cores as fast;
/// - a password hash (Argon2id, 19 MiB) is a large allocation glibc first maps and then, having
///   freed it, raises its mapping threshold above — every later one comes from the heap, which
///   does not shrink. A fixed threshold of 1 MiB maps (and returns) every large block.
///
/// glibc reads both only when a process starts, so the server starts itself again with them
/// (same process id, same arguments) unless `MALLOC_ARENA_MAX` was given (by the service unit
/// or the admin, who then sets what they want).
fn bound_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        use std::os::unix::process::CommandExt;
        if let Ok(exe) = std::env::current_exe() {
            let err = std::process::Command::new(exe)
                .args(std::env::args_os().skip(1))
                .env("MALLOC_ARENA_MAX", "2")
                .env("MALLOC_MMAP_THRESHOLD_", "1048576")
                .exec();
            // Still here: the binary could not be started again (replaced on disk during an
            // upgrade); serve as we are.
            eprintln!("警告：未能限定内存分配区（{err}），照常启动");
        }
    }
}

fn serve(target: &Target, clock: &dyn Clock, args: ServeArgs) -> Result<(), CoreError> {
    bound_malloc_arenas();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn")),
        )
        .with_writer(std::io::stderr);
    if args.log_json {
        subscriber.json().init();
    } else {
        subscriber.init();
    }
    let (store, report) = target.open(clock.now())?;
    if let Some(first) = auth::bootstrap(&store, clock.now())? {
        println!("first admin: {}", first.login);
        println!("one-time password: {}", first.one_time_password);
    }
    let ui = match args.ui {
        Some(dir) if !dir.join("index.html").exists() => {
            return Err(CoreError::new(
                onetrip_core::ErrorCode::InvalidFormat,
                format!(
                    "--ui {}：该目录中没有 index.html（应为构建好的界面，make ui-build 生成 ui/dist）",
                    dir.display()
                ),
            )
            .field("ui"));
        }
        Some(dir) => Some(dir),
        None => default_ui_dir(),
    };
    if ui.is_none() {
        let warning = "未找到界面文件（ui/dist 或程序旁的 ui/）：接口照常服务，但取号机、叫号屏等浏览器页面无法打开。请先运行 make ui-build，或用 --ui 目录 指定";
        eprintln!("警告：{warning}");
        tracing::warn!("{warning}");
    }
    let hall = onetrip_server::Hall::new(
        std::sync::Arc::new(store),
        std::sync::Arc::new(SystemClock),
        ui.clone(),
    );
    // Each operation runs on a blocking thread (the store is synchronous). Unbounded (tokio's
    // default is 512), a burst of requests grew hundreds of threads, each with its own stack
    // and malloc arena; 64 keep both cores and every read connection busy with room for
    // requests waiting on the writer.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(64)
        .build()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.bind).await?;
        let local = listener.local_addr()?;
        tracing::info!(
            bind = %local,
            db = %target.name(),
            schema = report.to_version,
            ui = ?ui,
            "onetrip hall server listening"
        );
        // Scripts wait for this line.
        println!("listening on http://{local}");
        let options = onetrip_server::ServeOptions {
            backups: (args.backup_every > 0).then(|| {
                (
                    std::time::Duration::from_secs(args.backup_every * 60),
                    args.backup_keep,
                )
            }),
            outbox_lease: Some(std::time::Duration::from_secs(args.outbox_lease)),
        };
        onetrip_server::serve_with(hall, listener, onetrip_server::shutdown_signal(), options).await
    })?;
    Ok(())
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
    let target = Target {
        db: cli.db.unwrap_or_else(store::default_path),
        database: cli.database,
        data_dir: cli.data_dir,
    };
    let db = &target.db;
    match cli.command {
        Command::Calendar { command } => run_calendar(&target, clock, command)?,
        Command::Version => {
            println!(
                "onetrip {} (schema {})",
                onetrip_core::VERSION,
                store::SCHEMA_VERSION
            );
        }
        Command::Migrate => {
            let (s, report) = target.open(clock.now())?;
            if let Some(b) = &report.backup {
                println!("backup: {}", b.display());
            }
            if report.created {
                println!("created: {} (schema {})", target.name(), report.to_version);
            } else if report.from_version == report.to_version {
                println!(
                    "up to date: {} (schema {})",
                    target.name(),
                    report.to_version
                );
            } else {
                println!(
                    "migrated: {} (schema {} -> {})",
                    target.name(),
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
            let (s, _) = target.open(clock.now())?;
            let caller = onetrip_core::Caller::system("cli");
            let (resp, _) = onetrip_core::execute_json(&s, &caller, clock.now(), &name, req)?;
            println!("{}", serde_json::to_string_pretty(&resp)?);
        }
        Command::Openapi => println!("{}", onetrip_server::openapi::document_json()),
        Command::Backup { path } => {
            target.sqlite_only("onetrip backup ")?;
            let (s, _) = target.open(clock.now())?;
            let c = s.backup(&path)?;
            println!(
                "backup: {} (schema {}, {} audit rows)",
                c.path.display(),
                c.schema,
                c.audit_rows
            );
        }
        Command::Restore { path } => {
            target.sqlite_only("onetrip restore ")?;
            let r = onetrip_core::kernel::backup::restore(db, &path, clock.now())?;
            println!(
                "restored: {} from {} (schema {}, {} audit rows)",
                target.name(),
                path.display(),
                r.restored.schema,
                r.restored.audit_rows
            );
            if let Some(p) = r.previous {
                println!("previous: {}", p.display());
            }
        }
        Command::Audit {
            command: AuditCommand::Export { path },
        } => {
            let (s, _) = target.open(clock.now())?;
            let (text, rows, digest) =
                s.read(|tx| onetrip_core::audit::export::export_csv(tx, None, None, clock.now()))?;
            std::fs::write(&path, text)?;
            println!(
                "exported: {} ({rows} rows, sha256 {digest})",
                path.display()
            );
        }
        Command::Audit {
            command: AuditCommand::CheckExport { path },
        } => {
            let text = std::fs::read_to_string(&path)?;
            match onetrip_core::audit::export::check_export(&text) {
                Ok(rows) => println!("export: OK ({rows} rows)"),
                Err(e) => {
                    println!("export: BROKEN ({})", e.message);
                    std::process::exit(3);
                }
            }
        }
        Command::Audit {
            command: AuditCommand::Verify,
        } => {
            let (s, _) = target.open(clock.now())?;
            // Rows a stopped server left unsealed (PostgreSQL) are sealed first.
            onetrip_core::audit::seal_now(&s)?;
            let report = s.read(onetrip_core::audit::verify)?;
            match report.first_broken {
                None if report.unsealed > 0 => println!(
                    "audit: OK ({} rows; {} appended since, not sealed yet)",
                    report.rows, report.unsealed
                ),
                None => println!("audit: OK ({} rows)", report.rows),
                Some(b) => {
                    println!("audit: BROKEN at row {} ({}, {})", b.seq, b.id, b.at);
                    std::process::exit(3);
                }
            }
        }
        Command::Serve(args) => serve(&target, clock, args)?,
        Command::History {
            from,
            to,
            days,
            tickets,
            cases,
            seed,
        } => {
            let now = clock.now();
            let yesterday = onetrip_core::clock::hall_date(now)
                .yesterday()
                .map_err(|e| CoreError::internal(e.to_string()))?;
            let to = match to {
                Some(t) => calendar::parse_date("to", &t)?,
                None => yesterday,
            };
            let from = match from {
                Some(f) => calendar::parse_date("from", &f)?,
                None => to
                    .checked_sub(jiff::Span::new().days(i64::from(days.saturating_sub(1))))
                    .map_err(|e| CoreError::internal(e.to_string()))?,
            };
            let (s, _) = target.open(now)?;
            let spec = onetrip_core::app::history::HistorySpec {
                from,
                to,
                tickets,
                cases,
                seed,
                keep: false,
            };
            let g = onetrip_core::app::history::generate(&s, spec, now)?;
            println!(
                "history: {} tickets, {} cases, {from}..{to}",
                g.tickets, g.cases
            );
        }
        Command::Purge { before } => {
            let (s, _) = target.open(clock.now())?;
            let r = s
                .execute(
                    &onetrip_core::Caller::system("cli"),
                    clock.now(),
                    onetrip_core::privacy::PurgePersonalData { before },
                )?
                .response;
            println!(
                "purge: before {}: {} cases, {} applications, {} tickets anonymised",
                r.before, r.cases, r.applications, r.tickets
            );
        }
        Command::Demo => {
            let (s, _) = target.open(clock.now())?;
            let report = demo::create(&s, clock.now())?;
            println!("demo hall: {} ({})", report.hall, target.name());
            println!(
                "windows: {}, categories: {}",
                report.windows, report.categories
            );
            println!("取号时间：全天（演示大厅，任何时候都能试；真实大厅在 管理 › 业务类别 设置）");
            println!("accounts (password {}):", report.password);
            for (login, name, role) in report.accounts {
                println!("  {login:<10} {name}  {role}");
            }
        }
    }
    Ok(())
}
