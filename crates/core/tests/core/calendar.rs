//! The working-day calendar against the published notices, December/January crossings,
//! provisional years, overrides and versioning.

use crate::common::{demo_hall, t0};
use jiff::civil::{Date, date};
use onetrip_core::calendar::data::{self, HolidayYear};
use onetrip_core::calendar::{AddOverride, DayCount, ImportYear, ListDays, RevokeOverride};
use onetrip_core::deadlines::settings::AddWorkdays;
use onetrip_core::{Caller, ErrorCode};

fn cal() -> onetrip_core::calendar::WorkCalendar {
    data::bundled_calendar(1)
}

fn workdays_in(c: &onetrip_core::calendar::WorkCalendar, year: i16) -> u32 {
    c.count_workdays(date(year - 1, 12, 31), date(year, 12, 31))
        .unwrap()
}

#[test]
fn every_bundled_file_parses_and_declares_its_year() {
    let years = data::bundled_years();
    assert_eq!(years.first().unwrap().year, 2010);
    assert_eq!(years.last().unwrap().year, 2026);
    assert_eq!(years.len(), 17);
    for y in &years {
        assert!(!y.papers.is_empty(), "{} names its notice", y.year);
    }
}

#[test]
fn twenty_twenty_five_and_twenty_twenty_six_have_248_working_days_each() {
    let c = cal();
    assert_eq!(workdays_in(&c, 2025), 248);
    assert_eq!(workdays_in(&c, 2026), 248);
}

#[test]
fn the_published_2026_arrangement_table() {
    let c = cal();
    // (date, working day?) straight from 国办发明电〔2025〕7号.
    let table: &[(Date, bool)] = &[
        (date(2026, 1, 1), false),   // 元旦
        (date(2026, 1, 2), false),   // 元旦 (Friday off)
        (date(2026, 1, 4), true),    // Sunday made a working day
        (date(2026, 2, 14), true),   // Saturday made a working day
        (date(2026, 2, 16), false),  // 春节 (Monday)
        (date(2026, 2, 23), false),  // 春节 last day (Monday)
        (date(2026, 2, 24), true),   // back to work
        (date(2026, 2, 28), true),   // Saturday made a working day
        (date(2026, 4, 6), false),   // 清明 (Monday)
        (date(2026, 5, 5), false),   // 劳动节 (Tuesday)
        (date(2026, 5, 9), true),    // Saturday made a working day
        (date(2026, 6, 19), false),  // 端午 (Friday)
        (date(2026, 9, 20), true),   // Sunday made a working day
        (date(2026, 9, 25), false),  // 中秋 (Friday)
        (date(2026, 10, 7), false),  // 国庆 (Wednesday)
        (date(2026, 10, 8), true),   // Thursday, back to work
        (date(2026, 10, 10), true),  // Saturday made a working day
        (date(2026, 11, 23), true),  // an ordinary Monday
        (date(2026, 11, 22), false), // an ordinary Sunday
    ];
    for (d, work) in table {
        let info = c.day(*d).unwrap();
        assert_eq!(info.workday, *work, "{d}");
        assert!(!info.provisional, "{d} is covered by the 2026 notice");
    }
    assert_eq!(
        c.day(date(2026, 2, 14)).unwrap().name.as_deref(),
        Some("春节")
    );
}

#[test]
fn the_2025_arrangement_and_a_count_across_the_spring_festival() {
    let c = cal();
    assert!(
        c.is_workday(date(2025, 1, 26)).unwrap(),
        "Sunday 2025-01-26 worked"
    );
    assert!(!c.is_workday(date(2025, 1, 28)).unwrap(), "除夕 2025 off");
    assert!(!c.is_workday(date(2025, 2, 4)).unwrap());
    assert!(
        c.is_workday(date(2025, 2, 8)).unwrap(),
        "Saturday 2025-02-08 worked"
    );
    // Accepted Friday 2026-02-13: the 5th working day after skips the festival and counts the
    // working Saturday 02-14.
    let (d, p) = c
        .add_workdays(date(2026, 2, 13), 5, DayCount::NextDay)
        .unwrap();
    assert_eq!(d, date(2026, 2, 27));
    assert!(!p);
    assert_eq!(
        c.count_workdays(date(2026, 2, 13), date(2026, 2, 27))
            .unwrap(),
        5
    );
}

#[test]
fn december_dates_follow_next_years_notice() {
    let c = cal();
    // The 2008 notice made Saturday 2007-12-29 a working day and 2007-12-31 a holiday — but
    // 2007 is before our bundled range: the same shape inside it is 2018/2019.
    assert!(
        c.is_workday(date(2018, 12, 29)).unwrap(),
        "Saturday worked under the 2019 notice"
    );
    assert!(
        !c.is_workday(date(2018, 12, 31)).unwrap(),
        "Monday off under the 2019 notice"
    );
    assert!(!c.day(date(2018, 12, 31)).unwrap().provisional);
    // Accepted Thursday 2018-12-27: next working days are Fri 28, Sat 29 (worked), Wed 2 Jan.
    let (d, _) = c
        .add_workdays(date(2018, 12, 27), 3, DayCount::NextDay)
        .unwrap();
    assert_eq!(d, date(2019, 1, 2));
    // 2022-12-31 is listed in the 2023 notice.
    assert!(!c.is_workday(date(2022, 12, 31)).unwrap());
}

#[test]
fn a_year_without_a_notice_is_provisional_and_late_december_waits_for_it() {
    let c = cal();
    let info = c.day(date(2027, 3, 3)).unwrap();
    assert!(info.provisional, "2027 has no notice yet");
    assert!(info.workday, "weekday rule, flagged");
    assert!(!c.day(date(2026, 12, 23)).unwrap().provisional);
    assert!(
        c.day(date(2026, 12, 28)).unwrap().provisional,
        "late December 2026 may be changed by the 2027 notice"
    );
    // A count that reaches into 2027 says so.
    let (d, p) = c
        .add_workdays(date(2026, 12, 1), 30, DayCount::NextDay)
        .unwrap();
    assert!(d.year() == 2027 && p);
    let (_, p) = c
        .add_workdays(date(2026, 11, 2), 10, DayCount::NextDay)
        .unwrap();
    assert!(!p);
}

#[test]
fn the_operations_refuse_provisional_answers_unless_asked() {
    let h = demo_hall();
    let sys = Caller::system("test");
    let err = h
        .store
        .execute(
            &sys,
            t0(),
            AddWorkdays {
                date: "2026-12-01".into(),
                days: 30,
                allow_provisional: false,
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::CalendarProvisional);
    assert!(err.message.contains("2010–2026"), "{}", err.message);
    let ok = h
        .store
        .execute(
            &sys,
            t0(),
            AddWorkdays {
                date: "2026-12-01".into(),
                days: 30,
                allow_provisional: true,
            },
        )
        .unwrap()
        .response;
    assert!(ok.provisional);
    let err = h
        .store
        .execute(
            &sys,
            t0(),
            ListDays {
                from: "2027-01-01".into(),
                to: "2027-01-03".into(),
                allow_provisional: false,
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::CalendarProvisional);
    let err = h
        .store
        .execute(
            &sys,
            t0(),
            ListDays {
                from: "2026-13-01".into(),
                to: "2027-01-03".into(),
                allow_provisional: true,
            },
        )
        .unwrap_err();
    assert_eq!(
        (err.code, err.field.as_deref()),
        (ErrorCode::InvalidFormat, Some("from"))
    );
}

#[test]
fn an_override_and_an_import_are_versioned_audited_and_revocable() {
    let h = demo_hall();
    let sys = Caller::system("test");
    let days = |from: &str| {
        h.store
            .execute(
                &sys,
                t0(),
                ListDays {
                    from: from.into(),
                    to: from.into(),
                    allow_provisional: true,
                },
            )
            .unwrap()
            .response
            .remove(0)
    };
    assert!(days("2026-12-07").workday);
    let before = h.audit_count();
    let st = h
        .store
        .execute(
            &sys,
            t0(),
            AddOverride {
                date: "2026-12-07".into(),
                off_day: true,
                reason: "市政府通知：台风停工".into(),
            },
        )
        .unwrap()
        .response;
    assert_eq!(h.audit_count(), before + 1);
    let v1 = st.version;
    let d = days("2026-12-07");
    assert!(!d.workday && !d.provisional);
    assert_eq!(d.name.as_deref(), Some("市政府通知：台风停工"));
    // A second override of the same date is refused and changes nothing.
    let dump = h.dump();
    let err = h
        .store
        .execute(
            &sys,
            t0(),
            AddOverride {
                date: "2026-12-07".into(),
                off_day: false,
                reason: "另一通知".into(),
            },
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::OverrideExists);
    assert_eq!(h.dump(), dump);
    let st = h
        .store
        .execute(
            &sys,
            t0(),
            RevokeOverride {
                id: st.overrides[0].id.clone(),
            },
        )
        .unwrap()
        .response;
    assert_eq!(st.version, v1 + 1);
    assert!(days("2026-12-07").workday);

    // Import 2027: its dates stop being provisional; the import is listed as the source.
    let y = HolidayYear {
        year: 2027,
        papers: vec!["国务院办公厅关于2027年部分节假日安排的通知（测试）".into()],
        days: vec![onetrip_core::calendar::HolidayDay {
            name: "元旦".into(),
            date: date(2027, 1, 1),
            is_off_day: true,
        }],
    };
    let st = h
        .store
        .execute(
            &sys,
            t0(),
            ImportYear {
                json: serde_json::to_string(&y).unwrap(),
            },
        )
        .unwrap()
        .response;
    assert_eq!(st.version, v1 + 2);
    assert_eq!(st.years.last().unwrap().source, "imported");
    assert!(!days("2027-03-03").provisional);
    assert!(
        !days("2026-12-28").provisional,
        "next year's notice is now loaded"
    );
    assert_eq!(st.changes[0].kind, "import");
    assert_eq!(
        st.changes.last().unwrap().kind,
        "bundle",
        "the first version is the bundle"
    );

    // A bad import is refused with its reason and changes nothing.
    let dump = h.dump();
    for (json, code) in [
        ("not json", ErrorCode::InvalidFormat),
        (
            r#"{"year": 2028, "papers": [], "days": []}"#,
            ErrorCode::InvalidFormat,
        ),
        (
            r#"{"year": 2028, "papers": [], "days": [{"name": "元旦", "date": "2030-01-01", "isOffDay": true}]}"#,
            ErrorCode::InvalidFormat,
        ),
        (
            r#"{"year": 1990, "papers": [], "days": [{"name": "元旦", "date": "1990-01-01", "isOffDay": true}]}"#,
            ErrorCode::OutOfRange,
        ),
    ] {
        let err = h
            .store
            .execute(&sys, t0(), ImportYear { json: json.into() })
            .unwrap_err();
        assert_eq!(err.code, code, "{json}: {}", err.message);
    }
    assert_eq!(h.dump(), dump);
}

#[test]
fn a_new_build_with_new_bundled_data_is_a_calendar_change() {
    let h = demo_hall();
    // Pretend the file was last opened by a build with other bundled data.
    h.store
        .write(|tx| {
            tx.execute("UPDATE calendar_state SET bundle = 'older build'", [])?;
            Ok(())
        })
        .unwrap();
    let v = |s: &onetrip_core::Store| {
        s.read(|tx| {
            Ok(tx.query_row("SELECT version FROM calendar_state", [], |r| {
                r.get::<_, i64>(0)
            })?)
        })
        .unwrap()
    };
    let before = v(&h.store);
    let store = h.reopen_at(t0());
    assert_eq!(v(&store), before + 1);
    let store2 = {
        drop(store);
        h.reopen_at(t0())
    };
    assert_eq!(
        v(&store2),
        before + 1,
        "reopening the same build changes nothing"
    );
}

#[test]
fn the_hall_is_open_only_in_business_hours_on_working_days() {
    let h = demo_hall();
    // The demo hall serves on days off (so it can be tried at the weekend); a hall that does not:
    let admin = h.sign_in("admin", None);
    let admin = h.as_token(&admin);
    let mut s = h
        .store
        .execute(&admin, t0(), onetrip_core::queue::GetQueueSettings {})
        .unwrap()
        .response;
    s.serve_days_off = false;
    h.store
        .execute(
            &admin,
            t0(),
            onetrip_core::queue::UpdateQueueSettings {
                settings: s.clone(),
            },
        )
        .unwrap();
    let board = |at: &str| {
        h.store
            .execute(
                &Caller::anonymous("display"),
                at.parse().unwrap(),
                onetrip_core::queue::GetHallBoard {},
            )
            .unwrap()
            .response
            .open_now
    };
    assert!(board("2026-11-23T02:00:00Z"), "Monday 10:00");
    assert!(!board("2026-10-01T02:00:00Z"), "National Day 10:00");
    assert!(!board("2026-11-22T02:00:00Z"), "Sunday 10:00");
    assert!(
        board("2026-02-14T02:00:00Z"),
        "the working Saturday before the Spring Festival"
    );
    // 节假日不打烊: open in business hours on any day; still closed at night.
    s.serve_days_off = true;
    h.store
        .execute(
            &admin,
            t0(),
            onetrip_core::queue::UpdateQueueSettings { settings: s },
        )
        .unwrap();
    assert!(
        board("2026-11-22T02:00:00Z"),
        "Sunday 10:00, serving days off"
    );
    assert!(!board("2026-11-22T14:00:00Z"), "Sunday 22:00");
}
