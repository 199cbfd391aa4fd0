//! AB posts on the real window, two clerks on one database (two sign-ins at the counter):
//! 张伟 (A of window 1's post) accepts a case and prepares a handover with a note on it →
//! 刘洋 (B) sees the request in his notices, acknowledges the sheet, finds the case in his
//! list marked 代办 with its countdown, and completes it (start → decide → deliver) → he
//! reports back → 张伟 returns, reads the pre-filled hand-back report and acknowledges it.
//! Screenshots under target/e2e-shots/. `#[ignore]`d; `make e2e` runs it under Xvfb.

use onetrip_e2e::{App, choose_item, sign_in_at_window, type_into};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn a_prepares_b_takes_over_and_completes_and_a_reads_the_hand_back() {
    let app = App::start("counter").await;

    // 张伟 accepts a case at window 1 (户口迁入, all materials there).
    sign_in_at_window(&app, "zhangwei", 1).await;
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
    // The new case's number (after the lived-in hall's 90 days of cases).
    let number = app
        .wait_text("[data-testid=app-case]", "330106-")
        .await
        .trim()
        .to_owned();

    // 1. A prepares the handover with a note on the case.
    app.click("[data-testid=area-handover]").await;
    app.wait_text("[data-testid=handover-prepare]", &number)
        .await;
    type_into(&app, "[data-testid=handover-reason]", "参加全市业务培训").await;
    type_into(
        &app,
        &format!("[data-testid=handover-prepare-case][data-number='{number}'] [data-testid=handover-case-note-input]"),
        "已电话核实亲属关系，可出具决定",
    )
    .await;
    type_into(
        &app,
        &format!("[data-testid=handover-prepare-case][data-number='{number}'] [data-testid=handover-case-place-input]"),
        "1号柜二层蓝色档案盒",
    )
    .await;
    app.shot("handover-prepare").await;
    app.click("[data-testid=handover-submit]").await;
    app.wait_text("[data-testid=handover-status]", "待 B 岗确认")
        .await;
    app.wait_text(
        &format!(
            "[data-testid=handover-case][data-number='{number}'] [data-testid=handover-case-note]"
        ),
        "已电话核实亲属关系",
    )
    .await;
    app.click("[data-testid=handover-pdf]").await;
    app.wait_for("[data-testid=handover-preview]").await;
    app.shot("handover-sheet").await;
    app.click("[data-testid=sign-out]").await;

    // 2. B is told, acknowledges, and handles the case marked 代办 with its countdown.
    sign_in_at_window(&app, "liuyang", 2).await;
    app.wait_text("[data-testid=inbox-count]", "1").await;
    app.click("[data-testid=inbox-button]").await;
    app.wait_text("[data-testid=inbox-list]", "张伟 请您顶岗")
        .await;
    app.shot("handover-inbox").await;
    app.click("[data-testid=inbox-item]").await;
    app.click("[data-testid=handover-row][data-role=b] td")
        .await;
    app.click("[data-testid=handover-acknowledge]").await;
    app.wait_text("[data-testid=handover-status]", "顶岗中")
        .await;
    // Window 1's applicants are sent to window 2 on the public display.
    let counter = app.client.window().await.unwrap();
    app.open_window("display").await;
    app.wait_text("[data-testid=display-window-1-routed]", "请到 2 号窗口办理")
        .await;
    app.shot("handover-display-routed").await;
    app.client.switch_to_window(counter).await.unwrap();
    app.click("[data-testid=area-cases]").await;
    let row_css = format!("[data-testid=case-row][data-number='{number}']");
    let row = app.wait_text(&row_css, "代办（张伟）").await;
    assert!(row.contains(&number), "{row}");
    let countdown = app
        .wait_text(
            &format!("{row_css} [data-testid=case-countdown]"),
            "个工作日",
        )
        .await;
    assert!(countdown.starts_with('剩'), "{countdown}");
    app.scroll_to(&row_css).await;
    app.shot("handover-behalf-case").await;
    app.click(&format!("{row_css} td")).await;
    app.wait_text("[data-testid=case-view-behalf]", "代办（张伟）")
        .await;
    app.click("[data-testid=case-start]").await;
    app.wait_text("[data-testid=case-status]", "审查中").await;
    app.click("[data-testid=case-decide]").await;
    app.click("[data-testid=decide-submit]").await;
    app.wait_text("[data-testid=case-status]", "已作出决定")
        .await;
    app.click("[data-testid=case-complete]").await;
    app.wait_text("[data-testid=case-status]", "已办结").await;
    app.wait_text("[data-testid=case-timeline]", "刘洋（代张伟）")
        .await;
    app.shot("handover-behalf-completed").await;

    // B reports back.
    app.click("[data-testid=area-handover]").await;
    app.click("[data-testid=handover-row][data-role=b] td")
        .await;
    // The sheet lists every open case of the post (the lived-in hall has many): this one's row.
    let sheet_row = format!("[data-testid=handover-case][data-number='{number}']");
    app.wait_text(
        &format!("{sheet_row} [data-testid=handover-during]"),
        "办结送达",
    )
    .await;
    type_into(
        &app,
        &format!("{sheet_row} [data-testid=handover-back-note]"),
        "已准予并送达",
    )
    .await;
    type_into(&app, "[data-testid=handover-report-note]", "期间无投诉").await;
    app.click("[data-testid=handover-report]").await;
    app.wait_text("[data-testid=handover-status]", "待 A 岗确认交回")
        .await;
    app.click("[data-testid=sign-out]").await;

    // 3. A returns and reads the pre-filled hand-back report, then acknowledges it.
    sign_in_at_window(&app, "zhangwei", 1).await;
    app.click("[data-testid=area-handover]").await;
    app.click("[data-testid=handover-row][data-role=a] td")
        .await;
    app.wait_text("[data-testid=handover-number]", "交回报告")
        .await;
    let during = app
        .wait_text(
            &format!("{sheet_row} [data-testid=handover-during]"),
            "开始审查",
        )
        .await;
    assert!(
        during.contains("作出决定")
            && during.contains("办结送达")
            && during.contains("刘洋（代张伟）"),
        "{during}"
    );
    app.wait_text("[data-testid=handover-sheet]", "已准予并送达")
        .await;
    app.wait_text("[data-testid=handover-sheet]", "期间无投诉")
        .await;
    app.shot("handover-handback").await;
    app.click("[data-testid=handover-accept-return]").await;
    app.wait_text("[data-testid=handover-status]", "已交回")
        .await;

    // The supervisor's figures for the annual assessment count the takeover and the case
    // handled on behalf (three actions: start, decide, deliver).
    app.open_window("admin").await;
    app.wait_for("[data-testid=signin-form]").await;
    type_into(&app, "[data-testid=signin-login]", "zhouhong").await;
    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    app.click("[data-testid=tab-posts]").await;
    let row = app
        .wait_text("[data-testid=figure-row][data-name='刘洋']", "刘洋")
        .await;
    // Cells: name, took over, emergencies, covered for, cases on behalf, actions, late (the
    // post's overdue cases from the history count as late during the takeover: the figure the
    // core gives).
    let cells: String = row.split_whitespace().collect();
    // The figures of the period the screen shows (its date fields).
    let mut period = Vec::new();
    for css in ["[data-testid=figures-from]", "[data-testid=figures-to]"] {
        let el = app.wait_for(css).await;
        period.push(el.prop("value").await.unwrap().unwrap());
    }
    let (from, to) = (&period[0], &period[1]);
    let figures = onetrip_e2e::op(
        &app.db,
        "handover.figures",
        serde_json::json!({"from": from, "to": to}),
    );
    let liu = figures
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "刘洋")
        .expect("刘洋 in the figures");
    assert_eq!(cells, format!("刘洋10013{}", liu["late_during"]), "{row}");
    app.scroll_to("[data-testid=takeover-figures]").await;
    app.shot("handover-figures").await;
    app.close().await;
}
