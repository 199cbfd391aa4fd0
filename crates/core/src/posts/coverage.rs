//! Coverage: who is on each post, day by day in business hours, with gaps marked.

#[allow(unused_imports)]
use super::*;

/// Who is on each post, day by day (business hours), with gaps marked.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetCoverage {
    pub from: String,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CoverageCell {
    pub post_id: String,
    pub post_name: String,
    /// `a`, `b`, `third` or `gap`.
    pub on_duty: String,
    pub staff_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct CoverageDay {
    #[ts(type = "string")]
    pub date: jiff::civil::Date,
    pub workday: bool,
    pub posts: Vec<CoverageCell>,
}

impl Operation for GetCoverage {
    const NAME: &'static str = "post.coverage";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<CoverageDay>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<CoverageDay>> {
        let from = parse_date("from", &self.from)?;
        let days = validate::range_i64("days", "天数", self.days.into(), 1, 31)? as u32;
        let cal = cx.calendar()?;
        let settings = crate::deadlines::load_settings(cx.tx)?;
        let day = crate::deadlines::business_day(cx.tx, &settings)?;
        let (assignments, away, covers) = guard_inputs(cx.tx)?;
        let mut cover_names = std::collections::BTreeMap::new();
        {
            let mut stmt = cx.tx.prepare(
                "SELECT c.post_id, c.starts_at, c.ends_at, s.name FROM post_covers c JOIN staff s ON s.id = c.staff_id",
            )?;
            for row in stmt.query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                ))
            })? {
                let (p, s, e, n) = row?;
                cover_names
                    .entry(p)
                    .or_insert_with(Vec::new)
                    .push((s, e, n));
            }
        }
        let names: std::collections::BTreeMap<String, String> = list_posts(cx.tx)?
            .into_iter()
            .flat_map(|p| [(p.primary_id, p.primary_name), (p.backup_id, p.backup_name)])
            .filter_map(|(i, n)| Some((i?, n?)))
            .collect();
        let mut out = vec![];
        let mut d = from;
        for _ in 0..days {
            let at = |m: u16| -> Result<i64> {
                Ok(to_ms(
                    d.at((m / 60) as i8, (m % 60) as i8, 0, 0)
                        .to_zoned(hall_tz())
                        .map_err(|e| CoreError::internal(e.to_string()))?
                        .timestamp(),
                ))
            };
            let (start, end) = (at(day.start())?, at(day.end())?);
            let posts = assignments
                .iter()
                .map(|a| {
                    let who = guard::on_duty(a, &away, &covers, start, end);
                    let staff_name = match who {
                        "a" => names.get(&a.primary).cloned(),
                        "b" => names.get(&a.backup).cloned(),
                        "third" => cover_names.get(&a.post_id).and_then(|v| {
                            v.iter()
                                .find(|(s, e, _)| *s <= start && *e >= end)
                                .map(|x| x.2.clone())
                        }),
                        _ => None,
                    };
                    CoverageCell {
                        post_id: a.post_id.clone(),
                        post_name: a.post_name.clone(),
                        on_duty: who.into(),
                        staff_name,
                    }
                })
                .collect();
            out.push(CoverageDay {
                date: d,
                workday: cal.is_workday(d)?,
                posts,
            });
            d = d
                .tomorrow()
                .map_err(|e| CoreError::internal(e.to_string()))?;
        }
        Ok(out)
    }
}
