//! The figures as an Excel workbook: Chinese sheet names, dates as real Excel dates shown
//! 年月日, and native Excel charts (the trend, on-time rates, the ratings) that open in WPS and
//! Excel alike.

use rust_xlsxwriter::{
    Chart, ChartType, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use super::Figures;
use super::figures::{CaseRow, QueueRow};
use crate::kernel::error::{CoreError, Result};

/// Sheet names (also what the export test reads back).
pub const SHEETS: [&str; 8] = [
    "概览",
    "每日趋势",
    "分业务排队",
    "窗口人员",
    "分事项办件",
    "经办人办件",
    "好差评",
    "AB岗",
];

enum Cell {
    Text(String),
    Num(f64),
    Date(String),
    None,
}

fn n(x: u32) -> Cell {
    Cell::Num(f64::from(x))
}
fn o(x: Option<f64>) -> Cell {
    x.map(Cell::Num).unwrap_or(Cell::None)
}
fn s(x: impl Into<String>) -> Cell {
    Cell::Text(x.into())
}

struct Formats {
    head: Format,
    date: Format,
    title: Format,
}

fn table(
    sheet: &mut Worksheet,
    f: &Formats,
    top: u32,
    heads: &[&str],
    rows: Vec<Vec<Cell>>,
) -> std::result::Result<u32, XlsxError> {
    for (c, h) in heads.iter().enumerate() {
        sheet.write_string_with_format(top, c as u16, *h, &f.head)?;
        sheet.set_column_width(c as u16, if c == 0 { 22 } else { 12 })?;
    }
    let mut r = top + 1;
    for row in rows {
        for (c, cell) in row.into_iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(t) => {
                    sheet.write_string(r, c, t)?;
                }
                Cell::Num(x) => {
                    sheet.write_number(r, c, x)?;
                }
                Cell::Date(d) => {
                    let ymd: Vec<u16> = d.split('-').filter_map(|p| p.parse().ok()).collect();
                    match ymd.as_slice() {
                        [y, m, dd] => {
                            let dt = ExcelDateTime::from_ymd(*y, *m as u8, *dd as u8)?;
                            sheet.write_datetime_with_format(r, c, &dt, &f.date)?;
                        }
                        _ => {
                            sheet.write_string(r, c, d)?;
                        }
                    }
                }
                Cell::None => {}
            }
        }
        r += 1;
    }
    Ok(r)
}

fn queue_cells(r: &QueueRow, first: Cell) -> Vec<Cell> {
    vec![
        first,
        n(r.issued),
        n(r.served),
        n(r.no_show),
        n(r.unserved),
        o(r.avg_wait_minutes),
        o(r.max_wait_minutes),
        n(r.over_target),
        o(r.over_target_rate),
        o(r.avg_service_minutes),
        n(r.days_active),
        o(r.served_per_day),
    ]
}
const QUEUE_HEADS: [&str; 12] = [
    "名称",
    "取号",
    "办结",
    "过号",
    "未办",
    "平均等候(分)",
    "最长等候(分)",
    "超时等候",
    "超时率(%)",
    "平均办理(分)",
    "在岗天数",
    "日均办结",
];

fn case_cells(r: &CaseRow, first: Cell) -> Vec<Cell> {
    vec![
        first,
        n(r.accepted),
        n(r.decided),
        n(r.early),
        n(r.on_time),
        n(r.late),
        o(r.on_time_rate),
        o(r.early_rate),
        n(r.open_yellow),
        n(r.open_red),
        n(r.open_severe),
        n(r.suspended),
        n(r.extended),
        o(r.average_workdays),
        o(r.average_visits),
        r.visits_needed.map(n).unwrap_or(Cell::None),
        n(r.over_visits),
        n(r.on_behalf),
    ]
}
const CASE_HEADS: [&str; 18] = [
    "名称",
    "受理",
    "办结",
    "提前办结",
    "按时办结",
    "超期办结",
    "按时办结率(%)",
    "提前办结率(%)",
    "在办黄牌",
    "在办红牌",
    "超法定时限",
    "中止",
    "延期",
    "平均用时(工作日)",
    "平均跑动(次)",
    "应跑动(次)",
    "超次数",
    "AB岗代办",
];

fn column_chart(
    title: &str,
    kind: ChartType,
    sheet: &str,
    series: &[(&str, u16)],
    first: u32,
    last: u32,
) -> Chart {
    let mut chart = Chart::new(kind);
    chart.title().set_name(title);
    for (name, col) in series {
        chart
            .add_series()
            .set_name(*name)
            .set_categories((sheet, first, 0, last, 0))
            .set_values((sheet, first, *col, last, *col));
    }
    chart.set_width(720).set_height(320);
    chart
}

pub(crate) fn workbook(title: &str, fig: &Figures) -> Result<Vec<u8>> {
    build(title, fig).map_err(|e| CoreError::internal(format!("生成 Excel 失败：{e}")))
}

fn build(title: &str, fig: &Figures) -> std::result::Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let f = Formats {
        head: Format::new()
            .set_bold()
            .set_background_color("F3E5E3")
            .set_align(FormatAlign::Center),
        date: Format::new().set_num_format("yyyy\"年\"m\"月\"d\"日\""),
        title: Format::new().set_bold().set_font_size(14),
    };
    let q = &fig.queue.total;
    let c = &fig.cases.total;

    // 概览
    let sheet = book.add_worksheet().set_name(SHEETS[0])?;
    sheet.write_string_with_format(0, 0, title, &f.title)?;
    sheet.write_string(1, 0, "统计区间")?;
    table(
        sheet,
        &f,
        1,
        &["统计区间", "自", "至"],
        vec![vec![
            s("日期"),
            Cell::Date(fig.filter.from.clone()),
            Cell::Date(fig.filter.to.clone()),
        ]],
    )?;
    let overview = vec![
        vec![s("取号"), n(q.issued)],
        vec![s("办结（号）"), n(q.served)],
        vec![s("过号"), n(q.no_show)],
        vec![s("平均等候（分钟）"), o(q.avg_wait_minutes)],
        vec![
            s(format!("等候超过 {} 分钟", fig.wait_target_minutes)),
            n(q.over_target),
        ],
        vec![s("平均办理（分钟）"), o(q.avg_service_minutes)],
        vec![s("受理办件"), n(c.accepted)],
        vec![s("办结办件"), n(c.decided)],
        vec![s("按时办结率（%）"), o(c.on_time_rate)],
        vec![s("提前办结率（%）"), o(c.early_rate)],
        vec![s("满意率（%）"), o(fig.ratings.satisfied_rate)],
        vec![s("差评"), n(fig.ratings.bad)],
        vec![s("工作日"), fig.workdays.map(n).unwrap_or(Cell::None)],
    ];
    table(sheet, &f, 4, &["指标", "数值"], overview)?;
    let mut pie = Chart::new(ChartType::Pie);
    pie.title().set_name("办结时效");
    sheet.write_string(20, 0, "提前办结")?;
    sheet.write_number(20, 1, f64::from(c.early))?;
    sheet.write_string(21, 0, "按时办结")?;
    sheet.write_number(21, 1, f64::from(c.on_time))?;
    sheet.write_string(22, 0, "超期办结")?;
    sheet.write_number(22, 1, f64::from(c.late))?;
    pie.add_series()
        .set_name("办结时效")
        .set_categories((SHEETS[0], 20, 0, 22, 0))
        .set_values((SHEETS[0], 20, 1, 22, 1));
    sheet.insert_chart(1, 4, &pie)?;

    // 每日趋势: tickets and cases per day, one row per day with either.
    let sheet = book.add_worksheet().set_name(SHEETS[1])?;
    let mut days: std::collections::BTreeMap<&str, (u32, u32, u32, u32, u32)> = Default::default();
    for d in &fig.queue.by_day {
        let e = days.entry(d.key.as_str()).or_default();
        (e.0, e.1, e.2) = (d.issued, d.served, d.no_show);
    }
    for d in &fig.cases.by_day {
        let e = days.entry(d.key.as_str()).or_default();
        (e.3, e.4) = (d.accepted, d.decided);
    }
    let rows: Vec<Vec<Cell>> = days
        .iter()
        .map(|(d, v)| {
            vec![
                Cell::Date((*d).to_owned()),
                n(v.0),
                n(v.1),
                n(v.2),
                n(v.3),
                n(v.4),
            ]
        })
        .collect();
    let count = rows.len() as u32;
    table(
        sheet,
        &f,
        0,
        &["日期", "取号", "办结（号）", "过号", "受理办件", "办结办件"],
        rows,
    )?;
    if count > 0 {
        let chart = column_chart(
            "每日取号与办件",
            ChartType::Line,
            SHEETS[1],
            &[
                ("取号", 1),
                ("办结（号）", 2),
                ("受理办件", 4),
                ("办结办件", 5),
            ],
            1,
            count,
        );
        sheet.insert_chart(1, 7, &chart)?;
    }

    // 分业务排队, 窗口人员
    for (i, rows, chart_title) in [
        (2usize, &fig.queue.by_category, "各业务取号与办结"),
        (3usize, &fig.queue.by_clerk, "人员办结与日均办结"),
    ] {
        let sheet = book.add_worksheet().set_name(SHEETS[i])?;
        let mut body: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| queue_cells(r, s(r.name.clone())))
            .collect();
        if i == 3 {
            body.extend(
                fig.queue
                    .by_window
                    .iter()
                    .map(|r| queue_cells(r, s(r.name.clone()))),
            );
        }
        let count = rows.len() as u32;
        table(sheet, &f, 0, &QUEUE_HEADS, body)?;
        if count > 0 {
            let series: &[(&str, u16)] = if i == 2 {
                &[("取号", 1), ("办结", 2), ("过号", 3)]
            } else {
                &[("办结", 2), ("日均办结", 11)]
            };
            let chart = column_chart(chart_title, ChartType::Column, SHEETS[i], series, 1, count);
            sheet.insert_chart(count + 3, 0, &chart)?;
        }
    }

    // 分事项办件, 经办人办件
    for (i, rows, chart_title) in [
        (4usize, &fig.cases.by_item, "各事项按时办结率"),
        (5usize, &fig.cases.by_clerk, "经办人按时办结率"),
    ] {
        let sheet = book.add_worksheet().set_name(SHEETS[i])?;
        let body: Vec<Vec<Cell>> = rows
            .iter()
            .map(|r| case_cells(r, s(r.name.clone())))
            .collect();
        let count = body.len() as u32;
        table(sheet, &f, 0, &CASE_HEADS, body)?;
        if count > 0 {
            let chart = column_chart(
                chart_title,
                ChartType::Bar,
                SHEETS[i],
                &[("按时办结率(%)", 6), ("提前办结率(%)", 7)],
                1,
                count,
            );
            sheet.insert_chart(count + 3, 0, &chart)?;
        }
    }

    // 好差评
    let sheet = book.add_worksheet().set_name(SHEETS[6])?;
    let names = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"];
    let levels: Vec<Vec<Cell>> = names
        .iter()
        .zip(&fig.ratings.levels)
        .map(|(name, k)| vec![s(*name), n(*k)])
        .collect();
    table(sheet, &f, 0, &["评价", "次数"], levels)?;
    let mut pie = Chart::new(ChartType::Pie);
    pie.title().set_name("好差评分布");
    pie.add_series()
        .set_name("好差评")
        .set_categories((SHEETS[6], 1, 0, 5, 0))
        .set_values((SHEETS[6], 1, 1, 5, 1));
    sheet.insert_chart(0, 3, &pie)?;
    let bad: Vec<Vec<Cell>> = fig
        .ratings
        .bad_list
        .iter()
        .map(|b| {
            vec![
                Cell::Date(b.day.clone()),
                s(b.number.clone()),
                s(names[usize::from(b.level.clamp(1, 5) - 1)]),
                s(b.comment.clone()),
                s(if b.channel.is_empty() {
                    "窗口评价器".to_owned()
                } else {
                    b.channel.clone()
                }),
                b.window_number.map(n).unwrap_or(Cell::None),
                s(b.staff_name.clone().unwrap_or_default()),
                s(match b.followup.as_str() {
                    "closed" => "已回访",
                    "open" => "待回访",
                    _ => "—",
                }),
                s(b.outcome.clone().unwrap_or_default()),
                s(b.closed_by.clone().unwrap_or_default()),
            ]
        })
        .collect();
    table(
        sheet,
        &f,
        18,
        &[
            "日期",
            "号码",
            "评价",
            "内容",
            "渠道",
            "窗口",
            "工作人员",
            "回访",
            "处理结果",
            "回访人",
        ],
        bad,
    )?;

    // AB岗
    let sheet = book.add_worksheet().set_name(SHEETS[7])?;
    let ab: Vec<Vec<Cell>> = fig
        .ab
        .iter()
        .map(|a| {
            vec![
                s(a.name.clone()),
                n(a.took_over),
                n(a.emergencies),
                n(a.handed_over),
                n(a.cases_on_behalf),
                n(a.actions_on_behalf),
                n(a.late_during),
            ]
        })
        .collect();
    table(
        sheet,
        &f,
        0,
        &[
            "工作人员",
            "顶岗次数",
            "其中紧急",
            "被顶岗",
            "代办办件",
            "代办操作",
            "顶岗期间超期",
        ],
        ab,
    )?;
    book.save_to_buffer()
}
