//! Cases and their countdown on the real window: accept a case at the counter (through the
//! materials checklist) → it appears in
//! "my cases" with its countdown → suspend it → the countdown shows it paused → resume → request
//! an extension → a supervisor approves it in the admin window → the counter shows the longer
//! limit. Screenshots under target/e2e-shots/. `#[ignore]`d; `make e2e` runs it under Xvfb.

use onetrip_e2e::{App, case_number, choose_item, sign_in_at_window, type_into};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn accept_suspend_resume_and_extend_with_supervisor_approval() {
    let app = App::start("counter").await;
    let c = &app.client;
    sign_in_at_window(&app, "zhangwei", 1).await;
    let counter = c.window().await.unwrap();

    // Accept through the checklist: 户口迁入 (promised 7, statutory 20, extension up to 10).
    app.click("[data-testid=area-cases]").await;
    choose_item(&app, "HJ-001", "HJ-001").await;
    type_into(&app, "[data-testid=app-name]", "王小明").await;
    type_into(&app, "[data-testid=app-id]", "11010519491231002X").await;
    type_into(&app, "[data-testid=app-phone]", "13800000000").await;
    app.click("[data-testid=app-open]").await;
    app.wait_text("[data-testid=app-number]", "户口迁入").await;
    for (position, state) in [
        (0, "received"),
        (1, "received"),
        (2, "received"),
        (3, "received"),
        (4, "not_applicable"),
    ] {
        onetrip_e2e::mark_material(&app, position, state).await;
    }
    app.click("[data-testid=app-accept]").await;
    app.wait_text("[data-testid=doc-title]", "受理通知书").await;
    app.click("[data-testid=app-case]").await;
    // The hall has 90 days of cases: this one's number comes after theirs.
    let number = case_number(&app).await;
    app.wait_text("[data-testid=case-status]", "已受理").await;
    let promised = app
        .wait_text("[data-testid=clock-promised]", "7 个工作日")
        .await;
    assert!(
        promised.contains("剩") || promised.contains("到期"),
        "{promised}"
    );
    // "My cases" lists it with its countdown.
    let row_css = format!("[data-testid=case-row][data-number='{number}']");
    let row = app.wait_text(&row_css, "户口迁入").await;
    assert!(row.contains(&number), "{row}");
    let countdown_css = format!("{row_css} [data-testid=case-countdown]");
    let countdown = app.wait_text(&countdown_css, "个工作日").await;
    assert!(
        countdown.starts_with('剩'),
        "a fresh case counts down: {countdown}"
    );
    app.shot("cases-accept").await;

    // Suspend for an appraisal: the clock pauses.
    app.click("[data-testid=case-suspend]").await;
    type_into(&app, "[data-testid=suspend-note]", "笔迹鉴定").await;
    app.click("[data-testid=suspend-submit]").await;
    app.wait_text("[data-testid=case-status]", "已暂停计时")
        .await;
    app.wait_text("[data-testid=clock-promised]", "已暂停")
        .await;
    app.wait_text(&countdown_css, "已暂停").await;
    app.wait_text("[data-testid=case-timeline]", "暂停计时")
        .await;
    app.shot("cases-suspended").await;

    // Resume: it counts down again.
    app.click("[data-testid=case-resume]").await;
    app.wait_text("[data-testid=case-status]", "审查中").await;
    let resumed = app.wait_text(&countdown_css, "个工作日").await;
    assert!(!resumed.contains("已暂停"), "{resumed}");
    app.wait_text("[data-testid=case-timeline]", "恢复计时")
        .await;

    // Request an extension of 5 working days.
    app.click("[data-testid=case-extend]").await;
    type_into(&app, "[data-testid=extend-days]", "5").await;
    type_into(&app, "[data-testid=extend-reason]", "需实地核查住所").await;
    app.click("[data-testid=extend-submit]").await;
    app.wait_text("[data-testid=pending-extension]", "等待分管领导审批")
        .await;
    app.shot("cases-extension-requested").await;

    // The supervisor approves it on the deadline board in the admin window.
    app.open_window("admin").await;
    app.wait_for("[data-testid=signin-form]").await;
    type_into(&app, "[data-testid=signin-login]", "zhouhong").await;
    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    app.wait_text("[data-testid=pending-extensions]", &number)
        .await;
    app.wait_text("[data-testid=board-cases]", "户口迁入").await;
    app.shot("deadlines-board").await;
    app.click(&format!(
        "[data-testid=pending-extensions] tr[data-number='{number}'] [data-testid=review-extension]"
    ))
    .await;
    app.click("[data-testid=extension-told]").await;
    app.click("[data-testid=extension-approve]").await;
    app.wait_text("[data-testid=case-timeline]", "批准延期")
        .await;
    app.wait_text("[data-testid=clock-promised]", "12 个工作日")
        .await;
    app.shot("deadlines-extension-approved").await;
    app.click("[data-testid=tab-calendar]").await;
    app.wait_text("[data-testid=calendar-grid]", "一").await;
    app.shot("calendar-admin").await;
    app.click("[data-testid=tab-posts]").await;
    app.wait_text("[data-testid=coverage]", "1号窗口岗").await;
    app.wait_text("[data-testid=coverage]", "张伟").await;
    app.shot("posts-coverage").await;
    app.click("[data-testid=tab-catalog]").await;
    app.wait_text("[data-testid=catalog]", "不动产转移登记")
        .await;
    app.shot("catalog-admin").await;
    app.click("[data-testid=service-card]").await;
    app.wait_for("[data-testid=card-preview] img").await;
    app.shot("service-card").await;
    app.click("[data-testid=item-new]").await;
    app.wait_for("[data-testid=item-editor]").await;
    app.shot("catalog-editor").await;

    // Back at the counter the case shows the longer limit (live, by event).
    c.switch_to_window(counter).await.unwrap();
    app.wait_text("[data-testid=clock-promised]", "12 个工作日")
        .await;
    app.wait_text("[data-testid=clock-statutory]", "25 个工作日")
        .await;
    app.wait_text("[data-testid=case-timeline]", "批准延期")
        .await;
    app.shot("cases-extended").await;
    app.close().await;
}
