//! The demo hall: a realistic district hall for trying OneTrip and for the end-to-end suites.
//! `onetrip demo --db PATH` creates it; `make run` does so on first start.
//!
//! Its accounts are documented (README, [`ACCOUNTS`]) instead of getting one-time passwords:
//! every demo account signs in with [`DEMO_PASSWORD`]. Never use the demo in a real hall.

use jiff::Timestamp;
use serde::Serialize;

use crate::hall::{CategoryFields, WindowFields};
use crate::kernel::audit::AuditDraft;
use crate::kernel::error::{CoreError, ErrorCode, Result};
use crate::kernel::op::{Actor, Caller};
use crate::kernel::store::Store;
use crate::staff::Role;
use crate::{hall, staff};

pub const DEMO_PASSWORD: &str = "demo1234";

/// (login, name, role). Clerks are listed in A/B pairs: each backs up the other.
pub const ACCOUNTS: &[(&str, &str, Role)] = &[
    ("zhangwei", "张伟", Role::Clerk),
    ("liuyang", "刘洋", Role::Clerk),
    ("wangfang", "王芳", Role::Clerk),
    ("lina", "李娜", Role::Clerk),
    ("chenjing", "陈静", Role::Clerk),
    ("yangqiang", "杨强", Role::Clerk),
    ("zhaolei", "赵磊", Role::Clerk),
    ("huangmin", "黄敏", Role::Clerk),
    ("zhouhong", "周红", Role::Supervisor),
    ("admin", "系统管理员", Role::Admin),
];

/// The A/B backup pairs among the demo clerks (AB岗): each is the other's B.
pub const BACKUP_PAIRS: &[(&str, &str)] = &[
    ("zhangwei", "liuyang"),
    ("wangfang", "lina"),
    ("chenjing", "yangqiang"),
    ("zhaolei", "huangmin"),
];

/// (window number, A, B): the posts of the demo windows, from [`BACKUP_PAIRS`].
const POSTS: &[(u32, &str, &str)] = &[
    (1, "zhangwei", "liuyang"),
    (2, "liuyang", "zhangwei"),
    (3, "wangfang", "lina"),
    (4, "lina", "wangfang"),
    (5, "chenjing", "yangqiang"),
    (6, "yangqiang", "chenjing"),
];

/// (prefix, name, daily cap, issue from, issue until). The demo issues tickets at any hour (and
/// serves on days off), so that whoever starts it in the evening or at the weekend can still
/// take a ticket and call it; a real hall sets its own issuing hours (管理 › 业务类别) and
/// service days (管理 › 排队叫号), which the kiosk then keeps.
pub const CATEGORIES: &[(&str, &str, u32, &str, &str)] = &[
    ("A", "不动产登记", 300, "00:00", "23:59"),
    ("B", "社保医保", 300, "00:00", "23:59"),
    ("C", "户籍", 200, "00:00", "23:59"),
    ("D", "综合受理", 400, "00:00", "23:59"),
];

/// (number, name, category prefixes in order of preference)
const WINDOWS: &[(u32, &str, &[&str])] = &[
    (1, "不动产登记", &["A"]),
    (2, "不动产登记", &["A", "D"]),
    (3, "社保医保", &["B"]),
    (4, "社保医保", &["B", "D"]),
    (5, "户籍", &["C"]),
    (6, "综合受理", &["D", "A", "B", "C"]),
];

#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub hall: String,
    pub windows: usize,
    pub categories: usize,
    pub items: usize,
    pub accounts: Vec<(String, String, String)>,
    pub password: String,
}

/// Fill an empty database with the demo hall. Refuses a database that already has accounts.
pub fn create(store: &Store, now: Timestamp) -> Result<DemoReport> {
    let me = Caller::system("demo");
    let has_staff = store.read(staff::store::count)?;
    if has_staff > 0 {
        return Err(CoreError::new(
            ErrorCode::InvalidFormat,
            "该数据库已有人员账号，演示大厅只能建在空数据库上，未做任何改动",
        ));
    }
    store.write(|tx| hall::ensure_hall(tx, &Actor::System("demo".into()), now))?;
    let h = store.execute(
        &me,
        now,
        hall::UpdateHall {
            name: "西湖区政务服务中心".into(),
            code: "330106".into(),
            address: "杭州市西湖区文三路 90 号 1 楼".into(),
            phone: "0571-87000000".into(),
            business_hours: hall::default_hours(),
        },
    )?;
    let mut cats = Vec::new();
    let mut window_ids: Vec<(u32, String)> = Vec::new();
    let mut staff_ids: std::collections::BTreeMap<&str, String> = std::collections::BTreeMap::new();
    for (prefix, name, cap, from, until) in CATEGORIES {
        let c = store.execute(
            &me,
            now,
            hall::CreateCategory {
                fields: CategoryFields {
                    prefix: (*prefix).into(),
                    name: (*name).into(),
                    daily_cap: *cap,
                    issue_from: (*from).into(),
                    issue_until: (*until).into(),
                },
            },
        )?;
        cats.push(c.response);
    }
    for (number, name, prefixes) in WINDOWS {
        let category_ids = prefixes
            .iter()
            .map(|p| {
                cats.iter()
                    .find(|c| c.prefix == *p)
                    .map(|c| c.id.clone())
                    .expect("demo windows use demo prefixes")
            })
            .collect();
        let w = store.execute(
            &me,
            now,
            hall::CreateWindow {
                fields: WindowFields {
                    number: *number,
                    name: (*name).into(),
                    category_ids,
                },
            },
        )?;
        window_ids.push((*number, w.response.id));
    }
    for (login, name, role) in ACCOUNTS {
        let s = store.execute(
            &me,
            now,
            staff::CreateStaff {
                login: (*login).into(),
                name: (*name).into(),
                role: *role,
                initial_password: DEMO_PASSWORD.into(),
            },
        )?;
        // 工号 as a hall numbers its staff: the hall's code and a sequence.
        let n = staff_ids.len() + 1;
        store.execute(
            &me,
            now,
            staff::SetStaffFace {
                id: s.response.id.clone(),
                staff_number: format!("XH{n:03}"),
                photo: None,
            },
        )?;
        staff_ids.insert(*login, s.response.id);
    }
    // Each window is a post; each pair of clerks holds two posts and backs up the other's.
    for (number, a, b) in POSTS {
        let window = window_ids
            .iter()
            .find(|(n, _)| n == number)
            .map(|(_, id)| id.clone());
        let p = store.execute(
            &me,
            now,
            crate::posts::CreatePost {
                name: format!("{number}号窗口岗"),
                window_id: window,
            },
        )?;
        store.execute(
            &me,
            now,
            crate::posts::AssignPost {
                post_id: p.response.id,
                primary_id: staff_ids[a].clone(),
                backup_id: staff_ids[b].clone(),
                reason: "演示大厅初始 AB 岗".into(),
            },
        )?;
    }
    // Any day too (节假日不打烊), for the same reason; a real hall decides (管理 › 排队叫号).
    let mut queue = store
        .execute(&me, now, crate::queue::GetQueueSettings {})?
        .response;
    queue.serve_days_off = true;
    store.execute(
        &me,
        now,
        crate::queue::UpdateQueueSettings { settings: queue },
    )?;
    let items = demo_items(&cats)?;
    for fields in &items {
        store.execute(
            &me,
            now,
            crate::catalog::CreateItem {
                fields: fields.clone(),
            },
        )?;
    }
    store.write(|tx| {
        staff::store::waive_password_change_for_all(tx)?;
        crate::kernel::audit::append(
            tx,
            &Actor::System("demo".into()),
            Some("demo"),
            "demo.documented_accounts",
            now,
            AuditDraft::new(
                "staff",
                None,
                "演示大厅：账号使用公开的演示密码，无须首次修改",
            ),
        )
    })?;
    Ok(DemoReport {
        hall: h.response.name,
        windows: WINDOWS.len(),
        categories: CATEGORIES.len(),
        items: items.len(),
        accounts: ACCOUNTS
            .iter()
            .map(|(l, n, r)| ((*l).into(), (*n).into(), r.label().into()))
            .collect(),
        password: DEMO_PASSWORD.into(),
    })
}

/// The demo catalog: 21 service items of a district hall with plausible material lists. The
/// file names each item's queue category by prefix (`"category": "A"`).
pub const DEMO_CATALOG: &str = include_str!("../../data/demo-catalog.json");

fn demo_items(cats: &[hall::Category]) -> Result<Vec<crate::catalog::ItemFields>> {
    let raw: Vec<serde_json::Value> = serde_json::from_str(DEMO_CATALOG)?;
    raw.into_iter()
        .map(|mut v| {
            let prefix = v
                .get("category")
                .and_then(|p| p.as_str())
                .unwrap_or_default()
                .to_owned();
            let id = cats
                .iter()
                .find(|c| c.prefix == prefix)
                .map(|c| c.id.clone());
            v["category_id"] = serde_json::to_value(id)?;
            Ok(serde_json::from_value(v)?)
        })
        .collect()
}
