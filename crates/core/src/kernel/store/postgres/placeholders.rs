//! `?1` → `$1`: the one change a statement undergoes on its way to PostgreSQL. Query modules
//! number their parameters as SQLite does; PostgreSQL numbers them with `$`. Nothing else is
//! rewritten: a statement whose spelling differs between the backends is written twice, side by
//! side, by its author (see [`crate::kernel::store::Tx::pick`]), and the migrations are written
//! once per backend. String literals, quoted identifiers and comments are left as they are.

/// `sql` with every `?N` (and bare `?`, numbered in order) as `$N`.
pub fn numbered(sql: &str) -> String {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0u32;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            // A literal or quoted identifier, doubled quotes inside.
            let start = i;
            i += 1;
            while i < b.len() {
                if b[i] == c {
                    if b.get(i + 1) == Some(&c) {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                i += 1;
            }
            out.push_str(&sql[start..i]);
        } else if c == b'-' && b.get(i + 1) == Some(&b'-') {
            let start = i;
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            out.push_str(&sql[start..i]);
        } else if c == b'?' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n = sql[start..i].parse().unwrap_or(next + 1);
            next = next.max(n);
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            let len = sql[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&sql[i..i + len]);
            i += len;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::numbered;

    #[test]
    fn only_placeholders_change() {
        let cases = [
            (
                "SELECT a FROM t WHERE b = ?1 AND c = ?2",
                "SELECT a FROM t WHERE b = $1 AND c = $2",
            ),
            ("SELECT ? , ?", "SELECT $1 , $2"),
            ("SELECT '?1 ifnull' , ?3", "SELECT '?1 ifnull' , $3"),
            (
                "-- it's a comment ?1\nSELECT ?1",
                "-- it's a comment ?1\nSELECT $1",
            ),
            ("SELECT '办件' || ?1", "SELECT '办件' || $1"),
            // Words are not touched: the author wrote what PostgreSQL runs.
            (
                "SELECT ifnull(a, '') FROM t WHERE name LIKE ?1",
                "SELECT ifnull(a, '') FROM t WHERE name LIKE $1",
            ),
            (
                "SELECT \"REAL\", blob FROM t",
                "SELECT \"REAL\", blob FROM t",
            ),
        ];
        for (sqlite, pg) in cases {
            assert_eq!(numbered(sqlite), pg, "numbering {sqlite:?}");
        }
    }
}
