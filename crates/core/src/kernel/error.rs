//! Errors that cross the core boundary.
//!
//! Contract: every failure of an operation is a [`CoreError`] carrying one code from the closed
//! [`ErrorCode`] enum, a Chinese message for logs and the command line, and optionally the field
//! at fault and named parameters. Clients (Tauri IPC, HTTP, the CLI) serialise it as
//! `{code, message, field?, params}`; the UI translates by `code` (+ `params`), never by parsing
//! `message`. Adding a code is a deliberate change: the bindings and both message catalogs must
//! follow, and the i18n check fails until they do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The closed set of error codes. Stable strings (snake_case) are part of the public API.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A required text field is empty (after trimming).
    Required,
    /// A text field is longer than allowed.
    TooLong,
    /// A value has the wrong shape (letters where digits are expected, bad time, control characters…).
    InvalidFormat,
    /// A number or time is outside its allowed range.
    OutOfRange,
    /// The referenced record does not exist.
    NotFound,
    /// Another window already has this number.
    DuplicateWindowNumber,
    /// Another business category already uses this prefix.
    DuplicatePrefix,
    /// Another staff member already has this login.
    DuplicateLogin,
    /// No valid session: sign in first.
    Unauthenticated,
    /// The session has expired or was ended (signed out, released by a supervisor).
    SessionExpired,
    /// Login or password is wrong (deliberately not saying which).
    WrongCredentials,
    /// The staff account is deactivated.
    StaffInactive,
    /// The caller's role or device may not perform this operation.
    Forbidden,
    /// The account must change its one-time password before doing anything else.
    PasswordChangeRequired,
    /// The new password does not meet the rules.
    WeakPassword,
    /// A clerk must sign in at a window.
    WindowRequired,
    /// The window is held by another clerk (`params.holder`, `params.window`).
    WindowOccupied,
    /// The window is deactivated.
    WindowInactive,
    /// The change would leave the hall with no active administrator.
    LastAdmin,
    /// An ID number fails GB 11643 (length, date of birth or check digit).
    InvalidIdNumber,
    /// A unified social credit code fails GB 32100 (length, alphabet, authority and category,
    /// organisation code or check character).
    InvalidCreditCode,
    /// The business category is not in service.
    CategoryInactive,
    /// Tickets for this category are not issued at this time (`params.from`, `params.until`).
    OutsideIssuingHours,
    /// Today is a day off in the hall's working-day calendar (`params.day`, `params.next_open`,
    /// `params.from`): no tickets, no bookings.
    HallClosed,
    /// The category's daily ticket cap is used up (`params.cap`).
    DailyCapReached,
    /// This person already holds a waiting ticket in this category (`params.number`).
    AlreadyWaiting,
    /// No ticket is waiting for this window's categories.
    QueueEmpty,
    /// The window is paused; resume it first.
    WindowPaused,
    /// The window is still calling or serving a ticket (`params.number`).
    TicketActive,
    /// The ticket's state does not allow this action (`params.status`, `params.action`).
    InvalidTransition,
    /// The ticket belongs to another window.
    WrongWindow,
    /// The ticket has been recalled as often as allowed (`params.cap`).
    RecallLimit,
    /// The hall's settings do not allow this action.
    SettingDisabled,
    /// This ticket has already been rated.
    AlreadyRated,
    RatingClosed,
    RateLimited,
    /// A printer could not be reached or refused the job (the ticket itself is saved).
    PrintFailed,
    /// A date or count reaches a year whose holiday notice is not loaded; the answer would be provisional (`params.years`).
    CalendarProvisional,
    /// The date already has a local calendar override; revoke it first.
    OverrideExists,
    /// Another service item already has this code.
    DuplicateItemCode,
    /// The promised time limit is longer than the statutory one (`params.statutory`).
    PromiseExceedsStatute,
    /// The service item is not in service.
    ItemInactive,
    /// The extension asked for is more than the item still allows (`params.left`).
    ExtensionExceeded,
    /// The statutory deadline has already passed; an extension must be decided before it.
    DeadlinePassed,
    /// Some required or conditional materials are not checked yet (`params.names`).
    MaterialsUnchecked,
    /// Materials are missing: the application cannot be accepted; issue the one-time notice (`params.names`).
    MaterialsIncomplete,
    /// Every material is there: accept the application instead of asking for more.
    MaterialsComplete,
    /// This material cannot take that state (a required one is never 'not applicable'; after a notice only the missing ones are checked again).
    InvalidMaterialState,
    /// The notice template does not render (`params.line`, `params.message`); the previous one stays.
    TemplateInvalid,
    /// An import has bad rows; nothing was imported (`params.count`, `params.errors`: JSON list of {sheet, row, field, reason}).
    ImportInvalid,
    /// A and B of a post would be away at the same time (`params.post`, `params.partner`); a supervisor must name a third person first.
    BothAway,
    /// A planned absence inside the notice period (`params.need`, `params.ahead` working days) needs a supervisor's override.
    NoticePeriod,
    /// The post already has a handover that is not finished (`params.number`, `params.status`).
    HandoverOpen,
    /// A device with this name is already registered (`params.name`).
    DuplicateDevice,
    /// Transport only (hall mode): the hall server could not be reached, so nothing was done.
    /// The core never returns it; the UI's HTTP transport does, so the clerk is told.
    ServerUnreachable,
    /// Too many failed sign-ins for this login: locked until `params.until` (HH:MM, Beijing);
    /// a supervisor may unlock it sooner.
    AccountLocked,
    /// A filed record's archive copy is missing or no longer matches the SHA-256 recorded when
    /// it was filed.
    ArchiveAltered,
    /// The database was written by a newer OneTrip build; it is left untouched.
    SchemaTooNew,
    /// The database file could not be read or written.
    Storage,
    /// A bug: an invariant of OneTrip itself was violated. Nothing was written.
    Internal,
}

impl ErrorCode {
    /// Every code, for exhaustive tests and catalog checks.
    pub const ALL: &'static [ErrorCode] = &[
        Self::Required,
        Self::TooLong,
        Self::InvalidFormat,
        Self::OutOfRange,
        Self::NotFound,
        Self::DuplicateWindowNumber,
        Self::DuplicatePrefix,
        Self::DuplicateLogin,
        Self::Unauthenticated,
        Self::SessionExpired,
        Self::WrongCredentials,
        Self::StaffInactive,
        Self::Forbidden,
        Self::PasswordChangeRequired,
        Self::WeakPassword,
        Self::WindowRequired,
        Self::WindowOccupied,
        Self::WindowInactive,
        Self::LastAdmin,
        Self::InvalidIdNumber,
        Self::InvalidCreditCode,
        Self::CategoryInactive,
        Self::OutsideIssuingHours,
        Self::HallClosed,
        Self::DailyCapReached,
        Self::AlreadyWaiting,
        Self::QueueEmpty,
        Self::WindowPaused,
        Self::TicketActive,
        Self::InvalidTransition,
        Self::WrongWindow,
        Self::RecallLimit,
        Self::SettingDisabled,
        Self::AlreadyRated,
        Self::RatingClosed,
        Self::RateLimited,
        Self::PrintFailed,
        Self::CalendarProvisional,
        Self::OverrideExists,
        Self::DuplicateItemCode,
        Self::PromiseExceedsStatute,
        Self::ItemInactive,
        Self::ExtensionExceeded,
        Self::DeadlinePassed,
        Self::MaterialsUnchecked,
        Self::MaterialsIncomplete,
        Self::MaterialsComplete,
        Self::InvalidMaterialState,
        Self::TemplateInvalid,
        Self::ImportInvalid,
        Self::BothAway,
        Self::NoticePeriod,
        Self::HandoverOpen,
        Self::DuplicateDevice,
        Self::ServerUnreachable,
        Self::AccountLocked,
        Self::ArchiveAltered,
        Self::SchemaTooNew,
        Self::Storage,
        Self::Internal,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::TooLong => "too_long",
            Self::InvalidFormat => "invalid_format",
            Self::OutOfRange => "out_of_range",
            Self::NotFound => "not_found",
            Self::DuplicateWindowNumber => "duplicate_window_number",
            Self::DuplicatePrefix => "duplicate_prefix",
            Self::DuplicateLogin => "duplicate_login",
            Self::Unauthenticated => "unauthenticated",
            Self::SessionExpired => "session_expired",
            Self::WrongCredentials => "wrong_credentials",
            Self::StaffInactive => "staff_inactive",
            Self::Forbidden => "forbidden",
            Self::PasswordChangeRequired => "password_change_required",
            Self::WeakPassword => "weak_password",
            Self::WindowRequired => "window_required",
            Self::WindowOccupied => "window_occupied",
            Self::WindowInactive => "window_inactive",
            Self::LastAdmin => "last_admin",
            Self::InvalidIdNumber => "invalid_id_number",
            Self::InvalidCreditCode => "invalid_credit_code",
            Self::CategoryInactive => "category_inactive",
            Self::OutsideIssuingHours => "outside_issuing_hours",
            Self::HallClosed => "hall_closed",
            Self::DailyCapReached => "daily_cap_reached",
            Self::AlreadyWaiting => "already_waiting",
            Self::QueueEmpty => "queue_empty",
            Self::WindowPaused => "window_paused",
            Self::TicketActive => "ticket_active",
            Self::InvalidTransition => "invalid_transition",
            Self::WrongWindow => "wrong_window",
            Self::RecallLimit => "recall_limit",
            Self::SettingDisabled => "setting_disabled",
            Self::AlreadyRated => "already_rated",
            Self::RatingClosed => "rating_closed",
            Self::RateLimited => "rate_limited",
            Self::PrintFailed => "print_failed",
            Self::CalendarProvisional => "calendar_provisional",
            Self::OverrideExists => "override_exists",
            Self::DuplicateItemCode => "duplicate_item_code",
            Self::PromiseExceedsStatute => "promise_exceeds_statute",
            Self::ItemInactive => "item_inactive",
            Self::ExtensionExceeded => "extension_exceeded",
            Self::DeadlinePassed => "deadline_passed",
            Self::MaterialsUnchecked => "materials_unchecked",
            Self::MaterialsIncomplete => "materials_incomplete",
            Self::MaterialsComplete => "materials_complete",
            Self::InvalidMaterialState => "invalid_material_state",
            Self::TemplateInvalid => "template_invalid",
            Self::ImportInvalid => "import_invalid",
            Self::BothAway => "both_away",
            Self::NoticePeriod => "notice_period",
            Self::HandoverOpen => "handover_open",
            Self::DuplicateDevice => "duplicate_device",
            Self::ServerUnreachable => "server_unreachable",
            Self::AccountLocked => "account_locked",
            Self::ArchiveAltered => "archive_altered",
            Self::SchemaTooNew => "schema_too_new",
            Self::Storage => "storage",
            Self::Internal => "internal",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A coded failure. `message` is Chinese first; the UI shows its own translation of `code`.
#[derive(
    Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, schemars::JsonSchema, thiserror::Error,
)]
#[error("[{code}] {message}")]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    #[serde(default)]
    pub params: BTreeMap<String, String>,
}

pub type Result<T, E = CoreError> = std::result::Result<T, E>;

impl CoreError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
            params: BTreeMap::new(),
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    pub fn param(mut self, key: &str, value: impl ToString) -> Self {
        self.params.insert(key.to_owned(), value.to_string());
        self
    }

    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::new(ErrorCode::NotFound, format!("找不到{what}（{id}）"))
            .param("what", what)
            .param("id", id)
    }

    pub fn forbidden(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, why)
    }

    pub fn internal(why: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, why)
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(e: rusqlite::Error) -> Self {
        CoreError::new(ErrorCode::Storage, format!("数据库读写失败：{e}"))
    }
}

impl From<std::io::Error> for CoreError {
    fn from(e: std::io::Error) -> Self {
        CoreError::new(ErrorCode::Storage, format!("文件读写失败：{e}"))
    }
}

impl From<serde_json::Error> for CoreError {
    fn from(e: serde_json::Error) -> Self {
        CoreError::new(ErrorCode::InvalidFormat, format!("数据格式错误：{e}"))
    }
}
