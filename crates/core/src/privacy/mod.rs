//! # Personal data retention (个人信息保存期限)
//!
//! 个人信息保护法 art. 19: personal information is kept no longer than the purpose needs; art.
//! 47: once that time has passed it is deleted or anonymised. A hall keeps an applicant's name,
//! ID number and phone for `retention_days` after the case was completed (a hall setting,
//! default three years), then the purge anonymises them.
//!
//! Contract:
//! - The purge masks the name, ID number and phone of every case *completed* before the cutoff
//!   the way screens mask them (张*, 110105********002X, 138****8000), in the case, its
//!   application and the ticket it came from, and forgets the ID hash the queue used to spot a
//!   person twice. Tickets of days before the cutoff lose their names and hashes too.
//! - Everything the figures need stays (items, times, clerks, outcomes, visits, ratings): the
//!   reports of a period are the same before and after a purge.
//! - Issued notices are archive records (档案法) and are kept as issued; the audit log keeps its
//!   masked summaries.
//! - A cutoff inside the retention time is refused; a purge is one write with one audit row and
//!   is idempotent (a second run finds nothing).

use crate::kernel::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{day_start, hall_date, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PrivacySettings {
    /// Days after a case's completion that the applicant's personal data is kept (30–36,500).
    pub retention_days: u32,
}

fn load(tx: &Tx<'_>) -> Result<PrivacySettings> {
    Ok(
        tx.query_row("SELECT retention_days FROM privacy_settings", [], |r| {
            Ok(PrivacySettings {
                retention_days: r.get(0)?,
            })
        })?,
    )
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetPrivacySettings {}

impl Operation for GetPrivacySettings {
    const NAME: &'static str = "privacy.settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = PrivacySettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<PrivacySettings> {
        load(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdatePrivacySettings {
    pub settings: PrivacySettings,
}

impl Operation for UpdatePrivacySettings {
    const NAME: &'static str = "privacy.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = PrivacySettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<PrivacySettings> {
        let days = validate::range_i64(
            "retention_days",
            "个人信息保存天数",
            i64::from(self.settings.retention_days),
            30,
            36_500,
        )?;
        let before = load(cx.tx)?;
        cx.tx.execute(
            "UPDATE privacy_settings SET retention_days = ?1, updated_at = ?2",
            params![days, to_ms(cx.now)],
        )?;
        let after = load(cx.tx)?;
        cx.record(
            Topic::Hall,
            AuditDraft::new(
                "privacy_settings",
                None,
                format!("个人信息保存期限改为 {days} 天"),
            )
            .before(&before)
            .after(&after),
        )?;
        Ok(after)
    }
}

/// Anonymise the personal data of cases completed before the cutoff (default: today minus the
/// retention time).
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PurgePersonalData {
    /// Completed before this day (YYYY-MM-DD); no later than the retention time allows.
    #[serde(default)]
    pub before: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PurgeReport {
    /// The cutoff applied (YYYY-MM-DD).
    pub before: String,
    pub cases: u32,
    pub applications: u32,
    pub tickets: u32,
}

impl Operation for PurgePersonalData {
    const NAME: &'static str = "privacy.purge";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = PurgeReport;
    fn run(self, cx: &mut Cx<'_>) -> Result<PurgeReport> {
        let settings = load(cx.tx)?;
        let latest = latest_cutoff(cx.tx, cx.now)?;
        let cutoff = match self.before.as_deref().filter(|s| !s.trim().is_empty()) {
            None => latest,
            Some(s) => {
                let d = crate::calendar::parse_date("before", s)?;
                if d > latest {
                    return Err(CoreError::new(
                        ErrorCode::OutOfRange,
                        format!(
                            "{d} 之前办结的个人信息仍在保存期限（{} 天）内，最晚只能清除 {latest} 之前的",
                            settings.retention_days
                        ),
                    )
                    .field("before")
                    .param("latest", latest));
                }
                d
            }
        };
        let report = purge(cx.tx, cutoff, cx.now)?;
        record(cx, &report)?;
        Ok(report)
    }
}

/// The latest cutoff the retention time allows at `now`: today minus the retention days.
fn latest_cutoff(tx: &Tx<'_>, now: Timestamp) -> Result<jiff::civil::Date> {
    let settings = load(tx)?;
    hall_date(now)
        .checked_sub(jiff::Span::new().days(i64::from(settings.retention_days)))
        .map_err(|e| CoreError::internal(e.to_string()))
}

/// Whether the retention time has passed for any applicant's data not yet anonymised (the
/// daily retention job writes only then).
pub fn purge_due(tx: &Tx<'_>, now: Timestamp) -> Result<bool> {
    let cutoff = latest_cutoff(tx, now)?;
    let end = to_ms(day_start(cutoff)?);
    Ok(!crate::cases::completed_before(tx, end, 1)?.is_empty()
        || crate::queue::identified_tickets_before(tx, &cutoff.to_string())?)
}

/// The retention job's work: anonymise everything the retention time no longer allows to keep,
/// with one audit row.
pub fn purge_expired(cx: &mut Cx<'_>) -> Result<PurgeReport> {
    let cutoff = latest_cutoff(cx.tx, cx.now)?;
    let report = purge(cx.tx, cutoff, cx.now)?;
    record(cx, &report)?;
    Ok(report)
}

fn record(cx: &mut Cx<'_>, report: &PurgeReport) -> Result<()> {
    let cutoff = &report.before;
    cx.record(
            Topic::Case,
            AuditDraft::new(
                "privacy",
                None,
                format!(
                    "按保存期限匿名化个人信息（办结早于 {cutoff}）：办件 {} 件、申请 {} 份、号票 {} 个；统计数据保留",
                    report.cases, report.applications, report.tickets
                ),
            ),
        )
}

fn purge(tx: &Tx<'_>, cutoff: jiff::civil::Date, now: Timestamp) -> Result<PurgeReport> {
    let end = to_ms(day_start(cutoff)?);
    let mut report = PurgeReport {
        before: cutoff.to_string(),
        cases: 0,
        applications: 0,
        tickets: 0,
    };
    let mut tickets: Vec<String> = vec![];
    // Each capability anonymises its own rows; this module only decides what and when.
    for c in crate::cases::completed_before(tx, end, u32::MAX)? {
        let masked = (
            validate::mask_name(&c.applicant_name),
            validate::mask_id(&c.applicant_id_number),
            validate::mask_phone(&c.applicant_phone),
        );
        let masked = (masked.0.as_str(), masked.1.as_str(), masked.2.as_str());
        report.cases += crate::cases::anonymise(tx, &c.id, masked, now)?;
        let (apps, app_tickets) = crate::applications::anonymise_of_case(tx, &c.id, masked, now)?;
        report.applications += apps;
        tickets.extend(app_tickets);
        tickets.extend(c.ticket_id);
    }
    // The tickets those cases came from, and every ticket of a day before the cutoff.
    tickets.sort();
    tickets.dedup();
    report.tickets += crate::queue::anonymise_tickets(tx, &tickets)?;
    report.tickets += crate::queue::anonymise_days_before(tx, &cutoff.to_string())?;
    Ok(report)
}
