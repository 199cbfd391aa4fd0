//! The queue on the real window: the kiosk issues A001, the counter calls it, the display
//! shows A001 at window 1, the rater window (bound to window 1 by the shell) rates it; the display's latency from the click to the number on screen is
//! measured (target ≤ 100 ms; written to target/e2e-shots/display-latency.txt). `#[ignore]`d; `make e2e` runs it under Xvfb.

use std::time::{Duration, Instant};

use onetrip_e2e::{App, sign_in_at_window};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn kiosk_issues_a001_the_counter_calls_it_and_the_display_shows_it() {
    let app = App::start("counter").await;
    let c = &app.client;
    sign_in_at_window(&app, "zhangwei", 1).await;
    app.wait_text("[data-testid=counter-no-current]", "F1")
        .await;
    let counter = c.window().await.unwrap();

    // Kiosk: take a ticket for 不动产登记 (A).
    let kiosk = app.open_and_switch("[data-testid=open-kiosk]").await;
    app.wait_text("[data-testid=kiosk-take-A]", "不动产登记")
        .await;
    app.shot("kiosk-home").await;
    app.click("[data-testid=kiosk-take-A]").await;
    let number = app
        .wait_text("[data-testid=kiosk-ticket-number]", "A001")
        .await;
    assert_eq!(number.trim(), "A001");
    let ticket = app
        .wait_for("[data-testid=kiosk-ticket]")
        .await
        .text()
        .await
        .unwrap();
    assert!(ticket.contains("前面还有 0 人等候"), "{ticket}");
    assert!(ticket.contains("西湖区政务服务中心"), "{ticket}");
    // No printer is attached in this run: the kiosk says so instead of pretending.
    app.wait_text("[data-testid=kiosk-print-state]", "未连接号票打印机")
        .await;
    app.shot("kiosk-issue").await;

    // The rater facing the applicant: on this one-monitor PC it opens on request, bound by the
    // shell to the window the clerk signed in at.
    c.switch_to_window(counter.clone()).await.unwrap();
    let rater = app.open_and_switch("[data-testid=open-rater]").await;
    app.wait_text("[data-testid=rater-window]", "1 号窗口")
        .await;
    app.wait_text("[data-testid=rater-clerk]", "张伟").await;

    // Display: open it from the counter and watch for the call.
    c.switch_to_window(counter.clone()).await.unwrap();
    app.wait_text("[data-testid=counter-waiting]", "A001").await;
    let display = app.open_and_switch("[data-testid=open-display]").await;
    app.wait_text("[data-testid=display-newest]", "今日尚未叫号")
        .await;
    // Record, in the display itself, when A001 first appears as the newest call.
    c.execute(
        "window.__seen = null;
         const target = document.querySelector('[data-testid=display-newest]');
         new MutationObserver(() => {
           const n = document.querySelector('[data-testid=display-newest-number]');
           if (!window.__seen && n && n.textContent.includes('A001')) window.__seen = performance.timeOrigin + performance.now();
         }).observe(target, { subtree: true, childList: true, characterData: true });",
        vec![],
    )
    .await
    .unwrap();

    // Counter: F1-button call next.
    c.switch_to_window(counter.clone()).await.unwrap();
    app.click("[data-testid=counter-call-next]").await;
    let clicked: f64 = c
        .execute(
            "const m = performance.getEntriesByName('onetrip:call-next').pop(); return performance.timeOrigin + m.startTime;",
            vec![],
        )
        .await
        .unwrap()
        .as_f64()
        .unwrap();
    app.wait_text("[data-testid=counter-current-number]", "A001")
        .await;
    app.wait_text("[data-testid=counter-current-status]", "已叫号")
        .await;
    app.shot("counter-call").await;

    c.switch_to_window(display.clone()).await.unwrap();
    app.wait_text("[data-testid=display-newest-number]", "A001")
        .await;
    app.wait_text("[data-testid=display-window-1-number]", "A001")
        .await;
    app.wait_text("[data-testid=display-newest]", "请到 1 号窗口")
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let seen = loop {
        let v = c.execute("return window.__seen;", vec![]).await.unwrap();
        if let Some(t) = v.as_f64() {
            break t;
        }
        assert!(Instant::now() < deadline, "the observer never saw A001");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let latency_ms = seen - clicked;
    println!("display latency from the call click: {latency_ms:.1} ms");
    std::fs::write(
        onetrip_e2e::shots_dir().join("display-latency.txt"),
        format!("{latency_ms:.1} ms\n"),
    )
    .unwrap();
    // The target (≤ 100 ms) is a figure to report, not a timed gate that flakes on a loaded CI
    // machine; the gate catches what would really be wrong: polling or a missed event.
    assert!(
        (0.0..=1000.0).contains(&latency_ms),
        "the display follows the call by event, within a second at worst; took {latency_ms:.1} ms"
    );
    app.shot("display-call").await;

    // Serve and finish: the console says the rating is the applicant's, on the rater facing
    // them (待评价), and offers no buttons to rate with: the clerk cannot rate for them.
    c.switch_to_window(counter.clone()).await.unwrap();
    app.click("[data-testid=counter-start]").await;
    app.wait_text("[data-testid=counter-current-status]", "办理中")
        .await;
    app.click("[data-testid=counter-finish]").await;
    app.wait_text("[data-testid=counter-rating]", "待申请人")
        .await;
    let buttons = app
        .client
        .execute(
            "return document.querySelectorAll('[data-testid^=rate-], [data-testid=counter-rating] button').length;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        buttons,
        serde_json::json!(0),
        "the console has no rating buttons"
    );
    app.shot("counter-rate").await;
    app.wait_text("[data-testid=counter-counts]", "已办结")
        .await;
    // The applicant rates on the desktop rater; the console then says it was rated.
    c.switch_to_window(rater).await.unwrap();
    app.click("[data-testid=rater-very_satisfied]").await;
    app.wait_for("[data-testid=rater-thanks]").await;
    app.shot("desk-rater-thanks").await;
    c.switch_to_window(counter.clone()).await.unwrap();
    app.wait_text("[data-testid=counter-rating]", "已评价")
        .await;
    let _ = kiosk;
    app.close().await;
}
