//! Request and response shapes match the OpenAPI document: every call in these flows goes
//! through `Server::op`, which validates the request body, the status and the answer against
//! the document the server publishes. The document itself covers every operation.

use serde_json::{Value, json};

use crate::common::{Auth, contract, start};

#[test]
fn the_document_names_every_operation_with_its_schemas_and_errors() {
    let doc = &contract().doc;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(paths.len(), onetrip_core::OPERATIONS.len());
    for info in onetrip_core::OPERATIONS {
        let op = &doc["paths"][format!("/api/op/{}", info.name)]["post"];
        assert_eq!(op["operationId"], info.name);
        for pointer in [
            "/requestBody/content/application~1json/schema",
            "/responses/200/content/application~1json/schema",
            "/responses/422/content/application~1json/schema",
        ] {
            assert!(
                op.pointer(pointer).is_some(),
                "{} lacks {pointer}",
                info.name
            );
        }
        let guarded = info.access != onetrip_core::Access::Public;
        assert_eq!(
            op["responses"].get("403").is_some(),
            guarded,
            "{}",
            info.name
        );
        assert!(op["responses"].get("401").is_some(), "{}", info.name);
    }
    // Every $ref resolves to a component.
    let text = doc.to_string();
    let schemas = doc["components"]["schemas"].as_object().unwrap();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(schemas.contains_key(name), "dangling $ref {name}");
    }
}

#[test]
fn the_served_document_is_the_generated_one() {
    let s = start();
    let served: Value = s
        .http
        .get(format!("{}/api/openapi.json", s.base))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(served, contract().doc);
}

/// A day at a window over HTTP: issue, call, check materials, accept, act on the case, rate,
/// and the supervisor's views. Every request and answer is checked against the document.
#[test]
fn a_window_day_over_http_matches_the_document() {
    let s = start();
    let kiosk = s.device("kiosk", "取号机");
    let display = s.device("display", "叫号屏");
    let c = s.category_id("C");
    let issued = s.op(&kiosk, "ticket.issue", json!({"category_id": c})).ok();
    let ticket_id = issued["ticket"]["id"].as_str().unwrap().to_owned();
    s.op(&kiosk, "ticket.slip", json!({"ticket_id": ticket_id}))
        .ok();
    s.op(&display, "queue.board", json!({})).ok();
    s.op(&display, "hall.board", json!({})).ok();
    s.op(&Auth::None, "hall.get", json!({})).ok();

    let clerk = s.sign_in("chenjing", Some(5));
    s.op(&clerk, "auth.whoami", json!({})).ok();
    let called = s.op(&clerk, "queue.call_next", json!({})).ok();
    assert_eq!(called["id"], ticket_id.as_str());
    s.op(&clerk, "queue.counter", json!({})).ok();
    s.op(&clerk, "queue.start", json!({"ticket_id": ticket_id}))
        .ok();

    let items = s.op(&clerk, "catalog.list", json!({})).ok();
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["category_id"] == c.as_str())
        .expect("a 户籍 item")
        .clone();
    let app = s
        .op(
            &clerk,
            "application.open",
            json!({
                "item_id": item["id"], "ticket_id": ticket_id,
                "applicant_name": "王䶮", "applicant_id_number": "11010519491231002X",
                "applicant_phone": "13800138000"
            }),
        )
        .ok();
    let app_id = app["id"].as_str().unwrap().to_owned();
    for m in app["materials"].as_array().unwrap() {
        let state = if m["requirement"] == "required" {
            "received"
        } else {
            "not_applicable"
        };
        s.op(
            &clerk,
            "application.mark",
            json!({"id": app_id, "position": m["position"], "state": state}),
        )
        .ok();
    }
    // A refused decision is a coded answer in the document too.
    let wrong = s.op(
        &clerk,
        "application.decide",
        json!({"id": app_id, "decision": {"kind": "supplement"}}),
    );
    assert_eq!(wrong.status, 409, "{:?}", wrong.body);
    let decided = s
        .op(
            &clerk,
            "application.decide",
            json!({"id": app_id, "decision": {"kind": "accept"}}),
        )
        .ok();
    let case_id = decided["application"]["case_id"]
        .as_str()
        .unwrap()
        .to_owned();
    s.op(&clerk, "application.get", json!({"id": app_id})).ok();
    s.op(
        &clerk,
        "document.preview",
        json!({"id": decided["document"]["id"]}),
    )
    .ok();
    // Hall mode prints on the clerk's PC: the PDF travels in the answer, equal to the archive.
    let file = s
        .op(
            &clerk,
            "document.file",
            json!({"id": decided["document"]["id"]}),
        )
        .ok();
    let pdf = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        file["pdf_base64"].as_str().unwrap(),
    )
    .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(pdf, std::fs::read(file["path"].as_str().unwrap()).unwrap());
    s.op(&clerk, "case.get", json!({"id": case_id})).ok();
    s.op(
        &clerk,
        "case.act",
        json!({"id": case_id, "action": {"kind": "start"}}),
    )
    .ok();
    s.op(
        &clerk,
        "case.list",
        json!({"scope": "mine", "open_only": true}),
    )
    .ok();
    s.op(&clerk, "case.alerts", json!({})).ok();
    s.op(&clerk, "queue.finish", json!({"ticket_id": ticket_id}))
        .ok();
    // The clerk cannot rate for the applicant (403); the window's rater can, once.
    let refused = s.op(
        &clerk,
        "rating.submit",
        json!({"ticket_id": ticket_id, "level": "very_satisfied"}),
    );
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let rater = s.window_device("rater", "5号窗口评价器", 5);
    s.op(&rater, "window.face", json!({})).ok();
    s.op(
        &rater,
        "rating.submit",
        json!({"ticket_id": ticket_id, "level": "very_satisfied"}),
    )
    .ok();
    let again = s.op(
        &rater,
        "rating.submit",
        json!({"ticket_id": ticket_id, "level": "satisfied"}),
    );
    assert_eq!(
        (again.status, again.code()),
        (409, "already_rated"),
        "{:?}",
        again.body
    );
    s.op(&clerk, "calendar.status", json!({})).ok();
    s.op(&clerk, "post.list", json!({})).ok();
    s.op(&clerk, "handover.list", json!({})).ok();
    s.op(&clerk, "inbox.list", json!({})).ok();

    let boss = s.sign_in("zhouhong", None);
    s.op(&boss, "case.board", json!({})).ok();
    s.op(
        &boss,
        "case.stats",
        json!({"from": "2026-11-01", "to": "2026-11-30"}),
    )
    .ok();
    s.op(&boss, "audit.list", json!({})).ok();
    s.op(&boss, "staff.list", json!({})).ok();
    s.op(
        &boss,
        "handover.figures",
        json!({"from": "2026-11-01", "to": "2026-11-30"}),
    )
    .ok();
    let period = json!({"from": "2026-11-01", "to": "2026-11-30"});
    s.op(&boss, "report.figures", json!({"filter": period}))
        .ok();
    s.op(
        &boss,
        "report.drill",
        json!({"filter": period, "measure": "issued", "day": "2026-11-02"}),
    )
    .ok();
    let file = s
        .op(
            &boss,
            "report.export",
            json!({"filter": period, "format": "xlsx"}),
        )
        .ok();
    assert!(file["filename"].as_str().unwrap().ends_with(".xlsx"));
    s.op(&boss, "report.list", json!({})).ok();
    s.op(&boss, "report.settings", json!({})).ok();
    let admin = s.sign_in("admin", None);
    s.op(&admin, "device.list", json!({})).ok();
}

/// The checker bites: a response that breaks the document fails the test that received it.
#[test]
#[should_panic(expected = "does not match the OpenAPI document")]
fn a_response_that_breaks_the_document_is_caught() {
    contract().check(
        "ticket.issue",
        "/responses/200/content/application~1json/schema",
        &json!({"ticket": {"number": 1}, "ahead": -1}),
    );
}

#[test]
fn a_server_without_its_ui_says_so_on_every_page() {
    let s = start();
    for page in ["/display", "/kiosk", "/counter"] {
        let r = s.http.get(format!("{}{page}", s.base)).send().unwrap();
        assert_eq!(r.status(), 404, "{page}");
        let html = r.text().unwrap();
        assert!(html.contains("界面文件缺失"), "{page}: {html}");
    }
    // The API itself is unaffected.
    let health = s.http.get(format!("{}/api/health", s.base)).send().unwrap();
    assert_eq!(health.status(), 200);
}
