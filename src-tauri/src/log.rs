//! The desktop's log: one file per day in the data directory (`logs/onetrip-desk.YYYY-MM-DD`),
//! the newest [`KEPT_DAYS`] kept, through `tracing` like the hall server — the same spans the
//! core opens for every operation. `ONETRIP_LOG` sets the filter (default `info`); warnings and
//! errors also go to stderr for whoever started the app by hand.

use std::path::Path;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Days of log files kept in the data directory.
pub const KEPT_DAYS: usize = 30;

/// Start logging into `data_dir/logs`. The guard flushes the file when dropped (keep it for the
/// life of the app).
pub fn init(data_dir: &Path) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let filter = EnvFilter::try_from_env("ONETRIP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let dir = data_dir.join("logs");
    let _ = std::fs::create_dir_all(&dir);
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("onetrip-desk")
        .max_log_files(KEPT_DAYS)
        .build(&dir);
    match appender {
        Ok(appender) => {
            let (writer, guard) = tracing_appender::non_blocking(appender);
            let file = tracing_subscriber::fmt::layer()
                .with_ansi(false)
                .with_writer(writer)
                .with_filter(filter);
            let _ = tracing_subscriber::registry()
                .with(file)
                .with(stderr())
                .try_init();
            Some(guard)
        }
        Err(e) => {
            let _ = tracing_subscriber::registry().with(stderr()).try_init();
            tracing::warn!("无法写入日志目录 {}：{e}", dir.display());
            None
        }
    }
}

/// Warnings and errors on stderr as well.
fn stderr<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(LevelFilter::WARN)
}
