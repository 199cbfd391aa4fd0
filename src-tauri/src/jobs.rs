//! The hall's periodic jobs on this desktop (embedded mode: this PC holds the hall). The jobs
//! themselves are the core's (`onetrip_core::app::jobs`), the same the hall server runs; here
//! their events reach every window, a delivered alert becomes a desktop notification, and
//! outcomes go to the log.

use std::sync::Arc;
use std::time::Duration;

use onetrip_core::app::jobs::{Done, Failed, Schedule, Scheduler};
use onetrip_core::{Clock, Store, event};
use tauri::{AppHandle, Emitter};

/// Scheduled online backups of this PC's database: every `ONETRIP_BACKUP_EVERY` minutes
/// (default 60, 0 = off), keeping `ONETRIP_BACKUP_KEEP` copies (default 48).
fn backups() -> Option<(Duration, usize)> {
    let minutes: u64 = std::env::var("ONETRIP_BACKUP_EVERY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    let keep: usize = std::env::var("ONETRIP_BACKUP_KEEP")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(48);
    (minutes > 0).then(|| (Duration::from_secs(minutes * 60), keep))
}

pub fn start(app: AppHandle, store: Arc<Store>, clock: Arc<dyn Clock>) -> Scheduler {
    let schedule = Schedule {
        backups: backups(),
        ..Schedule::default()
    };
    Scheduler::spawn(
        store,
        clock,
        schedule,
        Arc::new(onetrip_gateway::HallGateway::new()),
        move |done| {
            let emit = |events: &[onetrip_core::HallEvent]| {
                for ev in events {
                    // Best effort: the change is committed whatever happens here.
                    let _ = app.emit(event::EVENT_NAME, ev);
                }
            };
            match done {
                Ok(Done::Sweep(report, events)) => {
                    emit(&events);
                    for alert in &report.delivered {
                        notify(
                            &app,
                            format!("办件预警：{}", alert.level.label()),
                            format!("{} {}", alert.case_number, alert.item_name),
                        );
                    }
                }
                Ok(Done::Filing(filed, events)) => {
                    emit(&events);
                    for r in &filed {
                        tracing::info!(title = %r.title, "已归档报表");
                    }
                }
                Ok(Done::Backup(c)) => {
                    tracing::info!(path = %c.path.display(), "定时备份完成")
                }
                Ok(Done::Retention(r, events)) => {
                    emit(&events);
                    tracing::info!(before = %r.before, cases = r.cases, "已按保存期限匿名化个人信息");
                }
                Ok(Done::Outbox(d)) => {
                    tracing::info!(sent = d.sent, failed = d.failed, "消息已发送")
                }
                Err(Failed { job, error }) => {
                    tracing::error!(code = %error.code, "{job} 失败：{}", error.message)
                }
            }
        },
    )
}

/// A desktop notification; without a notification daemon (a kiosk PC, a test display) the
/// in-app banner still shows it.
pub fn notify(app: &AppHandle, title: String, body: String) -> bool {
    use tauri_plugin_notification::NotificationExt;
    match app.notification().builder().title(title).body(body).show() {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("桌面通知不可用：{e}");
            false
        }
    }
}
