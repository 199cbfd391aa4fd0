//! Reports: figures with known answers (a hand-played morning through the real operations, and
//! a generated history whose records the test counts itself), drill-downs that list exactly
//! what a figure counts, the xlsx read back (sheets, cells, dates, charts), the PDF checked like
//! the notices, and the scheduled filing.

use std::io::Read;
use std::process::Command;

use crate::common::{Hall, demo_hall, t0};
use base64::Engine;
use jiff::civil::{Date, date};
use jiff::{SignedDuration, Timestamp};
use onetrip_core::app::history::{Generated, HistorySpec};
use onetrip_core::queue::*;
use onetrip_core::reports::filing::{GetFiledReport, ListFiledReports, ReportKind, due};
use onetrip_core::reports::*;
use onetrip_core::{Caller, DeviceKind, ErrorCode, Operation};

fn at(min: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(min)
}

fn run<O: Operation>(
    h: &Hall,
    who: &Caller,
    now: Timestamp,
    op: O,
) -> onetrip_core::Result<O::Response> {
    h.store.execute(who, now, op).map(|o| o.response)
}

fn supervisor(h: &Hall) -> Caller {
    let s = h.sign_in("zhouhong", None);
    h.as_token(&s)
}

fn filter(from: &str, to: &str) -> ReportFilter {
    ReportFilter {
        from: from.into(),
        to: to.into(),
        ..Default::default()
    }
}

fn category(h: &Hall, prefix: &str) -> String {
    h.board()
        .categories
        .into_iter()
        .find(|c| c.prefix == prefix)
        .unwrap()
        .id
}

#[test]
fn a_morning_at_window_one_gives_the_figures_worked_out_by_hand() {
    let h = demo_hall();
    let clerk = {
        let s = h.sign_in("zhangwei", Some(1));
        h.as_token(&s)
    };
    let kiosk = Caller::device(DeviceKind::Kiosk, "kiosk");
    let rater = h.rater(1);
    let cat = category(&h, "A");
    let issue = |min| {
        run(
            &h,
            &kiosk,
            at(min),
            IssueTicket {
                category_id: cat.clone(),
                priority: None,
                priority_note: String::new(),
                id_number: String::new(),
                applicant_name: String::new(),
            },
        )
        .unwrap()
        .ticket
    };
    let (a1, _a2, a3, _a4) = (issue(0), issue(0), issue(0), issue(0));
    // A001: waits 5 minutes, served in 10.
    assert_eq!(run(&h, &clerk, at(5), CallNext {}).unwrap().id, a1.id);
    run(
        &h,
        &clerk,
        at(6),
        StartService {
            ticket_id: a1.id.clone(),
        },
    )
    .unwrap();
    run(
        &h,
        &clerk,
        at(16),
        FinishTicket {
            ticket_id: a1.id.clone(),
        },
    )
    .unwrap();
    run(
        &h,
        &rater,
        at(16),
        RateTicket {
            ticket_id: a1.id.clone(),
            level: RatingLevel::VerySatisfied,
            reasons: vec![],
            comment: String::new(),
        },
    )
    .unwrap();
    // A002: called after 20 minutes (over the 15-minute target), does not come.
    let a2 = run(&h, &clerk, at(20), CallNext {}).unwrap();
    run(
        &h,
        &clerk,
        at(22),
        NoShow {
            ticket_id: a2.id.clone(),
        },
    )
    .unwrap();
    // A003: waits 30 minutes, served in 4, rated very dissatisfied.
    assert_eq!(run(&h, &clerk, at(30), CallNext {}).unwrap().id, a3.id);
    run(
        &h,
        &clerk,
        at(31),
        StartService {
            ticket_id: a3.id.clone(),
        },
    )
    .unwrap();
    run(
        &h,
        &clerk,
        at(35),
        FinishTicket {
            ticket_id: a3.id.clone(),
        },
    )
    .unwrap();
    let bad = run(
        &h,
        &rater,
        at(35),
        RateTicket {
            ticket_id: a3.id.clone(),
            level: RatingLevel::VeryDissatisfied,
            reasons: vec!["等候时间过长".into()],
            comment: "等太久".into(),
        },
    )
    .unwrap();
    let sup = supervisor(&h);
    let fid = bad.followup_id.unwrap();
    run(
        &h,
        &sup,
        at(80),
        VerifyFollowup {
            id: fid.clone(),
            note: "电话联系申请人，属实".into(),
        },
    )
    .unwrap();
    run(
        &h,
        &sup,
        at(90),
        CloseFollowup {
            id: fid,
            outcome_kind: FollowupOutcome::Fixed,
            outcome: "已回访致歉".into(),
            plan_date: None,
            applicant_satisfied: Some(true),
        },
    )
    .unwrap();
    // A004 is still waiting when the report is made.

    let f = run(
        &h,
        &sup,
        at(120),
        GetFigures {
            filter: filter("2026-11-23", "2026-11-23"),
        },
    )
    .unwrap();
    let q = &f.queue.total;
    assert_eq!(
        (q.issued, q.served, q.no_show, q.unserved, q.called),
        (4, 2, 1, 1, 3)
    );
    assert_eq!(q.avg_wait_minutes, Some(18.3), "(5 + 20 + 30) / 3");
    assert_eq!(q.max_wait_minutes, Some(30.0));
    assert_eq!(
        (q.over_target, q.over_target_rate),
        (2, Some(66.7)),
        "20 and 30 minutes are over 15"
    );
    assert_eq!(q.avg_service_minutes, Some(7.0), "(10 + 4) / 2");
    assert_eq!(f.wait_target_minutes, 15);
    assert_eq!(f.workdays, Some(1));
    let clerk_row = &f.queue.by_clerk[0];
    assert_eq!(
        (
            clerk_row.name.as_str(),
            clerk_row.served,
            clerk_row.days_active,
            clerk_row.served_per_day
        ),
        ("张伟", 2, 1, Some(2.0))
    );
    assert_eq!(f.queue.by_window[0].name, "1号窗口");
    assert_eq!(f.queue.by_category.len(), 1);
    let r = &f.ratings;
    assert_eq!(
        (r.rated, r.levels.clone(), r.satisfied_rate),
        (2, vec![1, 0, 0, 0, 1], Some(50.0))
    );
    assert_eq!((r.bad, r.bad_open, r.bad_closed), (1, 0, 1));
    assert_eq!(
        (r.unrated, r.participation_rate, r.excluded),
        (0, Some(100.0), 0),
        "both finished visits were rated"
    );
    assert_eq!(
        (r.callback_rate, r.rectified_on_time_rate),
        (Some(100.0), Some(100.0)),
        "called back and closed the same day"
    );
    assert_eq!(r.bad_list[0].reasons, vec!["等候时间过长".to_owned()]);
    assert_eq!(r.bad_list[0].channel, "窗口评价器");
    assert_eq!(r.bad_list[0].number, "A003");
    assert_eq!(r.bad_list[0].closed_by.as_deref(), Some("周红"));
    assert_eq!(r.bad_list[0].outcome.as_deref(), Some("已回访致歉"));

    // The drill-down lists exactly the tickets behind each figure.
    for (m, want) in [
        (Measure::Issued, vec!["A001", "A002", "A003", "A004"]),
        (Measure::Served, vec!["A001", "A003"]),
        (Measure::NoShow, vec!["A002"]),
        (Measure::Unserved, vec!["A004"]),
        (Measure::OverTarget, vec!["A002", "A003"]),
        (Measure::BadRating, vec!["A003"]),
    ] {
        let d = run(
            &h,
            &sup,
            at(120),
            DrillDown {
                filter: filter("2026-11-23", "2026-11-23"),
                measure: m,
                day: None,
            },
        )
        .unwrap();
        let mut got: Vec<&str> = d.tickets.iter().map(|t| t.number.as_str()).collect();
        got.sort();
        assert_eq!((d.total as usize, got), (want.len(), want), "{m:?}");
    }
    // Another day has nothing; another window's filter has nothing.
    let other = run(
        &h,
        &sup,
        at(120),
        GetFigures {
            filter: filter("2026-11-24", "2026-11-24"),
        },
    )
    .unwrap();
    assert_eq!(other.queue.total.issued, 0);
    let w2 = ReportFilter {
        window_id: Some(h.window_id(2)),
        ..filter("2026-11-23", "2026-11-23")
    };
    assert_eq!(
        run(&h, &sup, at(120), GetFigures { filter: w2 })
            .unwrap()
            .queue
            .total
            .issued,
        0
    );
}

#[test]
fn bad_report_requests_are_refused_with_their_code_and_field() {
    let h = demo_hall();
    let sup = supervisor(&h);
    let e = run(
        &h,
        &sup,
        t0(),
        GetFigures {
            filter: filter("2026-11-30", "2026-11-01"),
        },
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::OutOfRange, Some("to"))
    );
    let e = run(
        &h,
        &sup,
        t0(),
        GetFigures {
            filter: filter("2026-13-01", "2026-11-01"),
        },
    )
    .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("from"));
    let e = run(
        &h,
        &sup,
        t0(),
        GetFigures {
            filter: filter("2010-01-01", "2026-11-01"),
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::OutOfRange, "more than ten years");
    let unknown = ReportFilter {
        staff_id: Some("0192d2a8-0000-7000-8000-000000000000".into()),
        ..filter("2026-11-01", "2026-11-30")
    };
    let e = run(&h, &sup, t0(), GetFigures { filter: unknown }).unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::NotFound, Some("staff_id"))
    );
    let e = run(
        &h,
        &sup,
        t0(),
        DrillDown {
            filter: filter("2026-11-01", "2026-11-30"),
            measure: Measure::Issued,
            day: Some("2026-12-01".into()),
        },
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::OutOfRange, Some("day"))
    );
    let clerk = {
        let s = h.sign_in("zhangwei", Some(1));
        h.as_token(&s)
    };
    assert_eq!(
        run(
            &h,
            &clerk,
            t0(),
            GetFigures {
                filter: filter("2026-11-01", "2026-11-30")
            }
        )
        .unwrap_err()
        .code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        run(
            &h,
            &Caller::device(DeviceKind::Display, "d"),
            t0(),
            ListFiledReports {}
        )
        .unwrap_err()
        .code,
        ErrorCode::Forbidden
    );
}

/// The demo hall with three months of generated history (July–September 2026).
fn history() -> (Hall, Generated) {
    let h = demo_hall();
    let g = onetrip_core::app::history::generate(
        &h.store,
        HistorySpec {
            from: date(2026, 7, 1),
            to: date(2026, 9, 30),
            tickets: 4000,
            cases: 900,
            seed: 7,
            keep: true,
        },
        t0(),
    )
    .unwrap();
    assert_eq!((g.tickets, g.cases), (4000, 900));
    (h, g)
}

fn in_period(d: Date, from: Date, to: Date) -> bool {
    d >= from && d <= to
}

fn avg(sum: f64, n: usize) -> Option<f64> {
    (n > 0).then(|| (sum / n as f64 * 10.0).round() / 10.0)
}

fn pct(part: usize, n: usize) -> Option<f64> {
    (n > 0).then(|| (part as f64 * 1000.0 / n as f64).round() / 10.0)
}

#[test]
fn figures_over_a_generated_history_match_what_was_generated() {
    let (h, g) = history();
    let sup = supervisor(&h);
    let (from, to) = (date(2026, 8, 1), date(2026, 8, 31));
    let cat_b = category(&h, "B");
    let some_clerk = g.case_rows[0].owner_id.clone();
    let some_item = g.case_rows[1].item_id.clone();
    let items_b: Vec<String> = h
        .store
        .read(|tx| {
            Ok(tx
                .prepare("SELECT id FROM service_items WHERE category_id = ?1")?
                .query_map([&cat_b], |r| r.get(0))?
                .collect::<onetrip_core::store::StoreResult<Vec<String>>>()?)
        })
        .unwrap();
    assert!(!items_b.is_empty(), "the demo hall has items in category B");
    for (label, fl, keep_t, keep_c) in [
        (
            "all",
            filter("2026-08-01", "2026-08-31"),
            Box::new(|_: &onetrip_core::app::history::GenTicket| true) as Box<dyn Fn(&_) -> bool>,
            Box::new(|_: &onetrip_core::app::history::GenCase| true) as Box<dyn Fn(&_) -> bool>,
        ),
        (
            "clerk",
            ReportFilter {
                staff_id: Some(some_clerk.clone()),
                ..filter("2026-08-01", "2026-08-31")
            },
            Box::new({
                let c = some_clerk.clone();
                move |t: &onetrip_core::app::history::GenTicket| {
                    t.staff_id.as_deref() == Some(c.as_str())
                }
            }),
            Box::new({
                let c = some_clerk.clone();
                move |x: &onetrip_core::app::history::GenCase| x.owner_id == c
            }),
        ),
        (
            "item",
            ReportFilter {
                item_id: Some(some_item.clone()),
                ..filter("2026-08-01", "2026-08-31")
            },
            Box::new(|_: &onetrip_core::app::history::GenTicket| true),
            Box::new({
                let i = some_item.clone();
                move |x: &onetrip_core::app::history::GenCase| x.item_id == i
            }),
        ),
        (
            "category B",
            ReportFilter {
                category_id: Some(cat_b.clone()),
                ..filter("2026-08-01", "2026-08-31")
            },
            Box::new({
                let c = cat_b.clone();
                move |t: &onetrip_core::app::history::GenTicket| t.category_id == c
            }),
            Box::new(move |x: &onetrip_core::app::history::GenCase| items_b.contains(&x.item_id)),
        ),
    ] {
        let f = run(&h, &sup, t0(), GetFigures { filter: fl.clone() }).unwrap();
        let ts: Vec<_> = g
            .ticket_rows
            .iter()
            .filter(|t| in_period(t.day, from, to) && keep_t(t))
            .collect();
        let q = &f.queue.total;
        let called: Vec<i64> = ts.iter().filter_map(|t| t.wait_secs).collect();
        let served: Vec<i64> = ts.iter().filter_map(|t| t.service_secs).collect();
        assert_eq!(q.issued as usize, ts.len(), "{label}: issued");
        assert_eq!(
            q.served as usize,
            ts.iter().filter(|t| t.status == "done").count(),
            "{label}: served"
        );
        assert_eq!(
            q.no_show as usize,
            ts.iter().filter(|t| t.status == "no_show").count(),
            "{label}: no-show"
        );
        assert_eq!(q.called as usize, called.len(), "{label}: called");
        assert_eq!(
            q.avg_wait_minutes,
            avg(called.iter().sum::<i64>() as f64 / 60.0, called.len()),
            "{label}: wait"
        );
        assert_eq!(
            q.max_wait_minutes,
            called
                .iter()
                .max()
                .map(|m| (*m as f64 / 60.0 * 10.0).round() / 10.0),
            "{label}: max wait"
        );
        assert_eq!(
            q.over_target as usize,
            called.iter().filter(|w| **w > 900).count(),
            "{label}: over target"
        );
        assert_eq!(
            q.avg_service_minutes,
            avg(served.iter().sum::<i64>() as f64 / 60.0, served.len()),
            "{label}: service"
        );
        let mut levels = vec![0u32; 5];
        for t in &ts {
            if let Some(l) = t.rating {
                levels[usize::from(l) - 1] += 1;
            }
        }
        assert_eq!(f.ratings.levels, levels, "{label}: ratings");
        assert_eq!(
            f.ratings.bad_closed as usize,
            ts.iter()
                .filter(|t| t.followup_closed == Some(true))
                .count(),
            "{label}: follow-ups closed"
        );

        let cs: Vec<_> = g.case_rows.iter().filter(|c| keep_c(c)).collect();
        let decided: Vec<_> = cs
            .iter()
            .filter(|c| c.decided_day.is_some_and(|d| in_period(d, from, to)))
            .collect();
        let c = &f.cases.total;
        assert_eq!(
            c.accepted as usize,
            cs.iter()
                .filter(|c| in_period(c.accepted_day, from, to))
                .count(),
            "{label}: accepted"
        );
        assert_eq!(c.decided as usize, decided.len(), "{label}: decided");
        let timing = |t: &str| decided.iter().filter(|c| c.timing == Some(t)).count();
        assert_eq!(
            (c.early as usize, c.on_time as usize, c.late as usize),
            (timing("early"), timing("on_time"), timing("late")),
            "{label}: timing"
        );
        assert_eq!(
            c.on_time_rate,
            pct(timing("early") + timing("on_time"), decided.len()),
            "{label}: 按时办结率"
        );
        assert_eq!(
            c.early_rate,
            pct(timing("early"), decided.len()),
            "{label}: 提前办结率"
        );
        assert_eq!(
            c.average_workdays,
            avg(
                decided.iter().map(|c| f64::from(c.workdays)).sum(),
                decided.len()
            ),
            "{label}: workdays"
        );
        assert_eq!(
            c.average_visits,
            avg(
                decided.iter().map(|c| f64::from(c.visits)).sum(),
                decided.len()
            ),
            "{label}: visits"
        );
        assert_eq!(
            c.over_visits as usize,
            decided
                .iter()
                .filter(|c| c.visits > c.visits_needed)
                .count(),
            "{label}: over visits"
        );
        assert_eq!(
            c.suspended as usize,
            cs.iter()
                .filter(|c| c.suspended_day.is_some_and(|d| in_period(d, from, to)))
                .count(),
            "{label}: suspended"
        );
        assert_eq!(
            c.extended as usize,
            cs.iter()
                .filter(|c| c.extended_day.is_some_and(|d| in_period(d, from, to)))
                .count(),
            "{label}: extended"
        );

        // Every figure drills down to exactly as many rows.
        for (m, n) in [
            (Measure::Issued, q.issued),
            (Measure::NoShow, q.no_show),
            (Measure::OverTarget, q.over_target),
            (Measure::BadRating, f.ratings.bad),
            (Measure::Accepted, c.accepted),
            (Measure::Decided, c.decided),
            (Measure::Late, c.late),
            (Measure::Suspended, c.suspended),
        ] {
            let d = run(
                &h,
                &sup,
                t0(),
                DrillDown {
                    filter: fl.clone(),
                    measure: m,
                    day: None,
                },
            )
            .unwrap();
            assert_eq!(d.total, n, "{label}: drill {m:?}");
        }
        // The rows per item / clerk / category add up to the total.
        assert_eq!(
            f.cases.by_item.iter().map(|r| r.decided).sum::<u32>(),
            c.decided,
            "{label}"
        );
        assert_eq!(
            f.queue.by_category.iter().map(|r| r.issued).sum::<u32>(),
            q.issued,
            "{label}"
        );
        assert_eq!(
            f.queue.by_day.iter().map(|r| r.issued).sum::<u32>(),
            q.issued,
            "{label}"
        );
    }
    // 人均日办件: a clerk's served tickets over the days they served.
    let f = run(
        &h,
        &sup,
        t0(),
        GetFigures {
            filter: filter("2026-08-01", "2026-08-31"),
        },
    )
    .unwrap();
    for row in &f.queue.by_clerk {
        let mine: Vec<_> = g
            .ticket_rows
            .iter()
            .filter(|t| {
                in_period(t.day, from, to)
                    && t.staff_id.as_deref() == Some(row.key.as_str())
                    && t.status == "done"
            })
            .collect();
        let mut days: Vec<Date> = mine.iter().map(|t| t.day).collect();
        days.sort();
        days.dedup();
        assert_eq!(
            (row.served as usize, row.days_active as usize),
            (mine.len(), days.len()),
            "{}",
            row.name
        );
        assert_eq!(
            row.served_per_day,
            avg(mine.len() as f64, days.len()),
            "{}",
            row.name
        );
    }
    // A day on the trend drills down to that day only.
    let day = &f.queue.by_day[3];
    let d = run(
        &h,
        &sup,
        t0(),
        DrillDown {
            filter: filter("2026-08-01", "2026-08-31"),
            measure: Measure::Issued,
            day: Some(day.key.clone()),
        },
    )
    .unwrap();
    assert_eq!(d.total, day.issued);
    assert!(d.tickets.iter().all(|t| t.day == day.key));
}

fn file_of(r: &ReportFile) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(&r.content_base64)
        .unwrap()
}

#[test]
fn the_xlsx_export_reads_back_with_chinese_sheets_dates_and_charts() {
    let (h, _) = history();
    let sup = supervisor(&h);
    let fl = filter("2026-08-01", "2026-08-31");
    let f = run(&h, &sup, t0(), GetFigures { filter: fl.clone() }).unwrap();
    let file = run(
        &h,
        &sup,
        t0(),
        ExportReport {
            filter: fl,
            format: ReportFormat::Xlsx,
        },
    )
    .unwrap();
    assert!(file.filename.ends_with(".xlsx"));
    let bytes = file_of(&file);
    assert_eq!(onetrip_core::ids::sha256_hex(&bytes), file.sha256);

    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes.clone())).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "概览",
            "每日趋势",
            "分业务排队",
            "窗口人员",
            "分事项办件",
            "经办人办件",
            "好差评",
            "AB岗"
        ]
    );
    let overview = book.worksheet_range("概览").unwrap();
    let value_of = |label: &str| {
        overview
            .rows()
            .find(|r| {
                r.first()
                    .is_some_and(|c| *c == Data::String(label.to_owned()))
            })
            .and_then(|r| r.get(1).cloned())
            .unwrap_or_else(|| panic!("概览 has {label}"))
    };
    assert_eq!(
        value_of("取号"),
        Data::Float(f64::from(f.queue.total.issued))
    );
    assert_eq!(
        value_of("办结办件"),
        Data::Float(f64::from(f.cases.total.decided))
    );
    assert_eq!(
        value_of("按时办结率（%）"),
        Data::Float(f.cases.total.on_time_rate.unwrap())
    );
    let trend = book.worksheet_range("每日趋势").unwrap();
    let first = trend.rows().nth(1).unwrap();
    match &first[0] {
        Data::DateTime(d) => {
            assert!(d.is_datetime(), "a date, not a duration");
            let day = date(1899, 12, 30) + jiff::Span::new().days(d.as_f64() as i64);
            assert_eq!(
                day.to_string(),
                f.queue.by_day[0].key,
                "the first day, as an Excel date"
            );
        }
        other => panic!("a date cell, got {other:?}"),
    }
    assert_eq!(first[1], Data::Float(f64::from(f.queue.by_day[0].issued)));
    let items = book.worksheet_range("分事项办件").unwrap();
    assert_eq!(items.rows().count(), 1 + f.cases.by_item.len());

    // Real Excel charts: one drawing part per chart, with the 年月日 date format in the styles.
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let charts: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index(i).unwrap().name().unwrap().into_owned())
        .filter(|n| n.starts_with("xl/charts/chart"))
        .collect();
    assert!(
        charts.len() >= 7,
        "pie, trend, 2 queue, 2 case, ratings charts: {charts:?}"
    );
    let mut chart1 = String::new();
    zip.by_name("xl/charts/chart1.xml")
        .unwrap()
        .read_to_string(&mut chart1)
        .unwrap();
    assert!(
        chart1.contains("<c:pieChart>") && chart1.contains("概览"),
        "the overview pie refers to its sheet"
    );
    let mut styles = String::new();
    zip.by_name("xl/styles.xml")
        .unwrap()
        .read_to_string(&mut styles)
        .unwrap();
    assert!(
        styles.contains("yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;"),
        "a Chinese date format"
    );
}

fn tool(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd} (poppler-utils): {e}"));
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_pdf_report_is_a4_pdfa_with_embedded_fonts_and_the_figures_in_its_text() {
    let (h, _) = history();
    let sup = supervisor(&h);
    let fl = filter("2026-08-01", "2026-08-31");
    let f = run(&h, &sup, t0(), GetFigures { filter: fl.clone() }).unwrap();
    let file = run(
        &h,
        &sup,
        t0(),
        ExportReport {
            filter: fl,
            format: ReportFormat::Pdf,
        },
    )
    .unwrap();
    let pdf = file_of(&file);
    if let Ok(keep) = std::env::var("ONETRIP_KEEP_REPORT") {
        std::fs::write(keep, &pdf).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("r.pdf");
    std::fs::write(&p, &pdf).unwrap();
    let path = p.to_str().unwrap();
    let info = tool("pdfinfo", &[path]);
    assert!(info.contains("595.276 x 841.89 pts"), "A4: {info}");
    for row in tool("pdffonts", &[path]).lines().skip(2) {
        let cols: Vec<&str> = row.split_whitespace().collect();
        let n = cols.len();
        assert_eq!(
            (cols[n - 5], cols[n - 4]),
            ("yes", "yes"),
            "embedded and subset: {row}"
        );
    }
    assert!(
        String::from_utf8_lossy(&pdf).contains("pdfaid:part"),
        "PDF/A metadata"
    );
    let text = tool("pdftotext", &["-layout", path, "-"]);
    let flat: String = text.split_whitespace().collect();
    for want in [
        "统计报表",
        "按时办结率",
        "人均日办件",
        "差评回访分析",
        "AB岗顶岗",
    ] {
        assert!(flat.contains(want), "{want} in the text");
    }
    assert!(flat.contains(&f.cases.by_clerk[0].name), "a clerk's name");
    let rate = format!("{}%", f.cases.total.on_time_rate.unwrap());
    assert!(flat.contains(&rate), "the on-time rate {rate}");
}

#[test]
fn what_is_due_follows_closing_time_the_calendar_and_the_filing_days() {
    let settings = ReportSettings {
        wait_target_minutes: 15,
        daily_enabled: true,
        weekly_weekday: 1,
        monthly_day: 1,
    };
    // 2026-10-01..08 is the National Day holiday; 2026-10-10 (Sat) is a working day.
    let workday = |d: Date| {
        !matches!(
            d.weekday(),
            jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday
        ) || d == date(2026, 10, 10)
    };
    let closing = 17 * 60;
    let kinds = |v: Vec<filing::Due>| {
        v.into_iter()
            .map(|d| (d.kind, d.from.to_string(), d.to.to_string()))
            .collect::<Vec<_>>()
    };
    use ReportKind::*;
    // Monday 2026-11-02, 18:00: today's summary, last week, last month.
    assert_eq!(
        kinds(due(date(2026, 11, 2), 18 * 60, closing, workday, &settings)),
        vec![
            (Daily, "2026-11-02".into(), "2026-11-02".into()),
            (Weekly, "2026-10-26".into(), "2026-11-01".into()),
            (Monthly, "2026-10-01".into(), "2026-10-31".into())
        ]
    );
    // Monday 09:00: the summary is Friday's; Sunday 20:00: Friday's too; a working Saturday after closing: its own.
    assert_eq!(
        due(date(2026, 11, 2), 9 * 60, closing, workday, &settings)[0].from,
        date(2026, 10, 30)
    );
    assert_eq!(
        due(date(2026, 11, 8), 20 * 60, closing, workday, &settings)[0].from,
        date(2026, 11, 6)
    );
    assert_eq!(
        due(date(2026, 10, 10), 17 * 60, closing, workday, &settings)[0].from,
        date(2026, 10, 10)
    );
    // Weekly on Wednesday: on Tuesday the week before last is still the latest due.
    let wed = ReportSettings {
        weekly_weekday: 3,
        monthly_day: 5,
        ..settings.clone()
    };
    let v = due(date(2026, 11, 3), 10 * 60, closing, workday, &wed);
    assert_eq!(
        (v[1].from, v[1].to),
        (date(2026, 10, 19), date(2026, 10, 25))
    );
    assert_eq!(
        (v[2].from, v[2].to),
        (date(2026, 9, 1), date(2026, 9, 30)),
        "monthly on the 5th: October's is not due on the 3rd"
    );
    let v = due(date(2026, 11, 4), 10 * 60, closing, workday, &wed);
    assert_eq!(v[1].from, date(2026, 10, 26));
    let off = ReportSettings {
        daily_enabled: false,
        ..settings
    };
    assert!(
        due(date(2026, 11, 2), 18 * 60, closing, workday, &off)
            .iter()
            .all(|d| d.kind != Daily)
    );
}

#[test]
fn reports_are_filed_once_beside_the_archive_and_checked_when_read() {
    let h = demo_hall();
    onetrip_core::app::history::generate(
        &h.store,
        HistorySpec {
            from: date(2026, 10, 1),
            to: date(2026, 11, 2),
            tickets: 600,
            cases: 120,
            seed: 3,
            keep: false,
        },
        t0(),
    )
    .unwrap();
    // Monday 2026-11-02, 17:30 Beijing (after the demo hall's 17:00 closing).
    let now: Timestamp = "2026-11-02T09:30:00Z".parse().unwrap();
    let before = h.audit_count();
    let (filed, events) = onetrip_core::app::jobs::file_reports(&h.store, now).unwrap();
    let got: Vec<(ReportKind, &str)> = filed.iter().map(|f| (f.kind, f.from.as_str())).collect();
    assert_eq!(
        got,
        vec![
            (ReportKind::Daily, "2026-11-02"),
            (ReportKind::Weekly, "2026-10-26"),
            (ReportKind::Monthly, "2026-10-01")
        ]
    );
    assert_eq!(h.audit_count() - before, 3, "one audit row per report");
    assert_eq!(events.len(), 3);
    assert_eq!(
        filed[2].title,
        "政务服务中心2026年10月月度分析".replace("政务服务中心", &h.board().hall.name)
    );
    // Nothing more is due a minute later, nor the next morning before closing.
    assert!(
        onetrip_core::app::jobs::file_reports(&h.store, now + SignedDuration::from_mins(1))
            .unwrap()
            .0
            .is_empty()
    );
    assert!(
        onetrip_core::app::jobs::file_reports(&h.store, now + SignedDuration::from_hours(16))
            .unwrap()
            .0
            .is_empty()
    );
    // Beside the notice archive, with the recorded checksums.
    let sup = supervisor(&h);
    let list = run(&h, &sup, now, ListFiledReports {}).unwrap();
    assert_eq!(list.len(), 3);
    let monthly = list.iter().find(|r| r.kind == ReportKind::Monthly).unwrap();
    let pdf_path = h
        .store
        .data_dir()
        .join("archive/reports/2026/monthly-2026-10-01.pdf");
    let xlsx_path = h
        .store
        .data_dir()
        .join("archive/reports/2026/monthly-2026-10-01.xlsx");
    assert_eq!(
        onetrip_core::ids::sha256_hex(&std::fs::read(&pdf_path).unwrap()),
        monthly.pdf_sha256
    );
    assert_eq!(
        onetrip_core::ids::sha256_hex(&std::fs::read(&xlsx_path).unwrap()),
        monthly.xlsx_sha256
    );
    let got = run(
        &h,
        &sup,
        now,
        GetFiledReport {
            id: monthly.id.clone(),
            format: ReportFormat::Pdf,
        },
    )
    .unwrap();
    assert_eq!(got.sha256, monthly.pdf_sha256);
    assert!(file_of(&got).starts_with(b"%PDF"));
    // An altered archive copy is refused, never served.
    let mut bytes = std::fs::read(&xlsx_path).unwrap();
    bytes.push(0);
    std::fs::write(&xlsx_path, bytes).unwrap();
    let e = run(
        &h,
        &sup,
        now,
        GetFiledReport {
            id: monthly.id.clone(),
            format: ReportFormat::Xlsx,
        },
    )
    .unwrap_err();
    assert_eq!(e.code, ErrorCode::ArchiveAltered);
    // The table refuses changes to a filed report.
    let refused = h
        .store
        .write(|tx| Ok(tx.execute("UPDATE report_files SET title = 'x'", [])?));
    assert!(refused.is_err(), "report_files is append-only");
}

#[test]
fn report_settings_are_validated_and_audited() {
    let h = demo_hall();
    let admin = {
        let s = h.sign_in("admin", None);
        h.as_token(&s)
    };
    let mut s = run(&h, &admin, t0(), GetReportSettings {}).unwrap();
    assert_eq!(
        (
            s.wait_target_minutes,
            s.daily_enabled,
            s.weekly_weekday,
            s.monthly_day
        ),
        (15, true, 1, 1)
    );
    s.monthly_day = 29;
    let e = run(
        &h,
        &admin,
        t0(),
        UpdateReportSettings {
            settings: s.clone(),
        },
    )
    .unwrap_err();
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::OutOfRange, Some("monthly_day"))
    );
    s.monthly_day = 3;
    s.wait_target_minutes = 20;
    let before = h.audit_count();
    let saved = run(
        &h,
        &admin,
        t0(),
        UpdateReportSettings {
            settings: s.clone(),
        },
    )
    .unwrap();
    assert_eq!(saved, s);
    assert_eq!(h.audit_count(), before + 1);
    let sup = supervisor(&h);
    assert_eq!(
        run(&h, &sup, t0(), UpdateReportSettings { settings: s })
            .unwrap_err()
            .code,
        ErrorCode::Forbidden,
        "admins only"
    );
}
