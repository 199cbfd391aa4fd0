//! Messages to applicants (短信/消息提醒): what the hall tells an applicant's phone so they make
//! one trip — what is missing and by when (一次性告知, 行政许可法 art. 32(4)), that the case
//! was accepted and when it will be done, that it is paused or extended (art. 42: the applicant
//! is told why), that the result is ready to collect.
//!
//! Contract:
//! - Each kind of message has one **template**, edited by the hall (管理 › 消息), switchable,
//!   with named placeholders (`{item}`, `{until}`…): [`KINDS`] lists each kind, when it is
//!   sent and its placeholders. A template naming a placeholder its kind does not have is
//!   refused, so no applicant ever reads `{oops}`.
//! - [`send`] is called by the capability whose operation caused the message, **inside its
//!   transaction**: it renders the template and writes the text to the kernel's outbox, so a
//!   message exists if and only if its cause committed. It sends nothing (and says so) when the
//!   kind is switched off, the phone is not a mobile number, or the applicant opted out (退订,
//!   kept as a keyed hash, never the number).
//! - How messages leave (the gateway: log only, or a generic HTTP gateway, JSON POST signed
//!   with HMAC-SHA256) and when not (quiet hours, 21:00–08:00 by default) are the hall's
//!   settings here; the delivery job reads them on every run.
//! - Phone numbers are masked on every screen and in every log line (138****0000).

use jiff::Timestamp;
use rusqlite::params;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::kernel::audit::AuditDraft;
use crate::kernel::clock::{hall_date, hall_tz, to_ms};
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::Topic;
use crate::kernel::ids::sha256_hex;
use crate::kernel::op::{Access, Actor, Cx, Operation};
use crate::kernel::outbox::{self, Gateway, GatewayKind, Quiet};
use crate::kernel::store::{Optional, Tx};
use crate::kernel::validate;

/// One kind of message: when it is sent and what its template may say.
#[derive(Debug, Clone, Copy)]
pub struct KindInfo {
    pub kind: &'static str,
    pub label: &'static str,
    pub when: &'static str,
    /// (placeholder, what it is, a sample value for the preview)
    pub placeholders: &'static [(&'static str, &'static str, &'static str)],
}

const HALL: (&str, &str, &str) = ("hall", "大厅名称", "西湖区政务服务中心");
const ITEM: (&str, &str, &str) = ("item", "事项名称", "不动产登记（转移登记）");
const CASE: (&str, &str, &str) = ("case", "办件编号", "XH-2026-000123");

/// Every kind of message the hall sends (see the module docs).
pub const KINDS: &[KindInfo] = &[
    KindInfo {
        kind: "notice.supplement",
        label: "一次性告知（补正材料）",
        when: "窗口出具一次性告知单时",
        placeholders: &[
            HALL,
            ITEM,
            ("application", "申请编号", "SQ-2026-000045"),
            ("missing", "缺少的材料", "不动产权证书原件；完税证明"),
            ("until", "补正期限", "2026年12月14日"),
        ],
    },
    KindInfo {
        kind: "notice.supplement_due",
        label: "补正期限临近提醒",
        when: "补正期限前两个工作日（每份一次性告知单提醒一次）",
        placeholders: &[
            HALL,
            ITEM,
            ("application", "申请编号", "SQ-2026-000045"),
            ("until", "补正期限", "2026年12月14日"),
            ("days", "剩余工作日", "2"),
        ],
    },
    KindInfo {
        kind: "case.accepted",
        label: "办件已受理",
        when: "办件受理时（当场受理、补正后受理或逾期视为受理）",
        placeholders: &[
            HALL,
            ITEM,
            CASE,
            ("promised", "承诺办结日期", "2026年12月16日"),
        ],
    },
    KindInfo {
        kind: "case.suspended",
        label: "办件暂停计时",
        when: "办件因检验、检测、鉴定、听证等暂停计时时",
        placeholders: &[
            HALL,
            ITEM,
            CASE,
            ("reason", "暂停原因", "专家评审"),
            ("days", "预计所需工作日", "5"),
        ],
    },
    KindInfo {
        kind: "case.extended",
        label: "办件延期",
        when: "延期申请经批准时（行政许可法第四十二条：将延长期限的理由告知申请人）",
        placeholders: &[
            HALL,
            ITEM,
            CASE,
            ("days", "延长的工作日", "10"),
            ("reason", "延期理由", "需现场核查"),
        ],
    },
    KindInfo {
        kind: "case.decided",
        label: "结果可领取",
        when: "办件作出决定、结果待领取时",
        placeholders: &[HALL, ITEM, CASE],
    },
];

/// The kind's entry in [`KINDS`], or a coded error.
pub fn kind_info(kind: &str) -> Result<&'static KindInfo> {
    KINDS.iter().find(|k| k.kind == kind).ok_or_else(|| {
        CoreError::new(ErrorCode::NotFound, format!("没有“{kind}”这类消息"))
            .field("kind")
            .param("kind", kind)
    })
}

/// The placeholders of `body` (`{name}`), or an error naming what is malformed.
fn placeholders_of(body: &str) -> std::result::Result<Vec<&str>, String> {
    let mut out = vec![];
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            return Err("有未闭合的“{”".into());
        };
        let name = &after[..close];
        if name.is_empty() || name.contains('{') {
            return Err(format!("占位符“{{{name}}}”不正确"));
        }
        out.push(name);
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err("有多余的“}”".into());
    }
    Ok(out)
}

/// Fill `body`'s placeholders from `vars` (a placeholder without a value is left empty).
pub fn render(body: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(body.len() + 32);
    let mut rest = body;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                if let Some((_, v)) = vars.iter().find(|(k, _)| *k == name) {
                    out.push_str(v);
                }
                rest = &after[close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Longest template, in characters (three SMS segments).
pub const MAX_BODY: usize = 200;

/// A template is refused when it is empty, too long, malformed, or names a placeholder its kind
/// does not have.
fn check_body(info: &KindInfo, body: &str) -> Result<String> {
    let body = validate::text("body", "消息内容", body, MAX_BODY)?;
    let names = placeholders_of(&body).map_err(|why| {
        CoreError::new(ErrorCode::TemplateInvalid, format!("消息模板有误：{why}")).field("body")
    })?;
    for n in names {
        if !info.placeholders.iter().any(|(p, ..)| *p == n) {
            let known = info
                .placeholders
                .iter()
                .map(|(p, ..)| format!("{{{p}}}"))
                .collect::<Vec<_>>()
                .join(" ");
            return Err(CoreError::new(
                ErrorCode::TemplateInvalid,
                format!("“{}”没有占位符 {{{n}}}；可用：{known}", info.label),
            )
            .field("body")
            .param("placeholder", n));
        }
    }
    Ok(body)
}

/// A template as the admin screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MessageTemplate {
    pub kind: String,
    pub label: String,
    pub when: String,
    pub enabled: bool,
    pub body: String,
    pub placeholders: Vec<MessagePlaceholder>,
    /// The body filled with sample values.
    pub preview: String,
    pub updated_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MessagePlaceholder {
    pub name: String,
    pub label: String,
    pub sample: String,
}

fn samples(info: &KindInfo) -> Vec<(&'static str, String)> {
    info.placeholders
        .iter()
        .map(|(n, _, s)| (*n, (*s).to_owned()))
        .collect()
}

fn template_of(info: &KindInfo, enabled: bool, body: String, updated_ms: i64) -> MessageTemplate {
    MessageTemplate {
        kind: info.kind.into(),
        label: info.label.into(),
        when: info.when.into(),
        enabled,
        preview: render(&body, &samples(info)),
        body,
        placeholders: info
            .placeholders
            .iter()
            .map(|(n, l, s)| MessagePlaceholder {
                name: (*n).into(),
                label: (*l).into(),
                sample: (*s).into(),
            })
            .collect(),
        updated_at: (updated_ms > 0).then(|| crate::kernel::clock::from_ms(updated_ms)),
    }
}

fn stored(tx: &Tx<'_>, kind: &str) -> Result<Option<(bool, String, i64)>> {
    Ok(tx
        .prepare_cached("SELECT enabled, body, updated_at FROM message_templates WHERE kind = ?1")?
        .query_row([kind], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Every kind's template, in [`KINDS`] order.
pub fn templates(tx: &Tx<'_>) -> Result<Vec<MessageTemplate>> {
    KINDS
        .iter()
        .map(|info| {
            let (enabled, body, at) = stored(tx, info.kind)?
                .ok_or_else(|| CoreError::internal(format!("消息模板缺失：{}", info.kind)))?;
            Ok(template_of(info, enabled, body, at))
        })
        .collect()
}

/// Whether `phone` can receive a text message: a mainland mobile number (1[3-9] and nine
/// digits, spaces and dashes ignored). Landlines on a case are kept for calls, not texted.
pub fn is_mobile(phone: &str) -> bool {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    let d = d.strip_prefix("86").filter(|r| r.len() == 11).unwrap_or(&d);
    d.len() == 11 && d.starts_with('1') && matches!(d.as_bytes()[1], b'3'..=b'9')
}

fn mobile_digits(phone: &str) -> String {
    let d: String = phone.chars().filter(char::is_ascii_digit).collect();
    match d.strip_prefix("86") {
        Some(r) if r.len() == 11 => r.to_owned(),
        _ => d,
    }
}

/// The keyed hash a phone's opt-out is kept under (the hall's id is the key).
fn phone_hash(tx: &Tx<'_>, phone: &str) -> Result<String> {
    let hall = crate::hall::load_hall(tx)?;
    Ok(sha256_hex(
        format!("{}:phone:{}", hall.id, mobile_digits(phone)).as_bytes(),
    ))
}

pub fn opted_out(tx: &Tx<'_>, phone: &str) -> Result<bool> {
    let hash = phone_hash(tx, phone)?;
    Ok(tx
        .prepare_cached("SELECT 1 FROM message_optouts WHERE phone_hash = ?1")?
        .query_row([hash], |_| Ok(()))
        .optional()?
        .is_some())
}

/// What [`send`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Queued,
    /// The same cause was already queued (the dedupe key exists).
    Duplicate,
    KindOff,
    NotMobile,
    OptedOut,
}

/// Queue message `kind` to `phone` in the caller's transaction (see the module docs). `dedupe`
/// names the cause (`case.accepted:<case id>`): it is the key the gateway sees.
pub fn send(
    tx: &Tx<'_>,
    now: Timestamp,
    kind: &str,
    phone: &str,
    dedupe: &str,
    vars: &[(&str, String)],
) -> Result<Sent> {
    let info = kind_info(kind)?;
    if !is_mobile(phone) {
        return Ok(Sent::NotMobile);
    }
    let Some((enabled, body, _)) = stored(tx, kind)? else {
        return Ok(Sent::KindOff);
    };
    if !enabled {
        return Ok(Sent::KindOff);
    }
    if opted_out(tx, phone)? {
        return Ok(Sent::OptedOut);
    }
    let hall = crate::hall::load_hall(tx)?;
    let mut all: Vec<(&str, String)> = vec![("hall", hall.name)];
    all.extend(vars.iter().cloned());
    let text = render(&body, &all);
    let payload: serde_json::Value = serde_json::Value::Object(
        all.iter()
            .filter(|(k, _)| info.placeholders.iter().any(|(p, ..)| p == k))
            .map(|(k, v)| ((*k).to_owned(), v.clone().into()))
            .collect(),
    );
    let queued = outbox::enqueue(
        tx,
        &outbox::Draft {
            kind,
            recipient: &mobile_digits(phone),
            dedupe,
            payload: &payload,
            body: &text,
            expires_at: None,
        },
        now,
    )?;
    Ok(if queued {
        Sent::Queued
    } else {
        Sent::Duplicate
    })
}

/// The hall's templates and name, read once for a generated history.
#[derive(Debug, Clone)]
pub struct PastTemplates {
    hall: String,
    bodies: Vec<(&'static str, bool, String)>,
}

impl PastTemplates {
    pub fn load(tx: &Tx<'_>) -> Result<PastTemplates> {
        let hall = crate::hall::load_hall(tx)?.name;
        let mut bodies = vec![];
        for k in KINDS {
            if let Some((on, body, _)) = stored(tx, k.kind)? {
                bodies.push((k.kind, on, body));
            }
        }
        Ok(PastTemplates { hall, bodies })
    }
}

/// A message of a generated history, rendered from the hall's template and recorded as its
/// delivery left it — created `at`, then sent or dead (see [`outbox::insert_past`]); nothing
/// for a switched-off kind.
pub fn past(
    tx: &Tx<'_>,
    t: &PastTemplates,
    kind: &str,
    phone: &str,
    dedupe: &str,
    vars: &[(&str, String)],
    (at, outcome): (Timestamp, std::result::Result<jiff::SignedDuration, &str>),
) -> Result<()> {
    let Some((kind, true, body)) = t.bodies.iter().find(|b| b.0 == kind) else {
        return Ok(());
    };
    let mut all: Vec<(&str, String)> = vec![("hall", t.hall.clone())];
    all.extend(vars.iter().cloned());
    outbox::insert_past(
        tx,
        &outbox::Draft {
            kind,
            recipient: &mobile_digits(phone),
            dedupe,
            payload: &serde_json::Value::Null,
            body: &render(body, &all),
            expires_at: None,
        },
        at,
        outcome,
    )
}

/// A civil date as messages print it: 2026年12月14日.
pub fn cn_date(d: jiff::civil::Date) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

/// A moment's date in Beijing, as messages print it.
pub fn cn_day_of(t: Timestamp) -> String {
    cn_date(hall_date(t))
}

/// The hall's message settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MessageSettings {
    /// Quiet hours, `HH:MM` Beijing time: nothing is sent from `quiet_from` to `quiet_until`.
    pub quiet_from: String,
    pub quiet_until: String,
    /// "前面还有 N 人" goes out when this many people are ahead.
    pub ahead_notify: u32,
    pub gateway: GatewayKind,
    pub gateway_url: String,
    /// Write-only: empty on reading (see `secret_set`); an empty value on saving keeps it.
    pub gateway_secret: String,
    #[serde(default)]
    pub secret_set: bool,
    pub phone_field: String,
    pub text_field: String,
}

fn load_settings_raw(tx: &Tx<'_>) -> Result<(MessageSettings, String)> {
    Ok(tx.query_row(
        "SELECT quiet_from, quiet_until, ahead_notify, gateway, gateway_url, gateway_secret,
                phone_field, text_field FROM message_settings",
        [],
        |r| {
            let secret: String = r.get(5)?;
            Ok((
                MessageSettings {
                    quiet_from: r.get(0)?,
                    quiet_until: r.get(1)?,
                    ahead_notify: r.get(2)?,
                    gateway: GatewayKind::parse(&r.get::<_, String>(3)?),
                    gateway_url: r.get(4)?,
                    gateway_secret: String::new(),
                    secret_set: !secret.is_empty(),
                    phone_field: r.get(6)?,
                    text_field: r.get(7)?,
                },
                secret,
            ))
        },
    )?)
}

/// The settings as a screen reads them (the secret withheld).
pub fn load_settings(tx: &Tx<'_>) -> Result<MessageSettings> {
    Ok(load_settings_raw(tx)?.0)
}

/// The gateway and the quiet hours, for the delivery job.
pub fn delivery(tx: &Tx<'_>) -> Result<(Gateway, Quiet)> {
    let (s, secret) = load_settings_raw(tx)?;
    let quiet = Quiet {
        from: validate::hhmm("quiet_from", &s.quiet_from)?,
        until: validate::hhmm("quiet_until", &s.quiet_until)?,
    };
    Ok((
        Gateway {
            kind: s.gateway,
            url: s.gateway_url,
            secret,
            phone_field: s.phone_field,
            text_field: s.text_field,
        },
        quiet,
    ))
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListMessageTemplates {}

impl Operation for ListMessageTemplates {
    const NAME: &'static str = "message.templates";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = Vec<MessageTemplate>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<MessageTemplate>> {
        templates(cx.tx)
    }
}

/// Edit a kind's template or switch it on or off.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateMessageTemplate {
    pub kind: String,
    pub enabled: bool,
    pub body: String,
}

impl Operation for UpdateMessageTemplate {
    const NAME: &'static str = "message.update_template";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = MessageTemplate;
    fn run(self, cx: &mut Cx<'_>) -> Result<MessageTemplate> {
        let info = kind_info(&self.kind)?;
        let body = check_body(info, &self.body)?;
        let by = staff_id(&cx.actor);
        let (was_on, was, at) = stored(cx.tx, info.kind)?
            .ok_or_else(|| CoreError::internal(format!("消息模板缺失：{}", info.kind)))?;
        let before = template_of(info, was_on, was, at);
        cx.tx.execute(
            "UPDATE message_templates SET enabled = ?2, body = ?3, updated_at = ?4, updated_by = ?5
             WHERE kind = ?1",
            params![info.kind, self.enabled, body, cx.ms(), by],
        )?;
        let after = template_of(info, self.enabled, body, cx.ms());
        let summary = format!(
            "修改消息模板“{}”{}",
            info.label,
            if self.enabled { "" } else { "（已停用）" }
        );
        cx.record(
            Topic::Hall,
            AuditDraft::new("message_template", None, summary)
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}

/// The text a template would send, with sample values; refused as saving would refuse it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct PreviewMessage {
    pub kind: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct MessagePreview {
    pub text: String,
    /// Characters, and SMS segments at 70 characters each (67 when split).
    pub chars: u32,
    pub segments: u32,
}

impl Operation for PreviewMessage {
    const NAME: &'static str = "message.preview";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = MessagePreview;
    fn run(self, cx: &mut Cx<'_>) -> Result<MessagePreview> {
        let info = kind_info(&self.kind)?;
        let body = check_body(info, &self.body)?;
        let hall = crate::hall::load_hall(cx.tx)?;
        let mut vars = samples(info);
        if let Some(h) = vars.iter_mut().find(|(k, _)| *k == "hall") {
            h.1 = hall.name;
        }
        let text = render(&body, &vars);
        let chars = text.chars().count() as u32;
        Ok(MessagePreview {
            segments: if chars <= 70 { 1 } else { chars.div_ceil(67) },
            chars,
            text,
        })
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetMessageSettings {}

impl Operation for GetMessageSettings {
    const NAME: &'static str = "message.settings";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = MessageSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<MessageSettings> {
        load_settings(cx.tx)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct UpdateMessageSettings {
    pub settings: MessageSettings,
}

/// A JSON field name the gateway expects: letters, digits, `_`, `-`, `.`; 1–40.
fn field_name(field: &str, label: &str, v: &str) -> Result<String> {
    let v = validate::text(field, label, v, 40)?;
    if !v
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
    {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            format!("{label}只能含字母、数字、下划线、连字符和点"),
        )
        .field(field));
    }
    Ok(v)
}

impl Operation for UpdateMessageSettings {
    const NAME: &'static str = "message.update_settings";
    const ACCESS: Access = Access::Admin;
    const WRITES: bool = true;
    type Response = MessageSettings;
    fn run(self, cx: &mut Cx<'_>) -> Result<MessageSettings> {
        let s = self.settings;
        validate::hhmm("quiet_from", &s.quiet_from)?;
        validate::hhmm("quiet_until", &s.quiet_until)?;
        let ahead =
            validate::range_i64("ahead_notify", "提前提醒人数", s.ahead_notify.into(), 1, 50)?;
        let phone_field = field_name("phone_field", "手机号字段名", &s.phone_field)?;
        let text_field = field_name("text_field", "内容字段名", &s.text_field)?;
        if phone_field == text_field {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "手机号字段名与内容字段名不能相同",
            )
            .field("text_field"));
        }
        let url = validate::optional_text("gateway_url", "网关地址", &s.gateway_url, 300)?;
        let (before, old_secret) = load_settings_raw(cx.tx)?;
        let secret = if s.gateway_secret.is_empty() {
            old_secret
        } else {
            validate::text("gateway_secret", "签名密钥", &s.gateway_secret, 200)?
        };
        if s.gateway == GatewayKind::Http {
            if !url.starts_with("http://") {
                return Err(CoreError::new(
                    ErrorCode::InvalidFormat,
                    "网关地址须以 http:// 开头（HTTPS 网关请经大厅的转发服务接入）",
                )
                .field("gateway_url"));
            }
            if secret.len() < 16 {
                return Err(CoreError::new(
                    ErrorCode::Required,
                    "使用 HTTP 网关须设置至少 16 个字符的签名密钥",
                )
                .field("gateway_secret"));
            }
        }
        cx.tx.execute(
            "UPDATE message_settings SET quiet_from = ?1, quiet_until = ?2, ahead_notify = ?3,
                gateway = ?4, gateway_url = ?5, gateway_secret = ?6, phone_field = ?7,
                text_field = ?8, updated_at = ?9",
            params![
                s.quiet_from.trim(),
                s.quiet_until.trim(),
                ahead,
                s.gateway.as_str(),
                url,
                secret,
                phone_field,
                text_field,
                cx.ms()
            ],
        )?;
        let after = load_settings(cx.tx)?;
        cx.record(
            Topic::Hall,
            AuditDraft::new("message_settings", None, "修改消息发送设置")
                .before(&before)
                .after(&after),
        )?;
        Ok(after)
    }
}

/// At the window: the applicant asks for no more messages (退订), or to have them again.
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct SetOptOut {
    pub phone: String,
    pub opt_out: bool,
}

impl Operation for SetOptOut {
    const NAME: &'static str = "message.opt_out";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = true;
    type Response = bool;
    fn run(self, cx: &mut Cx<'_>) -> Result<bool> {
        let phone = validate::phone("phone", &self.phone)?;
        if !is_mobile(&phone) {
            return Err(CoreError::new(
                ErrorCode::InvalidFormat,
                "请填写手机号码（11 位，1 开头）",
            )
            .field("phone"));
        }
        let by = staff_id(&cx.actor);
        let hash = phone_hash(cx.tx, &phone)?;
        let changed = if self.opt_out {
            cx.tx.execute(
                "INSERT INTO message_optouts (phone_hash, source, created_at, created_by)
                 VALUES (?1, 'window', ?2, ?3) ON CONFLICT (phone_hash) DO NOTHING",
                params![hash, cx.ms(), by],
            )?
        } else {
            cx.tx
                .execute("DELETE FROM message_optouts WHERE phone_hash = ?1", [hash])?
        };
        if changed > 0 {
            let masked = validate::mask_phone(&phone);
            cx.record(
                Topic::Hall,
                AuditDraft::new(
                    "message_optout",
                    None,
                    if self.opt_out {
                        format!("{masked} 退订消息（窗口登记）")
                    } else {
                        format!("{masked} 恢复接收消息（窗口登记）")
                    },
                ),
            )?;
        }
        Ok(self.opt_out)
    }
}

/// Who to record as having made a change: the staff member, or nobody (the local CLI).
fn staff_id(actor: &Actor) -> Option<String> {
    match actor {
        Actor::Staff(s) => Some(s.staff_id.clone()),
        _ => None,
    }
}

/// The outbox as the supervisor sees it: the messages of the last `days` days (dead and
/// pending ones of any age are counted too), newest first, filtered by state and kind.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListOutbox {
    #[serde(default)]
    pub status: Option<outbox::OutboxStatus>,
    #[serde(default)]
    pub kind: Option<String>,
    /// 1–90; 7 when absent.
    #[serde(default)]
    pub days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct OutboxView {
    pub counts: outbox::OutboxCounts,
    pub messages: Vec<outbox::OutboxRow>,
    /// The kinds and their labels, for the filter.
    pub kinds: Vec<(String, String)>,
}

/// Rows one screen lists.
const OUTBOX_ROWS: u32 = 300;

impl Operation for ListOutbox {
    const NAME: &'static str = "outbox.list";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = false;
    type Response = OutboxView;
    fn run(self, cx: &mut Cx<'_>) -> Result<OutboxView> {
        let days = validate::range_i64("days", "天数", self.days.unwrap_or(7).into(), 1, 90)?;
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(k) => Some(kind_info(k)?.kind),
        };
        let start = hall_date(cx.now)
            .checked_sub(jiff::Span::new().days(days - 1))
            .map_err(|e| CoreError::internal(format!("日期计算失败：{e}")))?
            .to_zoned(hall_tz())
            .map_err(|e| CoreError::internal(format!("日期计算失败：{e}")))?;
        let since = to_ms(start.timestamp());
        Ok(OutboxView {
            counts: outbox::counts(cx.tx, since)?,
            messages: outbox::list(cx.tx, self.status, kind, since, OUTBOX_ROWS)?,
            kinds: KINDS
                .iter()
                .map(|k| (k.kind.to_owned(), k.label.to_owned()))
                .collect(),
        })
    }
}

/// A supervisor sends a dead message again (after the gateway was fixed).
#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct RetryMessage {
    pub id: String,
}

impl Operation for RetryMessage {
    const NAME: &'static str = "outbox.retry";
    const ACCESS: Access = Access::Supervisor;
    const WRITES: bool = true;
    type Response = bool;
    fn run(self, cx: &mut Cx<'_>) -> Result<bool> {
        let id = validate::id("id", "消息", &self.id)?;
        if !outbox::retry(cx.tx, &id, cx.now)? {
            return Err(CoreError::new(
                ErrorCode::InvalidTransition,
                "只能重发发送失败（已停止重试）的消息",
            )
            .field("id")
            .param("event", "retry"));
        }
        cx.record(
            Topic::Hall,
            AuditDraft::new("outbox", Some(&id), "重发发送失败的消息"),
        )?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_render_and_malformed_ones_are_found() {
        assert_eq!(
            render(
                "【{hall}】{item}缺{missing}",
                &[("hall", "A".into()), ("item", "B".into())]
            ),
            "【A】B缺"
        );
        assert_eq!(placeholders_of("{a}x{b}").unwrap(), vec!["a", "b"]);
        assert!(placeholders_of("{a").is_err());
        assert!(placeholders_of("a}").is_err());
        assert!(placeholders_of("{}").is_err());
    }

    #[test]
    fn only_mainland_mobiles_are_texted() {
        for ok in ["13800000000", "+86 138 0000 0000", "199-0000-0000"] {
            assert!(is_mobile(ok), "{ok}");
        }
        for no in ["0571-87000000", "12000000000", "1380000000", ""] {
            assert!(!is_mobile(no), "{no}");
        }
    }

    #[test]
    fn every_kind_has_its_samples_and_a_default_that_passes_its_own_check() {
        for k in KINDS {
            assert!(
                k.placeholders.iter().any(|(p, ..)| *p == "hall"),
                "{}",
                k.kind
            );
        }
    }

    #[test]
    fn quiet_hours_span_midnight() {
        let q = Quiet {
            from: 21 * 60,
            until: 8 * 60,
        };
        assert!(q.contains(22 * 60) && q.contains(0) && q.contains(7 * 60 + 59));
        assert!(!q.contains(8 * 60) && !q.contains(12 * 60) && !q.contains(20 * 60 + 59));
        assert!(!Quiet::NONE.contains(0));
    }
}
