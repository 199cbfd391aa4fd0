//! Messages to applicants: each is written to the outbox in its cause's transaction (and only
//! then), rendered from the hall's template; switched-off kinds, landlines and opted-out phones
//! get nothing; delivery keeps each phone's messages in order, waits out the quiet hours,
//! claims each message for one worker (a lapsed claim is delivered again with the same key),
//! expires what is too late, and a dead message is retried by a supervisor.

use std::sync::Mutex;

use jiff::{SignedDuration, Timestamp};
use onetrip_core::app::jobs;
use onetrip_core::applications::{
    DecideApplication, Decision, MarkMaterial, MaterialState, OpenApplication,
};
use onetrip_core::cases::{AcceptCase, ActOnCase, CaseAction, DecisionOutcome, SuspendReason};
use onetrip_core::catalog::ListItems;
use onetrip_core::messages::{
    GetMessageSettings, ListMessageTemplates, ListOutbox, PreviewMessage, RetryMessage, SetOptOut,
    UpdateMessageSettings, UpdateMessageTemplate,
};
use onetrip_core::outbox::{self, Gateway, Message, OutboxStatus as Status, Sink};
use onetrip_core::{Caller, ErrorCode};

use crate::common::*;

/// (kind, phone, body, status) of every message, oldest first.
fn messages(h: &Hall) -> Vec<(String, String, String, String)> {
    h.store
        .read(|tx| {
            Ok(tx
                .prepare(
                    "SELECT kind, recipient, body, status FROM outbox ORDER BY created_at, id",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<onetrip_core::store::StoreResult<_>>()?)
        })
        .unwrap()
}

fn item_id(h: &Hall, code: &str) -> String {
    h.store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response
        .into_iter()
        .find(|i| code.is_empty() || i.fields.code == code)
        .unwrap()
        .id
}

fn accept(h: &Hall, clerk: &Caller, phone: &str, at: Timestamp) -> String {
    h.store
        .execute(
            clerk,
            at,
            AcceptCase {
                item_id: item_id(h, ""),
                applicant_name: "王建国".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: phone.into(),
                ticket_id: None,
            },
        )
        .unwrap()
        .response
        .case
        .id
}

/// A gateway that records what it was given and fails while `fail` is set.
#[derive(Default)]
struct Recorder {
    seen: Mutex<Vec<(String, String, String)>>,
    fail: std::sync::atomic::AtomicBool,
}

impl Sink for Recorder {
    fn deliver(&self, _: &Gateway, m: &Message) -> Result<(), String> {
        self.seen
            .lock()
            .unwrap()
            .push((m.kind.clone(), m.dedupe.clone(), m.body.clone()));
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            Err("网关返回 503".into())
        } else {
            Ok(())
        }
    }
}

impl Recorder {
    fn kinds(&self) -> Vec<String> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .map(|s| s.0.clone())
            .collect()
    }
}

#[test]
fn the_one_time_notice_texts_what_is_missing_and_by_when_and_a_refusal_texts_nothing() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(5)));
    let open = |phone: &str| {
        h.store
            .execute(
                &c,
                t0(),
                OpenApplication {
                    item_id: item_id(&h, "HJ-001"),
                    applicant_name: "王建国".into(),
                    applicant_id_number: "11010519491231002X".into(),
                    applicant_phone: phone.into(),
                    ticket_id: None,
                },
            )
            .unwrap()
            .response
    };
    let a = open("138 0000 1111");
    let mark = |pos: u32, state| {
        h.store
            .execute(
                &c,
                t0(),
                MarkMaterial {
                    id: a.id.clone(),
                    position: pos,
                    state,
                    note: String::new(),
                },
            )
            .unwrap();
    };
    mark(0, MaterialState::Received);
    mark(1, MaterialState::Missing);
    mark(2, MaterialState::Missing);
    mark(3, MaterialState::Received);
    mark(4, MaterialState::NotApplicable);
    let decide = |d| {
        h.store.execute(
            &c,
            t0(),
            DecideApplication {
                id: a.id.clone(),
                decision: d,
            },
        )
    };
    // Refused (acceptance of incomplete materials): rolled back, and no message.
    assert_eq!(
        decide(Decision::Accept).unwrap_err().code,
        ErrorCode::MaterialsIncomplete
    );
    assert!(messages(&h).is_empty(), "no message without its cause");
    decide(Decision::Supplement {
        pending_checks: vec![],
        supplement_days: Some(5),
    })
    .unwrap();
    let m = messages(&h);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].0, "notice.supplement");
    assert_eq!(m[0].1, "13800001111", "the mobile's digits");
    assert!(m[0].2.starts_with("【西湖区政务服务中心】"), "{}", m[0].2);
    assert!(m[0].2.contains("户口簿；亲属关系证明"), "{}", m[0].2);
    assert!(m[0].2.contains("2026年11月30日"), "{}", m[0].2);
    assert!(
        !m[0].2.contains('{'),
        "every placeholder filled: {}",
        m[0].2
    );
}

#[test]
fn the_case_tells_its_applicant_when_it_pauses_is_extended_and_is_ready() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let id = accept(&h, &clerk, "13800002222", t0());
    let act = |action| {
        h.store
            .execute(
                &clerk,
                t0(),
                ActOnCase {
                    id: id.clone(),
                    action,
                },
            )
            .unwrap();
    };
    act(CaseAction::Start);
    act(CaseAction::Suspend {
        reason: SuspendReason::ExpertReview,
        expected_days: 5,
        note: String::new(),
    });
    act(CaseAction::Resume {
        note: String::new(),
    });
    act(CaseAction::Decide {
        outcome: DecisionOutcome::Approved,
        note: String::new(),
    });
    let kinds: Vec<String> = messages(&h).into_iter().map(|m| m.0).collect();
    assert_eq!(
        kinds,
        ["case.accepted", "case.suspended", "case.decided"],
        "start and resume text nothing"
    );
    let m = messages(&h);
    assert!(
        m[1].2.contains("专家评审") && m[1].2.contains("5个工作日"),
        "{}",
        m[1].2
    );
}

#[test]
fn a_switched_off_kind_a_landline_and_an_opted_out_phone_get_nothing() {
    let h = demo_hall();
    let admin = h.as_token(&h.sign_in("admin", None));
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    accept(&h, &clerk, "0571-87000000", t0());
    assert!(messages(&h).is_empty(), "a landline is not texted");
    // Opted out at the window.
    h.store
        .execute(
            &clerk,
            t0(),
            SetOptOut {
                phone: "13800003333".into(),
                opt_out: true,
            },
        )
        .unwrap();
    accept(&h, &clerk, "138-0000-3333", t0());
    assert!(messages(&h).is_empty(), "opted out");
    h.store
        .execute(
            &clerk,
            t0(),
            SetOptOut {
                phone: "13800003333".into(),
                opt_out: false,
            },
        )
        .unwrap();
    accept(&h, &clerk, "13800003333", t0());
    assert_eq!(messages(&h).len(), 1, "opted back in");
    // Switched off by the admin.
    let t = h
        .store
        .execute(&admin, t0(), ListMessageTemplates {})
        .unwrap()
        .response
        .into_iter()
        .find(|t| t.kind == "case.accepted")
        .unwrap();
    h.store
        .execute(
            &admin,
            t0(),
            UpdateMessageTemplate {
                kind: t.kind.clone(),
                enabled: false,
                body: t.body.clone(),
            },
        )
        .unwrap();
    accept(&h, &clerk, "13800004444", t0());
    assert_eq!(messages(&h).len(), 1, "the kind is off");
    // The audit names the changes, never a phone in full.
    let log = h.audit_summaries();
    assert!(
        log.iter().any(|s| s.contains("138****3333 退订消息")),
        "{log:?}"
    );
    assert!(!log.iter().any(|s| s.contains("13800003333")));
}

#[test]
fn templates_are_checked_previewed_and_used_as_edited() {
    let h = demo_hall();
    let admin = h.as_token(&h.sign_in("admin", None));
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let update = |body: &str| {
        h.store.execute(
            &admin,
            t0(),
            UpdateMessageTemplate {
                kind: "case.accepted".into(),
                enabled: true,
                body: body.into(),
            },
        )
    };
    let before = h.fingerprint();
    for (bad, code) in [
        ("您的{case}已受理，{oops}", ErrorCode::TemplateInvalid),
        ("您的{case已受理", ErrorCode::TemplateInvalid),
        ("", ErrorCode::Required),
    ] {
        assert_eq!(update(bad).unwrap_err().code, code, "{bad}");
    }
    assert_eq!(
        update(&"长".repeat(201)).unwrap_err().code,
        ErrorCode::TooLong
    );
    assert_eq!(h.fingerprint(), before, "refused edits change nothing");
    let p = h
        .store
        .execute(
            &admin,
            t0(),
            PreviewMessage {
                kind: "case.accepted".into(),
                body: "【{hall}】{item}已受理，编号{case}，{promised}前办结。".into(),
            },
        )
        .unwrap()
        .response;
    assert!(
        p.text.starts_with("【西湖区政务服务中心】不动产登记"),
        "{}",
        p.text
    );
    assert_eq!(p.segments, 1);
    update("{hall}：办件{case}已受理，{promised}前办结").unwrap();
    accept(&h, &clerk, "13800005555", t0());
    let body = &messages(&h)[0].2;
    assert!(body.starts_with("西湖区政务服务中心：办件"), "{body}");
    assert!(body.ends_with("前办结"), "{body}");
    // A clerk can neither read nor edit templates.
    assert_eq!(
        h.store
            .execute(&clerk, t0(), ListMessageTemplates {})
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}

#[test]
fn delivery_keeps_each_phones_order_and_waits_out_quiet_hours() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    // Two cases for one phone, one for another.
    accept(&h, &clerk, "13800006666", t0());
    accept(
        &h,
        &clerk,
        "13800006666",
        t0() + SignedDuration::from_secs(1),
    );
    accept(
        &h,
        &clerk,
        "13900007777",
        t0() + SignedDuration::from_secs(2),
    );
    let g = Recorder::default();
    g.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let now = t0() + SignedDuration::from_secs(5);
    let d =
        jobs::deliver_outbox(&h.store, now, &onetrip_core::outbox::Worker::new("w"), &g).unwrap();
    assert_eq!(
        d.attempted, 2,
        "the head of each phone's queue only: the second waits behind the first"
    );
    g.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    // While the first is backing off, the second still waits.
    let d = jobs::deliver_outbox(
        &h.store,
        now + SignedDuration::from_secs(1),
        &onetrip_core::outbox::Worker::new("w"),
        &g,
    )
    .unwrap();
    assert_eq!(d.attempted, 0);
    let later = now + outbox::backoff(1);
    let d =
        jobs::deliver_outbox(&h.store, later, &onetrip_core::outbox::Worker::new("w"), &g).unwrap();
    assert_eq!(d.sent, 2, "both heads");
    let d =
        jobs::deliver_outbox(&h.store, later, &onetrip_core::outbox::Worker::new("w"), &g).unwrap();
    assert_eq!(d.sent, 1, "then the second of the first phone");
    // Quiet hours: a message caused at 20:59 waits until 08:00.
    let evening: Timestamp = "2026-11-23T12:59:00Z".parse().unwrap();
    accept(&h, &clerk, "13800008888", evening);
    let night: Timestamp = "2026-11-23T13:30:00Z".parse().unwrap(); // 21:30
    assert_eq!(
        jobs::deliver_outbox(&h.store, night, &onetrip_core::outbox::Worker::new("w"), &g)
            .unwrap()
            .attempted,
        0,
        "nothing is sent at night"
    );
    let dawn: Timestamp = "2026-11-23T23:59:00Z".parse().unwrap(); // 07:59
    assert_eq!(
        jobs::deliver_outbox(&h.store, dawn, &onetrip_core::outbox::Worker::new("w"), &g)
            .unwrap()
            .attempted,
        0
    );
    let morning: Timestamp = "2026-11-24T00:00:00Z".parse().unwrap(); // 08:00
    assert_eq!(
        jobs::deliver_outbox(
            &h.store,
            morning,
            &onetrip_core::outbox::Worker::new("w"),
            &g
        )
        .unwrap()
        .sent,
        1
    );
    assert!(messages(&h).iter().all(|m| m.3 == "sent"));
}

#[test]
fn a_worker_that_dies_mid_delivery_leaves_the_message_to_another_with_the_same_key() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    accept(&h, &clerk, "13800009999", t0());
    // Worker A claims the message and hands it to the gateway, then dies before recording.
    let claimed = h
        .store
        .write(|tx| outbox::claim(tx, "A", t0(), outbox::LEASE, 50))
        .unwrap();
    assert_eq!(claimed.len(), 1);
    let key = claimed[0].dedupe.clone();
    // Worker B finds nothing while A's claim lasts: one message, one deliverer.
    let g = Recorder::default();
    let d = jobs::deliver_outbox(
        &h.store,
        t0() + SignedDuration::from_secs(30),
        &onetrip_core::outbox::Worker::new("B"),
        &g,
    )
    .unwrap();
    assert_eq!(d.attempted, 0);
    // A's claim lapses: B delivers it, with the key the gateway already saw from A.
    let d = jobs::deliver_outbox(
        &h.store,
        t0() + outbox::LEASE,
        &onetrip_core::outbox::Worker::new("B"),
        &g,
    )
    .unwrap();
    assert_eq!(d.sent, 1);
    assert_eq!(g.seen.lock().unwrap()[0].1, key);
    // A's late record of its own attempt changes nothing: the claim is no longer its.
    let late = outbox::record(
        &h.store,
        t0() + outbox::LEASE,
        "A",
        &[(claimed[0].clone(), Err("超时".into()))],
    )
    .unwrap();
    assert_eq!(late.failed, 1);
    assert_eq!(messages(&h)[0].3, "sent");
}

#[test]
fn a_dead_message_is_listed_and_a_supervisor_sends_it_again() {
    let h = demo_hall();
    let clerk = h.as_token(&h.sign_in("zhangwei", Some(1)));
    let boss = h.as_token(&h.sign_in("zhouhong", None));
    accept(&h, &clerk, "13800001234", t0());
    let g = Recorder::default();
    g.fail.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut now = t0();
    for attempt in 1..=outbox::MAX_ATTEMPTS {
        jobs::deliver_outbox(&h.store, now, &onetrip_core::outbox::Worker::new("w"), &g).unwrap();
        now += outbox::backoff(attempt);
    }
    let view = h
        .store
        .execute(&boss, now, ListOutbox::default())
        .unwrap()
        .response;
    assert_eq!(view.counts.dead, 1);
    let dead = &view.messages[0];
    assert_eq!(dead.status, Status::Dead);
    assert_eq!(dead.recipient, "138****1234", "masked on the screen");
    assert_eq!(dead.last_error.as_deref(), Some("网关返回 503"));
    let only_sent = h
        .store
        .execute(
            &boss,
            now,
            ListOutbox {
                status: Some(Status::Sent),
                ..ListOutbox::default()
            },
        )
        .unwrap()
        .response;
    assert!(only_sent.messages.is_empty());
    // A clerk may not retry; retrying a message that is not dead is refused.
    assert_eq!(
        h.store
            .execute(
                &clerk,
                now,
                RetryMessage {
                    id: dead.id.clone()
                }
            )
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    h.store
        .execute(
            &boss,
            now,
            RetryMessage {
                id: dead.id.clone(),
            },
        )
        .unwrap();
    assert_eq!(
        h.store
            .execute(
                &boss,
                now,
                RetryMessage {
                    id: dead.id.clone()
                }
            )
            .unwrap_err()
            .code,
        ErrorCode::InvalidTransition
    );
    g.fail.store(false, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        jobs::deliver_outbox(&h.store, now, &onetrip_core::outbox::Worker::new("w"), &g)
            .unwrap()
            .sent,
        1
    );
    assert_eq!(g.kinds().len(), outbox::MAX_ATTEMPTS as usize + 1);
    assert!(
        g.seen.lock().unwrap().iter().all(|s| s.1 == dead.dedupe),
        "one key for every attempt"
    );
}

#[test]
fn settings_refuse_a_gateway_that_cannot_work_and_keep_the_secret_unread() {
    let h = demo_hall();
    let admin = h.as_token(&h.sign_in("admin", None));
    let mut s = h
        .store
        .execute(&admin, t0(), GetMessageSettings {})
        .unwrap()
        .response;
    assert_eq!(
        (s.quiet_from.as_str(), s.quiet_until.as_str()),
        ("21:00", "08:00")
    );
    let before = h.fingerprint();
    s.gateway = outbox::GatewayKind::Http;
    s.gateway_url = "ftp://example".into();
    let put = |s: &onetrip_core::messages::MessageSettings| {
        h.store.execute(
            &admin,
            t0(),
            UpdateMessageSettings {
                settings: s.clone(),
            },
        )
    };
    assert_eq!(put(&s).unwrap_err().code, ErrorCode::InvalidFormat);
    s.gateway_url = "http://127.0.0.1:9/sms".into();
    assert_eq!(put(&s).unwrap_err().code, ErrorCode::Required, "no secret");
    s.gateway_secret = "0123456789abcdef-secret".into();
    s.quiet_from = "25:00".into();
    assert_eq!(put(&s).unwrap_err().code, ErrorCode::InvalidFormat);
    assert_eq!(h.fingerprint(), before);
    s.quiet_from = "22:00".into();
    let saved = put(&s).unwrap().response;
    assert!(
        saved.secret_set && saved.gateway_secret.is_empty(),
        "never read back"
    );
    // Saved again without the secret: it is kept.
    let again = put(&saved).unwrap().response;
    assert!(again.secret_set);
    let (gateway, quiet) = h.store.read(onetrip_core::messages::delivery).unwrap();
    assert_eq!(gateway.secret, "0123456789abcdef-secret");
    assert_eq!(quiet.from, 22 * 60);
}

#[test]
fn two_working_days_before_the_supplement_deadline_the_phone_is_reminded_once() {
    let h = demo_hall();
    let c = h.as_token(&h.sign_in("zhangwei", Some(5)));
    let a = h
        .store
        .execute(
            &c,
            t0(),
            OpenApplication {
                item_id: item_id(&h, "HJ-001"),
                applicant_name: "王建国".into(),
                applicant_id_number: "11010519491231002X".into(),
                applicant_phone: "13800001212".into(),
                ticket_id: None,
            },
        )
        .unwrap()
        .response;
    for (pos, state) in [
        (0, MaterialState::Received),
        (1, MaterialState::Missing),
        (2, MaterialState::Received),
        (3, MaterialState::Received),
        (4, MaterialState::NotApplicable),
    ] {
        h.store
            .execute(
                &c,
                t0(),
                MarkMaterial {
                    id: a.id.clone(),
                    position: pos,
                    state,
                    note: String::new(),
                },
            )
            .unwrap();
    }
    // Monday 23 November: five working days, until Monday 30 November.
    h.store
        .execute(
            &c,
            t0(),
            DecideApplication {
                id: a.id.clone(),
                decision: Decision::Supplement {
                    pending_checks: vec![],
                    supplement_days: Some(5),
                },
            },
        )
        .unwrap();
    let reminders = |h: &Hall| {
        messages(h)
            .into_iter()
            .filter(|m| m.0 == "notice.supplement_due")
            .collect::<Vec<_>>()
    };
    let sweep = |at: &str| {
        jobs::sweep_deadlines(&h.store, at.parse().unwrap())
            .unwrap()
            .0
            .reminded
    };
    assert_eq!(
        sweep("2026-11-25T02:00:00Z"),
        0,
        "Wednesday: three working days left"
    );
    assert!(reminders(&h).is_empty());
    assert_eq!(
        sweep("2026-11-26T02:00:00Z"),
        1,
        "Thursday: two working days left"
    );
    let r = reminders(&h);
    assert_eq!(r.len(), 1);
    assert!(
        r[0].2.contains("2026年11月30日") && r[0].2.contains("还剩2个工作日"),
        "{}",
        r[0].2
    );
    assert_eq!(sweep("2026-11-26T03:00:00Z"), 0, "once");
    assert_eq!(sweep("2026-11-27T02:00:00Z"), 0, "once per notice");
    assert_eq!(reminders(&h).len(), 1);
}
