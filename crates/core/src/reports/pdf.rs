//! The period report as a PDF/A-2b (Typst, through the notice machinery): the figures
//! formatted for print, the trend drawn as bars, the petition analysis of bad ratings.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::Figures;
use super::figures::{CaseRow, QueueRow};
use crate::hall::Hall;
use crate::kernel::clock::hall_tz;
use crate::kernel::error::Result;

pub(crate) fn opt(v: Option<f64>, unit: &str) -> String {
    v.map(|x| format!("{x}{unit}"))
        .unwrap_or_else(|| "—".into())
}

fn queue_row(r: &QueueRow) -> Value {
    json!({
        "name": r.name, "issued": r.issued, "served": r.served, "no_show": r.no_show,
        "avg_wait": opt(r.avg_wait_minutes, " 分"), "max_wait": opt(r.max_wait_minutes, " 分"),
        "over_rate": opt(r.over_target_rate, "%"), "avg_service": opt(r.avg_service_minutes, " 分"),
        "days": r.days_active, "per_day": opt(r.served_per_day, ""),
    })
}

fn case_row(r: &CaseRow) -> Value {
    json!({
        "name": r.name, "accepted": r.accepted, "decided": r.decided, "early": r.early,
        "on_time": r.on_time, "late": r.late,
        "on_time_rate": opt(r.on_time_rate, "%"), "early_rate": opt(r.early_rate, "%"),
        "open": format!("{}/{}", r.open_yellow, r.open_red + r.open_severe),
        "paused": format!("{}/{}", r.suspended, r.extended),
        "visits": match (r.average_visits, r.visits_needed) {
            (Some(v), Some(n)) => format!("{v}/{n}"),
            (v, _) => opt(v, ""),
        },
        "workdays": opt(r.average_workdays, " 日"),
    })
}

pub(crate) fn data(hall: &Hall, title: &str, f: &Figures, now: Timestamp) -> Value {
    let when = |t: Timestamp| t.to_zoned(hall_tz()).strftime("%Y-%m-%d %H:%M").to_string();
    let level = |l: u8| {
        ["非常不满意", "不满意", "基本满意", "满意", "非常满意"][usize::from(l.clamp(1, 5) - 1)]
    };
    let q = &f.queue.total;
    let c = &f.cases.total;
    let mut scope = vec![];
    if f.filter.category_id.is_some() {
        scope.push(format!(
            "业务类别 {}",
            f.queue
                .by_category
                .first()
                .map(|r| r.name.as_str())
                .unwrap_or("")
        ));
    }
    if f.filter.window_id.is_some() {
        scope.push(format!(
            "窗口 {}",
            f.queue
                .by_window
                .first()
                .map(|r| r.name.as_str())
                .unwrap_or("")
        ));
    }
    if f.filter.staff_id.is_some() {
        scope.push(format!(
            "工作人员 {}",
            f.queue
                .by_clerk
                .first()
                .map(|r| r.name.as_str())
                .unwrap_or("")
        ));
    }
    if f.filter.item_id.is_some() {
        scope.push(format!(
            "事项 {}",
            f.cases
                .by_item
                .first()
                .map(|r| r.name.as_str())
                .unwrap_or("")
        ));
    }
    json!({
        "hall": {"name": hall.name, "code": hall.code},
        "title": title,
        "period": if f.filter.from == f.filter.to { f.filter.from.clone() } else { format!("{} 至 {}", f.filter.from, f.filter.to) },
        "workdays": f.workdays.map(|w| w.to_string()).unwrap_or_else(|| "—".into()),
        "generated": when(now),
        "scope": scope.join("，"),
        "q": {
            "issued": q.issued, "served": q.served, "no_show": q.no_show,
            "avg_wait": opt(q.avg_wait_minutes, " 分钟"),
            "over_target": format!("{}（>{} 分钟）", q.over_target, f.wait_target_minutes),
            "avg_service": opt(q.avg_service_minutes, " 分钟"),
        },
        "c": {
            "accepted": c.accepted, "decided": c.decided,
            "on_time_rate": opt(c.on_time_rate, "%"), "early_rate": opt(c.early_rate, "%"),
        },
        "r": {
            "rated": f.ratings.rated, "levels": f.ratings.levels,
            "satisfied_rate": opt(f.ratings.satisfied_rate, "%"),
            "bad": f.ratings.bad, "bad_open": f.ratings.bad_open, "bad_closed": f.ratings.bad_closed,
        },
        "trend": f.queue.by_day.iter().map(|d| json!({"day": d.key, "issued": d.issued, "served": d.served})).collect::<Vec<_>>(),
        "q_by_category": f.queue.by_category.iter().map(queue_row).collect::<Vec<_>>(),
        "q_by_clerk": f.queue.by_clerk.iter().map(queue_row).collect::<Vec<_>>(),
        "c_by_item": f.cases.by_item.iter().map(case_row).collect::<Vec<_>>(),
        "c_by_clerk": f.cases.by_clerk.iter().map(case_row).collect::<Vec<_>>(),
        "bad": f.ratings.bad_list.iter().map(|b| json!({
            "at": when(b.rated_at), "number": b.number,
            "channel": match b.channel.as_str() { "" => "窗口评价器".to_owned(), s => s.to_owned() },
            "who": format!("{} {}", b.window_number.map(|n| format!("{n}号")).unwrap_or_default(), b.staff_name.clone().unwrap_or_default()),
            "level": level(b.level), "comment": b.comment,
            "status": match b.followup.as_str() { "closed" => "已回访", "open" => "待回访", _ => "—" },
            "outcome": b.outcome.clone().unwrap_or_default(),
            "closed_by": b.closed_by.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "ab": f.ab.iter().map(|a| json!({
            "name": a.name, "took_over": a.took_over, "emergencies": a.emergencies,
            "handed_over": a.handed_over, "on_behalf": a.cases_on_behalf, "late": a.late_during,
        })).collect::<Vec<_>>(),
    })
}

/// Render the report. The PDF's identifier is the title, so one period's report renders the
/// same identifier every time.
pub(crate) fn render(hall: &Hall, title: &str, f: &Figures, now: Timestamp) -> Result<Vec<u8>> {
    let data = data(hall, title, f, now);
    onetrip_notice::render_pdf(
        onetrip_notice::PERIOD_REPORT_TEMPLATE,
        &data,
        onetrip_notice::Paper::A4,
        "",
        title,
        crate::notices::issued(now),
    )
    .map_err(crate::notices::notice_error)
}
