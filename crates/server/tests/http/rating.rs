//! 扫码评价 over HTTP: the public phone page's operations refuse a wrong code (404, like an
//! unknown notice), a second rating (409 `already_rated`), and a flood from one address (429
//! `rate_limited`), with no credential at all.

use serde_json::{Value, json};

use crate::common::{Auth, start};

/// The code the hall printed on a notice (read from the database: it is on paper only).
fn rating_code(location: &str, number: &str) -> String {
    let sql = "SELECT rating_code FROM documents WHERE number = $1";
    if location.starts_with("postgres") {
        let mut c = postgres::Client::connect(location, postgres::NoTls).unwrap();
        c.query_one(sql, &[&number]).unwrap().get(0)
    } else {
        let c = rusqlite::Connection::open(location).unwrap();
        c.query_row(&sql.replace("$1", "?1"), [number], |r| r.get(0))
            .unwrap()
    }
}

#[test]
fn the_phone_page_refuses_a_wrong_code_a_second_rating_and_a_flood() {
    let s = start();
    let kiosk = s.device("kiosk", "取号机");
    let c = s.category_id("C");
    let issued = s.op(&kiosk, "ticket.issue", json!({"category_id": c})).ok();
    let ticket_id = issued["ticket"]["id"].as_str().unwrap().to_owned();
    let clerk = s.sign_in("chenjing", Some(5));
    s.op(&clerk, "queue.call_next", json!({})).ok();
    s.op(&clerk, "queue.start", json!({"ticket_id": ticket_id}))
        .ok();
    let items = s.op(&clerk, "catalog.list", json!({})).ok();
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category_id"] == c.as_str())
        .unwrap()
        .clone();
    let app = s
        .op(
            &clerk,
            "application.open",
            json!({"item_id": item["id"], "ticket_id": ticket_id, "applicant_name": "王䶮",
                   "applicant_id_number": "11010519491231002X", "applicant_phone": "13800138000"}),
        )
        .ok();
    s.op(
        &clerk,
        "application.mark_all_received",
        json!({"id": app["id"]}),
    )
    .ok();
    let decided = s
        .op(
            &clerk,
            "application.decide",
            json!({"id": app["id"], "decision": {"kind": "accept"}}),
        )
        .ok();
    s.op(&clerk, "queue.finish", json!({"ticket_id": ticket_id}))
        .ok();
    let number = decided["document"]["number"].as_str().unwrap().to_owned();
    let code = rating_code(&s.location, &number);
    let wrong = if code == "000000" { "000001" } else { "000000" };
    let key = |code: &str| -> Value { json!({"number": number, "code": code}) };

    let visit = s.op(&Auth::None, "rating.notice_visit", key(&code)).ok();
    assert_eq!(visit["rated"], false);
    let refused = s.op(
        &Auth::None,
        "rating.by_notice",
        json!({"number": number, "code": wrong, "level": "satisfied"}),
    );
    assert_eq!(
        (refused.status, refused.code()),
        (404, "not_found"),
        "{:?}",
        refused.body
    );
    let rated = s
        .op(
            &Auth::None,
            "rating.by_notice",
            json!({"number": number, "code": code, "level": "satisfied"}),
        )
        .ok();
    assert_eq!(rated["channel"], "qr");
    let again = s.op(
        &Auth::None,
        "rating.by_notice",
        json!({"number": number, "code": code, "level": "very_dissatisfied", "reasons": ["其他"]}),
    );
    assert_eq!((again.status, again.code()), (409, "already_rated"));

    // Guessing codes from one address: after ten tries a minute, 429 whatever the code.
    let mut statuses = vec![];
    for i in 0..12 {
        let a = s.op(
            &Auth::None,
            "rating.notice_visit",
            key(&format!("{:06}", (i * 7919) % 1_000_000)),
        );
        statuses.push(a.status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == 429).count(),
        statuses.len() - 6,
        "four tries were used above; six more pass, the rest are refused: {statuses:?}"
    );
    let limited = s.op(&Auth::None, "rating.notice_visit", key(&code));
    assert_eq!(
        (limited.status, limited.code()),
        (429, "rate_limited"),
        "even the right code waits: {:?}",
        limited.body
    );
}
