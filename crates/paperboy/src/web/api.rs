//! The Hugging Face-compatible JSON API: `/api/daily_papers`, `/api/papers/{id}` and
//! `/papers/{id}.md`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::error::ApiError;
use super::feed;
use super::hf::{hf_daily_paper, hf_paper_info};
use crate::app::App;
use crate::domain::export::markdown;
use crate::domain::{ArxivId, Period};
use crate::store::{FeedOrder, FeedQuery, StoreError};

/// The largest page `/api/daily_papers` serves, as on HF.
pub const MAX_LIMIT: u32 = 100;
const DEFAULT_LIMIT: u32 = 50;

/// Query parameters of `/api/daily_papers`, all taken as text so each gets its own message.
#[derive(Debug, Deserialize)]
pub struct DailyPapersParams {
    date: Option<String>,
    week: Option<String>,
    month: Option<String>,
    submitter: Option<String>,
    sort: Option<String>,
    p: Option<String>,
    limit: Option<String>,
}

/// What a valid `/api/daily_papers` request asks for.
#[derive(Debug, PartialEq)]
struct DailyPapersRequest {
    period: Option<Period>,
    submitter: Option<String>,
    trending: bool,
    sort: Option<String>,
    page: u32,
    limit: u32,
}

fn parse_request(
    params: &DailyPapersParams,
    today: chrono::NaiveDate,
) -> Result<DailyPapersRequest, ApiError> {
    let bad = |m: String| ApiError::BadRequest(m);
    let given = [&params.date, &params.week, &params.month]
        .iter()
        .filter(|p| p.is_some())
        .count();
    if given > 1 {
        return Err(bad("give at most one of date, week and month".into()));
    }
    let period = if let Some(d) = &params.date {
        let period = Period::parse_day(d).map_err(|e| bad(e.to_string()))?;
        if period.first_day() > today {
            return Err(bad(format!("date {d} is in the future")));
        }
        Some(period)
    } else if let Some(w) = &params.week {
        Some(Period::parse_week(w).map_err(|e| bad(e.to_string()))?)
    } else if let Some(m) = &params.month {
        Some(Period::parse_month(m).map_err(|e| bad(e.to_string()))?)
    } else {
        None
    };
    let trending = match params.sort.as_deref() {
        None | Some("publishedAt") => false,
        Some("trending") => true,
        Some(other) => {
            return Err(bad(format!(
                "invalid sort {:?}: expected publishedAt or trending",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    let page = match params.p.as_deref() {
        None => 0,
        Some(p) => p.parse::<u32>().map_err(|_| {
            bad(format!(
                "invalid p {p:?}: expected a page number, 0 or more"
            ))
        })?,
    };
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(bad(format!(
                    "invalid limit {l:?}: expected a number from 1 to {MAX_LIMIT}"
                )));
            }
        },
    };
    let submitter = match params.submitter.as_deref() {
        Some(s) if s.is_empty() || s.len() > 100 => {
            return Err(bad("invalid submitter: expected a username".into()));
        }
        other => other.map(str::to_owned),
    };
    Ok(DailyPapersRequest {
        period,
        submitter,
        trending,
        sort: params.sort.clone(),
        page,
        limit,
    })
}

/// `GET /api/daily_papers`: a bare JSON array of DailyPaper items, paged with `p` and `limit`,
/// with an RFC 8288 `Link: <…>; rel="next"` header while more may follow.
///
/// With a `date`, `week` or `month`, items are in upvote order (HF's order for a dated list);
/// `sort=publishedAt` then orders by arXiv publication instead. Without a period, the newest
/// day comes first, and `sort=trending` gives the global hot ranking.
pub async fn daily_papers(
    State(app): State<App>,
    params: Result<Query<DailyPapersParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let req = parse_request(&params, app.today())?;
    let offset = req.page.saturating_mul(req.limit);
    let base = app.config.absolute_url("");
    let papers = if req.trending && req.period.is_none() {
        feed::hot_papers(
            &app,
            req.submitter.as_deref(),
            offset as usize,
            req.limit as usize,
        )
        .await?
        .into_iter()
        .map(|h| h.paper)
        .collect()
    } else {
        let order = match (req.period.is_some(), req.sort.as_deref()) {
            (true, Some("publishedAt")) => FeedOrder::Published,
            (true, _) => FeedOrder::Upvotes,
            (false, _) => FeedOrder::Latest,
        };
        let query = FeedQuery {
            period: req.period,
            submitter: req.submitter.clone(),
            order,
            offset,
            limit: req.limit,
        };
        feed::list(&app, &query).await?
    };
    let items: Vec<_> = papers.iter().map(|p| hf_daily_paper(p, &base)).collect();
    let mut headers = HeaderMap::new();
    if items.len() as u32 == req.limit {
        let next = next_link(&app, &params, req.page + 1);
        if let Ok(v) = HeaderValue::from_str(&format!("<{next}>; rel=\"next\"")) {
            headers.insert(header::LINK, v);
        }
    }
    Ok((headers, Json(items)).into_response())
}

fn next_link(app: &App, params: &DailyPapersParams, page: u32) -> String {
    let mut url =
        url::Url::parse(&app.config.absolute_url("/api/daily_papers")).expect("base URL is valid");
    {
        let mut q = url.query_pairs_mut();
        for (key, value) in [
            ("date", &params.date),
            ("week", &params.week),
            ("month", &params.month),
            ("submitter", &params.submitter),
            ("sort", &params.sort),
            ("limit", &params.limit),
        ] {
            if let Some(v) = value {
                q.append_pair(key, v);
            }
        }
        q.append_pair("p", &page.to_string());
    }
    url.to_string()
}

/// `GET /api/papers/{id}`: the flat paper object, 404 `{"error": "Paper not found"}` if unknown.
pub async fn paper_info(
    State(app): State<App>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("Paper not found".into());
    let id = ArxivId::parse_lenient(&id).map_err(|_| not_found())?;
    let paper = app.store.paper(&id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    Ok(Json(hf_paper_info(&paper, &app.config.absolute_url(""))).into_response())
}

/// `GET /papers/{id}.md`: the paper as Markdown (what `read_paper` fetches).
pub async fn paper_markdown(app: &App, raw_id: &str) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Paper not found\n",
        )
            .into_response()
    };
    let Ok(id) = ArxivId::parse(raw_id) else {
        return not_found();
    };
    match app.store.paper(&id).await {
        Ok(paper) => (
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            markdown(&paper),
        )
            .into_response(),
        Err(StoreError::NotFound) => not_found(),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> DailyPapersParams {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(key, _)| *key == k)
                .map(|(_, v)| v.to_string())
        };
        DailyPapersParams {
            date: get("date"),
            week: get("week"),
            month: get("month"),
            submitter: get("submitter"),
            sort: get("sort"),
            p: get("p"),
            limit: get("limit"),
        }
    }

    fn today() -> chrono::NaiveDate {
        "2026-08-21".parse().unwrap()
    }

    #[test]
    fn rejects_each_bad_parameter_with_its_name() {
        for (pairs, word) in [
            (&[("date", "2025-13-40")][..], "date"),
            (&[("date", "2026-08-22")][..], "future"),
            (&[("week", "2026-W60")][..], "week"),
            (&[("month", "2026-13")][..], "month"),
            (&[("p", "-1")][..], "p"),
            (&[("limit", "1000")][..], "limit"),
            (&[("limit", "0")][..], "limit"),
            (&[("sort", "upvotes")][..], "sort"),
            (
                &[("date", "2026-08-20"), ("month", "2026-08")][..],
                "at most one",
            ),
        ] {
            let err = parse_request(&params(pairs), today()).unwrap_err();
            assert!(err.to_string().contains(word), "{pairs:?}: {err}");
        }
    }

    #[test]
    fn defaults_are_page_zero_and_fifty_items() {
        let req = parse_request(&params(&[("date", "2026-08-21")]), today()).unwrap();
        assert_eq!((req.page, req.limit, req.trending), (0, 50, false));
    }
}
