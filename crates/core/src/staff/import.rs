//! Importing the staff roster (人员导入): a CSV file an admin keeps in a spreadsheet.
//!
//! Contract (issue 8, "every importer validates each row and reports every error with its row
//! and field; a bad file changes nothing"):
//! - The file is UTF-8 CSV (a spreadsheet's BOM is allowed) with a header row naming the
//!   columns `登录名`, `姓名`, `角色` (or `login`, `name`, `role`) in any order. Roles are written
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
    /// The file's text.
    pub csv: String,
}

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

/// Split one CSV line into cells (RFC 4180 quoting: `"a,b"`, `""` for a quote).
fn cells(line: &str) -> std::result::Result<Vec<String>, &'static str> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            ('"', false) if cur.trim().is_empty() => {
                cur.clear();
                quoted = true;
            }
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    if quoted {
        return Err("引号未闭合");
    }
    out.push(cur);
    Ok(out)
}

fn role_of(s: &str) -> Option<Role> {
    [Role::Clerk, Role::Supervisor, Role::Admin]
        .into_iter()
        .find(|r| s == r.as_str() || s == r.label())
}

/// Parse and check the roster without touching the database; every problem found.
fn parse(csv: &str) -> (Vec<Row>, Vec<RowError>) {
    let text = csv.strip_prefix('\u{feff}').unwrap_or(csv);
    let mut lines = text
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i as u32 + 1, l));
    let mut errors = vec![];
    let Some((_, header)) = lines.next().filter(|(_, h)| !h.trim().is_empty()) else {
        return (
            vec![],
            vec![err(1, "表头", "文件为空：第一行应为表头 登录名,姓名,角色")],
        );
    };
    let header = match cells(header) {
        Ok(h) => h,
        Err(e) => return (vec![], vec![err(1, "表头", e)]),
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
    for (line, text) in lines {
        if text.trim().is_empty() {
            continue;
        }
        if rows.len() + errors.len() >= MAX_ROWS {
            errors.push(err(line, "行", format!("名单超过 {MAX_ROWS} 行")));
            break;
        }
        let cells = match cells(text) {
            Ok(c) if c.len() == header.len() => c,
            Ok(c) => {
                errors.push(err(
                    line,
                    "行",
                    format!("有 {} 列，表头有 {} 列", c.len(), header.len()),
                ));
                continue;
            }
            Err(e) => {
                errors.push(err(line, "行", e));
                continue;
            }
        };
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
        if self.csv.len() > 1_000_000 {
            return Err(
                CoreError::new(ErrorCode::TooLong, "名单文件过大（上限 1 MB）").field("csv"),
            );
        }
        let (rows, mut errors) = parse(&self.csv);
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
    fn csv_cells_follow_rfc_4180_quoting() {
        assert_eq!(cells("a,b,c").unwrap(), ["a", "b", "c"]);
        assert_eq!(cells("\"张,伟\",x").unwrap(), ["张,伟", "x"]);
        assert_eq!(cells("\"say \"\"hi\"\"\",").unwrap(), ["say \"hi\"", ""]);
        assert!(cells("\"open,").is_err());
    }

    #[test]
    fn every_bad_row_is_reported_with_its_row_and_column() {
        let csv = "\u{feff}姓名,登录名,角色\r\n张三,zhangsan,窗口人员\r\n,lisi,clerk\r\n王五,wang wu,主任\r\n赵六,zhaoliu\r\n\r\n钱七,qianqi,supervisor\r\n";
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
