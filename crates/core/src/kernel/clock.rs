//! Time enters the core only through a [`Clock`], at the boundary (IPC command, HTTP handler,
//! CLI). Domain code receives `now` as a value and never reads the system time itself, so every
//! rule that depends on time (deadlines, session expiry, issuing hours) is testable with a fixed
//! clock. Civil dates are always taken in the hall's time zone, [`HALL_TZ`] (Asia/Shanghai).

use jiff::{Timestamp, tz::TimeZone};

/// The hall's time zone. Chinese government halls all run on Beijing time.
pub const HALL_TZ: &str = "Asia/Shanghai";

pub fn hall_tz() -> TimeZone {
    // Looked up once: deadline computations convert hundreds of thousands of moments.
    static TZ: std::sync::OnceLock<TimeZone> = std::sync::OnceLock::new();
    TZ.get_or_init(|| {
        // The tz database is bundled (`tzdb-bundle-always`), so this cannot fail on any machine.
        TimeZone::get(HALL_TZ).expect("Asia/Shanghai is in the bundled tz database")
    })
    .clone()
}

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

/// The real clock, for the shells only.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock that returns what it is told, for tests and replays.
#[derive(Debug)]
pub struct FixedClock(pub std::sync::Mutex<Timestamp>);

impl FixedClock {
    pub fn new(at: Timestamp) -> Self {
        Self(std::sync::Mutex::new(at))
    }
    pub fn set(&self, at: Timestamp) {
        *self.0.lock().expect("clock lock") = at;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().expect("clock lock")
    }
}

/// Milliseconds since the Unix epoch: how timestamps are stored (INTEGER in SQLite, BIGINT in
/// PostgreSQL), so that ordering and range queries are plain integer comparisons.
pub fn to_ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The hall's civil date at `t` (the business day of a ticket, the day of a deadline).
pub fn hall_date(t: Timestamp) -> jiff::civil::Date {
    t.to_zoned(hall_tz()).date()
}

/// Minutes after midnight, Beijing time.
pub fn hall_minute(t: Timestamp) -> u16 {
    let z = t.to_zoned(hall_tz());
    (z.hour() as u16) * 60 + z.minute() as u16
}

/// Midnight at the start of a civil date, Beijing time (the bounds of a reporting period).
pub fn day_start(d: jiff::civil::Date) -> crate::kernel::error::Result<Timestamp> {
    Ok(d.to_zoned(hall_tz())
        .map_err(|e| crate::kernel::error::CoreError::internal(e.to_string()))?
        .timestamp())
}
