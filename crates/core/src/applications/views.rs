//! Reading applications: one, and the open ones at the window.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct GetApplication {
    pub id: String,
}

impl Operation for GetApplication {
    const NAME: &'static str = "application.get";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Application;
    fn run(self, cx: &mut Cx<'_>) -> Result<Application> {
        let id = validate::id("id", "申请", &self.id)?;
        with_countdown(cx, load(cx.tx, &id)?.app)
    }
}

/// Applications still open (checking or awaiting a supplement), newest first; with a query, any
/// whose number or applicant matches.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, schemars::JsonSchema)]
pub struct ListApplications {
    #[serde(default)]
    pub query: Option<String>,
}

impl Operation for ListApplications {
    const NAME: &'static str = "application.list";
    const ACCESS: Access = Access::Staff;
    const WRITES: bool = false;
    type Response = Vec<Application>;
    fn run(self, cx: &mut Cx<'_>) -> Result<Vec<Application>> {
        let q = self
            .query
            .as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty());
        let ids: Vec<String> = match q {
            Some(q) => {
                let q = validate::text("query", "查询", q, 40)?;
                let mut s = cx.tx.prepare(cx.tx.pick(
                    "SELECT id FROM applications WHERE number LIKE ?1 OR applicant_name LIKE ?1 ORDER BY received_at DESC LIMIT 50",
                    "SELECT id FROM applications WHERE number ILIKE ?1 OR applicant_name ILIKE ?1 ORDER BY received_at DESC LIMIT 50",
                ))?;
                s.query_map([format!("%{q}%")], |r| r.get(0))?
                    .collect::<crate::kernel::store::StoreResult<_>>()?
            }
            None => {
                let mut s = cx.tx.prepare(
                    "SELECT id FROM applications WHERE status IN ('checking', 'awaiting_supplement') ORDER BY received_at DESC LIMIT 200",
                )?;
                s.query_map([], |r| r.get(0))?
                    .collect::<crate::kernel::store::StoreResult<_>>()?
            }
        };
        ids.iter()
            .map(|id| with_countdown(cx, load(cx.tx, id)?.app))
            .collect()
    }
}
