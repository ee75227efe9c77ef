//! v1 content analytics: `GET /analytics/content/{contentId}/views` (views) and `/viewers`
//! (distinct viewers), counted from the reads of pages and blog posts the simulator has
//! answered (v2 `GET /pages/{id}`, `/blogposts/{id}`, v1 `GET /content/{id}`), optionally from
//! `fromDate` on. Switch `analytics_requires_paid_plan`: a site whose plan has no analytics.

use std::collections::BTreeSet;

use serde_json::json;

use crate::handler::Ctx;
use crate::http::{ApiResult, err, ok};
use crate::state::{Kind, State};

fn counted(ctx: &mut Ctx, st: &State, distinct: bool) -> ApiResult {
    let id = ctx.p("contentId").to_string();
    let c = crate::v1::readable(ctx, st, &id, false)?;
    if !matches!(c.kind, Kind::Page | Kind::BlogPost) {
        return err(404, format!("No page or blog post with id {id}."));
    }
    if st.behaviour.analytics_requires_paid_plan {
        return err(403, "Analytics are not available on this site's plan.");
    }
    let from = match ctx.req.q("fromDate") {
        None | Some("") => i64::MIN,
        Some(d) => match parse_date(d) {
            Some(ms) => ms,
            None => {
                return err(
                    400,
                    format!("Invalid fromDate {d:?}: an ISO 8601 date or date-time."),
                );
            }
        },
    };
    let views = c.views.iter().filter(|(_, at)| *at >= from);
    let count = if distinct {
        views.map(|(who, _)| who).collect::<BTreeSet<_>>().len()
    } else {
        views.count()
    };
    let numeric: serde_json::Value = id.parse::<i64>().map_or(json!(id), |n| json!(n));
    Ok(ok(json!({"id": numeric, "count": count})))
}

/// `2024-05-01`, or an RFC 3339 date-time, as milliseconds.
fn parse_date(d: &str) -> Option<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(d) {
        return Some(t.timestamp_millis());
    }
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc().timestamp_millis())
}

pub(crate) fn views(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    counted(ctx, st, false)
}

pub(crate) fn viewers(ctx: &mut Ctx, st: &mut State) -> ApiResult {
    counted(ctx, st, true)
}
