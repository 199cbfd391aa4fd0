//! Previewing an issued notice (`document.preview`): the document is the notices capability's,
//! re-rendered byte for byte from its stored data and template version; the QR code it carries
//! names the case, or before acceptance the application — which is why the preview lives here,
//! above both.

use crate::kernel::store::Optional;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::error::{CoreError, Result};
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;
use crate::notices::{notice_error, paper_of, png_url, template_version};
use onetrip_notice::NoticeKind;

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PreviewDocument {
    pub id: String,
}

/// The first page as a PNG data URL (the in-app preview before printing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Preview {
    pub number: String,
    pub title: String,
    pub png_data_url: String,
}

impl Operation for PreviewDocument {
    const NAME: &'static str = "document.preview";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Preview;
    fn run(self, cx: &mut Cx<'_>) -> Result<Preview> {
        let id = validate::id("id", "文书", &self.id)?;
        type Stored = (String, String, String, i64, String, Option<String>, String);
        let row: Option<Stored> = cx
            .tx
            .query_row(
                "SELECT d.number, d.kind, d.paper, d.template_version, d.data, c.number, a.number
                 FROM documents d JOIN applications a ON a.id = d.application_id
                 LEFT JOIN cases c ON c.id = d.case_id WHERE d.id = ?1",
                [&id],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((number, kind, paper, version, data, case_number, app_number)) = row else {
            return Err(CoreError::not_found("文书", &id));
        };
        let kind = NoticeKind::parse(&kind).ok_or_else(|| CoreError::internal("未知文书类型"))?;
        let source = template_version(cx.tx, kind, version)?;
        let data: serde_json::Value = serde_json::from_str(&data)?;
        let qr = case_number.unwrap_or(app_number);
        let png = onetrip_notice::render_png(&source, &data, paper_of(&paper), &qr, 1.5)
            .map_err(notice_error)?;
        Ok(Preview {
            title: kind.title().into(),
            number,
            png_data_url: png_url(&png),
        })
    }
}
