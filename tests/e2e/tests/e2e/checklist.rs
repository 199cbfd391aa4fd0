//! One trip, on the real window: call a ticket → open the item → mark two materials missing →
//! the one-time notice (一次性告知单) is issued, archived and previewed → the applicant returns →
//! only the missing materials are checked → accept → the acceptance notice (受理通知书).
//! Screenshots under target/e2e-shots/. `#[ignore]`d; `make e2e` runs it under Xvfb.

use std::process::Command;

use onetrip_e2e::{App, choose_item, sign_in_at_window, type_into};

fn first_word(text: &str) -> String {
    text.split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

async fn mark(app: &App, position: u32, state: &str) {
    onetrip_e2e::mark_material(app, position, state).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn call_check_notify_return_accept() {
    let app = App::start("counter").await;
    // An applicant took a 户籍 (C) ticket at the kiosk.
    let cli = |args: &[&str]| {
        let out = Command::new(onetrip_e2e::workspace_root().join("target/debug/onetrip"))
            .arg("--db")
            .arg(&app.db)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    let cats = cli(&["op", "category.list"]);
    let c = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["prefix"] == "C")
        .unwrap();
    let ticket = cli(&[
        "op",
        "ticket.issue",
        &serde_json::json!({"category_id": c["id"]}).to_string(),
    ]);
    assert_eq!(ticket["ticket"]["number"], "C001");

    sign_in_at_window(&app, "wangfang", 5).await;
    app.click("[data-testid=counter-call-next]").await;
    app.wait_text("[data-testid=counter-current-number]", "C001")
        .await;

    // Open the item: 户口迁入, suggested from the ticket's category.
    app.click("[data-testid=area-cases]").await;
    // Found by its pinyin initials (户口迁入 → hkqr), suggested from the ticket's category.
    assert!(
        choose_item(&app, "hkqr", "HJ-001").await,
        "the item is suggested from the ticket's category"
    );
    type_into(&app, "[data-testid=app-name]", "李明").await;
    type_into(&app, "[data-testid=app-id]", "11010519491231002X").await;
    type_into(&app, "[data-testid=app-phone]", "13800000000").await;
    app.click("[data-testid=app-open]").await;
    // Numbered after the lived-in hall's 90 days of applications.
    let application = first_word(
        &app.wait_text("[data-testid=app-number]", "330106-SQ-2026-")
            .await,
    );
    app.wait_text("[data-testid=app-visits]", "第 1 次到窗")
        .await;

    // Two materials missing, one with a note.
    mark(&app, 0, "received").await;
    mark(&app, 1, "missing").await;
    mark(&app, 2, "missing").await;
    type_into(
        &app,
        "[data-testid=app-material][data-position='2'] [data-testid=mark-note]",
        "复印件不清晰\n",
    )
    .await;
    mark(&app, 3, "received").await;
    mark(&app, 4, "not_applicable").await;
    // Accepting is refused while materials are missing.
    app.click("[data-testid=app-accept]").await;
    app.wait_text("[data-testid=app-error]", "户口簿").await;
    app.shot("checklist-marked").await;

    // The one-time notice: issued, archived, previewed, sent to print.
    app.click("[data-testid=app-supplement]").await;
    app.click("[data-testid=app-supplement-issue]").await;
    app.wait_text("[data-testid=doc-title]", "补正材料通知书")
        .await;
    let notice = app
        .wait_text("[data-testid=doc-title]", "330106-WS-2026-")
        .await;
    let notice = notice
        .split_whitespace()
        .find(|w| w.starts_with("330106-WS-"))
        .unwrap()
        .to_owned();
    app.wait_text("[data-testid=app-status]", "待补正").await;
    let archived = app
        .db
        .parent()
        .unwrap()
        .join("archive")
        .read_dir()
        .unwrap()
        .flatten()
        .flat_map(|y| std::fs::read_dir(y.path()).unwrap().flatten())
        .flat_map(|m| std::fs::read_dir(m.path()).unwrap().flatten())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(
        archived.contains(&format!("{notice}.pdf")),
        "{notice} archived: {archived:?}"
    );
    app.click("[data-testid=doc-print]").await;
    app.wait_text("[data-testid=doc-print-state]", "未设置文书打印机")
        .await;
    app.shot("checklist-notice").await;

    // The applicant comes back with the supplement: only the missing ones are checked again.
    app.client
        .execute(
            "document.querySelector('[data-testid=doc-preview] button:last-child').click()",
            vec![],
        )
        .await
        .unwrap();
    app.click("[data-testid=app-return]").await;
    app.wait_text("[data-testid=app-visits]", "第 2 次到窗")
        .await;
    mark(&app, 1, "received").await;
    mark(&app, 2, "received").await;
    app.click("[data-testid=app-accept]").await;
    app.wait_text("[data-testid=doc-title]", "受理通知书").await;
    app.wait_text("[data-testid=app-status]", "已受理").await;
    app.wait_text("[data-testid=app-case]", "330106-2026-")
        .await;
    app.wait_text("[data-testid=app-number]", &application)
        .await;
    app.shot("checklist-accepted").await;

    // The applicant's phone was told both: what was missing and by when, then the acceptance.
    // The desktop's own jobs deliver them (this hall has no SMS gateway: to the log).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let sent = loop {
        let view = cli(&["op", "outbox.list", "{}"]);
        // This applicant's (the lived-in hall's history texted other phones).
        let rows: Vec<serde_json::Value> = view["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["recipient"] == "138****0000")
            .cloned()
            .collect();
        if rows.len() >= 2 && rows.iter().all(|m| m["status"] == "sent") {
            break rows;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the messages were delivered: {rows:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
    let kinds: Vec<&str> = sent.iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["case.accepted", "notice.supplement"],
        "newest first"
    );
    assert_eq!(sent[1]["recipient"], "138****0000", "masked");
    let told = sent[1]["body"].as_str().unwrap();
    assert!(told.contains("户口簿") && told.contains("前带齐"), "{told}");

    // The supervisor's outbox and the hall's templates (管理 › 消息).
    app.open_window("admin").await;
    app.size(1280, 800).await;
    app.wait_for("[data-testid=signin-form]").await;
    type_into(&app, "[data-testid=signin-login]", "zhouhong").await;
    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    app.click("[data-testid=tab-messages]").await;
    app.wait_text("[data-testid=outbox-table]", "138****0000")
        .await;
    app.wait_text("[data-testid=outbox-table]", "已发送").await;
    app.shot("admin-outbox").await;
    app.scroll_to("[data-testid=message-templates]").await;
    app.wait_text(
        "[data-testid='template-notice.supplement'] [data-testid=template-preview]",
        "西湖区政务服务中心",
    )
    .await;
    app.shot("admin-templates").await;
    app.close().await;
}
