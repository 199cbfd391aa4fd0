//! # onetrip-server: the hall server (大厅模式)
//!
//! A hall has many windows, each with its own PC, plus kiosks and displays; they share one
//! state. This crate serves the core's operations to all of them. It never depends on tauri.
//!
//! Contract:
//! - **Every operation** in [`onetrip_core::OPERATIONS`] is `POST /api/op/{name}` with the
//!   request as the JSON body (empty means `{}`) and the response as JSON. A failure is the
//!   core's `{code, message, field?, params}` with an HTTP status from [`status_of`]: 401 when
//!   the caller is not known (no token, expired, revoked), 403 when it is known but the
//!   operation is not its (wrong role, or a device outside its scope).
//! - **Credentials**: `Authorization: Bearer <staff session token>` (from `auth.sign_in`; it
//!   expires and is revoked by sign-out or a supervisor's release), or
//!   `Authorization: Device <device token>` (registered by an admin with `device.register`).
//!   The WebSocket takes the same as `?token=` or `?device=`, since browsers cannot set headers
//!   on it.
//! - **Live events**: `GET /api/events` upgrades to a WebSocket. The server sends `hello`
//!   (with this instance's id), then one `event` per committed write, after its commit. A
//!   client that falls behind gets `resync`; a client that reconnects reloads what it shows.
//!   Events carry ids only; clients re-read through operations, which check access.
//! - `GET /api/openapi.json` is generated from the operation list and the Rust types.
//! - The built UI is served at `/`, `/kiosk`, `/display`, `/rater`, `/window`, `/counter`,
//!   `/admin`: any browser
//!   on the LAN can be a kiosk or a display.
//! - `now` comes from the server's [`Clock`]; the core never reads the time itself.

pub mod openapi;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::{SinkExt, StreamExt};
use onetrip_core::app::jobs::{Done, Failed, Schedule, Scheduler};
use onetrip_core::{
    Access, Caller, Clock, CoreError, Credential, DeviceKind, ErrorCode, HallEvent, Store,
};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tower_http::cors::CorsLayer;
use tower_http::services::{ServeDir, ServeFile};

/// What a WebSocket client receives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum LiveMessage {
    /// First message on every connection. A client that sees a new `instance` (the server
    /// restarted, or the balancer moved it) reloads everything it shows.
    Hello { instance: String, version: String },
    /// One committed write.
    Event { event: HallEvent },
    /// The client fell behind (or events were lost between instances): reload everything.
    Resync,
}

/// The shared state of one server instance.
pub struct Hall {
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
    /// Serialized once per event; each client's copy shares the bytes.
    live: broadcast::Sender<Utf8Bytes>,
    instance: String,
    ui_dir: Option<PathBuf>,
    /// The public rating page's tries per client address (see [`PUBLIC_TRIES`]).
    public_tries: std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (Instant, u32)>>,
}

/// The operations anyone may call without a credential that take a guessable key (a notice's
/// number and six-digit code, a device's pairing code), and how often one address may call them: `PUBLIC_TRIES` per
/// `PUBLIC_WINDOW`. Beyond that: HTTP 429 `rate_limited` until the window ends.
pub(crate) const PUBLIC_KEYED: &[&str] =
    &["rating.notice_visit", "rating.by_notice", "device.pair"];
const PUBLIC_TRIES: u32 = 10;
const PUBLIC_WINDOW: Duration = Duration::from_secs(60);

impl Hall {
    pub fn new(store: Arc<Store>, clock: Arc<dyn Clock>, ui_dir: Option<PathBuf>) -> Arc<Self> {
        let (live, _) = broadcast::channel(1024);
        Arc::new(Self {
            store,
            clock,
            live,
            instance: onetrip_core::ids::new_id(),
            ui_dir,
            public_tries: Default::default(),
        })
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// Publish committed events to every connected client.
    pub fn publish(&self, events: &[HallEvent]) {
        for event in events {
            let msg = LiveMessage::Event {
                event: event.clone(),
            };
            if let Ok(text) = serde_json::to_string(&msg) {
                // No receiver is not an error: nobody is watching.
                let _ = self.live.send(Utf8Bytes::from(text));
            }
        }
    }
}

impl Hall {
    /// Count one call of a keyed public operation from `ip`; refused past the limit.
    fn public_try(&self, ip: std::net::IpAddr) -> Result<(), CoreError> {
        let now = Instant::now();
        let mut tries = self.public_tries.lock().unwrap_or_else(|p| p.into_inner());
        if tries.len() > 10_000 {
            tries.retain(|_, (since, _)| now.duration_since(*since) < PUBLIC_WINDOW);
        }
        let entry = tries.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= PUBLIC_WINDOW {
            *entry = (now, 0);
        }
        entry.1 += 1;
        if entry.1 > PUBLIC_TRIES {
            let wait = PUBLIC_WINDOW
                .saturating_sub(now.duration_since(entry.0))
                .as_secs()
                + 1;
            return Err(CoreError::new(
                ErrorCode::RateLimited,
                format!("尝试过于频繁，请 {wait} 秒后再试"),
            )
            .param("seconds", wait));
        }
        Ok(())
    }

    /// Tell every connected client to reload everything (events may have been missed).
    pub fn publish_resync(&self) {
        if let Ok(text) = serde_json::to_string(&LiveMessage::Resync) {
            let _ = self.live.send(Utf8Bytes::from(text));
        }
    }
}

/// Several servers on one PostgreSQL database: hear the others' committed writes (LISTEN on
/// [`onetrip_core::store::postgres::EVENTS_CHANNEL`]) and pass them to this server's clients.
/// Our own notifications are skipped (their events were published when they committed). A
/// lost listening connection is reopened every second; once back, the clients are told to
/// resync, because a notification sent while nobody listened is gone. Stops when `stop` is set.
pub fn spawn_pg_listener(hall: Arc<Hall>, stop: Arc<std::sync::atomic::AtomicBool>) {
    use onetrip_core::store::postgres::Heard;
    if !hall.store.is_postgres() {
        return;
    }
    std::thread::Builder::new()
        .name("pg-listen".into())
        .spawn(move || {
            let store = hall.store.clone();
            store.listen_to_other_servers(&stop, |heard| match heard {
                Heard::Events(events) => hall.publish(&events),
                Heard::Resync => hall.publish_resync(),
            });
        })
        .map(|_| ())
        .unwrap_or_else(|e| tracing::error!(error = %e, "cannot start the PostgreSQL listener"));
}

/// The HTTP status for a coded failure. 401 = who are you; 403 = not yours to do.
pub fn status_of(code: ErrorCode) -> StatusCode {
    use ErrorCode as C;
    match code {
        C::Unauthenticated | C::SessionExpired | C::WrongCredentials => StatusCode::UNAUTHORIZED,
        C::AccountLocked | C::RateLimited => StatusCode::TOO_MANY_REQUESTS,
        C::Forbidden | C::PasswordChangeRequired | C::StaffInactive => StatusCode::FORBIDDEN,
        C::NotFound => StatusCode::NOT_FOUND,
        C::Required
        | C::TooLong
        | C::InvalidFormat
        | C::OutOfRange
        | C::InvalidIdNumber
        | C::InvalidCreditCode
        | C::WeakPassword
        | C::ImportInvalid
        | C::TemplateInvalid
        | C::InvalidMaterialState
        | C::PromiseExceedsStatute => StatusCode::UNPROCESSABLE_ENTITY,
        C::SchemaTooNew | C::Storage | C::ServerUnreachable => StatusCode::SERVICE_UNAVAILABLE,
        C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    }
}

struct ApiError(CoreError);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = status_of(self.0.code);
        (status, axum::Json(self.0)).into_response()
    }
}

/// The caller as the transport saw it: the credential and where the request came from.
fn caller_from(headers: &HeaderMap, addr: SocketAddr) -> Result<Caller, ApiError> {
    let source = match headers
        .get("x-onetrip-source")
        .and_then(|v| v.to_str().ok())
    {
        Some(label) if !label.is_empty() && label.len() <= 40 => format!("{label}@{}", addr.ip()),
        _ => format!("http@{}", addr.ip()),
    };
    let credential = match headers
        .get(header::AUTHORIZATION)
        .map(|v| v.to_str().unwrap_or("?").trim())
    {
        // An empty header is the same as none: the caller holds no credential.
        None | Some("") => Credential::Anonymous,
        Some(value) => {
            let (scheme, secret) = value.split_once(' ').unwrap_or((value, ""));
            let secret = secret.trim();
            if secret.is_empty() {
                return Err(ApiError(CoreError::new(
                    ErrorCode::Unauthenticated,
                    "Authorization 头格式错误（应为 Bearer <令牌> 或 Device <设备令牌>）",
                )));
            }
            match scheme.to_ascii_lowercase().as_str() {
                "bearer" => Credential::Token(secret.to_owned()),
                "device" => Credential::DeviceToken(secret.to_owned()),
                _ => {
                    return Err(ApiError(CoreError::new(
                        ErrorCode::Unauthenticated,
                        "不支持的凭证类型（应为 Bearer 或 Device）",
                    )));
                }
            }
        }
    };
    Ok(Caller {
        credential,
        source: Some(source),
    })
}

async fn run_op(
    State(hall): State<Arc<Hall>>,
    Path(name): Path<String>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    if PUBLIC_KEYED.contains(&name.as_str())
        && let Err(e) = hall.public_try(addr.ip())
    {
        return ApiError(e).into_response();
    }
    let caller = match caller_from(&headers, addr) {
        Ok(c) => c,
        Err(e) => return e.into_response(),
    };
    let request: serde_json::Value = if body.iter().all(u8::is_ascii_whitespace) {
        serde_json::json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                let err = CoreError::new(
                    ErrorCode::InvalidFormat,
                    format!("请求不是有效的 JSON：{e}"),
                );
                return (StatusCode::BAD_REQUEST, axum::Json(err)).into_response();
            }
        }
    };
    let task_hall = hall.clone();
    let task_name = name.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let now = task_hall.clock.now();
        onetrip_core::execute_json(&task_hall.store, &caller, now, &task_name, request)
    })
    .await;
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    match joined {
        Ok(Ok((response, events))) => {
            hall.publish(&events);
            // The core logs the operation itself (its span, outcome and time); this is the
            // HTTP side of it.
            tracing::debug!(op = %name, %addr, elapsed_ms, status = 200, "http");
            axum::Json(response).into_response()
        }
        Ok(Err(e)) => {
            let status = status_of(e.code);
            tracing::debug!(op = %name, %addr, elapsed_ms, status = status.as_u16(), code = %e.code, "http");
            ApiError(e).into_response()
        }
        Err(join) => {
            tracing::error!(op = %name, %addr, "operation task panicked: {join}");
            ApiError(CoreError::internal("服务器内部错误，操作未执行")).into_response()
        }
    }
}

#[derive(Debug, Deserialize)]
struct LiveQuery {
    token: Option<String>,
    device: Option<String>,
}

async fn live(
    State(hall): State<Arc<Hall>>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Query(q): Query<LiveQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let credential = match (q.token, q.device) {
        (Some(t), _) => Credential::Token(t),
        (None, Some(d)) => Credential::DeviceToken(d),
        (None, None) => Credential::Anonymous,
    };
    let caller = Caller {
        credential,
        source: Some(format!("live@{}", addr.ip())),
    };
    let check_hall = hall.clone();
    let allowed = tokio::task::spawn_blocking(move || {
        check_hall.store.authorize(
            &caller,
            check_hall.clock.now(),
            Access::Device,
            &[
                DeviceKind::Kiosk,
                DeviceKind::Display,
                DeviceKind::Rater,
                DeviceKind::WindowScreen,
            ],
            "events",
        )
    })
    .await;
    match allowed {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return ApiError(e).into_response(),
        Err(_) => return ApiError(CoreError::internal("服务器内部错误")).into_response(),
    }
    let rx = hall.live.subscribe();
    let hello = LiveMessage::Hello {
        instance: hall.instance.clone(),
        version: onetrip_core::VERSION.to_owned(),
    };
    ws.on_upgrade(move |socket| stream_events(socket, hello, rx))
}

async fn stream_events(
    socket: WebSocket,
    hello: LiveMessage,
    mut rx: broadcast::Receiver<Utf8Bytes>,
) {
    let (mut tx, mut incoming) = socket.split();
    let Ok(hello) = serde_json::to_string(&hello) else {
        return;
    };
    if tx.send(Message::text(hello)).await.is_err() {
        return;
    }
    let resync = Utf8Bytes::from(serde_json::to_string(&LiveMessage::Resync).unwrap_or_default());
    loop {
        tokio::select! {
            msg = rx.recv() => {
                // A busy hall commits hundreds of changes a second: whatever else is already
                // waiting goes out with this one, in one flush (one write to the socket).
                let mut next = Some(msg);
                while let Some(msg) = next {
                    let text = match msg {
                        Ok(text) => text,
                        Err(broadcast::error::RecvError::Lagged(_)) => resync.clone(),
                        Err(broadcast::error::RecvError::Closed) => return,
                    };
                    if tx.feed(Message::text(text)).await.is_err() {
                        return;
                    }
                    next = match rx.try_recv() {
                        Ok(text) => Some(Ok(text)),
                        Err(broadcast::error::TryRecvError::Lagged(n)) => {
                            Some(Err(broadcast::error::RecvError::Lagged(n)))
                        }
                        Err(_) => None,
                    };
                }
                if tx.flush().await.is_err() {
                    return;
                }
            }
            frame = incoming.next() => match frame {
                // The client only listens; pings are answered by axum, a close ends the loop.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    }
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    schema: u32,
    instance: String,
}

async fn health(State(hall): State<Arc<Hall>>) -> axum::Json<Health> {
    axum::Json(Health {
        status: "ok",
        version: onetrip_core::VERSION,
        schema: onetrip_core::store::SCHEMA_VERSION,
        instance: hall.instance.clone(),
    })
}

async fn openapi_doc() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        openapi::document_json(),
    )
        .into_response()
}

/// The whole HTTP surface.
pub fn router(hall: Arc<Hall>) -> Router {
    let api = Router::new()
        .route("/api/op/{name}", post(run_op))
        .route("/api/events", get(live))
        .route("/api/health", get(health))
        .route("/api/openapi.json", get(openapi_doc))
        // Bearer tokens, not cookies: a page from another origin (the desktop app in hall mode)
        // gains nothing it could not do with the token it already holds.
        .layer(CorsLayer::permissive());
    let mut app = api;
    if let Some(dir) = hall.ui_dir.clone() {
        for page in [
            "kiosk", "display", "rater", "window", "rate", "pair", "counter", "admin",
        ] {
            app = app.route_service(
                &format!("/{page}"),
                ServeFile::new(dir.join(format!("{page}.html"))),
            );
        }
        app = app.fallback_service(ServeDir::new(&dir).append_index_html_on_directories(true));
    } else {
        // Started without the built UI: a page opened in a browser says so instead of a blank
        // 404 (the API above is unaffected).
        app = app.fallback(no_ui);
    }
    app.layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(hall)
}

async fn no_ui() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        "<!doctype html><meta charset=utf-8><title>OneTrip 一次办</title>\
         <body style=\"font:20px sans-serif;padding:2em\"><h1>界面文件缺失</h1>\
         <p>大厅服务器在运行，但启动时没有找到界面文件，取号机、叫号屏等页面无法显示。\
         请信息管理员用 <code>onetrip serve --ui 界面目录</code> 重新启动（界面目录由 make ui-build 生成，为 ui/dist）。</p>\
         <p lang=en>The hall server is running without its UI files: restart it with --ui.</p></body>",
    )
        .into_response()
}

/// The hall's periodic jobs (`onetrip_core::app::jobs`), the same the desktop runs: their
/// events go to this server's live clients, their outcomes to the log.
pub fn spawn_jobs(hall: Arc<Hall>, schedule: Schedule) -> Scheduler {
    let store = hall.store.clone();
    let clock = hall.clock.clone();
    Scheduler::spawn(
        store,
        clock,
        schedule,
        Arc::new(onetrip_gateway::HallGateway::new()),
        move |done| match done {
            Ok(Done::Sweep(report, events)) => {
                hall.publish(&events);
                if !report.delivered.is_empty() {
                    tracing::info!(alerts = report.delivered.len(), "deadline sweep");
                }
            }
            Ok(Done::Filing(filed, events)) => {
                hall.publish(&events);
                for r in &filed {
                    tracing::info!(title = %r.title, "report filed");
                }
            }
            Ok(Done::Backup(c)) => {
                tracing::info!(path = %c.path.display(), audit_rows = c.audit_rows, "scheduled backup")
            }
            Ok(Done::Retention(r, events)) => {
                hall.publish(&events);
                tracing::info!(before = %r.before, cases = r.cases, tickets = r.tickets, "retention applied");
            }
            Ok(Done::Outbox(d)) => {
                tracing::info!(
                    sent = d.sent,
                    failed = d.failed,
                    dead = d.dead,
                    "outbox delivered"
                )
            }
            Err(Failed { job, error }) => {
                tracing::error!(code = %error.code, message = %error.message, "{job} failed")
            }
        },
    )
}

/// What runs beside the HTTP surface.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// Scheduled online backups: (interval, copies kept). `None` = off.
    pub backups: Option<(Duration, usize)>,
    /// How long this server's claim on a message it is delivering lasts; `None`: the default
    /// (`onetrip_core::outbox::LEASE`).
    pub outbox_lease: Option<Duration>,
}

/// Serve until `shutdown` resolves; in-flight requests finish first (graceful shutdown).
pub async fn serve(
    hall: Arc<Hall>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(hall, listener, shutdown, ServeOptions::default()).await
}

pub async fn serve_with(
    hall: Arc<Hall>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: ServeOptions,
) -> std::io::Result<()> {
    tokio::task::spawn_blocking(|| {
        let started = Instant::now();
        match onetrip_core::notices::warm_up() {
            Ok(()) => tracing::info!(
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                "notice rendering warmed up"
            ),
            Err(e) => tracing::warn!(code = %e.code, message = %e.message, "notice warm-up failed"),
        }
    });
    let jobs = spawn_jobs(
        hall.clone(),
        Schedule {
            backups: options.backups,
            outbox_lease: options
                .outbox_lease
                .unwrap_or(Schedule::default().outbox_lease),
            ..Schedule::default()
        },
    );
    // Set when this future ends, returned or dropped: a listener left running would keep the
    // hall, its store and every pooled connection open after the server is gone.
    let stop_listening = StopOnDrop(Arc::new(std::sync::atomic::AtomicBool::new(false)));
    if hall.store.is_postgres() {
        spawn_pg_listener(hall.clone(), stop_listening.0.clone());
    }
    let app = router(hall).into_make_service_with_connect_info::<SocketAddr>();
    let out = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    tokio::task::spawn_blocking(move || jobs.stop())
        .await
        .map_err(std::io::Error::other)?;
    drop(stop_listening);
    out
}

/// Raises its flag when dropped.
struct StopOnDrop(Arc<std::sync::atomic::AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
