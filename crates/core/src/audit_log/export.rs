//! The signed CSV export of the audit log for inspectors (`audit.export`): the file's last line
//! carries the SHA-256 of everything above it ([`crate::kernel::audit::export`]).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::export::export_csv;
use crate::kernel::clock::hall_tz;
use crate::kernel::error::Result;
use crate::kernel::op::{Access, Cx, Operation};

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(default)]
pub struct ExportAudit {
    pub from: Option<jiff::Timestamp>,
    pub until: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct AuditExport {
    pub filename: String,
    /// The CSV text, footer included.
    pub content: String,
    pub rows: i64,
    /// The footer's SHA-256, to note beside the file.
    pub sha256: String,
}

impl Operation for ExportAudit {
    const NAME: &'static str = "audit.export";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = AuditExport;
    fn run(self, cx: &mut Cx<'_>) -> Result<AuditExport> {
        let (content, rows, sha256) = export_csv(cx.tx, self.from, self.until, cx.now)?;
        let stamp = cx.now.to_zoned(hall_tz()).strftime("%Y%m%d-%H%M%S");
        Ok(AuditExport {
            filename: format!("audit-{stamp}.csv"),
            content,
            rows,
            sha256,
        })
    }
}
