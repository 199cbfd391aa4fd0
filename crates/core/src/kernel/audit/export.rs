//! The audit log exported for an inspector (审计日志导出): CSV (UTF-8 with BOM, so spreadsheet
//! programs read the Chinese), one row per audit entry with its chain hashes, and a signed
//! footer: the SHA-256 of every byte above the footer line. Anyone can recompute it
//! ([`check_export`], `onetrip audit check-export FILE`) and see whether the file was edited
//! after export; the chain hashes in the rows tie it to the database's own chain.

use crate::kernel::store::Tx;

use crate::kernel::clock::{from_ms, hall_tz, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::ids::sha256_hex;

const FOOTER: &str = "# SHA-256:";

fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The CSV text for rows with `from <= at < until`, footer included.
pub fn export_csv(
    tx: &Tx<'_>,
    from: Option<jiff::Timestamp>,
    until: Option<jiff::Timestamp>,
    exported_at: jiff::Timestamp,
) -> Result<(String, i64, String)> {
    let mut out = String::from(
        "\u{feff}序号,时间,操作人类型,操作人,来源,操作,对象类型,对象,摘要,前一哈希,本条哈希\n",
    );
    let mut stmt = tx.prepare(
        "SELECT seq, at, actor_kind, actor_name, source, op, subject_kind, subject_id, summary,
                prev_hash, hash
         FROM audit_log WHERE (CAST(?1 AS BIGINT) IS NULL OR at >= ?1) AND (CAST(?2 AS BIGINT) IS NULL OR at < ?2) ORDER BY seq",
    )?;
    let mut rows = stmt.query(rusqlite::params![from.map(to_ms), until.map(to_ms)])?;
    let mut n = 0i64;
    while let Some(r) = rows.next()? {
        n += 1;
        let at = from_ms(r.get(1)?)
            .to_zoned(hall_tz())
            .strftime("%Y-%m-%d %H:%M:%S%.3f")
            .to_string();
        let cells: [String; 11] = [
            r.get::<_, i64>(0)?.to_string(),
            at,
            r.get(2)?,
            r.get(3)?,
            r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            r.get(5)?,
            r.get(6)?,
            r.get::<_, Option<String>>(7)?.unwrap_or_default(),
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
        ];
        let line: Vec<String> = cells.iter().map(|c| field(c)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    let stamp = exported_at
        .to_zoned(hall_tz())
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string();
    out.push_str(&format!("# 导出时间 {stamp}（北京时间），共 {n} 条\n"));
    let digest = sha256_hex(out.as_bytes());
    out.push_str(&format!("{FOOTER} {digest}\n"));
    Ok((out, n, digest))
}

/// Check an exported file: its footer must be the SHA-256 of everything above it. Returns the
/// number of entries.
pub fn check_export(text: &str) -> Result<i64> {
    let bad = |why: &str| CoreError::new(ErrorCode::InvalidFormat, why.to_owned());
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|i| i + 1)
        .ok_or_else(|| bad("不是一次办导出的审计日志"))?;
    let (body, footer) = text.split_at(body_end);
    let claimed = footer
        .trim()
        .strip_prefix(FOOTER)
        .map(str::trim)
        .ok_or_else(|| bad("缺少签名行（# SHA-256: …）"))?;
    if sha256_hex(body.as_bytes()) != claimed {
        return Err(bad("签名不符：文件在导出后被改动过"));
    }
    Ok(body.lines().skip(1).filter(|l| !l.starts_with('#')).count() as i64)
}
