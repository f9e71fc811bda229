//! Members: usernames, the submission rules and how a comment's Markdown becomes safe HTML.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};

/// A member as the site shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account_id: i64,
    pub username: String,
    pub fullname: String,
    pub email: String,
    pub is_admin: bool,
    pub banned: bool,
}

/// Parses a username: 2 to 30 ASCII letters, digits, `-` or `_`, starting with a letter or digit.
pub fn parse_username(input: &str) -> Result<String, String> {
    let s = input.trim();
    let len = s.chars().count();
    if !(2..=30).contains(&len) {
        return Err("A username has 2 to 30 characters.".into());
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        || !s.as_bytes()[0].is_ascii_alphanumeric()
    {
        return Err(
            "A username uses only letters, digits, '-' and '_', and starts with a letter or digit."
                .into(),
        );
    }
    Ok(s.to_owned())
}

/// Parses a display name: 1 to 60 characters, no control characters; whitespace collapsed.
pub fn parse_fullname(input: &str) -> Result<String, String> {
    let s = super::paper::collapse_whitespace(input);
    if s.is_empty() || s.chars().count() > 60 {
        return Err("A display name has 1 to 60 characters.".into());
    }
    // Checked before collapsing, which drops control characters.
    if input.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err("A display name cannot hold control characters.".into());
    }
    Ok(s)
}

/// Parses an API token's name: what the member calls it, so they can tell tokens apart. Empty
/// means "token"; at most 60 characters, no control characters; whitespace collapsed.
pub fn parse_token_name(input: &str) -> Result<String, String> {
    let s = super::paper::collapse_whitespace(input);
    // Checked before collapsing, which drops control characters.
    if input.chars().any(|c| c.is_control() && !c.is_whitespace()) {
        return Err("A token name cannot hold control characters.".into());
    }
    match s.chars().count() {
        0 => Ok("token".to_owned()),
        1..=60 => Ok(s),
        n => Err(format!(
            "A token name has at most 60 characters; this one has {n}."
        )),
    }
}

/// A username proposed from an email address's local part (the caller makes it unique).
pub fn username_from_email(email: &str) -> String {
    let local = email.split('@').next().unwrap_or("");
    let mut name: String = local
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .skip_while(|c| !c.is_ascii_alphanumeric())
        .take(24)
        .collect();
    while name.len() < 2 {
        name.push('0');
    }
    name
}

/// The submission rules, as configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubmissionRules {
    /// A paper must have been published on arXiv at most this many days ago.
    pub window_days: i64,
    /// Submissions per member per feed day.
    pub per_member_per_day: i64,
    /// Whether papers may be submitted on Saturdays and Sundays (in the site's time zone).
    pub allow_weekends: bool,
}

impl Default for SubmissionRules {
    fn default() -> Self {
        SubmissionRules {
            window_days: 14,
            per_member_per_day: 5,
            allow_weekends: true,
        }
    }
}

/// Why a submission was refused; each says so in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{0}")]
    BadId(String),
    #[error("arXiv has no paper {0}.")]
    UnknownPaper(String),
    #[error("{id} is already on the feed (since {day}).")]
    AlreadyOnFeed { id: String, day: NaiveDate },
    #[error(
        "{id} was published on {published}, more than {window} days ago; only recent papers can be submitted."
    )]
    TooOld {
        id: String,
        published: NaiveDate,
        window: i64,
    },
    #[error("Submissions are closed on weekends on this site; please come back on Monday.")]
    Weekend,
    #[error("You have submitted {0} papers today, the daily limit; please try again tomorrow.")]
    DailyLimit(i64),
    #[error("Your account cannot submit papers.")]
    Banned,
    #[error("arXiv could not be reached just now; please try again in a few minutes.")]
    ArxivUnavailable,
}

/// Checks the rules that depend only on the paper and the day (the daily limit and duplicates
/// are checked by the store inside the write).
pub fn check_submission(
    rules: &SubmissionRules,
    id: &str,
    published_at: Option<DateTime<Utc>>,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<(), Refusal> {
    if !rules.allow_weekends && matches!(today.weekday(), Weekday::Sat | Weekday::Sun) {
        return Err(Refusal::Weekend);
    }
    if let Some(published) = published_at
        && published < now - Duration::days(rules.window_days)
    {
        return Err(Refusal::TooOld {
            id: id.to_owned(),
            published: published.date_naive(),
            window: rules.window_days,
        });
    }
    Ok(())
}

/// Renders a comment's Markdown to HTML that is safe to insert into a page or a mail: raw HTML
/// in the source is shown as text, and the result passes ammonia's allowlist (links only http,
/// https and mailto, with `rel="nofollow ugc noopener noreferrer"`; no images, no styles).
pub fn comment_html(markdown: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser};
    let parser = Parser::new_ext(markdown, Options::ENABLE_STRIKETHROUGH).map(|e| match e {
        Event::Html(t) | Event::InlineHtml(t) => Event::Text(t),
        other => other,
    });
    let mut html = String::new();
    pulldown_cmark::html::push_html(&mut html, parser);
    ammonia::Builder::default()
        .tags(
            [
                "p",
                "em",
                "strong",
                "del",
                "code",
                "pre",
                "a",
                "ul",
                "ol",
                "li",
                "blockquote",
                "br",
                "hr",
                "h1",
                "h2",
                "h3",
                "h4",
                "h5",
                "h6",
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("nofollow ugc noopener noreferrer"))
        .clean(&html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_short_ascii_words() {
        assert_eq!(parse_username(" ada_l-1 ").unwrap(), "ada_l-1");
        for bad in [
            "a",
            "-ada",
            "ada lovelace",
            "<script>",
            &"x".repeat(31),
            "adé",
        ] {
            assert!(parse_username(bad).is_err(), "{bad}");
        }
        assert_eq!(
            username_from_email("Ada.Lovelace+x@example.org"),
            "Ada-Lovelace-x"
        );
        assert_eq!(username_from_email("_@example.org"), "00");
    }

    #[test]
    fn comments_keep_markdown_and_lose_script() {
        let html = comment_html(
            "**bold** [ok](https://example.org) [bad](javascript:alert(1)) <script>alert(1)</script>\n\n<img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("href=\"https://example.org\""), "{html}");
        assert!(
            html.contains("rel=\"nofollow ugc noopener noreferrer\""),
            "{html}"
        );
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains("&lt;script&gt;"),
            "raw HTML is shown as text: {html}"
        );
    }

    #[test]
    fn submission_rules_refuse_old_papers_and_weekends() {
        let now: DateTime<Utc> = "2026-08-22T12:00:00Z".parse().unwrap(); // a Saturday
        let today = now.date_naive();
        let rules = SubmissionRules::default();
        let old = now - Duration::days(15);
        assert!(matches!(
            check_submission(&rules, "2608.00001", Some(old), today, now),
            Err(Refusal::TooOld { window: 14, .. })
        ));
        assert!(check_submission(&rules, "2608.00001", Some(now), today, now).is_ok());
        let closed = SubmissionRules {
            allow_weekends: false,
            ..rules
        };
        assert_eq!(
            check_submission(&closed, "2608.00001", Some(now), today, now),
            Err(Refusal::Weekend)
        );
    }
}
