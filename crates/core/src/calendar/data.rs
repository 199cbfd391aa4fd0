//! The holiday-cn JSON format and the notices bundled with this build.
//!
//! One file per notice year: `{"year": 2026, "papers": [...], "days": [{"name", "date",
//! "isOffDay"}]}`. Only exceptions to the week are listed. A file may list dates of the previous
//! December (the New Year arrangement of 2008 made 2007-12-29 a working day), so days are merged
//! by date, not by the file's year.

use std::collections::{BTreeMap, BTreeSet};

use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::work::{Exception, WorkCalendar};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::ids::sha256_hex;

/// One State Council notice in the holiday-cn format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HolidayYear {
    pub year: i16,
    /// The notice's reference (URL or document number).
    pub papers: Vec<String>,
    pub days: Vec<HolidayDay>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct HolidayDay {
    pub name: String,
    #[ts(type = "string")]
    pub date: Date,
    #[serde(rename = "isOffDay")]
    pub is_off_day: bool,
}

macro_rules! bundled {
    ($($year:literal),* $(,)?) => {
        /// The notices compiled into this build: (year, JSON text).
        pub const BUNDLED: &[(i16, &str)] = &[$(($year, include_str!(concat!("../../data/holiday-cn/", stringify!($year), ".json")))),*];
    };
}
bundled!(
    2010, 2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024, 2025,
    2026,
);

/// Parse and check one notice file. Every problem names the entry and the field.
pub fn parse_year(json: &str) -> Result<HolidayYear> {
    let y: HolidayYear = serde_json::from_str(json).map_err(|e| {
        CoreError::new(
            ErrorCode::InvalidFormat,
            format!("节假日数据不是有效的 holiday-cn JSON：{e}"),
        )
        .field("json")
    })?;
    if !(2000..=2099).contains(&y.year) {
        return Err(CoreError::new(
            ErrorCode::OutOfRange,
            format!("年份 {} 超出范围（2000–2099）", y.year),
        )
        .field("year"));
    }
    if y.days.is_empty() {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            format!("{} 年的节假日数据没有任何日期（通知尚未发布？）", y.year),
        )
        .field("days"));
    }
    let mut seen = BTreeSet::new();
    for (i, d) in y.days.iter().enumerate() {
        let ok_year =
            d.date.year() == y.year || (d.date.year() == y.year - 1 && d.date.month() == 12);
        if !ok_year {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!(
                    "第 {} 项日期 {} 不属于 {} 年的通知（只能是该年或上一年十二月）",
                    i + 1,
                    d.date,
                    y.year
                ),
            )
            .field("days")
            .param("row", i + 1));
        }
        if !seen.insert(d.date) {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                format!("第 {} 项日期 {} 重复", i + 1, d.date),
            )
            .field("days")
            .param("row", i + 1));
        }
        if d.name.trim().is_empty() {
            return Err(CoreError::new(
                ErrorCode::Required,
                format!("第 {} 项缺少节日名称", i + 1),
            )
            .field("days")
            .param("row", i + 1));
        }
    }
    Ok(y)
}

/// The bundled notices, parsed. They are checked by a test, so a parse failure here is a
/// build defect.
pub fn bundled_years() -> Vec<HolidayYear> {
    BUNDLED
        .iter()
        .map(|(year, json)| {
            let y = parse_year(json).expect("bundled holiday data parses (tested)");
            assert_eq!(
                y.year, *year,
                "bundled file {year}.json declares its own year"
            );
            y
        })
        .collect()
}

/// A short identity of the bundled data: a new build with a new notice changes it, which makes
/// the store record a calendar change and recompute open cases.
pub fn bundle_id() -> String {
    let mut all = String::new();
    for (year, json) in BUNDLED {
        all.push_str(&format!("{year}:{}\n", sha256_hex(json.as_bytes())));
    }
    format!(
        "holiday-cn {}–{} {}",
        BUNDLED.first().map_or(0, |b| b.0),
        BUNDLED.last().map_or(0, |b| b.0),
        &sha256_hex(all.as_bytes())[..12]
    )
}

/// A local override (a province or city notice).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideDay {
    pub date: Date,
    pub off: bool,
    pub reason: String,
}

/// Merge notices (later years' entries win on a shared date) and overrides (win over all).
pub fn merge(version: i64, years: &[HolidayYear], overrides: &[OverrideDay]) -> WorkCalendar {
    let mut sorted: Vec<&HolidayYear> = years.iter().collect();
    sorted.sort_by_key(|y| y.year);
    let mut exceptions = BTreeMap::new();
    for y in &sorted {
        for d in &y.days {
            exceptions.insert(
                d.date,
                Exception {
                    off: d.is_off_day,
                    name: d.name.clone(),
                },
            );
        }
    }
    for o in overrides {
        exceptions.insert(
            o.date,
            Exception {
                off: o.off,
                name: o.reason.clone(),
            },
        );
    }
    WorkCalendar::build(
        version,
        sorted.iter().map(|y| y.year).collect(),
        &exceptions,
    )
}

/// The calendar of the bundled data alone (tests, benches, and the CLI before a database exists).
pub fn bundled_calendar(version: i64) -> WorkCalendar {
    merge(version, &bundled_years(), &[])
}
