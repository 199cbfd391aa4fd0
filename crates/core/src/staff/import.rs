//! Importing the staff roster (人员导入): a CSV file an admin keeps in a spreadsheet.
//!
//! Contract (issue 8, "every importer validates each row and reports every error with its row
//! and field; a bad file changes nothing"):
//! - The file is CSV as a spreadsheet saves it, sent as its bytes (base64): UTF-8 with or
//!   without a BOM, or GBK/GB18030 (what Excel on a Chinese Windows writes for "CSV"), read
//!   with `encoding_rs`; cells by the `csv` crate (RFC 4180: quoted commas, quotes and line
//!   breaks). A header row names the columns `登录名`, `姓名`, `角色` (or `login`, `name`,
//!   `role`) in any order. Roles are written
//!   as shown on screen (`窗口人员`, `分管领导`, `系统管理员`) or as `clerk`, `supervisor`, `admin`.
//! - Every row is checked with the same rules as `staff.create` (login format, name length and
//!   control characters), plus: a login used twice in the file or already taken, an unknown role,
//!   a row with too few or too many cells. All problems are reported at once, each with its
//!   row number (as the spreadsheet shows it, the header being row 1) and column; then nothing
//!   is written.
//! - A good file creates every account with a one-time password (returned once, in the answer;
//!   only its Argon2id hash is stored), which must be changed at first sign-in. One audit row
//!   names the accounts created. Only an admin may import (the file may create admins).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{NAME_MAX, Role, store};
use crate::kernel::audit::AuditDraft;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::new_id;
use crate::kernel::op::{Access, Cx, Operation};
use crate::kernel::validate;
use crate::kernel::validate::RowError;

/// The largest roster accepted (a hall has dozens of staff, a city centre a few hundred).
pub const MAX_ROWS: usize = 2000;

/// Create the accounts listed in a CSV roster.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ImportStaff {
    /// The file's bytes in base64, as saved (UTF-8 or GBK).
    pub file_base64: String,
}

/// The largest roster file accepted.
pub const MAX_BYTES: usize = 1_000_000;

/// One account created by an import, with its one-time password (shown once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ImportedAccount {
    pub login: String,
    pub name: String,
    pub role: Role,
    pub one_time_password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct StaffImportReport {
    pub created: Vec<ImportedAccount>,
}

const SHEET: &str = "人员名单";

#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    line: u32,
    login: String,
    name: String,
    role: Role,
}

fn err(row: u32, field: &str, reason: impl Into<String>) -> RowError {
    RowError {
        sheet: SHEET.into(),
        row,
        field: field.into(),
        reason: reason.into(),
    }
}

/// The file's text: UTF-8 (a BOM dropped) when it is valid UTF-8, else GB18030 (which reads
/// GBK and GB2312); neither is an error naming the file, not a page of mojibake.
fn decode(bytes: &[u8]) -> std::result::Result<String, RowError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(text.to_owned());
    }
    encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .map(|t| t.into_owned())
        .ok_or_else(|| {
            err(
                1,
                "文件",
                "文件既不是 UTF-8 也不是 GBK 编码，请在表格软件中另存为“CSV UTF-8”或“CSV”",
            )
        })
}

fn role_of(s: &str) -> Option<Role> {
    [Role::Clerk, Role::Supervisor, Role::Admin]
        .into_iter()
        .find(|r| s == r.as_str() || s == r.label())
}

/// Parse and check the roster without touching the database; every problem found.
fn parse(text: &str) -> (Vec<Row>, Vec<RowError>) {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    // The row number a spreadsheet shows: line breaks before the record's first cell, plus one.
    // (The csv crate's line count skips blank lines, and its record position can point at the
    // end of the previous line's CRLF: step over line breaks first.)
    let line_at = |byte: u64| {
        let bytes = text.as_bytes();
        let mut at = usize::try_from(byte)
            .unwrap_or(bytes.len())
            .min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\r' | b'\n') {
            at += 1;
        }
        u32::try_from(bytes[..at].iter().filter(|b| **b == b'\n').count() + 1).unwrap_or(u32::MAX)
    };
    let mut errors = vec![];
    let header = match records.next() {
        Some(Ok(h)) if h.iter().any(|c| !c.trim().is_empty()) => h,
        Some(Err(e)) => return (vec![], vec![err(1, "表头", format!("无法读取：{e}"))]),
        _ => {
            return (
                vec![],
                vec![err(1, "表头", "文件为空：第一行应为表头 登录名,姓名,角色")],
            );
        }
    };
    let column = |names: [&str; 2]| {
        header
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(c_login), Some(c_name), Some(c_role)) = (
        column(["登录名", "login"]),
        column(["姓名", "name"]),
        column(["角色", "role"]),
    ) else {
        return (
            vec![],
            vec![err(1, "表头", "表头须含 登录名、姓名、角色 三列")],
        );
    };
    let mut rows = vec![];
    let mut last_line = 1;
    for record in records {
        let cells = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(last_line + 1, |p| line_at(p.byte()));
                errors.push(err(line, "行", format!("无法读取：{e}")));
                break;
            }
        };
        let line = cells
            .position()
            .map_or(last_line + 1, |p| line_at(p.byte()));
        last_line = line;
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(err(line, "行", format!("名单超过 {MAX_ROWS} 行")));
            break;
        }
        if cells.len() != header.len() {
            errors.push(err(
                line,
                "行",
                format!("有 {} 列，表头有 {} 列", cells.len(), header.len()),
            ));
            continue;
        }
        let mut ok = true;
        let login = validate::login(&cells[c_login]).unwrap_or_else(|e| {
            errors.push(err(line, "登录名", e.message));
            ok = false;
            String::new()
        });
        let name = validate::text("name", "姓名", &cells[c_name], NAME_MAX).unwrap_or_else(|e| {
            errors.push(err(line, "姓名", e.message));
            ok = false;
            String::new()
        });
        let role = role_of(cells[c_role].trim());
        if role.is_none() {
            errors.push(err(
                line,
                "角色",
                format!(
                    "未知角色“{}”（应为 窗口人员、分管领导 或 系统管理员）",
                    cells[c_role].trim()
                ),
            ));
        }
        if let (true, Some(role)) = (ok, role) {
            rows.push(Row {
                line,
                login,
                name,
                role,
            });
        }
    }
    (rows, errors)
}

impl Operation for ImportStaff {
    const NAME: &'static str = "staff.import";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = StaffImportReport;
    fn run(self, cx: &mut Cx<'_>) -> Result<StaffImportReport> {
        use base64::Engine as _;
        if self.file_base64.len() > MAX_BYTES * 4 / 3 + 4 {
            return Err(
                CoreError::new(ErrorCode::TooLong, "名单文件过大（上限 1 MB）")
                    .field("file_base64"),
            );
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.file_base64.trim())
            .map_err(|e| {
                CoreError::new(
                    ErrorCode::InvalidFormat,
                    format!("名单文件内容不是有效的 base64：{e}"),
                )
                .field("file_base64")
            })?;
        let (rows, mut errors) = match decode(&bytes) {
            Ok(text) => parse(&text),
            Err(e) => (vec![], vec![e]),
        };
        let mut seen = std::collections::BTreeMap::new();
        for r in &rows {
            if let Some(first) = seen.insert(r.login.clone(), r.line) {
                errors.push(err(
                    r.line,
                    "登录名",
                    format!("登录名“{}”与第 {first} 行重复", r.login),
                ));
            } else if store::find_by_login(cx.tx, &r.login)?.is_some() {
                errors.push(err(
                    r.line,
                    "登录名",
                    format!("登录名“{}”已被使用", r.login),
                ));
            }
        }
        if rows.is_empty() && errors.is_empty() {
            errors.push(err(2, "行", "名单中没有人员"));
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| e.row);
            let first: Vec<String> = errors
                .iter()
                .take(5)
                .map(|e| format!("第 {} 行 {}：{}", e.row, e.field, e.reason))
                .collect();
            return Err(CoreError::new(
                ErrorCode::ImportInvalid,
                format!(
                    "名单有 {} 处问题，未导入任何人员：{}",
                    errors.len(),
                    first.join("；")
                ),
            )
            .param("count", errors.len())
            .param("errors", serde_json::to_string(&errors)?));
        }
        let mut created = vec![];
        for r in rows {
            let password = super::auth::one_time_password();
            let hash = super::auth::hash_password(&password)?;
            store::insert(
                cx.tx,
                &new_id(),
                &r.login,
                &r.name,
                r.role,
                &hash,
                true,
                cx.ms(),
            )?;
            created.push(ImportedAccount {
                login: r.login,
                name: r.name,
                role: r.role,
                one_time_password: password,
            });
        }
        let names: Vec<String> = created
            .iter()
            .map(|a| format!("{}（{}）", a.login, a.name))
            .collect();
        cx.record(
            Topic::Staff,
            AuditDraft::new(
                "staff",
                None,
                format!(
                    "导入人员名单，新建 {} 个账号：{}",
                    created.len(),
                    names.join("、")
                ),
            ),
        )?;
        Ok(StaffImportReport { created })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_follow_rfc_4180_quoting_line_breaks_included() {
        let (rows, errors) =
            parse("登录名,姓名,角色\n\"zhang\",\"张,伟\",clerk\nlisi,\"李\"\"四\"\"\",clerk\n");
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rows[0].name, "张,伟");
        assert_eq!(rows[1].name, "李\"四\"");
        // A quoted line break stays in its cell (a name cannot hold one: reported on its row).
        let (rows, errors) = parse("登录名,姓名,角色\nwang,\"王\n五\",clerk\nzhao,赵六,clerk\n");
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [4]);
        assert_eq!((errors[0].row, errors[0].field.as_str()), (2, "姓名"));
    }

    #[test]
    fn a_gbk_file_from_excel_reads_as_its_chinese() {
        let text = "登录名,姓名,角色\r\nzhangsan,张三,窗口人员\r\n";
        let (gbk, _, bad) = encoding_rs::GBK.encode(text);
        assert!(!bad);
        assert!(std::str::from_utf8(&gbk).is_err(), "really not UTF-8");
        let decoded = decode(&gbk).unwrap();
        let (rows, errors) = parse(&decoded);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!((rows[0].name.as_str(), rows[0].role), ("张三", Role::Clerk));
        // UTF-8 with Excel's BOM.
        let bom = [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat();
        assert_eq!(decode(&bom).unwrap(), text);
        // Neither: said so, at the file.
        let e = decode(&[0xff, 0xfe, 0x81, 0x20, 0x81]).unwrap_err();
        assert_eq!(e.field, "文件");
    }

    #[test]
    fn every_bad_row_is_reported_with_its_row_and_column() {
        let csv = "姓名,登录名,角色\r\n张三,zhangsan,窗口人员\r\n,lisi,clerk\r\n王五,wang wu,主任\r\n赵六,zhaoliu\r\n\r\n钱七,qianqi,supervisor\r\n";
        let (rows, errors) = parse(csv);
        assert_eq!(
            rows.iter()
                .map(|r| (r.line, r.login.as_str()))
                .collect::<Vec<_>>(),
            [(2, "zhangsan"), (7, "qianqi")]
        );
        let found: Vec<(u32, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(
            found,
            [(3, "姓名"), (4, "登录名"), (4, "角色"), (5, "行")],
            "{errors:?}"
        );
    }

    #[test]
    fn a_file_without_the_three_columns_is_refused_at_its_header() {
        let (_, errors) = parse("name,login\nx,y\n");
        assert_eq!(errors[0].row, 1);
        assert_eq!(errors[0].field, "表头");
        let (_, errors) = parse("");
        assert_eq!(errors[0].field, "表头");
    }
}
