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

use crate::kernel::store::Tx;
use jiff::Timestamp;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use ts_rs::TS;

use crate::kernel::audit::{self, AuditDraft};
use crate::kernel::clock::to_ms;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::event::DomainEvent;
use crate::kernel::event::{HallEvent, Topic};
use crate::kernel::store::Store;

/// A staff member's role: what they may do. Part of access control, so it lives here; the
/// accounts themselves are the staff capability's.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    TS,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Clerk,
    Supervisor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "clerk" => Ok(Role::Clerk),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(
                CoreError::new(ErrorCode::InvalidFormat, format!("未知角色：{other}"))
                    .field("role"),
            ),
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Role::Clerk => "窗口人员",
            Role::Supervisor => "分管领导",
            Role::Admin => "系统管理员",
        }
    }
}

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
    /// 评价器: the screen of one window that faces the applicant; the only device that rates.
    Rater,
    /// 窗口屏: the small screen above one window.
    WindowScreen,
}

impl DeviceKind {
    /// Bound to one window (the rater and the window screen) rather than serving the hall.
    pub fn is_window_bound(self) -> bool {
        matches!(self, DeviceKind::Rater | DeviceKind::WindowScreen)
    }
    pub fn label(self) -> &'static str {
        match self {
            DeviceKind::Kiosk => "取号机",
            DeviceKind::Display => "叫号屏",
            DeviceKind::Rater => "评价器",
            DeviceKind::WindowScreen => "窗口屏",
        }
    }
}

/// How the caller identified itself to the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A staff session's bearer token.
    Token(String),
    /// A public device window of this desktop app (the shell vouches for its kind).
    Device(DeviceKind),
    /// A window-bound device window of this desktop app (the rater on the clerk PC's second
    /// monitor): the shell vouches for its kind and for the window this PC's clerk signed in at.
    DeviceAt(DeviceKind, String),
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
    pub fn device_at(
        kind: DeviceKind,
        window_id: impl Into<String>,
        source: impl Into<String>,
    ) -> Self {
        Self {
            credential: Credential::DeviceAt(kind, window_id.into()),
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
    /// A public device, and the window it is bound to (raters and window screens registered
    /// for a window; `None` for the hall's kiosks and displays, and for the desktop app's own
    /// device windows).
    Device(DeviceKind, Option<String>),
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

impl audit::Who for Actor {
    fn kind(&self) -> &'static str {
        Actor::kind(self)
    }
    fn id(&self) -> Option<String> {
        Actor::id(self)
    }
    fn display_name(&self) -> String {
        Actor::display_name(self)
    }
}

impl Actor {
    pub fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::Device(..) => "device",
            Actor::System(_) => "system",
            Actor::Anonymous => "anonymous",
        }
    }
    pub fn id(&self) -> Option<String> {
        match self {
            Actor::Staff(s) => Some(s.staff_id.clone()),
            Actor::Device(d, _) => Some(format!("{d:?}").to_lowercase()),
            Actor::System(who) => Some(who.clone()),
            Actor::Anonymous => None,
        }
    }
    pub fn display_name(&self) -> String {
        match self {
            Actor::Staff(s) => s.name.clone(),
            Actor::Device(kind, _) => kind.label().into(),
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
        if let Actor::Device(kind, _) = self
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

/// What the top layer plugs into the kernel when a store is opened ([`crate::app::open`]):
/// who a credential is (the staff and device capabilities know), and what reacts to a domain
/// event (the reactions table). The kernel calls both without knowing any capability.
#[derive(Clone, Copy)]
pub struct Wiring {
    /// Resolve a staff session or device token, in the operation's own transaction.
    pub identity: fn(&Tx<'_>, &Credential, Timestamp) -> Result<Actor>,
    /// Run every reaction registered for `event`, in the emitting transaction.
    pub react: fn(&mut Cx<'_>, &dyn DomainEvent) -> Result<()>,
}

impl std::fmt::Debug for Wiring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wiring")
    }
}

/// How deep reactions may cascade (a reaction's effect emitting an event of its own) before it
/// is treated as a loop.
const MAX_REACTION_DEPTH: u8 = 6;

/// What an operation sees while it runs.
pub struct Cx<'a> {
    pub tx: &'a Tx<'a>,
    pub actor: Actor,
    pub now: Timestamp,
    pub source: Option<String>,
    store: &'a Store,
    wiring: Wiring,
    op: &'static str,
    audits: u32,
    events: Vec<HallEvent>,
    /// What reactions did, added to the operation's audit summary.
    effects: Vec<String>,
    depth: u8,
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

    /// Append this operation's audit row (exactly once per write) and its live event. What
    /// reactions reported so far ([`Cx::effect`]) is added to the summary: emit before you
    /// record.
    pub fn record(&mut self, topic: Topic, mut draft: AuditDraft) -> Result<()> {
        if !self.effects.is_empty() {
            draft.summary = format!("{}；{}", draft.summary, self.effects.join("；"));
            self.effects.clear();
        }
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
            paint: None,
        });
        Ok(())
    }

    /// What live screens need to paint this operation's change without a read (see
    /// [`HallEvent::paint`]): attached to the event of the last [`Cx::record`].
    pub fn paint(&mut self, value: &impl serde::Serialize) -> Result<()> {
        if let Some(e) = self.events.last_mut() {
            e.paint = Some(
                serde_json::to_value(value)
                    .map_err(|e| CoreError::internal(format!("事件内容无法序列化：{e}")))?,
            );
        }
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

    /// A domain event happened in this transaction: every reaction registered for it runs now,
    /// in the same transaction (its effects commit or roll back with the operation).
    pub fn emit(&mut self, event: impl DomainEvent) -> Result<()> {
        if self.depth >= MAX_REACTION_DEPTH {
            return Err(CoreError::internal(format!(
                "领域事件 {} 的连锁反应超过 {MAX_REACTION_DEPTH} 层，疑为循环，已全部撤销",
                event.name()
            )));
        }
        self.depth += 1;
        let out = (self.wiring.react)(self, &event);
        self.depth -= 1;
        out
    }

    /// A reaction reports what it did ("重算在办件 3 件"): it joins the operation's audit row.
    pub fn effect(&mut self, text: impl Into<String>) {
        self.effects.push(text.into());
    }

    /// The live events this operation will publish after commit (a job adds its own).
    pub fn publish(&mut self, topic: Topic) {
        self.events.push(HallEvent {
            topic,
            op: self.op.to_owned(),
            subject_id: None,
            source: self.source.clone(),
            at: self.now,
            paint: None,
        });
    }

    /// A value kept beside the store (a capability's cache): see [`crate::kernel::store::Shared`].
    pub fn shared<T: Default + Send + Sync + 'static>(&self) -> std::sync::Arc<T> {
        self.store.shared().get_or_default::<T>()
    }

    /// The folder holding the database: notices and reports are archived beside it.
    pub fn data_dir(&self) -> &std::path::Path {
        self.store.data_dir()
    }

    /// The name of the running operation or job.
    pub fn op(&self) -> &'static str {
        self.op
    }
}

pub trait Operation: DeserializeOwned + schemars::JsonSchema + Clone + Send + 'static {
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
        // One span per operation, whichever host runs it (desktop IPC, the hall server, the
        // CLI): its name and where the call came from; the outcome is logged inside it.
        let span = tracing::info_span!(
            "op",
            name = O::NAME,
            source = caller.source.as_deref().unwrap_or("")
        );
        let _entered = span.enter();
        let started = std::time::Instant::now();
        let out = self.execute_in_span(caller, now, req);
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        match &out {
            Ok(_) if O::WRITES => tracing::info!(elapsed_ms, "done"),
            Ok(_) => tracing::debug!(elapsed_ms, "done"),
            Err(e) if e.code == ErrorCode::Internal => {
                tracing::error!(elapsed_ms, code = %e.code, error = %e.message, "failed");
            }
            Err(e) => tracing::info!(elapsed_ms, code = %e.code, "refused"),
        }
        out
    }

    fn execute_in_span<O: Operation>(
        &self,
        caller: &Caller,
        now: Timestamp,
        req: O,
    ) -> Result<Outcome<O::Response>> {
        let refusal = std::cell::RefCell::new(None);
        let wiring = self.wiring()?;
        let body = |tx: &Tx<'_>| -> Result<Outcome<O::Response>> {
            let actor = resolve_actor(&wiring, tx, &caller.credential, now)?;
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
                // A write PostgreSQL aborted (a deadlock) runs again: from a fresh copy.
                |cx| req.clone().run(cx),
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
            let mut remember = Some(remember);
            self.write(|tx| {
                let actor = resolve_actor(&wiring, tx, &caller.credential, now)?;
                let Some(r) = remember.take() else {
                    return Err(CoreError::internal("拒绝记录只能写入一次"));
                };
                self.run_with_cx(tx, actor, caller, now, O::NAME, &unused, 1, r)
            })?;
        }
        out
    }
}

impl Store {
    /// The top layer's wiring, provided when the store was opened through
    /// [`crate::app::open`].
    fn wiring(&self) -> Result<Wiring> {
        self.shared().get::<Wiring>().map(|w| *w).ok_or_else(|| {
            CoreError::internal("数据库未经 onetrip_core::open 打开：缺少身份解析与领域反应的接线")
        })
    }

    /// Run a job of the hall's own (the scheduled report filing) with an operation context,
    /// as the system actor `who`. Unlike [`Store::execute`] the job decides how many audit
    /// rows it appends (one per record it files); a read job appends none.
    pub fn system_job<R>(
        &self,
        who: &str,
        op: &'static str,
        now: Timestamp,
        writes: bool,
        mut f: impl FnMut(&mut Cx<'_>) -> Result<R>,
    ) -> Result<(R, Vec<HallEvent>)> {
        let wiring = self.wiring()?;
        let body = |tx: &Tx<'_>| -> Result<(R, Vec<HallEvent>)> {
            let refusal = std::cell::RefCell::new(None);
            let mut cx = Cx {
                tx,
                actor: Actor::System(who.to_owned()),
                now,
                source: Some(who.to_owned()),
                store: self,
                wiring,
                op,
                audits: 0,
                events: vec![],
                effects: vec![],
                depth: 0,
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
            store: self,
            wiring: self.wiring()?,
            op,
            audits: 0,
            events: vec![],
            effects: vec![],
            depth: 0,
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
    /// [`crate::kernel::store::postgres`]): sent by the write transaction, so delivered only if it
    /// commits. On SQLite there are no other servers.
    pub(crate) fn announce(&self, tx: &Tx<'_>, events: &[HallEvent]) -> Result<()> {
        if events.is_empty() || !tx.is_postgres() {
            return Ok(());
        }
        #[cfg(feature = "postgres")]
        {
            let payload =
                crate::kernel::store::postgres::Notification::payload(self.instance(), events);
            crate::kernel::store::postgres::notify_in(tx, &payload)?;
        }
        Ok(())
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
        let wiring = self.wiring()?;
        self.read(|tx| {
            resolve_actor(&wiring, tx, &caller.credential, now)?.check(access, devices, op)
        })
    }
}

/// Look the credential up in the same transaction the operation runs in: a session or device
/// token through the wiring (the staff and device capabilities own those tables).
fn resolve_actor(
    wiring: &Wiring,
    tx: &Tx<'_>,
    credential: &Credential,
    now: Timestamp,
) -> Result<Actor> {
    match credential {
        Credential::Anonymous => Ok(Actor::Anonymous),
        Credential::Device(kind) => Ok(Actor::Device(*kind, None)),
        Credential::DeviceAt(kind, window) => Ok(Actor::Device(*kind, Some(window.clone()))),
        Credential::System(who) => Ok(Actor::System(who.clone())),
        Credential::Token(_) | Credential::DeviceToken(_) => (wiring.identity)(tx, credential, now),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Echo;
    impl DomainEvent for Echo {
        fn name(&self) -> &'static str {
            "test.echo"
        }
    }

    fn no_identity(_: &Tx<'_>, _: &Credential, _: Timestamp) -> Result<Actor> {
        Ok(Actor::Anonymous)
    }

    /// A reaction whose effect emits its own event again.
    fn echo(cx: &mut Cx<'_>, _: &dyn DomainEvent) -> Result<()> {
        cx.execute_noop()?;
        cx.emit(Echo)
    }

    impl Cx<'_> {
        fn execute_noop(&self) -> Result<()> {
            self.tx
                .execute("UPDATE schema_migrations SET name = name WHERE 0 = 1", [])?;
            Ok(())
        }
    }

    #[test]
    fn a_reaction_loop_is_stopped_and_rolls_everything_back() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
        let (store, _) = Store::open(dir.path().join("h.sqlite"), now).unwrap();
        store.shared().provide(Wiring {
            identity: no_identity,
            react: echo,
        });
        let rows = |s: &Store| -> i64 {
            s.read(|tx| Ok(tx.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?))
                .unwrap()
        };
        let before = rows(&store);
        let e = store
            .system_job("test", "test.loop", now, true, |cx| {
                cx.record(
                    Topic::Hall,
                    AuditDraft::new("test", None, "written, then undone"),
                )?;
                cx.emit(Echo)
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(e.message.contains("循环"), "{}", e.message);
        assert_eq!(
            rows(&store),
            before,
            "the audit row rolled back with the loop"
        );
    }

    #[test]
    fn a_store_opened_without_the_wiring_refuses_to_run_operations() {
        let dir = tempfile::tempdir().unwrap();
        let now: Timestamp = "2026-11-23T02:00:00Z".parse().unwrap();
        let (store, _) = Store::open(dir.path().join("h.sqlite"), now).unwrap();
        let e = store
            .system_job("test", "test.unwired", now, false, |_| Ok(()))
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Internal);
        assert!(e.message.contains("onetrip_core::open"));
    }
}
