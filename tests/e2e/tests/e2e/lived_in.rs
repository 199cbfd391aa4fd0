//! The hall `make run` opens (the demo and 90 days of history), as each demo account finds it:
//!
//! - every clerk signs in at a window and opens 叫号, 办件 and 交接顶岗; the supervisor and the
//!   administrator open every admin tab their role shows; a clerk signing in at the admin window
//!   is told to sign in at a window. No screen shows an error, and the clerks with cases in the history
//!   see them in 我的办件. Screenshots at 1280×800 and 1920×1080, named by flow and size.
//! - the key counter flow by keyboard only: sign in (this PC's window chosen already), F1 call,
//!   F3 start, Alt+2 to 办件, the item found by its pinyin initials, the applicant typed, A for
//!   全部已收, Enter to accept, F4 finish.
//!
//! `#[ignore]`d; `make e2e` runs them under Xvfb (a 1920×1080 screen).

use fantoccini::key::Key;
use onetrip_e2e::{App, sign_in_at_window, type_into};

/// Counter PCs and the supervisor's PC: the smallest and the common screen.
const SIZES: &[(u32, u32)] = &[(1280, 800), (1920, 1080)];

/// (login, window): every demo clerk (two of them have no post of their own and borrow one).
const CLERKS: &[(&str, u32)] = &[
    ("zhangwei", 1),
    ("liuyang", 2),
    ("wangfang", 3),
    ("lina", 4),
    ("chenjing", 5),
    ("yangqiang", 6),
    ("zhaolei", 1),
    ("huangmin", 2),
];

async fn no_errors(app: &App, what: &str) {
    // Give the screen's reads time to answer (an error appears only after they fail).
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let errors = app.visible_errors().await;
    assert!(errors.is_empty(), "{what} shows an error: {errors:?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn every_demo_account_finds_its_screens_working_on_the_lived_in_hall() {
    let app = App::start("counter").await;
    app.size(1280, 800).await;
    for (login, window) in CLERKS {
        sign_in_at_window(&app, login, *window).await;
        for area in ["queue", "cases", "handover"] {
            app.click(&format!("[data-testid=area-{area}]")).await;
            no_errors(&app, &format!("{login}'s {area} tab")).await;
        }
        // The history gave every clerk open cases of their own: 我的办件 lists them.
        app.click("[data-testid=area-cases]").await;
        app.wait_for("[data-testid=my-cases] [data-testid=case-row]")
            .await;
        if *login == "zhangwei" {
            for (w, h) in SIZES {
                app.size(*w, *h).await;
                for area in ["queue", "cases", "handover"] {
                    app.click(&format!("[data-testid=area-{area}]")).await;
                    app.shot(&format!("lived-counter-{area}-{w}x{h}")).await;
                }
            }
            app.size(1280, 800).await;
        }
        app.click("[data-testid=sign-out]").await;
        app.wait_for("[data-testid=signin-form]").await;
    }

    // The admin window, for the supervisor and the administrator: every tab their role shows.
    app.open_window("admin").await;
    for login in ["zhouhong", "admin"] {
        app.size(1280, 800).await;
        app.wait_for("[data-testid=signin-form]").await;
        type_into(&app, "[data-testid=signin-login]", login).await;
        type_into(&app, "[data-testid=signin-password]", "demo1234").await;
        app.click("[data-testid=signin-submit]").await;
        app.wait_for("nav [data-testid^=tab-]").await;
        let tabs = app
            .client
            .execute(
                "return [...document.querySelectorAll('nav [data-testid^=tab-]')].map(b => b.dataset.testid);",
                vec![],
            )
            .await
            .unwrap();
        let tabs: Vec<String> = tabs
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect();
        let expected = if login == "admin" { 16 } else { 12 };
        assert_eq!(tabs.len(), expected, "{login} sees {tabs:?}");
        for tab in &tabs {
            app.click(&format!("[data-testid={tab}]")).await;
            no_errors(&app, &format!("{login}'s {tab}")).await;
            if login == "zhouhong" {
                for (w, h) in SIZES {
                    app.size(*w, *h).await;
                    app.shot(&format!("lived-admin-{}-{w}x{h}", &tab[4..]))
                        .await;
                }
                app.size(1280, 800).await;
            }
        }
        app.click(".topbar button:last-child").await;
    }
    // A clerk signing in at the admin window is told to sign in at a window, with its code.
    app.wait_for("[data-testid=signin-form]").await;
    type_into(&app, "[data-testid=signin-login]", "lina").await;
    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    let err = app.wait_for("[data-testid=signin-error]").await;
    assert_eq!(
        err.attr("data-code").await.unwrap().as_deref(),
        Some("window_required")
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn the_key_counter_flow_by_keyboard_only() {
    let app = App::start("counter").await;
    app.size(1280, 800).await;
    // An applicant took a 户籍 (C) ticket at the kiosk.
    let cats = onetrip_e2e::op(&app.db, "category.list", serde_json::json!({}));
    let c = cats
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["prefix"] == "C")
        .unwrap();
    let ticket = onetrip_e2e::op(
        &app.db,
        "ticket.issue",
        serde_json::json!({"category_id": c["id"]}),
    );
    let number = ticket["ticket"]["number"].as_str().unwrap().to_owned();

    // This PC is window 5's: signed in there once, the form chooses it next time.
    sign_in_at_window(&app, "wangfang", 5).await;
    app.click("[data-testid=sign-out]").await;
    app.wait_text("[data-testid=signin-window]", "5号窗口")
        .await;
    let chosen = app
        .client
        .execute(
            "const s = document.querySelector('[data-testid=signin-window]');
             return [s.options[s.selectedIndex].text, document.activeElement.dataset.testid];",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        chosen[0].as_str().unwrap().starts_with("5号窗口"),
        "this PC's window is chosen: {chosen}"
    );
    assert_eq!(chosen[1], "signin-login", "the cursor starts in the login");

    // From here on, only keys.
    app.keys("wangfang").await;
    app.chord(&[Key::Tab.into()]).await;
    app.keys("demo1234").await;
    app.chord(&[Key::Enter.into()]).await;
    app.wait_text("[data-testid=counter-window]", "5号窗口")
        .await;
    app.shot("keyboard-signed-in-1280x800").await;

    app.chord(&[Key::F1.into()]).await;
    app.wait_text("[data-testid=counter-current-number]", &number)
        .await;
    app.chord(&[Key::F3.into()]).await;
    app.wait_text("[data-testid=counter-current-status]", "办理中")
        .await;

    // Alt+2: 办件, the cursor in the item search; "hkqr" is 户口迁入.
    app.chord(&[Key::Alt.into(), '2']).await;
    app.wait_text("[data-testid=strip-number]", &number).await;
    app.wait_for("[data-testid=app-item-search]").await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    app.keys("hkqr").await;
    app.wait_text("[data-testid=app-item-list]", "户口迁入")
        .await;
    app.shot("keyboard-item-search-1280x800").await;
    app.chord(&[Key::Enter.into()]).await;
    app.wait_text("[data-testid=app-item-chosen]", "户口迁入")
        .await;
    // The cursor moved on to the applicant's name.
    app.keys("李明").await;
    app.chord(&[Key::Tab.into()]).await;
    app.keys("11010519491231002X").await;
    app.chord(&[Key::Tab.into()]).await;
    app.keys("13800000000").await;
    app.chord(&[Key::Enter.into()]).await;
    app.wait_text("[data-testid=app-visits]", "第 1 次到窗")
        .await;

    // A: every material received; the accept button takes the focus; Enter accepts.
    app.keys("a").await;
    app.wait_for("[data-testid=app-material].st-received").await;
    let pending = app
        .client
        .find_all(fantoccini::Locator::Css(
            "[data-testid=app-material].st-pending",
        ))
        .await
        .unwrap();
    assert!(pending.is_empty(), "all received in one key");
    app.shot("keyboard-all-received-1280x800").await;
    let focused = app
        .client
        .execute("return document.activeElement.dataset.testid;", vec![])
        .await
        .unwrap();
    assert_eq!(focused, "app-accept", "accepting is the next key");
    app.chord(&[Key::Enter.into()]).await;
    app.wait_text("[data-testid=doc-title]", "受理通知书").await;
    app.wait_text("[data-testid=app-status]", "已受理").await;

    // F4 finishes the ticket from the 办件 tab.
    app.chord(&[Key::F4.into()]).await;
    app.wait_text("[data-testid=current-strip]", "F1").await;
    app.shot("keyboard-finished-1280x800").await;
    app.close().await;
}
