//! Text exports of a paper: BibTeX for citing it and Markdown for `/papers/{id}.md`.

use chrono::Datelike;

use super::paper::Paper;

/// A BibTeX `@misc` entry in the form arXiv itself suggests.
pub fn bibtex(paper: &Paper) -> String {
    let year = paper.published_at.map(|t| t.year());
    let first_author_surname = paper
        .authors
        .first()
        .and_then(|a| a.split_whitespace().last())
        .unwrap_or("anonymous");
    let key_word = paper
        .title
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect::<String>()
        })
        .find(|w| w.len() > 3)
        .unwrap_or_default();
    let key: String = format!(
        "{}{}{}",
        first_author_surname,
        year.map(|y| y.to_string()).unwrap_or_default(),
        key_word
    )
    .chars()
    .filter(|c| c.is_ascii_alphanumeric())
    .collect::<String>()
    .to_lowercase();
    let mut out = format!("@misc{{{key},\n");
    out.push_str(&format!(
        "      title={{{}}},\n",
        bibtex_value(&paper.title)
    ));
    if !paper.authors.is_empty() {
        out.push_str(&format!(
            "      author={{{}}},\n",
            bibtex_value(&paper.authors.join(" and "))
        ));
    }
    if let Some(year) = year {
        out.push_str(&format!("      year={{{year}}},\n"));
    }
    out.push_str(&format!("      eprint={{{}}},\n", paper.id));
    out.push_str("      archivePrefix={arXiv},\n");
    if let Some(primary) = paper.primary_category() {
        out.push_str(&format!(
            "      primaryClass={{{}}},\n",
            bibtex_value(primary)
        ));
    }
    if let Some(doi) = &paper.doi {
        out.push_str(&format!("      doi={{{}}},\n", bibtex_value(doi)));
    }
    out.push_str(&format!("      url={{{}}},\n", paper.abs_url()));
    out.push('}');
    out
}

/// Keeps braces balanced so a stray `{` in a title cannot break the entry.
fn bibtex_value(s: &str) -> String {
    let mut depth = 0i32;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '{' => {
                depth += 1;
                out.push(c);
            }
            '}' if depth == 0 => out.push_str("\\}"),
            '}' => {
                depth -= 1;
                out.push(c);
            }
            _ => out.push(c),
        }
    }
    for _ in 0..depth {
        out.push('}');
    }
    out
}

/// The paper as a Markdown document: what `read_paper` in `huggingface_hub` returns.
pub fn markdown(paper: &Paper) -> String {
    let mut out = format!("# {}\n\n", paper.title);
    if !paper.authors.is_empty() {
        out.push_str(&format!("**Authors:** {}\n\n", paper.authors.join(", ")));
    }
    out.push_str(&format!("**arXiv:** [{}]({})", paper.id, paper.abs_url()));
    if let Some(published) = paper.published_at {
        out.push_str(&format!(
            " · **Published:** {}",
            published.format("%Y-%m-%d")
        ));
    }
    if !paper.categories.is_empty() {
        out.push_str(&format!(
            " · **Categories:** {}",
            paper.categories.join(", ")
        ));
    }
    out.push_str("\n\n");
    if !paper.summary.is_empty() {
        out.push_str("## Abstract\n\n");
        out.push_str(&paper.summary);
        out.push_str("\n\n");
    }
    if let Some(ai) = &paper.ai_summary {
        out.push_str("## AI summary\n\n");
        out.push_str(ai);
        out.push_str("\n\n");
    }
    let links: Vec<String> = [
        Some(("PDF", paper.pdf_url())),
        paper.github_repo.clone().map(|u| ("Code", u)),
        paper.project_page.clone().map(|u| ("Project page", u)),
    ]
    .into_iter()
    .flatten()
    .map(|(label, url)| format!("- {label}: <{url}>"))
    .collect();
    out.push_str("## Links\n\n");
    out.push_str(&links.join("\n"));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ArxivId;
    use chrono::TimeZone;

    fn paper() -> Paper {
        let mut p = Paper::new(
            ArxivId::parse("2602.23229").unwrap(),
            "Large Multimodal {Models} as Classifiers}",
        );
        p.authors = vec!["Marco Garosi".into(), "Elisa Ricci".into()];
        p.published_at = Some(
            chrono::Utc
                .with_ymd_and_hms(2026, 2, 26, 17, 8, 18)
                .unwrap(),
        );
        p.categories = vec!["cs.CV".into()];
        p.summary = "Which multimodal model?".into();
        p
    }

    #[test]
    fn bibtex_has_key_fields_and_balanced_braces() {
        let b = bibtex(&paper());
        assert!(b.starts_with("@misc{garosi2026large,"), "{b}");
        assert!(b.contains("eprint={2602.23229}"));
        assert!(b.contains("author={Marco Garosi and Elisa Ricci}"));
        assert_eq!(
            b.matches('{').count(),
            b.matches('}').count() - b.matches("\\}").count()
        );
    }

    #[test]
    fn markdown_starts_with_the_title() {
        let m = markdown(&paper());
        assert!(m.starts_with("# Large Multimodal"));
        assert!(m.contains("Which multimodal model?"));
    }
}
