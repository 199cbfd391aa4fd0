//! The post settings: where an absent clerk's queue goes during a takeover, and the notice an
//! absence needs.

#[allow(unused_imports)]
use super::*;

/// Where the queue of an absent clerk's window goes while B has taken over (a hall setting).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TakeoverRouting {
    /// A's window's categories (and tickets held or transferred there) are called at B's window.
    ToBackupWindow,
    /// B moves to A's window and works it; nothing is rerouted.
    BackupAtAWindow,
}

impl TakeoverRouting {
    fn as_str(self) -> &'static str {
        match self {
            TakeoverRouting::ToBackupWindow => "to_backup_window",
            TakeoverRouting::BackupAtAWindow => "backup_at_a_window",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PostSettings {
    /// Working days' notice a planned absence needs.
    pub notice_days: u32,
    pub routing: TakeoverRouting,
}

/// How a window's queue is routed during a takeover changed (see [`TakeoverRouting`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutingChanged;

impl DomainEvent for RoutingChanged {
    fn name(&self) -> &'static str {
        "post.routing_changed"
    }
}

pub(crate) fn settings(tx: &Tx<'_>) -> Result<PostSettings> {
    Ok(
        tx.query_row("SELECT notice_days, routing FROM post_settings", [], |r| {
            Ok(PostSettings {
                notice_days: r.get(0)?,
                routing: if r.get::<_, String>(1)? == "backup_at_a_window" {
                    TakeoverRouting::BackupAtAWindow
                } else {
                    TakeoverRouting::ToBackupWindow
                },
            })
        })?,
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetPostSettings {}

impl Operation for GetPostSettings {
    const NAME: &'static str = "post.settings";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = PostSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<PostSettings> {
        settings(cx.tx)
    }
}

/// The notice period and the takeover routing (supervisors).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdatePostSettings {
    pub settings: PostSettings,
}

impl Operation for UpdatePostSettings {
    const NAME: &'static str = "post.update_settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = PostSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<PostSettings> {
        let s = self.settings;
        validate::range_i64("notice_days", "提前报备工作日", s.notice_days.into(), 0, 30)?;
        let before = settings(cx.tx)?;
        cx.tx.execute(
            "UPDATE post_settings SET notice_days = ?1, routing = ?2, updated_at = ?3",
            params![s.notice_days, s.routing.as_str(), cx.ms()],
        )?;
        if before.routing != s.routing {
            // Takeovers in progress follow the new setting at once (the reactions re-route).
            cx.emit(RoutingChanged)?;
        }
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "post_settings",
                None,
                format!(
                    "AB岗设置：提前 {} 个工作日报备；顶岗时{}",
                    s.notice_days,
                    match s.routing {
                        TakeoverRouting::ToBackupWindow => "A 岗窗口的业务转到 B 岗窗口",
                        TakeoverRouting::BackupAtAWindow => "B 岗到 A 岗窗口办理",
                    }
                ),
            )
            .before(before)
            .after(s),
        )?;
        settings(cx.tx)
    }
}
