//! The real desktop window: sign in at a window, open the public display, see the hall name.
//! `#[ignore]`d so plain `cargo test` stays display-free; `make e2e` runs it under Xvfb.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use onetrip_e2e::{App, choose_window, type_into};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn clerk_signs_in_at_a_window_and_the_display_shows_the_hall() {
    let app = App::start("counter").await;
    let c = &app.client;

    // The real built window serves the UI through the tauri:// protocol, not a dev server.
    let url = c.current_url().await.unwrap();
    assert!(
        url.scheme() == "tauri" || url.host_str() == Some("tauri.localhost"),
        "wrong binary? page at {url}"
    );

    app.wait_for("[data-testid=signin-form]").await;
    app.wait_text("[data-testid=signin-window]", "1号窗口")
        .await;
    app.shot("counter-signin").await;

    // Wrong password first: a clear, coded error, nothing signed in.
    choose_window(&app, 1).await;
    type_into(&app, "[data-testid=signin-login]", "zhangwei").await;
    type_into(&app, "[data-testid=signin-password]", "wrong-pass-1").await;
    app.wait_for("[data-testid=signin-submit]")
        .await
        .click()
        .await
        .unwrap();
    let err = app.wait_for("[data-testid=signin-error]").await;
    assert_eq!(
        err.attr("data-code").await.unwrap().as_deref(),
        Some("wrong_credentials")
    );
    assert!(err.text().await.unwrap().contains("登录名或密码错误"));
    app.shot("counter-signin-error").await;

    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.wait_for("[data-testid=signin-submit]")
        .await
        .click()
        .await
        .unwrap();
    app.wait_text("[data-testid=counter-window]", "1号窗口")
        .await;
    app.wait_text("[data-testid=counter-staff]", "张伟").await;
    app.wait_text("[data-testid=hall-status]", "张伟").await;
    app.shot("counter-signed-in").await;

    // Open the public display from the counter and find its window.
    let before = c.windows().await.unwrap();
    app.wait_for("[data-testid=open-display]")
        .await
        .click()
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let display = loop {
        let now = c.windows().await.unwrap();
        if let Some(h) = now.into_iter().find(|h| !before.contains(h)) {
            break h;
        }
        assert!(Instant::now() < deadline, "the display window did not open");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    c.switch_to_window(display).await.unwrap();
    let name = app
        .wait_text("[data-testid=display-hall-name]", "西湖区政务服务中心")
        .await;
    assert_eq!(name.trim(), "西湖区政务服务中心");
    // The display is live: window 1 shows its clerk.
    let body = c
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        body.contains("张伟"),
        "the display shows who is at window 1"
    );
    app.shot("display-hall").await;
    app.close().await;
}
