//! The hall `make run` builds — the demo hall and 90 days of generated history — read as every
//! demo account reads it. The other suites start from nearly empty halls; a real hall has months
//! of cases, and a history the views refuse empties a clerk's list or the supervisor's board.
//!
//! - Every generated case replays through the case state machine and the deadline function, and
//!   its stored columns are what the function says (the generator writes through the rules).
//! - Every screen's reads answer for every demo account on the lived-in hall.
//! - A case whose log the state machine refuses (an old import, a repair by hand) is shown
//!   flagged; it never takes the list, the board or the sweep down with it.

use jiff::Timestamp;
use jiff::civil::Date;
use onetrip_core::app::history::HistorySpec;
use onetrip_core::cases::events::{self, CaseEvent, LoggedEvent};
use onetrip_core::{Caller, demo, execute_json};
use serde_json::{Value, json};

use crate::common::*;

/// Like `make run`: `onetrip history --days 90` (6,000 tickets, 1,200 cases, seed 1) ending the
/// day before `t0`.
pub(crate) fn lived_in() -> Hall {
    let h = demo_hall();
    let to = date(2026, 11, 22);
    onetrip_core::app::history::generate(
        &h.store,
        HistorySpec {
            from: to.checked_sub(jiff::Span::new().days(89)).unwrap(),
            to,
            tickets: 6000,
            cases: 1200,
            seed: 1,
            keep: false,
        },
        t0(),
    )
    .unwrap();
    h
}

fn date(y: i16, m: i8, d: i8) -> Date {
    Date::new(y, m, d).unwrap()
}

fn op(h: &Hall, caller: &Caller, at: Timestamp, name: &str, req: Value) -> Value {
    execute_json(&h.store, caller, at, name, req)
        .unwrap_or_else(|e| panic!("{name} failed on the lived-in hall: {e}"))
        .0
}

/// What each screen reads, for a clerk at a window.
fn clerk_reads() -> Vec<(&'static str, Value)> {
    vec![
        ("queue.counter", json!({})),
        (
            "case.list",
            json!({"scope": "mine", "open_only": true, "level": null, "item_id": null, "owner_id": null, "query": null}),
        ),
        (
            "case.list",
            json!({"scope": "mine", "open_only": false, "level": null, "item_id": null, "owner_id": null, "query": null}),
        ),
        ("case.alerts", json!({})),
        ("application.list", json!({"query": null})),
        ("handover.list", json!({"open_only": false})),
        ("inbox.list", json!({"unread_only": false})),
        ("catalog.list", json!({"include_inactive": false})),
        ("hall.board", json!({})),
        ("queue.board", json!({})),
    ]
}

/// What the admin tabs read, for a supervisor or an admin.
fn supervisor_reads() -> Vec<(&'static str, Value)> {
    let month = json!({"from": "2026-11-01", "to": "2026-11-30", "category_id": null, "window_id": null, "staff_id": null, "item_id": null});
    let quarter = json!({"from": "2026-08-24", "to": "2026-11-22", "category_id": null, "window_id": null, "staff_id": null, "item_id": null});
    let mut reads = vec![
        ("case.board", json!({})),
        (
            "case.stats",
            json!({"from": "2026-08-24", "to": "2026-11-22"}),
        ),
        (
            "case.list",
            json!({"scope": "hall", "open_only": false, "level": null, "item_id": null, "owner_id": null, "query": null}),
        ),
        ("case.alerts", json!({})),
        ("report.figures", json!({"filter": month})),
        ("report.figures", json!({"filter": quarter})),
        ("report.list", json!({})),
        ("followup.list", json!({"include_closed": true})),
        (
            "handover.figures",
            json!({"from": "2026-01-01", "to": "2026-11-22"}),
        ),
        ("post.list", json!({})),
        ("post.coverage", json!({"from": "2026-11-23", "days": 14})),
        (
            "absence.list",
            json!({"from": "2026-11-01T00:00:00Z", "to": "2026-12-31T00:00:00Z"}),
        ),
        ("calendar.status", json!({})),
        ("catalog.list", json!({"include_inactive": true})),
        ("staff.list", json!({})),
        (
            "audit.list",
            json!({"from": null, "until": null, "actor_id": null, "op": null, "subject_kind": null, "subject_id": null, "text": null, "before_seq": null, "limit": null}),
        ),
        ("hall.board", json!({})),
        ("queue.settings", json!({})),
        ("deadline.settings", json!({})),
    ];
    for measure in [
        "decided",
        "late",
        "open_red",
        "extended",
        "suspended",
        "bad_rating",
        "issued",
    ] {
        reads.push((
            "report.drill",
            json!({"filter": quarter, "measure": measure, "day": null}),
        ));
    }
    reads
}

#[test]
fn every_generated_case_replays_and_its_stored_deadlines_are_the_functions() {
    let h = lived_in();
    /// (id, status, level, timing, workdays used, promised due) as stored.
    type Stored = (String, String, String, Option<String>, Option<u32>, i64);
    let cases: Vec<Stored> = h
        .store
        .read(|tx| {
            Ok(tx
                .prepare(
                    "SELECT id, status, level, timing, workdays_used, promised_due_at FROM cases ORDER BY number",
                )?
                .query_map([], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })?
                .collect::<onetrip_core::store::StoreResult<_>>()?)
        })
        .unwrap();
    assert_eq!(cases.len(), 1200);
    let (cal, _) = onetrip_core::deadlines::settings::calendar_and_rule(&h.store).unwrap();
    let mut extended = 0;
    for (id, status, level, timing, workdays, promised_due) in cases {
        let (log, d) = h
            .store
            .read(|tx| onetrip_core::cases::replayed(tx, &cal, &id, t0()))
            .unwrap();
        let state = events::replay(&log)
            .unwrap_or_else(|e| panic!("generated case {id} is refused by the state machine: {e}"));
        assert_eq!(state.status.as_str(), status, "{id}: stored status");
        extended += log
            .iter()
            .filter(|e| matches!(e.event, CaseEvent::Extended { .. }))
            .count();
        assert_eq!(d.level.as_str(), level, "{id}: stored level");
        assert_eq!(
            d.timing.map(|t| t.as_str().to_owned()),
            timing,
            "{id}: timing"
        );
        assert_eq!(d.workdays_used, workdays, "{id}: workdays");
        assert_eq!(
            d.promised.due_at.as_millisecond(),
            promised_due,
            "{id}: promised due"
        );
        // Every approval answers a request, as case.decide_extension requires.
        for (i, e) in log.iter().enumerate() {
            if matches!(e.event, CaseEvent::Extended { .. }) {
                assert!(
                    matches!(
                        log[..i].last().map(|p: &LoggedEvent| &p.event),
                        Some(CaseEvent::ExtensionRequested { .. })
                    ),
                    "{id}: an approved extension follows its request"
                );
            }
        }
    }
    assert!(extended > 0, "the history has approved extensions to check");
}

#[test]
fn every_screen_reads_on_the_lived_in_hall_for_every_demo_account() {
    let h = lived_in();
    // The sweep runs first, as on any desktop or server start: it must not trip either.
    onetrip_core::app::jobs::sweep_deadlines(&h.store, t0()).unwrap();
    // Eight clerks, six windows: each clerk signs in at a window, reads, and signs out again.
    let mut next_window = (1..=6u32).cycle();
    for (login, _name, role) in demo::ACCOUNTS {
        let clerk = *role == onetrip_core::staff::Role::Clerk;
        let window = clerk.then(|| next_window.next().unwrap());
        let caller = h.sign_in_at(login, window, t0());
        let reads = if clerk {
            clerk_reads()
        } else {
            supervisor_reads()
        };
        for (name, req) in reads {
            let out = op(&h, &caller, t0(), name, req);
            if name == "case.list" || name == "case.board" {
                let rows = out
                    .get("cases")
                    .unwrap_or(&out)
                    .as_array()
                    .expect("a list of cases")
                    .clone();
                assert!(
                    rows.iter().all(|c| c["problem"].is_null()),
                    "{login}: {name} shows no flagged case on generated data"
                );
                if name == "case.board" {
                    assert!(!rows.is_empty(), "the board shows the open cases");
                }
            }
        }
        op(&h, &caller, t0(), "auth.sign_out", json!({}));
    }
    // The two clerks the report named: their lists are not empty.
    for login in ["zhangwei", "wangfang"] {
        let caller = h.sign_in_at(login, Some(1), t0());
        let mine = op(
            &h,
            &caller,
            t0(),
            "case.list",
            json!({"scope": "mine", "open_only": false, "level": null, "item_id": null, "owner_id": null, "query": null}),
        );
        assert!(
            !mine.as_array().unwrap().is_empty(),
            "{login}'s 我的办件 lists the cases the history gave them"
        );
        op(&h, &caller, t0(), "auth.sign_out", json!({}));
    }
}

#[test]
fn a_case_the_state_machine_refuses_is_shown_flagged_and_hides_nothing_else() {
    let h = lived_in();
    let sup = h.sign_in_at("zhouhong", None, t0());
    let board = |h: &Hall| {
        op(h, &sup, t0(), "case.board", json!({}))["cases"]
            .as_array()
            .unwrap()
            .clone()
    };
    let before = board(&h);
    let odd = before[0]["id"].as_str().unwrap().to_owned();
    // An approval with no request before it: what the old generator wrote.
    let seq: i64 = h
        .raw_text(&format!(
            "SELECT CAST(max(seq) + 1 AS TEXT) FROM case_events WHERE case_id = '{odd}'"
        ))
        .parse()
        .unwrap();
    h.raw_batch(&format!(
        "INSERT INTO case_events (id, case_id, seq, kind, at, actor_id, actor_name, data)
         VALUES ('{}', '{odd}', {seq}, 'extended', {}, NULL, '导入', '{{\"kind\":\"extended\",\"days\":5,\"reason\":\"x\",\"applicant_told\":true}}')",
        onetrip_core::ids::new_id(),
        t0().as_millisecond() - 1000
    ))
    .unwrap();
    let after = board(&h);
    assert_eq!(
        after.len(),
        before.len(),
        "every open case still on the board"
    );
    let flagged: Vec<_> = after.iter().filter(|c| !c["problem"].is_null()).collect();
    assert_eq!(flagged.len(), 1, "exactly the odd case is flagged");
    assert_eq!(flagged[0]["id"], json!(odd));
    assert!(
        flagged[0]["problem"]
            .as_str()
            .unwrap()
            .contains("办件记录异常"),
        "the flag says what is wrong, in Chinese"
    );
    // Its owner's list still answers, the case opens read-only, and the sweep still runs.
    let owner = flagged[0]["owner_id"].as_str().unwrap().to_owned();
    let login = h.raw_text(&format!("SELECT login FROM staff WHERE id = '{owner}'"));
    let clerk = h.sign_in_at(&login, Some(1), t0());
    let mine = op(
        &h,
        &clerk,
        t0(),
        "case.list",
        json!({"scope": "mine", "open_only": true, "level": null, "item_id": null, "owner_id": null, "query": null}),
    );
    assert!(
        mine.as_array()
            .unwrap()
            .iter()
            .any(|c| c["id"] == json!(odd))
    );
    let detail = op(&h, &clerk, t0(), "case.get", json!({"id": odd}));
    assert!(!detail["case"]["problem"].is_null());
    assert_eq!(detail["allowed"], json!([]), "nothing can be done to it");
    onetrip_core::app::jobs::sweep_deadlines(&h.store, t0() + jiff::SignedDuration::from_hours(1))
        .unwrap();
}
