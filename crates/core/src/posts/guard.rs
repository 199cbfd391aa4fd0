//! The AB guard as a pure function: A and B of one post are never away at the same time, unless
//! a third person is named for the post over the whole overlap. Times are milliseconds; spans are
//! half-open `[start, end)`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assignment {
    pub post_id: String,
    pub post_name: String,
    pub primary: String,
    pub backup: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Away {
    pub staff_id: String,
    pub start: i64,
    pub end: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    pub post_id: String,
    pub start: i64,
    pub end: i64,
}

/// A post left with neither A nor B over `[start, end)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    pub post_id: String,
    pub post_name: String,
    pub partner: String,
    pub start: i64,
    pub end: i64,
}

fn covered(covers: &[Cover], post: &str, start: i64, end: i64) -> bool {
    covers
        .iter()
        .any(|c| c.post_id == post && c.start <= start && c.end >= end)
}

/// The posts `new` would leave empty, given everyone else's absences.
pub fn conflicts(
    new: &Away,
    assignments: &[Assignment],
    others: &[Away],
    covers: &[Cover],
) -> Vec<Conflict> {
    let mut out = vec![];
    for a in assignments {
        let partner = if a.primary == new.staff_id {
            &a.backup
        } else if a.backup == new.staff_id {
            &a.primary
        } else {
            continue;
        };
        for o in others.iter().filter(|o| &o.staff_id == partner) {
            let (start, end) = (new.start.max(o.start), new.end.min(o.end));
            if start < end && !covered(covers, &a.post_id, start, end) {
                out.push(Conflict {
                    post_id: a.post_id.clone(),
                    post_name: a.post_name.clone(),
                    partner: partner.clone(),
                    start,
                    end,
                });
            }
        }
    }
    out
}

fn away_during(away: &[Away], staff: &str, start: i64, end: i64) -> bool {
    away.iter()
        .any(|a| a.staff_id == staff && a.start < end && a.end > start)
}

/// Who works the post over `[start, end)`: `a`, `b`, `third` or `gap`.
pub fn on_duty(
    a: &Assignment,
    away: &[Away],
    covers: &[Cover],
    start: i64,
    end: i64,
) -> &'static str {
    if !away_during(away, &a.primary, start, end) {
        "a"
    } else if !away_during(away, &a.backup, start, end) {
        "b"
    } else if covered(covers, &a.post_id, start, end) {
        "third"
    } else {
        "gap"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post() -> Assignment {
        Assignment {
            post_id: "p1".into(),
            post_name: "1号窗口".into(),
            primary: "A".into(),
            backup: "B".into(),
        }
    }
    fn away(who: &str, start: i64, end: i64) -> Away {
        Away {
            staff_id: who.into(),
            start,
            end,
        }
    }

    #[test]
    fn overlap_table() {
        let cover = Cover {
            post_id: "p1".into(),
            start: 5,
            end: 15,
        };
        // (new absence, the partner's, covers, conflict?)
        type Row = (Away, Away, Vec<Cover>, Option<(i64, i64)>);
        let table: Vec<Row> = vec![
            (away("A", 0, 10), away("B", 10, 20), vec![], None), // back to back
            (away("A", 0, 10), away("B", 5, 20), vec![], Some((5, 10))),
            (away("B", 5, 20), away("A", 0, 10), vec![], Some((5, 10))),
            (
                away("A", 0, 10),
                away("B", 5, 20),
                vec![cover.clone()],
                None,
            ), // third person named
            (
                away("A", 0, 20),
                away("B", 5, 20),
                vec![cover.clone()],
                Some((5, 20)),
            ), // cover too short
            (away("C", 0, 10), away("B", 0, 10), vec![], None), // C holds no part of this post
        ];
        for (new, other, covers, want) in table {
            let got = conflicts(&new, &[post()], std::slice::from_ref(&other), &covers);
            assert_eq!(
                got.first().map(|c| (c.start, c.end)),
                want,
                "{new:?} vs {other:?}"
            );
        }
    }

    #[test]
    fn who_is_on_duty() {
        let p = post();
        let cover = Cover {
            post_id: "p1".into(),
            start: 0,
            end: 100,
        };
        assert_eq!(on_duty(&p, &[], &[], 0, 10), "a");
        assert_eq!(on_duty(&p, &[away("A", 0, 5)], &[], 0, 10), "b");
        assert_eq!(
            on_duty(&p, &[away("A", 0, 50), away("B", 0, 50)], &[], 0, 10),
            "gap"
        );
        assert_eq!(
            on_duty(&p, &[away("A", 0, 50), away("B", 0, 50)], &[cover], 0, 10),
            "third"
        );
    }
}
