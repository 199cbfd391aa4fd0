//! The supervisor's reports on the real window: the lived-in hall (90 days of history) → the
//! dashboard's figures equal the core's for the same period → a figure drills down to its cases
//! → a case opens with its record → a clerk filter narrows everything → the xlsx and the PDF
//! are saved. Screenshots under target/e2e-shots/. `#[ignore]`d; `make e2e` runs it under Xvfb.

use onetrip_e2e::{App, op, select_option, type_into};

/// The first number in a tile's text ("取号1368" → 1368).
fn number_in(text: &str) -> u32 {
    let digits: String = text
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("a number in {text:?}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn dashboard_figures_drill_down_to_a_case_and_export() {
    let app = App::start("admin").await;
    // The lived-in hall: 90 days of history, last month inside them.
    app.wait_for("[data-testid=signin-form]").await;
    type_into(&app, "[data-testid=signin-login]", "zhouhong").await;
    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    app.click("[data-testid=tab-reports]").await;
    app.click("[data-testid=report-quick-lastMonth]").await;
    app.wait_for("[data-testid=report-tiles]").await;
    let c = &app.client;
    let from = c
        .find(fantoccini::Locator::Css("[data-testid=report-from]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let to = c
        .find(fantoccini::Locator::Css("[data-testid=report-to]"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap()
        .unwrap();
    let want = op(
        &app.db,
        "report.figures",
        serde_json::json!({"filter": {"from": from, "to": to}}),
    );
    let issued = want["queue"]["total"]["issued"].as_u64().unwrap();
    let decided = want["cases"]["total"]["decided"].as_u64().unwrap();
    assert!(issued > 0 && decided > 0, "history in {from}..{to}");
    let tile = app
        .wait_text("[data-testid=fig-issued]", &issued.to_string())
        .await;
    assert_eq!(u64::from(number_in(&tile)), issued, "{tile}");
    let tile = app
        .wait_text("[data-testid=fig-decided]", &decided.to_string())
        .await;
    assert_eq!(u64::from(number_in(&tile)), decided, "{tile}");
    let rate = format!(
        "{}%",
        want["cases"]["total"]["on_time_rate"].as_f64().unwrap()
    );
    app.wait_text("[data-testid=fig-on-time]", &rate).await;
    app.wait_for("[data-testid=chart-trend] svg").await;
    app.wait_for("[data-testid=chart-items] svg").await;
    app.wait_text("[data-testid=report-by-clerk]", "张伟").await;
    app.shot("reports-dashboard").await;
    app.scroll_to("[data-testid=chart-trend]").await;
    app.shot("reports-charts").await;

    // A figure → the cases behind it → one case's record.
    app.click("[data-testid=fig-decided]").await;
    app.wait_text("[data-testid=drill-panel]", &format!("共 {decided} 条"))
        .await;
    let first = app.wait_for("[data-testid=drill-case]").await;
    let row = first.text().await.unwrap();
    let cell = first.find(fantoccini::Locator::Css("td")).await.unwrap();
    let number = cell.text().await.unwrap().trim().to_owned();
    assert!(number.starts_with("330106-"), "a case number: {number}");
    assert!(row.contains("已办结"), "a decided case: {row}");
    app.shot("reports-drill").await;
    cell.click().await.unwrap();
    app.wait_text("[data-testid=case-number]", &number).await;
    app.wait_for("[data-testid=case-timeline]").await;
    let masked = app
        .wait_text("[data-testid=case-applicant-phone]", "****")
        .await;
    assert_eq!(masked.chars().count(), 11, "a masked mobile: {masked}");
    app.shot("reports-drill-case").await;
    // The full numbers on request, and the request is on the record.
    app.click("[data-testid=case-reveal]").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let phone = app
            .wait_for("[data-testid=case-applicant-phone]")
            .await
            .text()
            .await
            .unwrap();
        if !phone.contains('*') {
            assert!(phone.chars().all(|c| c.is_ascii_digit()), "{phone}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the full phone appears"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let audit = op(
        &app.db,
        "audit.list",
        serde_json::json!({"op": "case.reveal"}),
    );
    assert!(
        audit.to_string().contains("case.reveal"),
        "the full view is in the audit log"
    );
    app.click("[data-testid=drill-close]").await;

    // A clerk filter narrows the figures to that clerk's.
    select_option(&app, "[data-testid=report-clerk]", "张伟").await;
    let staff = op(&app.db, "staff.list", serde_json::json!({}));
    let clerk = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "张伟")
        .expect("张伟 is on the staff")["id"]
        .clone();
    let mine = op(
        &app.db,
        "report.figures",
        serde_json::json!({"filter": {"from": from, "to": to, "staff_id": clerk}}),
    );
    let mine_issued = mine["queue"]["total"]["issued"].as_u64().unwrap();
    assert!(mine_issued < issued);
    app.wait_text("[data-testid=fig-issued]", &mine_issued.to_string())
        .await;
    app.shot("reports-filtered").await;

    // Exports land on this PC.
    for (button, magic) in [
        ("report-export-xlsx", &b"PK"[..]),
        ("report-export-pdf", &b"%PDF"[..]),
    ] {
        app.click(&format!("[data-testid={button}]")).await;
        let text = app
            .wait_text(
                "[data-testid=report-exported]",
                if magic == b"PK" { ".xlsx" } else { ".pdf" },
            )
            .await;
        let path = text.split_once('：').map(|(_, p)| p.trim()).unwrap_or("");
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        assert!(bytes.starts_with(magic), "{path}");
        let _ = std::fs::remove_file(path);
    }
    app.close().await;
}
