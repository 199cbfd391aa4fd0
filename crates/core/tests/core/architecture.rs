//! The core's layers, checked on its source (ARCHITECTURE.md draws them):
//!
//! ```text
//! top       app/ (open, reactions, jobs, history, demo), lib.rs (the registry), bindings.rs
//! 13        privacy
//! 12        reports
//! 11        handover
//! 10        posts
//!  9        applications
//!  8        notices
//!  7        cases
//!  6        queue
//!  5        catalog
//!  4        deadlines
//!  3        calendar
//!  2        staff, devices
//!  1        hall, audit_log
//!  0        kernel/ (error, clock, ids, validate, event, store, numbers, audit, backup, outbox, op)
//! ```
//!
//! - A capability names (`crate::x`, `super::…` out of its folder) only the kernel and the
//!   capabilities below it; two capabilities of one layer do not name each other.
//! - The kernel's own modules form no cycle.
//! - Each table is written (INSERT, UPDATE, DELETE) only by the capability that owns it, and read
//!   only by its owner and the layers above it.
//!
//! The scanner reads the source as text: comments are skipped (a doc link is not an import),
//! string literals are read only for SQL. Its own tests plant violations to show it fails.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layer of each top-level module of the core.
const LAYERS: &[(&str, u32)] = &[
    ("kernel", 0),
    ("audit_log", 1),
    ("hall", 1),
    ("staff", 2),
    ("devices", 2),
    ("messages", 2),
    ("calendar", 3),
    ("deadlines", 4),
    ("catalog", 5),
    ("queue", 6),
    ("cases", 7),
    ("notices", 8),
    ("applications", 9),
    ("face", 10),
    ("posts", 10),
    ("handover", 11),
    ("reports", 12),
    ("privacy", 13),
    ("app", TOP),
    ("bindings", TOP),
    ("<root>", TOP),
];

const TOP: u32 = 100;

/// The kernel's modules, bottom first: each may name only those before it.
const KERNEL_ORDER: &[&str] = &[
    "error", "clock", "ids", "validate", "event", "store", "numbers", "audit", "backup", "outbox",
    "op",
];

/// Names the crate root re-exports, by the layer they come from.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Store", "kernel"),
    ("OpenReport", "kernel"),
    ("Result", "kernel"),
    ("CoreError", "kernel"),
    ("ErrorCode", "kernel"),
    ("HallEvent", "kernel"),
    ("Topic", "kernel"),
    ("Caller", "kernel"),
    ("Actor", "kernel"),
    ("Access", "kernel"),
    ("Credential", "kernel"),
    ("DeviceKind", "kernel"),
    ("OpInfo", "kernel"),
    ("Operation", "kernel"),
    ("Outcome", "kernel"),
    ("Clock", "kernel"),
    ("SystemClock", "kernel"),
    ("FixedClock", "kernel"),
    ("VERSION", "<root>"),
    ("OPERATIONS", "<root>"),
    ("COMMAND_IDENTS", "<root>"),
    ("execute_json", "<root>"),
    ("operation_schemas", "<root>"),
    ("export_operation_types", "<root>"),
    ("for_each_operation", "<root>"),
    ("open", "app"),
    ("open_file", "app"),
    ("demo", "app"),
    // The kernel's modules, re-exported at the root for the transports.
    ("audit", "kernel"),
    ("clock", "kernel"),
    ("error", "kernel"),
    ("event", "kernel"),
    ("ids", "kernel"),
    ("numbers", "kernel"),
    ("op", "kernel"),
    ("outbox", "kernel"),
    ("store", "kernel"),
    ("validate", "kernel"),
];

/// Who owns (alone writes) each table. A table missing here fails the check.
const OWNERS: &[(&str, &str)] = &[
    ("schema_migrations", "kernel"),
    ("audit_log", "kernel"),
    ("number_counters", "kernel"),
    ("outbox", "kernel"),
    ("hall", "hall"),
    ("categories", "hall"),
    ("windows", "hall"),
    ("window_categories", "hall"),
    ("staff", "staff"),
    ("sessions", "staff"),
    ("security_settings", "staff"),
    ("sign_in_failures", "staff"),
    ("staff_notices", "staff"),
    ("devices", "devices"),
    ("calendar_state", "calendar"),
    ("calendar_changes", "calendar"),
    ("calendar_imports", "calendar"),
    ("calendar_overrides", "calendar"),
    ("deadline_settings", "deadlines"),
    ("service_items", "catalog"),
    ("materials", "catalog"),
    ("queue_settings", "queue"),
    ("message_templates", "messages"),
    ("message_settings", "messages"),
    ("message_optouts", "messages"),
    ("ticket_counters", "queue"),
    ("queue_counts", "queue"),
    ("tickets", "queue"),
    ("ticket_events", "queue"),
    ("window_pauses", "queue"),
    ("ratings", "queue"),
    ("followups", "queue"),
    ("rating_settings", "queue"),
    ("queue_routes", "queue"),
    ("window_routes", "queue"),
    ("window_serving", "queue"),
    ("cases", "cases"),
    ("case_events", "cases"),
    ("case_alerts", "cases"),
    ("case_delegations", "cases"),
    ("case_delegation_cases", "cases"),
    ("documents", "notices"),
    ("notice_templates", "notices"),
    ("notice_settings", "notices"),
    ("applications", "applications"),
    ("application_materials", "applications"),
    ("application_visits", "applications"),
    ("posts", "posts"),
    ("post_assignments", "posts"),
    ("absences", "posts"),
    ("post_covers", "posts"),
    ("post_settings", "posts"),
    ("post_takeovers", "posts"),
    ("handovers", "handover"),
    ("handover_cases", "handover"),
    ("report_settings", "reports"),
    ("report_files", "reports"),
    ("privacy_settings", "privacy"),
];

fn layer(module: &str) -> Option<u32> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

/// One source file: its module path (`["cases", "views"]`), its code with comments and
/// strings blanked, and its string literals.
struct Source {
    path: PathBuf,
    module: Vec<String>,
    code: String,
    strings: Vec<String>,
}

/// Split Rust source into code (comments and literals blanked) and string literals.
fn split(src: &str) -> (String, Vec<String>) {
    let b = src.as_bytes();
    let mut code = String::with_capacity(src.len());
    let mut strings = vec![];
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if c == b'r' && (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#')) && {
            let mut j = i + 1;
            while b.get(j) == Some(&b'#') {
                j += 1;
            }
            b.get(j) == Some(&b'"')
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_'))
        } {
            let mut j = i + 1;
            let mut hashes = 0;
            while b[j] == b'#' {
                hashes += 1;
                j += 1;
            }
            let start = j + 1;
            let close: Vec<u8> = std::iter::once(b'"')
                .chain(std::iter::repeat_n(b'#', hashes))
                .collect();
            let mut k = start;
            while k < b.len() && !b[k..].starts_with(&close) {
                k += 1;
            }
            strings.push(src[start..k.min(b.len())].to_owned());
            code.push_str("\"\"");
            i = k + close.len();
        } else if c == b'"' {
            let start = i + 1;
            let mut k = start;
            while k < b.len() && b[k] != b'"' {
                if b[k] == b'\\' {
                    k += 1;
                }
                k += 1;
            }
            strings.push(src[start..k.min(b.len())].to_owned());
            code.push_str("\"\"");
            i = k + 1;
        } else if c == b'\'' && b.get(i + 2) == Some(&b'\'') {
            // A one-byte char literal ('"', 'a').
            code.push_str("' '");
            i += 3;
        } else if c == b'\'' && b.get(i + 1) == Some(&b'\\') {
            // An escaped char literal ('\'', '\n', '\u{..}').
            let mut k = i + 2;
            while k < b.len() && b[k] != b'\'' {
                k += 1;
            }
            code.push_str("' '");
            i = k + 1;
        } else {
            let len = src[i..].chars().next().map_or(1, char::len_utf8);
            code.push_str(&src[i..i + len]);
            i += len;
        }
    }
    (code, strings)
}

fn read_sources(src: &Path) -> Vec<Source> {
    let mut out = vec![];
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(src).unwrap();
                let mut module: Vec<String> = rel
                    .with_extension("")
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|m| m == "mod" || m == "lib") {
                    module.pop();
                }
                let text = std::fs::read_to_string(&p).unwrap();
                let (code, strings) = split(without_tests(&text));
                out.push(Source {
                    path: rel.to_path_buf(),
                    module,
                    code,
                    strings,
                });
            }
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The file without its unit tests (`#[cfg(test)] mod …`, last in a file by convention): a test
/// may build fixtures from any table.
fn without_tests(text: &str) -> &str {
    let mut from = 0;
    while let Some(at) = text[from..].find("#[cfg(test)]") {
        let at = from + at;
        if text[at + "#[cfg(test)]".len()..]
            .trim_start()
            .starts_with("mod ")
        {
            return &text[..at];
        }
        from = at + 1;
    }
    text
}

fn ident_at(s: &str) -> Option<&str> {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(s.len(), |(i, _)| i);
    (end > 0).then(|| &s[..end])
}

/// Every absolute path the code names, as its first two segments (`["cases", "views"]`).
fn references(source: &Source) -> Vec<Vec<String>> {
    let code = &source.code;
    let mut out = vec![];
    let mut push = |path: Vec<String>| {
        if !path.is_empty() {
            out.push(path);
        }
    };
    let mut i = 0;
    while let Some(pos) = code[i..].find("crate::") {
        let at = i + pos;
        i = at + "crate::".len();
        let prev = code[..at].chars().next_back();
        if prev.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // onetrip_core::…, not crate::
        }
        let rest = &code[i..];
        if let Some(group) = rest.strip_prefix('{') {
            // use crate::{a, b::c};
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let part = part.trim();
                if let Some(id) = ident_at(part) {
                    let second = part[id.len()..]
                        .strip_prefix("::")
                        .and_then(ident_at)
                        .map(str::to_owned);
                    push(std::iter::once(id.to_owned()).chain(second).collect());
                }
            }
        } else if let Some(id) = ident_at(rest) {
            let second = rest[id.len()..]
                .strip_prefix("::")
                .and_then(ident_at)
                .map(str::to_owned);
            push(std::iter::once(id.to_owned()).chain(second).collect());
        }
    }
    // super:: chains, resolved from the file's module.
    let mut i = 0;
    while let Some(pos) = code[i..].find("super::") {
        let at = i + pos;
        i = at + 1;
        if code[..at].ends_with("::") {
            continue; // the inner part of super::super::, counted from the first
        }
        let mut base: Vec<String> = source.module.clone();
        let mut rest = &code[at..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        if let Some(id) = ident_at(rest) {
            base.push(id.to_owned());
            let second = rest[id.len()..]
                .strip_prefix("::")
                .and_then(ident_at)
                .map(str::to_owned);
            base.extend(second);
            push(base.into_iter().take(2).collect());
        }
    }
    out
}

/// The top-level module a path names, resolving the root's re-exports.
fn folder_of(path: &[String]) -> Result<String, String> {
    let first = path[0].as_str();
    if layer(first).is_some() {
        return Ok(first.to_owned());
    }
    match ROOT_ITEMS.iter().find(|(n, _)| *n == first) {
        Some((_, from)) => Ok((*from).to_owned()),
        None => Err(format!(
            "crate::{first} is not a module nor a known root item: add it to LAYERS or ROOT_ITEMS"
        )),
    }
}

fn own_folder(s: &Source) -> String {
    s.module.first().cloned().unwrap_or_else(|| "<root>".into())
}

/// Every layering violation in `sources`.
fn check_imports(sources: &[Source]) -> Vec<String> {
    let mut bad = vec![];
    let mut kernel_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for s in sources {
        let own = own_folder(s);
        let Some(own_layer) = layer(&own) else {
            bad.push(format!(
                "{}: module {own} has no layer (add it to LAYERS and ARCHITECTURE.md)",
                s.path.display()
            ));
            continue;
        };
        for r in references(s) {
            let target = match folder_of(&r) {
                Ok(t) => t,
                Err(e) => {
                    bad.push(format!("{}: {e}", s.path.display()));
                    continue;
                }
            };
            if target == own {
                if own == "kernel"
                    && let (Some(from), Some(to)) = (s.module.get(1), r.get(1))
                    && from != to
                {
                    kernel_edges
                        .entry(from.clone())
                        .or_default()
                        .insert(to.clone());
                }
                continue;
            }
            let t_layer = layer(&target).unwrap();
            if t_layer >= own_layer && !(own_layer == TOP && t_layer == TOP) {
                bad.push(format!(
                    "{}: {own} (layer {own_layer}) names crate::{} (layer {t_layer}): a capability names only those below it; emit a domain event and react in app::reactions",
                    s.path.display(),
                    r.join("::"),
                ));
            }
        }
    }
    // The kernel's modules, in their order.
    for (from, tos) in &kernel_edges {
        let Some(fi) = KERNEL_ORDER.iter().position(|m| m == from) else {
            bad.push(format!("kernel::{from} is not in KERNEL_ORDER"));
            continue;
        };
        for to in tos {
            match KERNEL_ORDER.iter().position(|m| m == to) {
                Some(ti) if ti < fi => {}
                Some(_) => bad.push(format!(
                    "kernel::{from} names kernel::{to}, which is not below it (KERNEL_ORDER)"
                )),
                None => bad.push(format!("kernel::{to} is not in KERNEL_ORDER")),
            }
        }
    }
    bad
}

/// Tables named after SQL keywords in a string literal: (table, writes?).
fn tables_in(sql: &str) -> Vec<(String, bool)> {
    // `{table}` placeholders of format! are not tables.
    let mut plain = String::with_capacity(sql.len());
    let mut depth = 0;
    for c in sql.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ if depth > 0 => {}
            _ => plain.push(c),
        }
    }
    let sql = plain.as_str();
    let words: Vec<&str> = sql
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .collect();
    // Common table expressions (`WITH ids AS (…)`) are named by the query itself.
    let ctes: Vec<&str> = words
        .windows(3)
        .filter(|w| {
            w[1].eq_ignore_ascii_case("AS") && (w[0].eq_ignore_ascii_case("WITH") || w[2] == "AS")
        })
        .map(|w| {
            w[if w[0].eq_ignore_ascii_case("WITH") {
                1
            } else {
                0
            }]
        })
        .collect();
    let ctes: Vec<&str> = words
        .windows(2)
        .filter(|w| w[0].eq_ignore_ascii_case("WITH") || w[0].eq_ignore_ascii_case("RECURSIVE"))
        .map(|w| w[1])
        .chain(ctes)
        .collect();
    let mut out = vec![];
    for (i, w) in words.iter().enumerate() {
        let upper = w.to_ascii_uppercase();
        let next = words.get(i + 1).copied();
        let (table, write) = match upper.as_str() {
            "INTO"
                if i > 0 && {
                    let p = words[i - 1].to_ascii_uppercase();
                    p == "INSERT" || p == "IGNORE" || p == "REPLACE"
                } =>
            {
                (next, true)
            }
            "UPDATE" if !(i > 0 && words[i - 1].eq_ignore_ascii_case("DO")) => (next, true),
            "DELETE" if next.is_some_and(|n| n.eq_ignore_ascii_case("FROM")) => {
                (words.get(i + 2).copied(), true)
            }
            "FROM" | "JOIN" if !(i > 0 && words[i - 1].eq_ignore_ascii_case("DELETE")) => {
                (next, false)
            }
            _ => (None, false),
        };
        if let Some(t) = table
            && t.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && !ctes.contains(&t)
        {
            out.push((t.to_owned(), write));
        }
    }
    out
}

fn check_tables(sources: &[Source]) -> Vec<String> {
    let mut bad = vec![];
    for s in sources {
        let own = own_folder(s);
        let own_layer = layer(&own).unwrap_or(TOP);
        for lit in &s.strings {
            let looks_sql = ["SELECT ", "INSERT ", "UPDATE ", "DELETE "]
                .iter()
                .any(|k| lit.contains(k));
            if !looks_sql {
                continue;
            }
            for (table, write) in tables_in(lit) {
                let Some(owner) = OWNERS.iter().find(|(t, _)| *t == table).map(|(_, o)| *o) else {
                    // information_schema, sqlite_master, subquery aliases, CTEs…
                    if !["information_schema", "sqlite_master", "pg_catalog"]
                        .iter()
                        .any(|x| table.starts_with(x))
                        && s.module.first().map(String::as_str) != Some("kernel")
                    {
                        bad.push(format!(
                            "{}: SQL names {table}, which has no owner in OWNERS",
                            s.path.display()
                        ));
                    }
                    continue;
                };
                if owner == own {
                    continue;
                }
                if write {
                    bad.push(format!(
                        "{}: {own} writes {table}, which only {owner} may write (ask {owner} through a function of its own)",
                        s.path.display()
                    ));
                } else if layer(owner).unwrap() >= own_layer {
                    bad.push(format!(
                        "{}: {own} reads {table} of {owner}, a layer not below it",
                        s.path.display()
                    ));
                }
            }
        }
    }
    bad
}

fn core_sources() -> Vec<Source> {
    read_sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn every_capability_names_only_the_layers_below_it() {
    let bad = check_imports(&core_sources());
    assert!(bad.is_empty(), "layering violations:\n{}", bad.join("\n"));
}

#[test]
fn every_table_is_written_by_its_owner_and_read_from_above() {
    let bad = check_tables(&core_sources());
    assert!(
        bad.is_empty(),
        "table ownership violations:\n{}",
        bad.join("\n")
    );
}

fn planted(path: &str, text: &str) -> Source {
    let rel = PathBuf::from(path);
    let mut module: Vec<String> = rel
        .with_extension("")
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    if module.last().is_some_and(|m| m == "mod") {
        module.pop();
    }
    let (code, strings) = split(text);
    Source {
        path: rel,
        module,
        code,
        strings,
    }
}

/// The check is only worth something if it fails: plant each kind of violation.
#[test]
fn the_check_fails_on_planted_violations() {
    let upward = planted("hall/mod.rs", "use crate::handover::Takeover;\nfn f() {}");
    assert_eq!(check_imports(&[upward]).len(), 1, "an upward use");
    let grouped = planted("calendar/mod.rs", "use crate::{kernel::error, cases};");
    assert_eq!(
        check_imports(&[grouped]).len(),
        1,
        "an upward name in a use group"
    );
    let via_super = planted("queue/view.rs", "fn f() { super::super::posts::list(); }");
    assert_eq!(
        check_imports(&[via_super]).len(),
        1,
        "an upward path through super"
    );
    let sibling = planted("staff/mod.rs", "use crate::devices::resolve;");
    assert_eq!(
        check_imports(&[sibling]).len(),
        1,
        "a sibling of the same layer"
    );
    let kernel_up = planted("kernel/op.rs", "use crate::staff::Role;");
    assert_eq!(
        check_imports(&[kernel_up]).len(),
        1,
        "the kernel naming a capability"
    );
    let kernel_cycle = planted("kernel/store/mod.rs", "use crate::kernel::op::Cx;");
    assert_eq!(check_imports(&[kernel_cycle]).len(), 1, "a kernel cycle");
    let commented = planted(
        "hall/mod.rs",
        "//! See [`crate::handover`].\nfn f() { let s = \"crate::cases\"; }",
    );
    assert!(
        check_imports(&[commented]).is_empty(),
        "comments and strings are not imports"
    );
    let downward = planted(
        "handover/mod.rs",
        "use crate::cases::delegation;\nuse crate::kernel::op::Cx;",
    );
    assert!(check_imports(&[downward]).is_empty(), "downward is fine");

    let foreign_write = planted(
        "handover/mod.rs",
        "fn f(tx: &Tx) { tx.execute(\"UPDATE cases SET owner_id = ?1\", []); }",
    );
    assert_eq!(
        check_tables(&[foreign_write]).len(),
        1,
        "writing another's table"
    );
    let upward_read = planted(
        "posts/mod.rs",
        "fn f(tx: &Tx) { tx.query_row(\"SELECT absent_id FROM handovers h JOIN staff s ON s.id = h.taker_id\", [], |r| r.get(0)); }",
    );
    assert_eq!(
        check_tables(&[upward_read]).len(),
        1,
        "reading an upper table"
    );
    let upsert = planted(
        "kernel/numbers.rs",
        "fn f(tx: &Tx) { tx.execute(\"INSERT INTO number_counters (scope) VALUES (?1) ON CONFLICT (scope) DO UPDATE SET value = 1\", []); }",
    );
    assert!(
        check_tables(&[upsert]).is_empty(),
        "an upsert is the owner's own write"
    );
}
