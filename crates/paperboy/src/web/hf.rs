//! Hugging Face's JSON shapes for papers, built from domain papers.
//!
//! Field names and timestamps follow `huggingface_hub` exactly (camelCase, except the
//! `ai_*` fields; times as `YYYY-MM-DDTHH:MM:SS.sssZ`). Object ids that HF keeps in MongoDB
//! (`_id`, `discussionId`) are derived deterministically from what they name, so they are stable
//! across requests and servers.

use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::domain::paper::hf_timestamp;
use crate::domain::{Paper, Submitter};

/// A 24-hex object id derived from `kind` and `key`.
pub fn object_id(kind: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{kind}:{key}").as_bytes());
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfAuthor {
    #[serde(rename = "_id")]
    id: String,
    name: String,
    hidden: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfUser {
    #[serde(rename = "_id")]
    id: String,
    avatar_url: String,
    fullname: String,
    /// The username. HF's client reads `user` for `User.username`; HF's own bodies carry `name`.
    name: String,
    user: String,
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    kind: &'static str,
    is_pro: bool,
}

/// The nested `paper` object, and (flattened, with extras) the body of `/api/papers/{id}`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfPaper {
    id: String,
    authors: Vec<HfAuthor>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    published_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    submitted_on_daily_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted_on_daily_by: Option<HfUser>,
    title: String,
    summary: String,
    upvotes: i64,
    discussion_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    github_repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_page: Option<String>,
    #[serde(rename = "ai_summary", skip_serializing_if = "Option::is_none")]
    ai_summary: Option<String>,
    #[serde(rename = "ai_keywords", skip_serializing_if = "Vec::is_empty")]
    ai_keywords: Vec<String>,
}

/// One element of `/api/daily_papers` (a "DailyPaper").
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfDailyPaper {
    paper: HfPaper,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(format = DateTime)]
    published_at: Option<String>,
    title: String,
    summary: String,
    thumbnail: String,
    num_comments: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    submitted_by: Option<HfUser>,
    is_author_participating: bool,
    /// Paperboy's own: whether the viewer (API token or session) has upvoted the paper; absent
    /// for anonymous requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    upvoted: Option<bool>,
    // Copies of nested fields: `huggingface_hub` drops everything under `paper` except a few
    // keys, so top-level copies are how its users see them.
    upvotes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    github_repo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    project_page: Option<String>,
    #[serde(rename = "ai_summary", skip_serializing_if = "Option::is_none")]
    ai_summary: Option<String>,
    /// Paperboy's own: arXiv categories, primary first.
    categories: Vec<String>,
}

/// The body of `/api/papers/{id}`: the flat paper plus linked-repository lists.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HfPaperInfo {
    #[serde(flatten)]
    paper: HfPaper,
    num_comments: i64,
    /// Paperboy's own: whether the viewer has upvoted the paper; absent when anonymous.
    #[serde(skip_serializing_if = "Option::is_none")]
    upvoted: Option<bool>,
    categories: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comments: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    journal_ref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    doi: Option<String>,
    #[schema(value_type = Vec<Object>)]
    linked_models: Vec<serde_json::Value>,
    num_total_models: u32,
    #[schema(value_type = Vec<Object>)]
    linked_datasets: Vec<serde_json::Value>,
    num_total_datasets: u32,
    #[schema(value_type = Vec<Object>)]
    linked_spaces: Vec<serde_json::Value>,
    num_total_spaces: u32,
}

fn user(s: &Submitter, base_url: &str) -> HfUser {
    HfUser {
        id: object_id("account", &s.username),
        avatar_url: s
            .avatar_url
            .clone()
            .unwrap_or_else(|| format!("{base_url}/static/img/avatar.svg")),
        fullname: s.fullname.clone(),
        name: s.username.clone(),
        user: s.username.clone(),
        kind: "user",
        is_pro: false,
    }
}

fn published(paper: &Paper) -> Option<String> {
    paper
        .published_at
        .or(paper.feed.as_ref().map(|f| f.submitted_at))
        .map(hf_timestamp)
}

pub fn hf_paper(paper: &Paper, base_url: &str) -> HfPaper {
    let id = paper.id.to_string();
    HfPaper {
        authors: paper
            .authors
            .iter()
            .enumerate()
            .map(|(i, name)| HfAuthor {
                id: object_id("author", &format!("{id}#{i}")),
                name: name.clone(),
                hidden: false,
            })
            .collect(),
        published_at: published(paper),
        submitted_on_daily_at: paper.feed.as_ref().map(|f| hf_timestamp(f.submitted_at)),
        submitted_on_daily_by: paper
            .feed
            .as_ref()
            .and_then(|f| f.submitter.as_ref())
            .map(|s| user(s, base_url)),
        title: paper.title.clone(),
        summary: paper.summary.clone(),
        upvotes: paper.upvotes,
        discussion_id: object_id("discussion", &id),
        github_repo: paper.github_repo.clone(),
        project_page: paper.project_page.clone(),
        ai_summary: paper.ai_summary.clone(),
        ai_keywords: paper.ai_keywords.clone(),
        id,
    }
}

pub fn hf_daily_paper(paper: &Paper, base_url: &str) -> HfDailyPaper {
    HfDailyPaper {
        published_at: published(paper),
        title: paper.title.clone(),
        summary: paper.summary.clone(),
        thumbnail: format!("{base_url}/static/img/thumbnail.svg"),
        num_comments: paper.num_comments,
        submitted_by: paper
            .feed
            .as_ref()
            .and_then(|f| f.submitter.as_ref())
            .map(|s| user(s, base_url)),
        is_author_participating: false,
        upvoted: None,
        upvotes: paper.upvotes,
        github_repo: paper.github_repo.clone(),
        project_page: paper.project_page.clone(),
        ai_summary: paper.ai_summary.clone(),
        categories: paper.categories.clone(),
        paper: hf_paper(paper, base_url),
    }
}

impl HfDailyPaper {
    /// Sets the viewer's `upvoted` flag.
    pub fn set_upvoted(&mut self, upvoted: bool) {
        self.upvoted = Some(upvoted);
    }
}

impl HfPaperInfo {
    /// Sets the viewer's `upvoted` flag.
    pub fn set_upvoted(&mut self, upvoted: bool) {
        self.upvoted = Some(upvoted);
    }
}

pub fn hf_paper_info(paper: &Paper, base_url: &str) -> HfPaperInfo {
    HfPaperInfo {
        paper: hf_paper(paper, base_url),
        num_comments: paper.num_comments,
        upvoted: None,
        categories: paper.categories.clone(),
        comments: paper.comments.clone(),
        journal_ref: paper.journal_ref.clone(),
        doi: paper.doi.clone(),
        linked_models: Vec::new(),
        num_total_models: 0,
        linked_datasets: Vec::new(),
        num_total_datasets: 0,
        linked_spaces: Vec::new(),
        num_total_spaces: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_24_hex_and_stable() {
        let a = object_id("discussion", "2405.15738");
        assert_eq!(a.len(), 24);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, object_id("discussion", "2405.15738"));
        assert_ne!(a, object_id("discussion", "2405.15739"));
    }
}
