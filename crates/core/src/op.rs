//! Operations: one typed request → one typed response (or a coded [`CoreError`]).
//!
//! Contract, for every transport (Tauri IPC now, HTTP and the CLI too):
//! - A request type implements [`Operation`]: its `NAME` (stable, `capability.verb`), the
//!   [`Access`] it needs, whether it writes, and `run`.
//! - [`Store::execute`] resolves the caller to an [`Actor`] *inside* the transaction (a revoked
//!   session cannot slip through), checks access in core (not only by hiding buttons), runs the
//!   operation, and for a write checks that it appended **exactly one** audit row and produced
//!   exactly one event before committing. Any failure rolls everything back.
//! - `now` is given by the caller's clock; nothing here reads the system time.

use crate::store::Tx;
use jiff::Timestamp;
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use ts_rs::TS;

use crate::audit::{self, AuditDraft};
use crate::clock::to_ms;
use crate::error::{CoreError, ErrorCode, Result};
use crate::event::{HallEvent, Topic};
use crate::ids::sha256_hex;
use crate::staff::Role;
use crate::store::Store;

/// Who may call an operation. Checked in core by [`Store::execute`].
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    TS,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Access {
    /// Anyone, signed in or not (sign-in itself, the hall board).
    Public,
    /// Public devices (kiosk, display) and any signed-in staff.
    Device,
    /// Any signed-in staff member.
    Staff,
    /// Supervisors and admins.
    Supervisor,
    /// Admins only.
    Admin,
}

/// A public device that may call `Device` operations without a person signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Kiosk,
    Display,
}

/// How the caller identified itself to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A staff session's bearer token.
    Token(String),
    /// A public device window of this desktop app (the shell vouches for its kind).
    Device(DeviceKind),
    /// Hall mode: a registered device's token (see [`crate::devices`]).
    DeviceToken(String),
    /// A local administrator with file access to the database (the `onetrip` CLI).
    System(String),
    Anonymous,
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub credential: Credential,
    /// The window label or remote host, recorded in audit rows and events.
    pub source: Option<String>,
}

impl Caller {
    pub fn anonymous(source: impl Into<String>) -> Self {
        Self {
            credential: Credential::Anonymous,
            source: Some(source.into()),
        }
    }
    pub fn token(token: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            credential: Credential::Token(token.into()),
            source: Some(source.into()),
        }
    }
    pub fn device(kind: DeviceKind, source: impl Into<String>) -> Self {
        Self {
            credential: Credential::Device(kind),
            source: Some(source.into()),
        }
    }
    pub fn device_token(token: impl Into<String>, source: impl Into<String>) -> Self {
        Self {
            credential: Credential::DeviceToken(token.into()),
            source: Some(source.into()),
        }
    }
    pub fn system(who: impl Into<String>) -> Self {
        let who = who.into();
        Self {
            credential: Credential::System(who.clone()),
            source: Some(who),
        }
    }
}

/// The resolved caller, as operations see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    Staff(StaffActor),
    Device(DeviceKind),
    System(String),
    Anonymous,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffActor {
    pub staff_id: String,
    pub session_id: String,
    pub name: String,
    pub role: Role,
    pub window_id: Option<String>,
    pub must_change_password: bool,
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::Device(_) => "device",
            Actor::System(_) => "system",
            Actor::Anonymous => "anonymous",
        }
    }
    pub fn id(&self) -> Option<String> {
        match self {
            Actor::Staff(s) => Some(s.staff_id.clone()),
            Actor::Device(d) => Some(format!("{d:?}").to_lowercase()),
            Actor::System(who) => Some(who.clone()),
            Actor::Anonymous => None,
        }
    }
    pub fn display_name(&self) -> String {
        match self {
            Actor::Staff(s) => s.name.clone(),
            Actor::Device(DeviceKind::Kiosk) => "取号机".into(),
            Actor::Device(DeviceKind::Display) => "叫号屏".into(),
            Actor::System(who) => format!("系统（{who}）"),
            Actor::Anonymous => "未登录".into(),
        }
    }
    pub fn staff(&self) -> Result<&StaffActor> {
        match self {
            Actor::Staff(s) => Ok(s),
            _ => Err(CoreError::new(ErrorCode::Unauthenticated, "请先登录")),
        }
    }
    /// The role an access check sees. The local CLI acts with admin rights: whoever can open
    /// the database file can already change anything in it.
    fn effective_role(&self) -> Option<Role> {
        match self {
            Actor::Staff(s) => Some(s.role),
            Actor::System(_) => Some(Role::Admin),
            _ => None,
        }
    }

    /// May this actor call an operation needing `access`, open to the device kinds `devices`?
    pub fn check(&self, access: Access, devices: &[DeviceKind], op: &str) -> Result<()> {
        if let Actor::Device(kind) = self
            && access <= Access::Device
            && access != Access::Public
            && !devices.contains(kind)
        {
            return Err(CoreError::forbidden(format!(
                "{}不能执行此操作（{op}）",
                self.display_name()
            ))
            .param("op", op));
        }
        let allowed = match access {
            Access::Public => true,
            Access::Device => !matches!(self, Actor::Anonymous),
            Access::Staff => self.effective_role().is_some(),
            Access::Supervisor => self.effective_role().is_some_and(|r| r >= Role::Supervisor),
            Access::Admin => self.effective_role() == Some(Role::Admin),
        };
        if allowed {
            return Ok(());
        }
        if matches!(self, Actor::Anonymous) {
            return Err(CoreError::new(ErrorCode::Unauthenticated, "请先登录").param("op", op));
        }
        let need = match access {
            Access::Public | Access::Device | Access::Staff => "工作人员",
            Access::Supervisor => "分管领导或管理员",
            Access::Admin => "系统管理员",
        };
        Err(CoreError::forbidden(format!("无权执行此操作（{op}）：需要{need}权限")).param("op", op))
    }
}

/// What an operation sees while it runs.
pub struct Cx<'a> {
    pub tx: &'a Tx<'a>,
    pub actor: Actor,
    pub now: Timestamp,
    pub source: Option<String>,
    calendars: &'a crate::calendar::CalendarCache,
    /// The folder holding the database: notices are archived beside it.
    pub(crate) data_dir: &'a std::path::Path,
    op: &'static str,
    audits: u32,
    events: Vec<HallEvent>,
    refusal: &'a std::cell::RefCell<Option<Refusal>>,
}

/// What must be remembered even though the operation is refused (a failed sign-in counts
/// towards the lock-out). It runs after the rollback, in its own write transaction, and
/// appends exactly one audit row like any write.
pub type Refusal = Box<dyn FnOnce(&mut Cx<'_>) -> Result<()>>;

impl<'a> Cx<'a> {
    /// Remember `f` for the case that this operation ends in an error (see [`Refusal`]).
    pub fn on_refusal(&mut self, f: impl FnOnce(&mut Cx<'_>) -> Result<()> + 'static) {
        *self.refusal.borrow_mut() = Some(Box::new(f));
    }

    /// Append this operation's audit row (exactly once per write) and its live event.
    pub fn record(&mut self, topic: Topic, draft: AuditDraft) -> Result<()> {
        let subject_id = draft.subject_id.clone();
        audit::append(
            self.tx,
            &self.actor,
            self.source.as_deref(),
            self.op,
            self.now,
            draft,
        )?;
        self.audits += 1;
        self.events.push(HallEvent {
            topic,
            op: self.op.to_owned(),
            subject_id,
            source: self.source.clone(),
            at: self.now,
        });
        Ok(())
    }

    /// Record with an explicit actor (sign-in: the caller was anonymous until now).
    pub fn record_as(&mut self, actor: Actor, topic: Topic, draft: AuditDraft) -> Result<()> {
        let saved = std::mem::replace(&mut self.actor, actor);
        let out = self.record(topic, draft);
        self.actor = saved;
        out
    }

    pub fn ms(&self) -> i64 {
        to_ms(self.now)
    }

    /// The working-day calendar as of this transaction.
    pub fn calendar(&self) -> Result<std::sync::Arc<crate::calendar::WorkCalendar>> {
        crate::calendar::current(self.tx, self.calendars)
    }
}

pub trait Operation: DeserializeOwned + schemars::JsonSchema + Send + 'static {
    /// Stable name, `capability.verb`; the Tauri command is the same with `_` for `.`.
    const NAME: &'static str;
    const ACCESS: Access;
    /// A write operation appends exactly one audit row and emits exactly one event.
    const WRITES: bool;
    /// May run while the account still has to change its one-time password.
    const BEFORE_PASSWORD_CHANGE: bool = false;
    /// For [`Access::Device`] operations: which device kinds may call it (a display cannot issue
    /// tickets). Staff reach every device operation.
    const DEVICES: &'static [DeviceKind] = &[DeviceKind::Kiosk, DeviceKind::Display];
    type Response: Serialize + schemars::JsonSchema + Send + 'static;

    fn run(self, cx: &mut Cx<'_>) -> Result<Self::Response>;
}

/// A committed result and the events to publish for it.
#[derive(Debug)]
pub struct Outcome<R> {
    pub response: R,
    pub events: Vec<HallEvent>,
}

impl Store {
    pub fn execute<O: Operation>(
        &self,
        caller: &Caller,
        now: Timestamp,
        req: O,
    ) -> Result<Outcome<O::Response>> {
        let refusal = std::cell::RefCell::new(None);
        let body = |tx: &Tx<'_>| -> Result<Outcome<O::Response>> {
            let actor = resolve_actor(tx, &caller.credential, now)?;
            actor.check(O::ACCESS, O::DEVICES, O::NAME)?;
            if let Actor::Staff(s) = &actor
                && s.must_change_password
                && !O::BEFORE_PASSWORD_CHANGE
            {
                return Err(CoreError::new(
                    ErrorCode::PasswordChangeRequired,
                    "首次登录须先修改一次性密码",
                ));
            }
            let (response, events) = self.run_with_cx(
                tx,
                actor,
                caller,
                now,
                O::NAME,
                &refusal,
                u32::from(O::WRITES),
                |cx| req.run(cx),
            )?;
            Ok(Outcome { response, events })
        };
        let out = if O::WRITES {
            self.write(body)
        } else {
            self.read(body)
        };
        if out.is_err()
            && let Some(remember) = refusal.take()
        {
            // What the refusal remembers is a write of its own: one audit row, like any write.
            let unused = std::cell::RefCell::new(None);
            self.write(|tx| {
                let actor = resolve_actor(tx, &caller.credential, now)?;
                self.run_with_cx(tx, actor, caller, now, O::NAME, &unused, 1, remember)
            })?;
        }
        out
    }
}

impl Store {
    /// Run a job of the hall's own (the scheduled report filing) with an operation context,
    /// as the system actor `who`. Unlike [`Store::execute`] the job decides how many audit
    /// rows it appends (one per record it files); a read job appends none.
    pub(crate) fn system_job<R>(
        &self,
        who: &str,
        op: &'static str,
        now: Timestamp,
        writes: bool,
        f: impl FnOnce(&mut Cx<'_>) -> Result<R>,
    ) -> Result<(R, Vec<HallEvent>)> {
        let body = |tx: &Tx<'_>| -> Result<(R, Vec<HallEvent>)> {
            let refusal = std::cell::RefCell::new(None);
            let mut cx = Cx {
                tx,
                actor: Actor::System(who.to_owned()),
                now,
                source: Some(who.to_owned()),
                calendars: &self.calendars,
                data_dir: self.data_dir(),
                op,
                audits: 0,
                events: vec![],
                refusal: &refusal,
            };
            let out = f(&mut cx)?;
            if !writes && cx.audits > 0 {
                return Err(CoreError::internal(format!("只读任务 {op} 写入了审计记录")));
            }
            self.announce(tx, &cx.events)?;
            Ok((out, cx.events))
        };
        if writes {
            self.write(body)
        } else {
            self.read(body)
        }
    }

    /// Run `f` with the operation's context in `tx`, then check it appended exactly
    /// `audits_expected` audit rows (else everything rolls back as a bug).
    #[allow(clippy::too_many_arguments)]
    fn run_with_cx<'t, R>(
        &'t self,
        tx: &'t Tx<'t>,
        actor: Actor,
        caller: &Caller,
        now: Timestamp,
        op: &'static str,
        refusal: &'t std::cell::RefCell<Option<Refusal>>,
        audits_expected: u32,
        f: impl FnOnce(&mut Cx<'t>) -> Result<R>,
    ) -> Result<(R, Vec<HallEvent>)> {
        let mut cx = Cx {
            tx,
            actor,
            now,
            source: caller.source.clone(),
            calendars: &self.calendars,
            data_dir: self.data_dir(),
            op,
            audits: 0,
            events: vec![],
            refusal,
        };
        let out = f(&mut cx)?;
        if cx.audits != audits_expected {
            return Err(CoreError::internal(format!(
                "操作 {op} 写入了 {} 条审计记录（应为 {audits_expected} 条），已全部撤销",
                cx.audits
            )));
        }
        self.announce(tx, &cx.events)?;
        Ok((out, cx.events))
    }

    /// On PostgreSQL, hand the events to the other hall servers on the database (see
    /// [`crate::store::postgres`]): sent by the write transaction, so delivered only if it
    /// commits. On SQLite there are no other servers.
    pub(crate) fn announce(&self, tx: &Tx<'_>, events: &[HallEvent]) -> Result<()> {
        if events.is_empty() || !tx.is_postgres() {
            return Ok(());
        }
        let payload = crate::store::postgres::Notification::payload(self.instance(), events);
        crate::store::postgres::notify_in(tx, &payload)
    }

    /// Check that `caller` may call an operation needing `access`, without running anything.
    pub fn authorize(
        &self,
        caller: &Caller,
        now: Timestamp,
        access: Access,
        devices: &[DeviceKind],
        op: &str,
    ) -> Result<()> {
        self.read(|tx| resolve_actor(tx, &caller.credential, now)?.check(access, devices, op))
    }
}

/// Look the credential up in the same transaction the operation runs in.
fn resolve_actor(tx: &Tx<'_>, credential: &Credential, now: Timestamp) -> Result<Actor> {
    match credential {
        Credential::Anonymous => Ok(Actor::Anonymous),
        Credential::Device(kind) => Ok(Actor::Device(*kind)),
        Credential::System(who) => Ok(Actor::System(who.clone())),
        Credential::DeviceToken(token) => match crate::devices::resolve(tx, token)? {
            Some(kind) => Ok(Actor::Device(kind)),
            None => Err(CoreError::new(
                ErrorCode::Unauthenticated,
                "设备凭证无效或已注销，请管理员重新登记",
            )),
        },
        Credential::Token(token) => {
            let row = tx
                .query_row(
                    "SELECT s.id, s.staff_id, s.window_id, s.expires_at, s.ended_at,
                            st.name, st.role, st.active, st.must_change_password
                     FROM sessions s JOIN staff st ON st.id = s.staff_id
                     WHERE s.token_hash = ?1",
                    [sha256_hex(token.as_bytes())],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, i64>(3)?,
                            r.get::<_, Option<i64>>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, String>(6)?,
                            r.get::<_, bool>(7)?,
                            r.get::<_, bool>(8)?,
                        ))
                    },
                )
                .optional()?;
            let Some((
                session_id,
                staff_id,
                window_id,
                expires_at,
                ended_at,
                name,
                role,
                active,
                must_change,
            )) = row
            else {
                return Err(CoreError::new(
                    ErrorCode::Unauthenticated,
                    "登录凭证无效，请重新登录",
                ));
            };
            if ended_at.is_some() || expires_at <= to_ms(now) {
                return Err(CoreError::new(
                    ErrorCode::SessionExpired,
                    "登录已失效（已退出、超时或被释放），请重新登录",
                ));
            }
            if !active {
                return Err(CoreError::new(ErrorCode::StaffInactive, "该账号已停用"));
            }
            Ok(Actor::Staff(StaffActor {
                staff_id,
                session_id,
                name,
                role: Role::parse(&role)?,
                window_id,
                must_change_password: must_change,
            }))
        }
    }
}

/// Static facts about an operation, for the bindings, the Tauri ACL and (later) HTTP routing.
#[derive(Debug, Clone, Copy, Serialize, TS, schemars::JsonSchema)]
pub struct OpInfo {
    pub name: &'static str,
    pub access: Access,
    pub writes: bool,
    /// Device kinds that may call it, for [`Access::Device`] operations.
    pub devices: &'static [DeviceKind],
}

impl OpInfo {
    /// The Tauri command name for this operation.
    pub fn command(&self) -> String {
        self.name.replace('.', "_")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct Empty {}
