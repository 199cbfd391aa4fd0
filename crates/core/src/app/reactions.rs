//! Reactions: what else happens, in the same transaction, when a capability emits a domain
//! event. A capability never calls one above it; it says what happened ([`Cx::emit`]) and
//! this table — the only place that knows both sides — does the rest. Effects that must be
//! atomic with their cause run here directly; effects that leave the hall (a message to an
//! applicant) are written to the outbox here and delivered later by a job.
//!
//! | event | reaction |
//! |---|---|
//! | `calendar.changed` | recompute every open case on the new calendar version |
//! | `hall.business_hours_changed` | recompute every open case (the due hour is the closing time) |
//! | `catalog.rules_changed` | recompute every open case on its item's new limits |
//! | `deadline.settings_changed` | recompute every open case under the new counting and thresholds |
//! | `case.level_rose` | tell the absent A when B holds their post (AB岗) |
//! | `post.routing_changed` | re-route the queues of every active takeover |
//! | `case.accepted` | queue the 受理 message to the applicant in the outbox |
//! | `window.closing` | refuse while a clerk is signed in at the window |
//!
//! `DEVELOPMENT.md` says how to add one.

use std::any::Any;

use crate::kernel::error::{CoreError, Result};
use crate::kernel::event::DomainEvent;
use crate::kernel::op::Cx;

/// One row of the table: when `event` is emitted, `run` does `effect`.
#[derive(Debug, Clone, Copy)]
pub struct Reaction {
    pub event: &'static str,
    pub effect: &'static str,
    pub run: fn(&mut Cx<'_>, &dyn DomainEvent) -> Result<()>,
}

/// Every reaction, in the order they run for one event.
pub const REACTIONS: &[Reaction] = &[
    Reaction {
        event: "calendar.changed",
        effect: "recompute every open case on the new calendar version",
        run: recompute_open_cases,
    },
    Reaction {
        event: "hall.business_hours_changed",
        effect: "recompute every open case (the due hour is the hall's closing time)",
        run: recompute_open_cases,
    },
    Reaction {
        event: "catalog.rules_changed",
        effect: "recompute every open case on its item's new limits",
        run: recompute_open_cases,
    },
    Reaction {
        event: "deadline.settings_changed",
        effect: "recompute every open case under the new day count and thresholds",
        run: recompute_open_cases,
    },
    Reaction {
        event: "case.level_rose",
        effect: "tell the absent A that their case rose a level while B holds the post",
        run: tell_absent_owner,
    },
    Reaction {
        event: "post.routing_changed",
        effect: "re-route the queues of every active takeover under the new setting",
        run: reroute_takeovers,
    },
    Reaction {
        event: "case.accepted",
        effect: "queue the acceptance message to the applicant in the outbox",
        run: message_acceptance,
    },
    Reaction {
        event: "window.closing",
        effect: "refuse to deactivate a window while a clerk is signed in at it",
        run: refuse_occupied_window,
    },
];

/// The kernel's entry (see [`crate::kernel::op::Wiring`]).
pub fn react(cx: &mut Cx<'_>, event: &dyn DomainEvent) -> Result<()> {
    let name = event.name();
    for r in REACTIONS.iter().filter(|r| r.event == name) {
        (r.run)(cx, event)?;
    }
    Ok(())
}

fn downcast<T: 'static>(event: &dyn DomainEvent) -> Result<&T> {
    (event as &dyn Any)
        .downcast_ref::<T>()
        .ok_or_else(|| CoreError::internal(format!("领域事件 {} 的类型与反应表不符", event.name())))
}

fn recompute_open_cases(cx: &mut Cx<'_>, _: &dyn DomainEvent) -> Result<()> {
    let (n, _) = crate::cases::recompute_open(cx)?;
    cx.effect(format!("重算在办件 {n} 件"));
    Ok(())
}

fn tell_absent_owner(cx: &mut Cx<'_>, event: &dyn DomainEvent) -> Result<()> {
    let e = downcast::<crate::cases::LevelRose>(event)?;
    crate::handover::level_rose_during_absence(cx.tx, &e.case_id, e.level, cx.now)
}

fn reroute_takeovers(cx: &mut Cx<'_>, _: &dyn DomainEvent) -> Result<()> {
    let n = crate::handover::reroute_active(cx)?;
    if n > 0 {
        cx.effect(format!("重新安排顶岗中岗位的叫号 {n} 个"));
    }
    Ok(())
}

fn message_acceptance(cx: &mut Cx<'_>, event: &dyn DomainEvent) -> Result<()> {
    let e = downcast::<crate::cases::CaseAccepted>(event)?;
    crate::cases::queue_acceptance_message(cx, &e.case_id)
}

fn refuse_occupied_window(cx: &mut Cx<'_>, event: &dyn DomainEvent) -> Result<()> {
    let e = downcast::<crate::hall::window::WindowClosing>(event)?;
    crate::staff::auth::refuse_if_occupied(cx.tx, &e.window_id, e.number, cx.now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reaction_names_an_event_and_an_effect() {
        for r in REACTIONS {
            assert!(r.event.contains('.'), "{} is capability.happened", r.event);
            assert!(!r.effect.is_empty());
        }
    }
}
