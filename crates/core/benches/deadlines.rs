//! Deadline benchmarks, figures for issue 5's targets:
//! - deadlines and warning levels for 100,000 open cases (target ≤ 100 ms);
//! - add-workdays from the precomputed index (target well under 1 µs per call).
//!
//! `cargo bench -p onetrip-core --bench deadlines`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::civil::date;
use onetrip_core::calendar::DayCount;
use onetrip_core::calendar::data::bundled_calendar;
use onetrip_core::cases::{AcceptBasis, CaseEvent, LoggedEvent, SuspendReason};
use onetrip_core::deadlines::{self, BusinessDay, ItemRules, Thresholds};

fn bj(y: i16, m: i8, d: i8, h: i8) -> Timestamp {
    date(y, m, d)
        .at(h, 0, 0, 0)
        .in_tz("Asia/Shanghai")
        .unwrap()
        .timestamp()
}

/// 100,000 open cases accepted over the last three months, a fifth of them suspended once and
/// resumed, one in ten still suspended, one in twenty extended.
fn open_cases() -> Vec<(Vec<LoggedEvent>, ItemRules)> {
    let start = bj(2026, 8, 24, 10);
    (0..100_000u32)
        .map(|i| {
            let accepted = start
                .checked_add(jiff::SignedDuration::from_mins(i64::from(i % 129_600)))
                .unwrap();
            let mut log = vec![LoggedEvent {
                seq: 1,
                at: accepted,
                actor_name: "张伟".into(),
                event: CaseEvent::Accepted {
                    received_at: accepted,
                    basis: AcceptBasis::Direct,
                },
            }];
            let later = |days: i64| {
                accepted
                    .checked_add(jiff::SignedDuration::from_hours(24 * days))
                    .unwrap()
            };
            if i % 5 == 0 {
                log.push(LoggedEvent {
                    seq: 2,
                    at: later(2),
                    actor_name: "张伟".into(),
                    event: CaseEvent::Suspended {
                        reason: SuspendReason::Testing,
                        expected_days: 5,
                        note: String::new(),
                    },
                });
                if i % 10 != 0 {
                    log.push(LoggedEvent {
                        seq: 3,
                        at: later(6),
                        actor_name: "张伟".into(),
                        event: CaseEvent::Resumed {
                            note: String::new(),
                        },
                    });
                }
            }
            if i % 20 == 1 {
                log.push(LoggedEvent {
                    seq: log.len() as u32 + 1,
                    at: later(3),
                    actor_name: "周红".into(),
                    event: CaseEvent::Extended {
                        days: 10,
                        reason: "专家评审".into(),
                        applicant_told: true,
                    },
                });
            }
            let promised = [0, 1, 3, 5, 7, 10, 15, 20][(i % 8) as usize];
            (
                log,
                ItemRules {
                    statutory_days: 20.max(promised),
                    promised_days: promised,
                    thresholds: Thresholds::default(),
                },
            )
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cal = bundled_calendar(1);
    let day = BusinessDay {
        spans: vec![(540, 720), (810, 1020)],
        day_count: DayCount::NextDay,
    };
    let cases = open_cases();
    let now = bj(2026, 11, 23, 10);
    let mut g = c.benchmark_group("deadlines");
    g.sample_size(10);
    g.bench_function("compute_100k_open_cases", |b| {
        b.iter(|| {
            let mut red = 0u32;
            for (log, rules) in &cases {
                let d = deadlines::compute(log, &cal, rules, &day, now).unwrap();
                red += u32::from(d.level >= deadlines::WarningLevel::Red);
            }
            black_box(red)
        })
    });
    g.finish();
    let mut i = 0u32;
    c.bench_function("calendar.add_workdays", |b| {
        b.iter(|| {
            i = i.wrapping_add(7919);
            let from = date(2010, 1, 1)
                .checked_add(jiff::Span::new().days(i64::from(i % 6000)))
                .unwrap();
            black_box(
                cal.add_workdays(black_box(from), black_box(i % 60 + 1), DayCount::NextDay)
                    .unwrap(),
            )
        })
    });
    c.bench_function("calendar.count_workdays", |b| {
        b.iter(|| {
            black_box(
                cal.count_workdays(black_box(date(2025, 1, 2)), black_box(date(2026, 12, 1)))
                    .unwrap(),
            )
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
