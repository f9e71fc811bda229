//! Email subscriptions: addresses, digest preferences, and which papers a digest holds.

use std::fmt;

use chrono::{Datelike, IsoWeek, NaiveDate, Weekday};

use super::Paper;

/// A syntactically valid, normalised (trimmed, lower-cased) email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

impl EmailAddress {
    /// Accepts `local@domain` with a dotted domain, at most 254 characters, no spaces or
    /// angle brackets. Deliverability is proven by the confirmation mail, not by parsing.
    pub fn parse(input: &str) -> Result<EmailAddress, String> {
        let s = input.trim().to_lowercase();
        let bad = || format!("{} is not an email address", super::quoted(input));
        if s.is_empty() || s.len() > 254 {
            return Err(bad());
        }
        let (local, domain) = s.rsplit_once('@').ok_or_else(bad)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let domain_ok = domain.contains('.')
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(EmailAddress(s))
        } else {
            Err(bad())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map(|(_, d)| d).unwrap_or_default()
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How often a subscriber gets a digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Frequency {
    /// Every weekday, once the day has closed in the site's time zone.
    #[default]
    Daily,
    /// Every Monday, for the previous ISO week.
    Weekly,
    Paused,
}

impl Frequency {
    pub fn parse(s: &str) -> Option<Frequency> {
        match s {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            "paused" => Some(Frequency::Paused),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
            Frequency::Paused => "paused",
        }
    }
}

/// What a subscriber wants in each digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preferences {
    pub frequency: Frequency,
    /// At most this many papers (1 to 50).
    pub max_papers: u32,
    pub min_upvotes: i64,
    /// Only papers with one of these categories (empty: any).
    pub include_categories: Vec<String>,
    pub exclude_categories: Vec<String>,
    /// Only papers whose title or abstract mentions one of these (empty: any).
    pub include_keywords: Vec<String>,
    pub exclude_keywords: Vec<String>,
}

pub const DEFAULT_MAX_PAPERS: u32 = 10;
pub const MAX_PAPERS_LIMIT: u32 = 50;

impl Default for Preferences {
    fn default() -> Self {
        Preferences {
            frequency: Frequency::Daily,
            max_papers: DEFAULT_MAX_PAPERS,
            min_upvotes: 0,
            include_categories: Vec::new(),
            exclude_categories: Vec::new(),
            include_keywords: Vec::new(),
            exclude_keywords: Vec::new(),
        }
    }
}

impl Preferences {
    /// Whether `paper` passes this subscriber's filters.
    pub fn admits(&self, paper: &Paper) -> bool {
        if paper.upvotes < self.min_upvotes {
            return false;
        }
        let has_category = |wanted: &[String]| {
            paper.categories.iter().any(|c| {
                wanted
                    .iter()
                    .any(|w| c.eq_ignore_ascii_case(w) || prefix_match(c, w))
            })
        };
        let text = format!("{} {}", paper.title, paper.summary).to_lowercase();
        let mentions = |words: &[String]| words.iter().any(|w| text.contains(&w.to_lowercase()));
        (self.include_categories.is_empty() || has_category(&self.include_categories))
            && !has_category(&self.exclude_categories)
            && (self.include_keywords.is_empty() || mentions(&self.include_keywords))
            && !mentions(&self.exclude_keywords)
    }

    /// The papers of an edition this subscriber receives, in edition order.
    pub fn select<'a>(&self, edition: &'a [Paper]) -> Vec<&'a Paper> {
        edition
            .iter()
            .filter(|p| self.admits(p))
            .take(self.max_papers as usize)
            .collect()
    }
}

/// `cs` matches `cs.LG`: a category filter without a dot means the whole archive.
fn prefix_match(category: &str, wanted: &str) -> bool {
    !wanted.contains('.')
        && category
            .split_once('.')
            .is_some_and(|(archive, _)| archive.eq_ignore_ascii_case(wanted))
}

/// Splits a comma- or newline-separated list from a form into clean items.
pub fn parse_list(s: &str) -> Vec<String> {
    s.split([',', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .take(20)
        .map(|t| t.chars().take(60).collect())
        .collect()
}

/// Splits a list of arXiv categories from a form (`cs.CL, hep-th, math`): each must look like a
/// category or an archive (letters and hyphens, then optionally a dot and a subject class), so a
/// typing slip is refused rather than kept as a filter that matches nothing.
pub fn parse_categories(s: &str) -> Result<Vec<String>, String> {
    let items = parse_list(s);
    for item in &items {
        let (archive, class) = item.split_once('.').unwrap_or((item.as_str(), "a"));
        let letters = |t: &str, first_lower: bool| {
            t.chars().next().is_some_and(|c| {
                c.is_ascii_alphabetic() && (!first_lower || c.is_ascii_lowercase())
            }) && t.chars().all(|c| c.is_ascii_alphabetic() || c == '-')
        };
        if !letters(archive, true) || !letters(class, false) {
            return Err(format!(
                "{} is not an arXiv category such as cs.CL, hep-th or cs.",
                super::quoted(item)
            ));
        }
    }
    Ok(items)
}

/// One digest edition: a feed day (daily) or an ISO week (weekly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EditionKey {
    Daily(NaiveDate),
    Weekly(IsoWeek),
}

impl EditionKey {
    pub fn frequency(self) -> Frequency {
        match self {
            EditionKey::Daily(_) => Frequency::Daily,
            EditionKey::Weekly(_) => Frequency::Weekly,
        }
    }

    /// `2026-08-21` or `2026-W34`: unique per frequency.
    pub fn period_key(self) -> String {
        match self {
            EditionKey::Daily(d) => d.format("%Y-%m-%d").to_string(),
            EditionKey::Weekly(w) => format!("{:04}-W{:02}", w.year(), w.week()),
        }
    }

    /// The feed period the edition covers.
    pub fn period(self) -> super::Period {
        match self {
            EditionKey::Daily(d) => super::Period::Day(d),
            EditionKey::Weekly(w) => super::Period::Week(w),
        }
    }

    /// The editions that are due at local date `today`: yesterday's daily edition on the day
    /// after a weekday, and last week's weekly edition on a Monday.
    pub fn due_on(today: NaiveDate) -> Vec<EditionKey> {
        let mut due = Vec::new();
        if let Some(yesterday) = today.pred_opt()
            && !matches!(yesterday.weekday(), Weekday::Sat | Weekday::Sun)
        {
            due.push(EditionKey::Daily(yesterday));
        }
        if today.weekday() == Weekday::Mon
            && let Some(last_week) = today.checked_sub_days(chrono::Days::new(7))
        {
            due.push(EditionKey::Weekly(last_week.iso_week()));
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_filters_must_look_like_categories() {
        assert_eq!(
            parse_categories("cs.CL, hep-th,math ,cond-mat.mes-hall, physics.ao-ph").unwrap(),
            [
                "cs.CL",
                "hep-th",
                "math",
                "cond-mat.mes-hall",
                "physics.ao-ph"
            ]
        );
        assert_eq!(parse_categories("").unwrap(), Vec::<String>::new());
        for bad in ["<script>", "foo bar", "cs.", "CS.CL", "cs.C1", "cs..CL"] {
            let err = parse_categories(bad).unwrap_err();
            assert!(err.contains("is not an arXiv category"), "{bad}: {err}");
        }
    }
    use crate::domain::ArxivId;

    #[test]
    fn addresses_are_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Ada@Example.ORG ").unwrap().as_str(),
            "ada@example.org"
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@x.org",
            "ada@localhost",
            "a b@x.org",
            "<a@x.org>",
            "a..b@x.org",
            "ada@-x.org",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }

    fn paper(title: &str, cats: &[&str], upvotes: i64) -> Paper {
        let mut p = Paper::new(ArxivId::parse("2608.00001").unwrap(), title);
        p.categories = cats.iter().map(|c| c.to_string()).collect();
        p.upvotes = upvotes;
        p
    }

    #[test]
    fn filters_combine() {
        let prefs = Preferences {
            min_upvotes: 5,
            include_categories: vec!["cs".into()],
            exclude_keywords: vec!["survey".into()],
            max_papers: 2,
            ..Default::default()
        };
        let edition = vec![
            paper("A model", &["cs.LG"], 10),
            paper("A survey of models", &["cs.CL"], 50),
            paper("Quantum", &["quant-ph"], 50),
            paper("Few votes", &["cs.AI"], 1),
            paper("B model", &["cs.CV"], 6),
            paper("C model", &["cs.CV"], 7),
        ];
        let titles: Vec<&str> = prefs
            .select(&edition)
            .iter()
            .map(|p| p.title.as_str())
            .collect();
        assert_eq!(titles, ["A model", "B model"]);
    }

    #[test]
    fn editions_fall_due_after_weekdays_and_on_mondays() {
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        // Saturday 2026-08-22: Friday's daily edition.
        assert_eq!(
            EditionKey::due_on(d("2026-08-22")),
            vec![EditionKey::Daily(d("2026-08-21"))]
        );
        // Sunday: nothing. Monday: last week's weekly edition, no daily (Sunday was yesterday).
        assert!(EditionKey::due_on(d("2026-08-23")).is_empty());
        assert_eq!(
            EditionKey::due_on(d("2026-08-24")),
            vec![EditionKey::Weekly(d("2026-08-21").iso_week())]
        );
        assert_eq!(
            EditionKey::Weekly(d("2026-08-21").iso_week()).period_key(),
            "2026-W34"
        );
    }
}
