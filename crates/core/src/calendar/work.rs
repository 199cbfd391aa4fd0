//! The working-day calendar as a precomputed index: every question ("is this a working day?",
//! "the N-th working day after D", "working days between A and B") is O(1) array arithmetic.
//!
//! Rules (行政许可法 art. 82: periods are counted in working days, excluding statutory
//! holidays):
//! - A day is a working day when it is Monday–Friday and not a holiday, or a weekend day that the
//!   State Council's annual notice makes a working day (调休上班).
//! - Only the exceptions are stored (the holiday-cn format); everything else follows the week.
//! - A date is **provisional** when the notice that may govern it is not loaded: its own year's,
//!   and for the last days of December also next year's (the New Year arrangement has reached
//!   back to 29 December: 2007, 2018). A provisional date is answered by the weekday rule *and
//!   flagged*; callers must show the flag, never hide it.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::{Date, Weekday, date};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::error::{CoreError, ErrorCode, Result};

/// The first and last dates the index covers. Cases older than 2000 or deadlines past 2099 are
/// refused with [`ErrorCode::OutOfRange`] rather than guessed.
pub const FIRST: Date = date(2000, 1, 1);
pub const LAST: Date = date(2099, 12, 31);

/// From this day of December on, next year's notice may govern the date.
pub const DECEMBER_CROSSING_FROM: i8 = 24;

/// How the acceptance day itself is counted (hall setting; 限时办结 rules mostly say "from the
/// next day", the general rule on periods).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DayCount {
    /// The acceptance day is not counted: the deadline is the end of the N-th working day after.
    NextDay,
    /// The acceptance day counts as the first day when it is a working day.
    SameDay,
}

/// One day's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct DayInfo {
    #[ts(type = "string")]
    pub date: Date,
    pub workday: bool,
    /// No notice loaded for this date: the answer follows the weekday rule only.
    pub provisional: bool,
    /// The holiday or make-up day's name ("春节"), or the override's reason.
    pub name: Option<String>,
}

/// An exception to the weekday rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    pub off: bool,
    pub name: String,
}

/// The calendar index. Build it with [`WorkCalendar::build`]; it is immutable afterwards and
/// shared (an `Arc`) by every operation that runs on the same calendar version.
#[derive(Debug, Clone)]
pub struct WorkCalendar {
    version: i64,
    off: Vec<bool>,
    provisional: Vec<bool>,
    /// `cum[i]`: working days in `[FIRST, FIRST + i]`.
    cum: Vec<u32>,
    /// `prov_cum[i]`: provisional days in `[FIRST, FIRST + i]`.
    prov_cum: Vec<u32>,
    /// `nth[k]`: the index of the (k+1)-th working day since `FIRST`.
    nth: Vec<u32>,
    names: BTreeMap<Date, String>,
    years: BTreeSet<i16>,
}

fn index(d: Date) -> Result<usize> {
    if d < FIRST || d > LAST {
        return Err(CoreError::new(
            ErrorCode::OutOfRange,
            format!("日期 {d} 超出工作日历范围（{FIRST} 至 {LAST}）"),
        )
        .field("date")
        .param("min", FIRST.to_string())
        .param("max", LAST.to_string()));
    }
    Ok(FIRST.until(d).expect("dates in range").get_days() as usize)
}

fn at(i: usize) -> Date {
    FIRST
        .checked_add(jiff::Span::new().days(i as i64))
        .expect("index in range")
}

impl WorkCalendar {
    /// Build the index. `years` are the notice years loaded; `exceptions` are their days merged
    /// (a later notice's entry wins), then local overrides on top.
    pub fn build(
        version: i64,
        years: BTreeSet<i16>,
        exceptions: &BTreeMap<Date, Exception>,
    ) -> Self {
        let len = index(LAST).expect("LAST in range") + 1;
        let mut off = Vec::with_capacity(len);
        let mut provisional = Vec::with_capacity(len);
        let mut names = BTreeMap::new();
        let mut d = FIRST;
        for _ in 0..len {
            let weekend = matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday);
            match exceptions.get(&d) {
                Some(e) => {
                    off.push(e.off);
                    names.insert(d, e.name.clone());
                }
                None => off.push(weekend),
            }
            let own = years.contains(&d.year());
            let next = d.month() != 12
                || d.day() < DECEMBER_CROSSING_FROM
                || years.contains(&(d.year() + 1));
            let known = (own && next) || exceptions.contains_key(&d);
            provisional.push(!known);
            d = d.tomorrow().unwrap_or(d);
        }
        let mut cum = Vec::with_capacity(len);
        let mut prov_cum = Vec::with_capacity(len);
        let mut nth = Vec::new();
        let (mut c, mut p) = (0u32, 0u32);
        for i in 0..len {
            if !off[i] {
                c += 1;
                nth.push(i as u32);
            }
            if provisional[i] {
                p += 1;
            }
            cum.push(c);
            prov_cum.push(p);
        }
        Self {
            version,
            off,
            provisional,
            cum,
            prov_cum,
            nth,
            names,
            years,
        }
    }

    /// The calendar version this index was built from (kept with every deadline computed on it).
    pub fn version(&self) -> i64 {
        self.version
    }

    /// The notice years loaded.
    pub fn years(&self) -> &BTreeSet<i16> {
        &self.years
    }

    pub fn day(&self, d: Date) -> Result<DayInfo> {
        let i = index(d)?;
        Ok(DayInfo {
            date: d,
            workday: !self.off[i],
            provisional: self.provisional[i],
            name: self.names.get(&d).cloned(),
        })
    }

    pub fn is_workday(&self, d: Date) -> Result<bool> {
        Ok(!self.off[index(d)?])
    }

    /// Working days in `(from, to]` (0 when `to <= from`).
    pub fn count_workdays(&self, from: Date, to: Date) -> Result<u32> {
        let (a, b) = (index(from)?, index(to)?);
        Ok(if b <= a { 0 } else { self.cum[b] - self.cum[a] })
    }

    /// The day `n` working days after `from` under `rule`, and whether any day it passes over
    /// (from `from` to the result) is provisional. `n = 0` is `from` itself.
    pub fn add_workdays(&self, from: Date, n: u32, rule: DayCount) -> Result<(Date, bool)> {
        let a = index(from)?;
        if n == 0 {
            return Ok((from, self.provisional[a]));
        }
        let before = match rule {
            DayCount::NextDay => self.cum[a],
            // The start day is the first counted day when it is a working day.
            DayCount::SameDay => self.cum[a] - u32::from(!self.off[a]),
        };
        let k = (before + n - 1) as usize;
        let Some(&i) = self.nth.get(k) else {
            return Err(CoreError::new(
                ErrorCode::OutOfRange,
                format!("{from} 之后第 {n} 个工作日超出工作日历范围（至 {LAST}）"),
            )
            .field("n"));
        };
        let i = i as usize;
        let prov = self.prov_cum[i] - if a == 0 { 0 } else { self.prov_cum[a - 1] } > 0;
        Ok((at(i), prov))
    }

    /// Is any day in `[from, to]` provisional?
    pub fn any_provisional(&self, from: Date, to: Date) -> Result<bool> {
        let (a, b) = (index(from)?, index(to)?);
        if b < a {
            return Ok(false);
        }
        Ok(self.prov_cum[b] - if a == 0 { 0 } else { self.prov_cum[a - 1] } > 0)
    }

    /// The first working day on or after `d`.
    pub fn workday_on_or_after(&self, d: Date) -> Result<Date> {
        let i = index(d)?;
        let k = self.cum[i] - u32::from(!self.off[i]);
        self.nth
            .get(k as usize)
            .map(|&j| at(j as usize))
            .ok_or_else(|| CoreError::new(ErrorCode::OutOfRange, format!("{d} 之后没有工作日数据")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn weekends_only(years: &[i16]) -> WorkCalendar {
        WorkCalendar::build(1, years.iter().copied().collect(), &BTreeMap::new())
    }

    #[test]
    fn next_day_and_same_day_counting() {
        let cal = weekends_only(&[2030]);
        // Monday 2030-01-07.
        let mon = date(2030, 1, 7);
        assert_eq!(
            cal.add_workdays(mon, 1, DayCount::NextDay).unwrap().0,
            date(2030, 1, 8)
        );
        assert_eq!(cal.add_workdays(mon, 1, DayCount::SameDay).unwrap().0, mon);
        assert_eq!(
            cal.add_workdays(mon, 5, DayCount::NextDay).unwrap().0,
            date(2030, 1, 14)
        );
        // From a Saturday, same-day counting cannot count the Saturday.
        let sat = date(2030, 1, 12);
        assert_eq!(
            cal.add_workdays(sat, 1, DayCount::SameDay).unwrap().0,
            date(2030, 1, 14)
        );
        assert_eq!(
            cal.add_workdays(sat, 1, DayCount::NextDay).unwrap().0,
            date(2030, 1, 14)
        );
        assert_eq!(cal.count_workdays(mon, date(2030, 1, 14)).unwrap(), 5);
        assert_eq!(cal.count_workdays(date(2030, 1, 14), mon).unwrap(), 0);
    }

    #[test]
    fn out_of_range_is_refused() {
        let cal = weekends_only(&[]);
        assert_eq!(
            cal.day(date(1999, 12, 31)).unwrap_err().code,
            ErrorCode::OutOfRange
        );
        assert_eq!(
            cal.add_workdays(date(2099, 12, 30), 5, DayCount::NextDay)
                .unwrap_err()
                .code,
            ErrorCode::OutOfRange
        );
    }

    #[test]
    fn late_december_waits_for_next_years_notice() {
        let cal = weekends_only(&[2030]);
        assert!(!cal.day(date(2030, 12, 23)).unwrap().provisional);
        assert!(cal.day(date(2030, 12, 24)).unwrap().provisional);
        assert!(cal.day(date(2031, 1, 2)).unwrap().provisional);
        let both = weekends_only(&[2030, 2031]);
        assert!(!both.day(date(2030, 12, 31)).unwrap().provisional);
    }

    fn any_date() -> impl Strategy<Value = Date> {
        (0i64..35_000).prop_map(|i| at(i as usize))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn add_workdays_is_monotone_inverts_counting_and_lands_on_workdays(
            d in any_date(), e in any_date(), n in 1u32..400, m in 1u32..400
        ) {
            static CAL: std::sync::OnceLock<WorkCalendar> = std::sync::OnceLock::new();
            let cal = CAL.get_or_init(|| crate::calendar::data::bundled_calendar(1));
            let (a, _) = cal.add_workdays(d, n, DayCount::NextDay).unwrap();
            let (b, _) = cal.add_workdays(d, n + m, DayCount::NextDay).unwrap();
            prop_assert!(a > d, "the result is after the start");
            prop_assert!(b > a, "more working days land strictly later");
            prop_assert!(cal.is_workday(a).unwrap(), "{} is not a working day", a);
            prop_assert_eq!(cal.count_workdays(d, a).unwrap(), n);
            let (s, _) = cal.add_workdays(d, n, DayCount::SameDay).unwrap();
            prop_assert!(cal.is_workday(s).unwrap());
            prop_assert!(s >= d && s <= a);
            // Counting inverts adding: the k-th working day after d is e itself when e is one.
            if e > d && cal.is_workday(e).unwrap() {
                let k = cal.count_workdays(d, e).unwrap();
                prop_assert_eq!(cal.add_workdays(d, k, DayCount::NextDay).unwrap().0, e);
            }
        }
    }
}
