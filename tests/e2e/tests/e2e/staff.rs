//! The staff roster import on the real window (issue 8: every importer reports each bad row
//! with its row and column and changes nothing): the admin picks a CSV with mistakes → the
//! screen lists every bad row and no account appears → a corrected file creates the accounts
//! (a GBK file, as Excel saves CSV) and shows their one-time passwords once. Screenshots under target/e2e-shots/.

use onetrip_e2e::{App, op, type_into};

/// Put a file with these bytes into the `<input type=file>` at `css` as if the admin had
/// picked it.
async fn pick_file(app: &App, css: &str, name: &str, bytes: &[u8]) {
    app.client
        .execute(
            "const [sel, name, bytes] = arguments;
             const input = document.querySelector(sel);
             const dt = new DataTransfer();
             dt.items.add(new File([new Uint8Array(bytes)], name, { type: 'text/csv' }));
             input.files = dt.files;
             input.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![css.into(), name.into(), bytes.to_vec().into()],
        )
        .await
        .expect("set the file input");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs Xvfb, tauri-driver and the built app: run `make e2e`"]
async fn a_bad_roster_lists_every_bad_row_and_a_good_one_creates_accounts() {
    let app = App::start("admin").await;
    app.wait_for("[data-testid=signin-form]").await;
    type_into(&app, "[data-testid=signin-login]", "admin").await;
    type_into(&app, "[data-testid=signin-password]", "demo1234").await;
    app.click("[data-testid=signin-submit]").await;
    app.click("[data-testid=tab-staff]").await;
    app.wait_for("[data-testid=staff-import]").await;

    let bad = "登录名,姓名,角色\nxiaoli,小李,窗口人员\nzhangwei,张伟二,窗口人员\nxiaozhao,,分管领导\nxiaoqian,小钱,主任\n";
    pick_file(
        &app,
        "[data-testid=staff-import]",
        "名单.csv",
        bad.as_bytes(),
    )
    .await;
    let table = app
        .wait_text("[data-testid=staff-import-errors]", "主任")
        .await;
    for (row, why) in [("3", "已被使用"), ("4", "姓名不能为空"), ("5", "未知角色")] {
        assert!(
            table.contains(row) && table.contains(why),
            "row {row} ({why}) listed in: {table}"
        );
    }
    app.shot("admin-staff-import-errors").await;
    let staff = op(&app.db, "staff.list", serde_json::json!({}));
    assert!(
        !staff
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["login"] == "xiaoli"),
        "a bad roster created nobody"
    );

    // The corrected file as Excel on a Chinese Windows saves "CSV": GBK, CRLF.
    let good = "登录名,姓名,角色\r\nxiaoli,小李,窗口人员\r\nxiaozhao,小赵,分管领导\r\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(good);
    pick_file(&app, "[data-testid=staff-import]", "名单.csv", &gbk).await;
    let shown = app
        .wait_text("[data-testid=staff-imported]", "xiaozhao")
        .await;
    assert!(
        shown.contains("小李") && shown.contains("分管领导"),
        "{shown}"
    );
    app.shot("admin-staff-imported").await;
    let staff = op(&app.db, "staff.list", serde_json::json!({}));
    let xiaoli = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["login"] == "xiaoli")
        .expect("the roster created xiaoli");
    assert_eq!(xiaoli["must_change_password"], true);
    app.close().await;
}
