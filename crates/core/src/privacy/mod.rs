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

use crate::store::Tx;
use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::audit::AuditDraft;
use crate::clock::{day_start, hall_date, to_ms};
use crate::error::{CoreError, ErrorCode, Result};
use crate::event::Topic;
use crate::op::{Access, Cx, Operation};
use crate::validate;

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
        let latest = hall_date(cx.now)
            .checked_sub(jiff::Span::new().days(i64::from(settings.retention_days)))
            .map_err(|e| CoreError::internal(e.to_string()))?;
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
        )?;
        Ok(report)
    }
}

fn purge(tx: &Tx<'_>, cutoff: jiff::civil::Date, now: Timestamp) -> Result<PurgeReport> {
    let end = to_ms(day_start(cutoff)?);
    let now = to_ms(now);
    let cases: Vec<(String, String, String, String, Option<String>)> = tx
        .prepare(
            "SELECT c.id, c.applicant_name, c.applicant_id_number, c.applicant_phone, c.ticket_id
             FROM cases c
             WHERE c.status = 'completed' AND c.anonymised_at IS NULL
               AND (SELECT max(e.at) FROM case_events e
                    WHERE e.case_id = c.id AND +e.kind = 'completed') < ?1",
        )?
        .query_map([end], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut report = PurgeReport {
        before: cutoff.to_string(),
        cases: 0,
        applications: 0,
        tickets: 0,
    };
    let mut tickets: Vec<String> = vec![];
    for (id, name, number, phone, ticket) in &cases {
        let (name, number, phone) = (
            validate::mask_name(name),
            validate::mask_id(number),
            validate::mask_phone(phone),
        );
        report.cases += tx.execute(
            "UPDATE cases SET applicant_name = ?2, applicant_id_number = ?3, applicant_phone = ?4,
                anonymised_at = ?5 WHERE id = ?1",
            params![id, name, number, phone, now],
        )? as u32;
        let apps: Vec<(String, Option<String>)> = tx
            .prepare("SELECT id, ticket_id FROM applications WHERE case_id = ?1 AND anonymised_at IS NULL")?
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (app, app_ticket) in apps {
            report.applications += tx.execute(
                "UPDATE applications SET applicant_name = ?2, applicant_id_number = ?3,
                    applicant_phone = ?4, anonymised_at = ?5 WHERE id = ?1",
                params![app, name, number, phone, now],
            )? as u32;
            tickets.extend(app_ticket);
        }
        tickets.extend(ticket.clone());
    }
    // The tickets those cases came from, and every ticket of a day before the cutoff.
    tickets.sort();
    tickets.dedup();
    for t in &tickets {
        report.tickets += tx.execute(
            "UPDATE tickets SET applicant_name = NULL, id_hash = NULL
             WHERE id = ?1 AND (applicant_name IS NOT NULL OR id_hash IS NOT NULL)",
            [t],
        )? as u32;
    }
    report.tickets += tx.execute(
        "UPDATE tickets SET applicant_name = NULL, id_hash = NULL
         WHERE day < ?1 AND (applicant_name IS NOT NULL OR id_hash IS NOT NULL)",
        [cutoff.to_string()],
    )? as u32;
    Ok(report)
}
