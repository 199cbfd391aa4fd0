//! The OpenAPI 3 document, generated from the code: one path per operation in the core's
//! registry, with the JSON Schemas of its Rust request and response types (schemars reads the
//! same serde attributes that shape the JSON), and the coded error every failure returns.
//! Nothing here is written by hand per operation, so the document cannot drift from what the
//! server does; the contract tests check responses against it.

use std::sync::OnceLock;

use onetrip_core::{Access, DeviceKind, OPERATIONS};
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

fn access_text(access: Access, devices: &[DeviceKind]) -> String {
    match access {
        Access::Public => "公开：无需凭证".into(),
        Access::Device => {
            let kinds: Vec<&str> = devices.iter().map(|d| d.label()).collect();
            format!("设备（{}）或任一工作人员", kinds.join("、"))
        }
        Access::Staff => "工作人员".into(),
        Access::Supervisor => "分管领导或管理员".into(),
        Access::Admin => "系统管理员".into(),
    }
}

fn error_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CoreError"}}}
    })
}

/// Build the document.
pub fn document() -> Value {
    // OpenAPI 3.1 schemas are JSON Schema 2020-12: `Option<T>` is `[T, "null"]`, which
    // validators and schemathesis read as is.
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    let mut generator = settings.into_generator();
    let ops = onetrip_core::operation_schemas(&mut generator);
    let error_schema = generator.subschema_for::<onetrip_core::CoreError>();
    let mut paths = Map::new();
    for (info, request, response) in ops {
        let mut security = vec![];
        match info.access {
            Access::Public => {}
            Access::Device => {
                security.push(json!({"staffToken": []}));
                security.push(json!({"deviceToken": []}));
            }
            _ => security.push(json!({"staffToken": []})),
        }
        let mut responses = Map::new();
        responses.insert(
            "200".into(),
            json!({"description": "成功", "content": {"application/json": {"schema": response}}}),
        );
        for (status, text) in [
            ("400", "请求不是有效的 JSON"),
            ("404", "记录不存在"),
            ("409", "当前状态不允许此操作"),
            ("422", "输入不合规（code 与 field 指明哪一项）"),
            ("500", "内部错误，未写入任何数据"),
            ("503", "数据库不可用"),
        ] {
            responses.insert(status.into(), error_response(text));
        }
        // Even a public operation answers 401 to a credential that is presented but invalid
        // (expired, revoked): the caller should learn its token is dead.
        responses.insert(
            "401".into(),
            error_response("未登录、凭证无效、已过期或已注销"),
        );
        if info.access != Access::Public {
            responses.insert("403".into(), error_response("凭证有效，但无权执行此操作"));
        }
        if info.name == "auth.sign_in" {
            responses.insert(
                "429".into(),
                error_response("登录失败次数过多，账号暂时锁定"),
            );
        }
        if crate::PUBLIC_KEYED.contains(&info.name) {
            responses.insert(
                "429".into(),
                error_response("同一地址尝试过于频繁，稍后再试"),
            );
        }
        let mut op = json!({
            "operationId": info.name,
            "summary": info.name,
            "description": format!("权限：{}。{}", access_text(info.access, info.devices), if info.writes { "写操作：一条审计记录，一个实时事件。" } else { "只读。" }),
            "tags": [info.name.split('.').next().unwrap_or(info.name)],
            "x-onetrip-access": info.access,
            "x-onetrip-writes": info.writes,
            "requestBody": {"required": true, "content": {"application/json": {"schema": request}}},
            "responses": responses,
        });
        if !security.is_empty() {
            op["security"] = Value::Array(security);
        } else {
            op["security"] = json!([]);
        }
        paths.insert(format!("/api/op/{}", info.name), json!({"post": op}));
    }
    let schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    assert!(
        schemas.contains_key("CoreError"),
        "the error schema is a named component every error response refers to: {error_schema:?}"
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "一次办 OneTrip 大厅服务",
            "version": onetrip_core::VERSION,
            "description": "政务服务大厅的全部业务操作。每个操作是 POST /api/op/{name}，请求与响应均为 JSON；失败时返回 {code, message, field?, params}。实时事件见 GET /api/events（WebSocket）。",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "staffToken": {"type": "http", "scheme": "bearer", "description": "auth.sign_in 返回的会话令牌"},
                "deviceToken": {"type": "apiKey", "in": "header", "name": "Authorization", "description": "Device <管理员登记设备时得到的令牌>"},
            },
        },
    })
}

/// The document as JSON text, built once.
pub fn document_json() -> String {
    static DOC: OnceLock<String> = OnceLock::new();
    DOC.get_or_init(|| document().to_string()).clone()
}

/// Every operation the registry knows is a path (a test checks the count).
pub fn operation_count() -> usize {
    OPERATIONS.len()
}
