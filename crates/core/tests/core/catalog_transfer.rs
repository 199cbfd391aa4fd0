//! Catalog export and import as JSON and xlsx: round trips, and bad files reported row by row
//! with nothing changed.

use crate::common::{Hall, demo_hall, t0};
use base64::Engine;
use onetrip_core::catalog::{
    ExportCatalog, ImportCatalog, ItemFields, ListItems, RowError, TransferFormat,
};
use onetrip_core::{Caller, ErrorCode};

fn items(h: &Hall) -> Vec<ItemFields> {
    h.store
        .execute(&Caller::system("t"), t0(), ListItems {})
        .unwrap()
        .response
        .into_iter()
        .map(|i| i.fields)
        .collect()
}

fn export(h: &Hall, format: TransferFormat) -> String {
    h.store
        .execute(&Caller::system("t"), t0(), ExportCatalog { format })
        .unwrap()
        .response
        .content
}

fn import(
    h: &Hall,
    format: TransferFormat,
    content: String,
) -> onetrip_core::Result<onetrip_core::catalog::ImportReport> {
    h.store
        .execute(
            &Caller::system("t"),
            t0(),
            ImportCatalog { format, content },
        )
        .map(|o| o.response)
}

fn errors(e: &onetrip_core::CoreError) -> Vec<RowError> {
    assert_eq!(e.code, ErrorCode::ImportInvalid, "{}", e.message);
    serde_json::from_str(&e.params["errors"]).unwrap()
}

#[test]
fn json_and_xlsx_round_trip_the_whole_catalog() {
    let h = demo_hall();
    let before = items(&h);
    for format in [TransferFormat::Json, TransferFormat::Xlsx] {
        let file = export(&h, format);
        let r = import(&h, format, file).unwrap();
        assert_eq!(
            (r.created, r.updated),
            (0, before.len() as u32),
            "{format:?}"
        );
        assert_eq!(
            items(&h),
            before,
            "{format:?}: a round trip changes nothing"
        );
    }
    // The JSON names categories by prefix, not by id.
    let json: serde_json::Value = serde_json::from_str(&export(&h, TransferFormat::Json)).unwrap();
    assert_eq!(json[0]["category"], "A");
    assert!(json[0].get("category_id").is_none());
    // A new item in the file is created.
    let mut rows = json.as_array().unwrap().clone();
    let mut new = rows[0].clone();
    new["code"] = "BDC-099".into();
    new["name"] = "不动产更正登记".into();
    rows.push(new);
    let r = import(
        &h,
        TransferFormat::Json,
        serde_json::to_string(&rows).unwrap(),
    )
    .unwrap();
    assert_eq!((r.created, r.updated), (1, before.len() as u32));
    assert!(items(&h).iter().any(|i| i.name == "不动产更正登记"));
}

#[test]
fn a_bad_json_import_reports_every_row_and_changes_nothing() {
    let h = demo_hall();
    let json: serde_json::Value = serde_json::from_str(&export(&h, TransferFormat::Json)).unwrap();
    let mut rows = json.as_array().unwrap().clone();
    rows[1]["promised_days"] = 99.into(); // BDC-002: statutory 30
    rows[2]["category"] = "Z".into();
    rows[3]["code"] = rows[0]["code"].clone();
    rows[4]["materials"][0]["requirement"] = "conditional".into();
    rows[4]["materials"][0]["condition"] = "".into();
    rows[5]["statutory_days"] = "二十".into();
    let dump = h.dump();
    let e = import(
        &h,
        TransferFormat::Json,
        serde_json::to_string(&rows).unwrap(),
    )
    .unwrap_err();
    let errs = errors(&e);
    let at = |row: u32| {
        errs.iter()
            .find(|e| e.row == row)
            .unwrap_or_else(|| panic!("row {row} reported: {errs:?}"))
    };
    assert_eq!(at(6).field, "", "a type error names the row: {:?}", at(6));
    assert!(at(6).reason.contains("类型"), "{:?}", at(6));
    assert_eq!(at(2).field, "promised_days");
    assert!(at(2).reason.contains("不能超过法定时限"));
    assert_eq!(at(3).field, "业务类别");
    assert_eq!(at(4).field, "编码");
    assert!(at(4).reason.contains("重复"));
    assert_eq!(at(5).field, "材料第 1 项 condition");
    assert!(e.message.contains("未导入任何内容"));
    assert_eq!(h.dump(), dump, "a bad import changes nothing");
}

#[test]
fn a_bad_xlsx_import_names_sheet_row_and_field_and_changes_nothing() {
    let h = demo_hall();
    let mut book = rust_xlsxwriter::Workbook::new();
    let s = book.add_worksheet();
    s.set_name("事项").unwrap();
    let header = [
        "编码",
        "名称",
        "实施部门",
        "事项类型",
        "设定依据",
        "法定时限",
        "承诺时限",
        "可延长",
        "收费标准",
        "到现场次数",
        "咨询电话",
        "办理地点",
        "业务类别",
    ];
    for (c, v) in header.iter().enumerate() {
        s.write_string(0, c as u16, *v).unwrap();
    }
    let good = [
        "SB-009",
        "社保卡补办",
        "区人力社保局",
        "公共服务",
        "《社会保障卡管理办法》",
        "5",
        "1",
        "0",
        "不收费",
        "1",
        "0571-87000202",
        "3号窗口",
        "B",
    ];
    for (c, v) in good.iter().enumerate() {
        s.write_string(1, c as u16, *v).unwrap();
    }
    let mut bad = good;
    bad[0] = "SB-010";
    bad[5] = "五";
    for (c, v) in bad.iter().enumerate() {
        s.write_string(2, c as u16, *v).unwrap();
    }
    let m = book.add_worksheet();
    m.set_name("材料").unwrap();
    for (c, v) in [
        "事项编码",
        "序号",
        "材料名称",
        "形式",
        "份数",
        "载体",
        "类别",
        "适用条件",
        "要求",
        "备注",
    ]
    .iter()
    .enumerate()
    {
        m.write_string(0, c as u16, *v).unwrap();
    }
    for (c, v) in [
        "SB-009",
        "1",
        "身份证",
        "原件",
        "1",
        "纸质",
        "必交",
        "",
        "",
        "",
    ]
    .iter()
    .enumerate()
    {
        m.write_string(1, c as u16, *v).unwrap();
    }
    for (c, v) in [
        "SB-009",
        "2",
        "照片",
        "复印件",
        "两张",
        "纸质",
        "必须",
        "",
        "",
        "",
    ]
    .iter()
    .enumerate()
    {
        m.write_string(2, c as u16, *v).unwrap();
    }
    for (c, v) in [
        "XX-404",
        "1",
        "申请表",
        "原件",
        "1",
        "纸质",
        "必交",
        "",
        "",
        "",
    ]
    .iter()
    .enumerate()
    {
        m.write_string(3, c as u16, *v).unwrap();
    }
    let bytes = book.save_to_buffer().unwrap();
    let dump = h.dump();
    let e = import(
        &h,
        TransferFormat::Xlsx,
        base64::engine::general_purpose::STANDARD.encode(&bytes),
    )
    .unwrap_err();
    let errs = errors(&e);
    let has = |sheet: &str, row: u32, field: &str| {
        errs.iter()
            .any(|e| e.sheet == sheet && e.row == row && e.field == field)
    };
    assert!(has("材料", 3, "份数"), "{errs:?}");
    assert!(has("材料", 3, "类别"), "{errs:?}");
    assert!(has("事项", 3, "法定时限"), "{errs:?}");
    assert!(
        has("材料", 0, "事项编码"),
        "unknown item code in the materials sheet: {errs:?}"
    );
    assert_eq!(h.dump(), dump);
    // Not an xlsx at all.
    let e = import(
        &h,
        TransferFormat::Xlsx,
        base64::engine::general_purpose::STANDARD.encode(b"PK nonsense"),
    )
    .unwrap_err();
    assert_eq!(errors(&e)[0].sheet, "xlsx");
    assert_eq!(h.dump(), dump);
}
