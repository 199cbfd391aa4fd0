//! Estimated wait (预计等候时间), shown on the kiosk and printed on the ticket.
//!
//! `ahead` people share the windows now open for the category; each takes, on average, what the
//! category's recent tickets took from call to finish. With no window open there is no honest
//! estimate, and none is given.

/// Recent tickets the mean service time is taken over.
pub const SAMPLE: u32 = 20;

/// Service time assumed before a category has any finished ticket: 5 minutes.
pub const DEFAULT_SERVICE_MS: i64 = 5 * 60_000;

/// Minutes until the ticket behind `ahead` others is called, rounded up; `None` when no window
/// is open for it.
pub fn estimate_minutes(
    ahead: u32,
    windows_open: u32,
    mean_service_ms: Option<i64>,
) -> Option<u32> {
    if windows_open == 0 {
        return None;
    }
    let per = mean_service_ms.unwrap_or(DEFAULT_SERVICE_MS).max(0);
    // Everyone ahead is served in rounds of `windows_open` at a time.
    let total_ms = i64::from(ahead) * per / i64::from(windows_open);
    Some(((total_ms + 59_999) / 60_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimate_table() {
        let min = 60_000;
        for (ahead, open, mean, want) in [
            (0, 1, Some(4 * min), Some(0)),
            (1, 1, Some(4 * min), Some(4)),
            (10, 2, Some(4 * min), Some(20)),
            (3, 2, Some(5 * min), Some(8)), // 7.5 rounds up
            (6, 3, None, Some(10)),         // default 5 min each
            (6, 0, Some(min), None),        // nobody is serving
        ] {
            assert_eq!(
                estimate_minutes(ahead, open, mean),
                want,
                "{ahead} ahead, {open} open"
            );
        }
    }
}
