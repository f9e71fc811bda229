//! The Hugging Face-compatible JSON API: `/api/daily_papers`, `/api/papers/{id}` and
//! `/papers/{id}.md`.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

use super::error::{ApiError, ErrorBody};
use super::feed;
use super::hf::{HfDailyPaper, HfPaperInfo, hf_daily_paper, hf_paper_info};
use crate::app::App;
use crate::domain::export::markdown;
use crate::domain::{ArxivId, Period, quoted};
use crate::store::{FeedOrder, FeedQuery, StoreError};

/// The largest page `/api/daily_papers` serves, as on HF.
pub const MAX_LIMIT: u32 = 100;
const DEFAULT_LIMIT: u32 = 50;

/// Query parameters of `/api/daily_papers`, all taken as text so each gets its own message.
///
/// The `param` attributes are what the OpenAPI document promises; `parse_request` enforces them.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyPapersParams {
    /// Papers put on the daily feed that day (`YYYY-MM-DD`), which must not be in the future.
    /// Give at most one of `date`, `week` and `month`.
    #[param(format = Date, example = "2024-05-27")]
    date: Option<String>,
    /// Papers put on the daily feed in that ISO 8601 week (`YYYY-Www`, Monday to Sunday), e.g.
    /// `2024-W22`.
    #[param(pattern = "^[0-9]{4}-W(0[1-9]|[1-4][0-9]|5[0-3])$")]
    week: Option<String>,
    /// Papers put on the daily feed in that month (`YYYY-MM`), e.g. `2024-05`.
    #[param(pattern = "^[0-9]{4}-(0[1-9]|1[0-2])$")]
    month: Option<String>,
    /// Only papers put on the feed by this username.
    #[param(min_length = 1, max_length = 100)]
    submitter: Option<String>,
    /// The order; described in `openapi::daily_sort_schema`.
    #[param(schema_with = super::openapi::daily_sort_schema)]
    sort: Option<String>,
    /// Page number, from 0.
    #[param(value_type = Option<i64>, minimum = 0, maximum = 4294967295_i64, example = 0)]
    p: Option<String>,
    /// Items per page, 1 to 100 (default 50).
    #[param(value_type = Option<i64>, minimum = 1, maximum = 100, example = 50)]
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
                "invalid sort {}: expected publishedAt or trending",
                quoted(other)
            )));
        }
    };
    let page = match params.p.as_deref() {
        None => 0,
        Some(p) => p.parse::<u32>().map_err(|_| {
            bad(format!(
                "invalid p {}: expected a page number, 0 or more",
                quoted(p)
            ))
        })?,
    };
    let limit = match params.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(bad(format!(
                    "invalid limit {}: expected a number from 1 to {MAX_LIMIT}",
                    quoted(l)
                )));
            }
        },
    };
    let submitter = match params.submitter.as_deref() {
        Some(s) if s.is_empty() || s.chars().count() > 100 => {
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

/// The daily papers feed, as Hugging Face serves it.
///
/// `GET /api/daily_papers`: a bare JSON array of DailyPaper items, paged with `p` and `limit`,
/// with an RFC 8288 `Link: <…>; rel="next"` header while more may follow.
///
/// With a `date`, `week` or `month`, items are in upvote order (HF's order for a dated list);
/// `sort=publishedAt` then orders by arXiv publication instead. Without a period, the newest
/// day comes first, and `sort=trending` gives the global hot ranking.
#[utoipa::path(
    get,
    path = "/api/daily_papers",
    tag = "papers",
    params(DailyPapersParams),
    responses(
        (status = 200, description = "A page of daily papers, as Hugging Face's `/api/daily_papers` returns them.",
            body = [HfDailyPaper],
            headers(("Link" = String, description = "`<URL>; rel=\"next\"` while the page is full."))),
        (status = 400, description = "A parameter is malformed, `date` is in the future, or more than one of `date`, `week` and `month` was given.",
            body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn daily_papers(
    State(app): State<App>,
    request_headers: HeaderMap,
    params: Result<Query<DailyPapersParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Query(params) = params.map_err(|e| ApiError::BadRequest(super::error::query_error(&e)))?;
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
    let mut items: Vec<_> = papers.iter().map(|p| hf_daily_paper(p, &base)).collect();
    if let Some(viewer) = super::api_write::viewer(&app, &request_headers).await? {
        let voted = super::community::upvoted_set(&app, &viewer, &papers).await?;
        for (item, paper) in items.iter_mut().zip(&papers) {
            item.set_upvoted(voted.contains(paper.id.as_str()));
        }
    }
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

/// One paper, as Hugging Face's flat paper object.
///
/// `GET /api/papers/{id}`: 404 `{"error": "Paper not found"}` if unknown.
#[utoipa::path(
    get,
    path = "/api/papers/{id}",
    tag = "papers",
    params(("id" = String, Path, description = "An arXiv id without version (`2405.15738`); old-style ids keep their slash (`hep-th/9901001`).",
        example = "2405.15738")),
    responses(
        (status = 200, description = "The paper, flat, as Hugging Face's `/api/papers/{id}` returns it.", body = HfPaperInfo),
        (status = 404, description = "No such paper here (also for ids that are not arXiv ids).", body = ErrorBody),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn paper_info(
    State(app): State<App>,
    request_headers: HeaderMap,
    id: Result<Path<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let not_found = || ApiError::NotFound("Paper not found".into());
    let Path(id) = id.map_err(|_| not_found())?;
    let id = ArxivId::parse_lenient(&id).map_err(|_| not_found())?;
    let paper = app.store.paper(&id).await.map_err(|e| match e {
        StoreError::NotFound => not_found(),
        other => other.into(),
    })?;
    let mut info = hf_paper_info(&paper, &app.config.absolute_url(""));
    if let Some(viewer) = super::api_write::viewer(&app, &request_headers).await? {
        let voted =
            super::community::upvoted_set(&app, &viewer, std::slice::from_ref(&paper)).await?;
        info.set_upvoted(!voted.is_empty());
    }
    Ok(Json(info).into_response())
}

/// One paper as Markdown.
///
/// `GET /papers/{id}.md`: what `huggingface_hub`'s `read_paper` fetches.
#[utoipa::path(
    get,
    path = "/papers/{id}.md",
    tag = "papers",
    params(("id" = String, Path, description = "An arXiv id without version.", example = "2405.15738")),
    responses(
        (status = 200, description = "Title, authors, links and abstract as Markdown.", body = String, content_type = "text/markdown"),
        (status = 404, description = "No such paper here.", body = String, content_type = "text/plain"),
        (status = 500, description = "An internal error (logged; the body says no more).", body = ErrorBody),
    )
)]
pub async fn paper_markdown(app: &App, raw_id: &str) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            axum::Extension(super::error::AsWritten),
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

/// Any other `/api` path: a JSON 404, so API clients never get an HTML page.
pub async fn unknown_endpoint() -> ApiError {
    ApiError::NotFound("Not found".into())
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
