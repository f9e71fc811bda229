//! Rendering mails from templates (`templates/email/`): an HTML part with inline CSS and a
//! text/plain alternative, with no images and nothing loaded from elsewhere.

use askama::Template;

use crate::domain::Paper;
use crate::domain::subscription::{EditionKey, Frequency};

/// A rendered mail, before addressing and headers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

impl From<Rendered> for crate::store::mail::MailContent {
    fn from(r: Rendered) -> Self {
        crate::store::mail::MailContent {
            subject: r.subject,
            text: r.text,
            html: r.html,
        }
    }
}

/// Links that identify the recipient; everything else in a digest is shared by the edition.
pub struct RecipientLinks {
    pub preferences_url: String,
    pub unsubscribe_url: String,
}

/// The site as mails name it.
pub struct Site<'a> {
    pub name: &'a str,
    /// Base URL without a trailing slash.
    pub url: &'a str,
}

/// One paper as a digest shows it.
pub struct DigestPaper {
    title: String,
    url: String,
    abs_url: String,
    pdf_url: String,
    code_url: Option<String>,
    authors: String,
    summary: String,
    upvotes: i64,
    categories: String,
}

impl DigestPaper {
    pub fn new(paper: &Paper, site_url: &str) -> DigestPaper {
        DigestPaper {
            title: paper.title.clone(),
            url: format!("{site_url}/papers/{}", paper.id),
            abs_url: paper.abs_url(),
            pdf_url: paper.pdf_url(),
            code_url: paper.github_repo.clone(),
            authors: short_authors(&paper.authors),
            summary: two_lines(&paper.summary),
            upvotes: paper.upvotes,
            categories: paper
                .categories
                .iter()
                .take(2)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        }
    }
}

fn short_authors(authors: &[String]) -> String {
    match authors.len() {
        0..=3 => authors.join(", "),
        n => format!("{}, {} et al. ({n} authors)", authors[0], authors[1]),
    }
}

/// About two lines of a mail client: the first ~220 characters, cut at a word.
fn two_lines(summary: &str) -> String {
    const LIMIT: usize = 220;
    if summary.chars().count() <= LIMIT {
        return summary.to_owned();
    }
    let cut: String = summary.chars().take(LIMIT).collect();
    let cut = cut.rsplit_once(' ').map(|(head, _)| head).unwrap_or(&cut);
    format!("{}…", cut.trim_end_matches([',', ';', ':', '.']))
}

#[derive(Template)]
#[template(path = "email/digest.html")]
struct DigestHtml<'a> {
    subject: &'a str,
    kind_label: &'a str,
    heading: &'a str,
    filtered: bool,
    period_url: &'a str,
    papers: &'a [&'a DigestPaper],
    frequency: &'a str,
    site_name: &'a str,
    site_url: &'a str,
    preferences_url: &'a str,
    unsubscribe_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/digest.txt")]
struct DigestText<'a> {
    heading: &'a str,
    underline: String,
    filtered: bool,
    period_url: &'a str,
    papers: &'a [&'a DigestPaper],
    frequency: &'a str,
    site_name: &'a str,
    site_url: &'a str,
    preferences_url: &'a str,
    unsubscribe_url: &'a str,
}

/// Renders one recipient's digest. `filtered` says whether their preferences removed papers.
pub fn digest(
    site: &Site<'_>,
    key: EditionKey,
    papers: &[&DigestPaper],
    filtered: bool,
    links: &RecipientLinks,
) -> askama::Result<Rendered> {
    let label = key.period().label();
    let (kind_label, heading) = match key.frequency() {
        Frequency::Weekly => ("weekly digest", format!("Papers of the week · {label}")),
        _ => ("daily digest", format!("Papers of the day · {label}")),
    };
    let subject = match papers.first() {
        Some(top) => format!("{heading}: {}", truncate(&top.title, 70)),
        None => heading.clone(),
    };
    let period_url = format!("{}{}", site.url, key.period().path());
    let frequency = key.frequency().as_str();
    let html = DigestHtml {
        subject: &subject,
        kind_label,
        heading: &heading,
        filtered,
        period_url: &period_url,
        papers,
        frequency,
        site_name: site.name,
        site_url: site.url,
        preferences_url: &links.preferences_url,
        unsubscribe_url: &links.unsubscribe_url,
    }
    .render()?;
    let text = DigestText {
        heading: &heading,
        underline: "=".repeat(heading.chars().count()),
        filtered,
        period_url: &period_url,
        papers,
        frequency,
        site_name: site.name,
        site_url: site.url,
        preferences_url: &links.preferences_url,
        unsubscribe_url: &links.unsubscribe_url,
    }
    .render()?;
    Ok(Rendered {
        subject,
        text,
        html,
    })
}

#[derive(Template)]
#[template(path = "email/confirm.html")]
struct ConfirmHtml<'a> {
    site_name: &'a str,
    site_url: &'a str,
    confirm_url: &'a str,
}

#[derive(Template)]
#[template(path = "email/confirm.txt")]
struct ConfirmText<'a> {
    site_name: &'a str,
    site_url: &'a str,
    confirm_url: &'a str,
}

/// The double opt-in mail.
pub fn confirmation(site: &Site<'_>, confirm_url: &str) -> askama::Result<Rendered> {
    Ok(Rendered {
        subject: format!("Confirm your subscription to {}", site.name),
        html: ConfirmHtml {
            site_name: site.name,
            site_url: site.url,
            confirm_url,
        }
        .render()?,
        text: ConfirmText {
            site_name: site.name,
            site_url: site.url,
            confirm_url,
        }
        .render()?,
    })
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>().trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArxivId;

    #[test]
    fn digests_escape_html_and_keep_links() {
        let mut p = Paper::new(
            ArxivId::parse("2608.00001").unwrap(),
            "<script>alert(1)</script> & $x<y$",
        );
        p.summary = "word ".repeat(100);
        p.upvotes = 7;
        let site = Site {
            name: "paperboy",
            url: "https://papers.example.org",
        };
        let one = DigestPaper::new(&p, site.url);
        let papers = vec![&one];
        let links = RecipientLinks {
            preferences_url: "https://papers.example.org/preferences/t".into(),
            unsubscribe_url: "https://papers.example.org/unsubscribe/t".into(),
        };
        let key = EditionKey::Daily("2026-08-21".parse().unwrap());
        let r = digest(&site, key, &papers, false, &links).unwrap();
        assert!(!r.html.contains("<script>"));
        assert!(
            r.html
                .contains("https://papers.example.org/papers/2608.00001")
        );
        assert!(
            r.text.contains("<script>alert(1)</script>"),
            "text/plain is not HTML-escaped"
        );
        assert!(
            r.text
                .contains("Unsubscribe: https://papers.example.org/unsubscribe/t")
        );
        assert!(r.subject.starts_with("Papers of the day · Aug 21, 2026: "));
        assert!(!r.html.contains("<img"), "no images, no tracking pixels");
        assert!(two_lines(&p.summary).chars().count() <= 221);
    }
}
