//! SQL of the queue: tickets, their event log, window pauses. Nothing outside this file (and
//! the rating module's own queries) touches these tables.

use crate::kernel::store::Optional;
use crate::kernel::store::{Row, Tx};
use jiff::Timestamp;
use rusqlite::params;

use super::order::Candidate;
use super::ticket::{PriorityReason, Ticket, TicketStatus, TicketWindow};
use crate::hall::CategoryRef;
use crate::kernel::clock::{from_ms, to_ms};
use crate::kernel::error::{CoreError, Result};

const TICKET_COLS: &str = "t.id, t.number, t.day, t.category_id, c.prefix, c.name, t.target_window_id, tw.number,
    t.priority, t.priority_note, t.applicant_name, t.id_masked, t.status, t.issued_at, t.called_at,
    t.last_called_at, t.recalls, t.started_at, t.finished_at, t.window_id, w.number, w.name, t.staff_id, s.name";

const TICKET_FROM: &str = "tickets t JOIN categories c ON c.id = t.category_id
    LEFT JOIN windows w ON w.id = t.window_id
    LEFT JOIN windows tw ON tw.id = t.target_window_id
    LEFT JOIN staff s ON s.id = t.staff_id";

fn ticket_row(r: &Row<'_>) -> crate::kernel::store::StoreResult<Ticket> {
    let ms = |i: usize| -> crate::kernel::store::StoreResult<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_ms))
    };
    let issued_at = from_ms(r.get(13)?);
    let called_at = ms(14)?;
    let started_at = ms(17)?;
    let finished_at = ms(18)?;
    let window = match r.get::<_, Option<String>>(19)? {
        Some(id) => Some(TicketWindow {
            id,
            number: r.get(20)?,
            name: r.get(21)?,
        }),
        None => None,
    };
    Ok(Ticket {
        id: r.get(0)?,
        number: r.get(1)?,
        day: r.get(2)?,
        category: CategoryRef {
            id: r.get(3)?,
            prefix: r.get(4)?,
            name: r.get(5)?,
        },
        target_window_id: r.get(6)?,
        target_window_number: r.get(7)?,
        priority: r
            .get::<_, Option<String>>(8)?
            .and_then(|p| PriorityReason::parse(&p)),
        priority_note: r.get(9)?,
        applicant: r
            .get::<_, Option<String>>(10)?
            .map(|n| crate::kernel::validate::mask_name(&n)),
        id_masked: r.get(11)?,
        status: TicketStatus::parse(&r.get::<_, String>(12)?),
        issued_at,
        called_at,
        last_called_at: ms(15)?,
        recalls: r.get(16)?,
        started_at,
        finished_at,
        window,
        staff_id: r.get(22)?,
        staff_name: r.get(23)?,
        wait_seconds: called_at.map(|c| (to_ms(c) - to_ms(issued_at)) / 1000),
        service_seconds: match (started_at, finished_at) {
            (Some(s), Some(f)) => Some((to_ms(f) - to_ms(s)) / 1000),
            _ => None,
        },
    })
}

pub(crate) fn get(tx: &Tx<'_>, id: &str) -> Result<Ticket> {
    tx.query_row(
        &format!("SELECT {TICKET_COLS} FROM {TICKET_FROM} WHERE t.id = ?1"),
        [id],
        ticket_row,
    )
    .optional()?
    .ok_or_else(|| CoreError::not_found("号票", id).field("ticket_id"))
}

/// Tickets matching a WHERE clause over `t`, in the given order.
pub(crate) fn select(
    tx: &Tx<'_>,
    where_order: &str,
    args: impl crate::kernel::store::Args,
) -> Result<Vec<Ticket>> {
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {TICKET_COLS} FROM {TICKET_FROM} WHERE {where_order}"
    ))?;
    Ok(stmt
        .query_map(args, ticket_row)?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?)
}

/// Append one step to a ticket's event log.
pub(crate) fn append_event(
    tx: &Tx<'_>,
    ticket_id: &str,
    kind: &str,
    window_id: Option<&str>,
    staff_id: Option<&str>,
    at: Timestamp,
    detail: Option<serde_json::Value>,
) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO ticket_events (ticket_id, kind, window_id, staff_id, at, detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        ticket_id,
        kind,
        window_id,
        staff_id,
        to_ms(at),
        detail.map(|d| d.to_string())
    ])?;
    Ok(())
}

/// The next number of a category for a day: increments the counter (which never goes back)
/// and returns the new sequence, or the current one if it would exceed `cap`.
pub(crate) fn next_seq(
    tx: &Tx<'_>,
    category_id: &str,
    day: &str,
    cap: u32,
) -> Result<std::result::Result<u32, u32>> {
    // Increment first, then check: the counter's row lock makes the cap exact with many kiosks
    // (a refused issue rolls the increment back with the rest of its transaction). A counter at
    // the highest number a slip can show (999, the table's CHECK; every cap is at most that) is
    // not incremented and returns no row: that day is sold out whatever the cap.
    let seq: Option<u32> = tx
        .prepare_cached(
            "INSERT INTO ticket_counters (category_id, day, last_seq) VALUES (?1, ?2, 1)
             ON CONFLICT (category_id, day) DO UPDATE SET last_seq = ticket_counters.last_seq + 1
             WHERE ticket_counters.last_seq < 999
             RETURNING last_seq",
        )?
        .query_row(params![category_id, day], |r| r.get(0))
        .optional()?;
    let Some(seq) = seq else {
        return Ok(Err(999));
    };
    if seq > cap {
        return Ok(Err(seq - 1));
    }
    Ok(Ok(seq))
}

/// How many numbers a category has handed out on a day.
pub(crate) fn issued_count(tx: &Tx<'_>, category_id: &str, day: &str) -> Result<u32> {
    Ok(tx
        .prepare_cached("SELECT last_seq FROM ticket_counters WHERE category_id = ?1 AND day = ?2")?
        .query_row(params![category_id, day], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// The head of every queue a window may call from today: per category and class (priority or
/// not), plus tickets transferred to this window. See [`super::order`].
pub(crate) fn heads(tx: &Tx<'_>, window_id: &str, day: &str) -> Result<Vec<Candidate>> {
    if tx.is_postgres() {
        return heads_in_one_statement(tx, window_id, day);
    }
    let mut out = Vec::new();
    // SQLite: the waiting index by name (its planner, blind to the bound day, would pick the
    // day index). PostgreSQL: skip a head another window is claiming this very moment (its row
    // is locked by that window's update), so two windows calling at once never wait on each
    // other; the claim itself is the conditional update in `claim`.
    let mut head = tx.prepare_cached(tx.pick(
        "SELECT id, queue_key, seq FROM tickets INDEXED BY tickets_waiting
         WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = ?3
           AND status = 'waiting' AND target_window_id IS NULL
         ORDER BY queue_key, seq LIMIT 1",
        "SELECT id, queue_key, seq FROM tickets
         WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = ?3
           AND status = 'waiting' AND target_window_id IS NULL
         ORDER BY queue_key, seq LIMIT 1 FOR UPDATE SKIP LOCKED",
    ))?;
    // The windows whose queues this one calls: itself, plus any routed to it by a takeover.
    // The common case (no takeover) reads the tables directly; the views cost a scan.
    let routes = routed_from(tx, window_id)?;
    let categories: Vec<(String, i32)> = tx
        .prepare_cached(if routes.is_empty() {
            "SELECT category_id, rank FROM window_categories WHERE window_id = ?1 ORDER BY rank"
        } else {
            "SELECT category_id, rank FROM window_serving WHERE window_id = ?1 ORDER BY rank"
        })?
        .query_map([window_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    for (category_id, rank) in categories {
        for priority in [true, false] {
            if let Some((id, key, seq)) = head
                .query_row(params![day, category_id, priority], |r| {
                    Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
                })
                .optional()?
            {
                out.push(Candidate {
                    ticket_id: id,
                    priority,
                    rank,
                    queue_key: key,
                    seq,
                });
            }
        }
    }
    let mut targeted = tx.prepare_cached(
        "SELECT id, priority IS NOT NULL, queue_key, seq FROM tickets
         WHERE target_window_id = ?1 AND status = 'waiting' AND day = ?2
         ORDER BY queue_key, seq",
    )?;
    for w in std::iter::once(window_id).chain(routes.iter().map(String::as_str)) {
        let rows = targeted.query_map(params![w, day], |r| {
            Ok(Candidate {
                ticket_id: r.get(0)?,
                priority: r.get(1)?,
                rank: -1,
                queue_key: r.get(2)?,
                seq: r.get(3)?,
            })
        })?;
        for c in rows {
            out.push(c?);
        }
    }
    Ok(out)
}

/// PostgreSQL: every head a window may call in one statement — one network round trip where
/// the per-queue probes took one each (22 for a window of eleven categories) — and the
/// transfers to it in a second. Each head is taken `FOR UPDATE SKIP LOCKED`, as above.
fn heads_in_one_statement(tx: &Tx<'_>, window_id: &str, day: &str) -> Result<Vec<Candidate>> {
    let routed = !routed_from(tx, window_id)?.is_empty();
    let sql = format!(
        "SELECT h.id, p.pri, c.rank, h.queue_key, h.seq
         FROM (SELECT category_id, rank FROM {} WHERE window_id = ?1) AS c
         CROSS JOIN (VALUES (true), (false)) AS p(pri)
         CROSS JOIN LATERAL (
             SELECT id, queue_key, seq FROM tickets
             WHERE day = ?2 AND category_id = c.category_id AND (priority IS NOT NULL) = p.pri
               AND status = 'waiting' AND target_window_id IS NULL
             ORDER BY queue_key, seq LIMIT 1 FOR UPDATE SKIP LOCKED) AS h
         UNION ALL
         SELECT id, priority IS NOT NULL, -1, queue_key, seq FROM tickets
         WHERE target_window_id IN (SELECT from_window_id FROM window_routes WHERE window_id = ?1)
           AND status = 'waiting' AND day = ?2",
        if routed {
            "window_serving"
        } else {
            "window_categories"
        }
    );
    let rows = tx
        .prepare_cached(&sql)?
        .query_map(params![window_id, day], |r| {
            Ok(Candidate {
                ticket_id: r.get(0)?,
                priority: r.get(1)?,
                rank: r.get(2)?,
                queue_key: r.get(3)?,
                seq: r.get(4)?,
            })
        })?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    Ok(rows)
}

/// How many of this window's most recent calls (up to `n`) were green-channel tickets, in a
/// row from the newest.
pub(crate) fn priority_streak(tx: &Tx<'_>, window_id: &str, n: u32) -> Result<u32> {
    let mut stmt = tx.prepare_cached(
        "SELECT t.priority IS NOT NULL FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id
         WHERE e.window_id = ?1 AND e.kind IN ('call', 'call_specific')
         ORDER BY e.seq DESC LIMIT ?2",
    )?;
    let flags = stmt
        .query_map(params![window_id, n], |r| r.get::<_, bool>(0))?
        .collect::<crate::kernel::store::StoreResult<Vec<_>>>()?;
    Ok(flags.iter().take_while(|p| **p).count() as u32)
}

/// The ticket being called or served at a window, if any.
pub(crate) fn active_at(tx: &Tx<'_>, window_id: &str) -> Result<Option<(String, String)>> {
    Ok(tx
        .prepare_cached(
            "SELECT id, number FROM tickets WHERE window_id = ?1 AND status IN ('called', 'serving')",
        )?
        .query_row([window_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The open pause of a window: (id, reason, since).
pub(crate) fn open_pause(
    tx: &Tx<'_>,
    window_id: &str,
) -> Result<Option<(String, String, Timestamp)>> {
    Ok(tx
        .prepare_cached(
            "SELECT id, reason, started_at FROM window_pauses WHERE window_id = ?1 AND ended_at IS NULL",
        )?
        .query_row([window_id], |r| {
            Ok((r.get(0)?, r.get(1)?, from_ms(r.get(2)?)))
        })
        .optional()?)
}

/// Tickets ahead of a waiting ticket in its queue: every waiting green-channel ticket of the
/// category when it is normal, and those of its own class that arrived before it.
///
/// A live read (the kiosk's slip, the issue response): it costs the tickets *behind* a normal
/// ticket, not the queue in front of it. A normal ticket has every other open ticket of its
/// category ahead except the normal ones after it, and the open count is kept per category
/// ([`waiting_counts`]); a new ticket is last, so its count costs nothing at 100,000 waiting.
/// A green-channel ticket counts the green-channel tickets before it (few, by the rule that
/// lets them go first).
pub(crate) fn ahead_of(tx: &Tx<'_>, t: &TicketKey) -> Result<u32> {
    if t.priority {
        return Ok(tx
            .prepare_cached(tx.pick(
                "SELECT count(*) FROM tickets INDEXED BY tickets_waiting
                 WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = 1
                   AND status = 'waiting' AND target_window_id IS NULL AND id <> ?5
                   AND (queue_key < ?3 OR (queue_key = ?3 AND seq < ?4))",
                "SELECT count(*) FROM tickets
                 WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = true
                   AND status = 'waiting' AND target_window_id IS NULL AND id <> ?5
                   AND (queue_key < ?3 OR (queue_key = ?3 AND seq < ?4))",
            ))?
            .query_row(
                params![t.day, t.category_id, t.queue_key, t.seq, t.id],
                |r| r.get(0),
            )?);
    }
    let open = waiting_counts(tx, &t.category_id, &t.day)?.open;
    let behind: u32 = tx
        .prepare_cached(tx.pick(
            "SELECT count(*) FROM tickets INDEXED BY tickets_waiting
             WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = 0
               AND status = 'waiting' AND target_window_id IS NULL AND id <> ?5
               AND (queue_key > ?3 OR (queue_key = ?3 AND seq >= ?4))",
            "SELECT count(*) FROM tickets
             WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = false
               AND status = 'waiting' AND target_window_id IS NULL AND id <> ?5
               AND (queue_key > ?3 OR (queue_key = ?3 AND seq >= ?4))",
        ))?
        .query_row(
            params![t.day, t.category_id, t.queue_key, t.seq, t.id],
            |r| r.get(0),
        )?;
    Ok(open.saturating_sub(behind + u32::from(t.open)))
}

/// What places a waiting ticket in its queue.
#[derive(Debug, Clone)]
pub(crate) struct TicketKey {
    pub id: String,
    pub day: String,
    pub category_id: String,
    pub priority: bool,
    pub queue_key: i64,
    pub seq: u32,
    /// Waiting in the category's shared queue (not transferred to one window).
    pub open: bool,
}

pub(crate) fn key_of(tx: &Tx<'_>, id: &str) -> Result<TicketKey> {
    Ok(tx
        .prepare_cached(
            "SELECT id, day, category_id, priority IS NOT NULL, queue_key, seq,
                    status = 'waiting' AND target_window_id IS NULL
             FROM tickets WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(TicketKey {
                id: r.get(0)?,
                day: r.get(1)?,
                category_id: r.get(2)?,
                priority: r.get(3)?,
                queue_key: r.get(4)?,
                seq: r.get(5)?,
                open: r.get(6)?,
            })
        })?)
}

/// Waiting tickets of one category on one day, as kept by the `queue_counts` triggers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WaitingCounts {
    /// Every waiting ticket of the category (transfers to one window included).
    pub all: u32,
    /// Green-channel tickets among them.
    pub priority: u32,
    /// The ones any window serving the category may call.
    pub open: u32,
}

/// Waiting tickets of a category today: one row, kept by triggers in the transaction of every
/// ticket change (migration 13), never a count of the queue.
pub(crate) fn waiting_counts(tx: &Tx<'_>, category_id: &str, day: &str) -> Result<WaitingCounts> {
    Ok(tx
        .prepare_cached(
            "SELECT waiting, priority_waiting, open_waiting FROM queue_counts
             WHERE day = ?1 AND category_id = ?2",
        )?
        .query_row(params![day, category_id], |r| {
            Ok(WaitingCounts {
                all: r.get(0)?,
                priority: r.get(1)?,
                open: r.get(2)?,
            })
        })
        .optional()?
        .unwrap_or_default())
}

/// The first `limit` tickets a window may call, in calling order as the console lists them:
/// transfers to it (or to a window routed to it) first, then green channel, then by the
/// window's category rank and arrival. A live read: it takes at most `limit` from the head of
/// each of the window's queues (the waiting index is already in arrival order), never sorting
/// the queue.
pub(crate) fn waiting_at(
    tx: &Tx<'_>,
    window_id: &str,
    day: &str,
    limit: u32,
) -> Result<(Vec<Ticket>, u32)> {
    let categories: Vec<String> = tx
        .prepare_cached(
            "SELECT category_id FROM window_serving WHERE window_id = ?1 ORDER BY rank",
        )?
        .query_map([window_id], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<_>>()?;
    // Transfers to this window or one routed to it: few, through their own index.
    // SQLite names the index: on its own it chose the day's index and walked every ticket of
    // the day (158 ms at 100,000 waiting).
    let targeted = select(
        tx,
        tx.pick(
            "t.id IN (SELECT id FROM tickets INDEXED BY tickets_targeted
                      WHERE target_window_id IN (SELECT from_window_id FROM window_routes WHERE window_id = ?1)
                        AND status = 'waiting' AND day = ?2)
             ORDER BY (t.priority IS NULL),
                      (SELECT rank FROM window_serving WHERE window_id = ?1 AND category_id = t.category_id),
                      t.queue_key, t.seq",
            "t.target_window_id IN (SELECT from_window_id FROM window_routes WHERE window_id = ?1)
               AND t.status = 'waiting' AND t.day = ?2
             ORDER BY (t.priority IS NULL),
                      (SELECT rank FROM window_serving WHERE window_id = ?1 AND category_id = t.category_id),
                      t.queue_key, t.seq",
        ),
        params![window_id, day],
    )?;
    let open: i64 = tx.query_row(
        "SELECT coalesce(CAST(sum(open_waiting) AS BIGINT), 0) FROM queue_counts
         WHERE day = ?2 AND category_id IN (SELECT category_id FROM window_serving WHERE window_id = ?1)",
        params![window_id, day],
        |r| r.get(0),
    )?;
    let total = u32::try_from(targeted.len())
        .unwrap_or(u32::MAX)
        .saturating_add(u32::try_from(open).unwrap_or(u32::MAX));
    let mut out = targeted;
    out.truncate(limit as usize);
    let head = tx.pick(
        "t.id IN (SELECT id FROM tickets INDEXED BY tickets_waiting
                  WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = ?3
                    AND status = 'waiting' AND target_window_id IS NULL
                  ORDER BY queue_key, seq LIMIT ?4)
         ORDER BY t.queue_key, t.seq",
        "t.id IN (SELECT id FROM tickets
                  WHERE day = ?1 AND category_id = ?2 AND (priority IS NOT NULL) = ?3
                    AND status = 'waiting' AND target_window_id IS NULL
                  ORDER BY queue_key, seq LIMIT ?4)
         ORDER BY t.queue_key, t.seq",
    );
    // Green channel first, across the window's categories in its order: few by the rule that
    // lets them go first, so one statement sorts them all.
    let room = limit.saturating_sub(u32::try_from(out.len()).unwrap_or(u32::MAX));
    if room > 0 {
        out.extend(select(
            tx,
            tx.pick(
                "t.id IN (SELECT id FROM tickets INDEXED BY tickets_waiting
                          WHERE day = ?1 AND category_id IN (SELECT category_id FROM window_serving WHERE window_id = ?2)
                            AND (priority IS NOT NULL) = 1
                            AND status = 'waiting' AND target_window_id IS NULL)
                 ORDER BY (SELECT rank FROM window_serving WHERE window_id = ?2 AND category_id = t.category_id),
                          t.queue_key, t.seq LIMIT ?3",
                "t.id IN (SELECT id FROM tickets
                          WHERE day = ?1 AND category_id IN (SELECT category_id FROM window_serving WHERE window_id = ?2)
                            AND (priority IS NOT NULL) = true
                            AND status = 'waiting' AND target_window_id IS NULL)
                 ORDER BY (SELECT rank FROM window_serving WHERE window_id = ?2 AND category_id = t.category_id),
                          t.queue_key, t.seq LIMIT ?3",
            ),
            params![day, window_id, room],
        )?);
    }
    // Then each category's own queue in the window's order, until the list is full.
    for category_id in &categories {
        let room = limit.saturating_sub(u32::try_from(out.len()).unwrap_or(u32::MAX));
        if room == 0 {
            break;
        }
        out.extend(select(tx, head, params![day, category_id, false, room])?);
    }
    Ok((out, total))
}

/// The other windows whose queues this window calls during a takeover (AB岗: A's window routed
/// to B's, when the hall routes that way).
pub(crate) fn routed_from(tx: &Tx<'_>, window_id: &str) -> Result<Vec<String>> {
    Ok(tx
        .prepare_cached(
            "SELECT from_window_id FROM window_routes WHERE window_id = ?1 AND routed = 1",
        )?
        .query_map([window_id], |r| r.get(0))?
        .collect::<crate::kernel::store::StoreResult<_>>()?)
}

/// The window this window's queue goes to during a takeover, if any (its number).
pub(crate) fn routed_to(tx: &Tx<'_>, window_id: &str) -> Result<Option<u32>> {
    Ok(tx
        .prepare_cached(
            "SELECT w.number FROM window_routes r JOIN windows w ON w.id = r.window_id
             WHERE r.from_window_id = ?1 AND r.routed = 1 ORDER BY w.number LIMIT 1",
        )?
        .query_row([window_id], |r| r.get(0))
        .optional()?)
}

/// Windows now able to call a category: active, a clerk signed in, not paused.
pub(crate) fn windows_open_for(tx: &Tx<'_>, category_id: &str, now: Timestamp) -> Result<u32> {
    Ok(tx
        .prepare_cached(
            "SELECT count(DISTINCT wc.window_id) FROM window_serving wc
             JOIN windows w ON w.id = wc.window_id AND w.active = 1
             JOIN sessions s ON s.window_id = wc.window_id AND s.ended_at IS NULL AND s.expires_at > ?2
             WHERE wc.category_id = ?1
               AND NOT EXISTS (SELECT 1 FROM window_pauses p WHERE p.window_id = wc.window_id AND p.ended_at IS NULL)",
        )?
        .query_row(params![category_id, to_ms(now)], |r| r.get(0))?)
}

/// Mean time from call to finish of the category's last `n` finished tickets, in ms.
pub(crate) fn recent_service_ms(tx: &Tx<'_>, category_id: &str, n: u32) -> Result<Option<i64>> {
    let avg: Option<f64> = tx
        .prepare_cached(tx.pick(
            "SELECT CAST(avg(finished_at - called_at) AS DOUBLE PRECISION) FROM (
                SELECT finished_at, called_at FROM tickets INDEXED BY tickets_done
                WHERE category_id = ?1 AND status = 'done' ORDER BY finished_at DESC LIMIT ?2) AS recent",
            "SELECT CAST(avg(finished_at - called_at) AS DOUBLE PRECISION) FROM (
                SELECT finished_at, called_at FROM tickets
                WHERE category_id = ?1 AND status = 'done' ORDER BY finished_at DESC LIMIT ?2) AS recent",
        ))?
        .query_row(params![category_id, n], |r| r.get(0))?;
    Ok(avg.map(|a| a.round() as i64))
}
