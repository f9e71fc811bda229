//! Writes one list of papers as RSS 2.0 (`rss`), Atom 1.0 (`atom_syndication`) or JSON Feed 1.1
//! (serde), from one format-neutral [`Item`] per paper.
//!
//! The XML crates escape text and split `]]>` across CDATA sections; what they cannot do is drop
//! the control characters that XML 1.0 forbids even as references, so every string passes
//! through [`xml_text`] first. Titles and names are text fields (escaped once by the writer).
//! The abstract appears only inside each item's HTML body, escaped by askama, so a `<script>`
//! in an abstract reaches a reader as text.

use std::collections::BTreeMap;

use askama::Template;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{FeedFormat, FeedMeta};
use crate::domain::Paper;
use crate::web::error::PageError;

/// Prefix and namespace of paperboy's own feed elements (`<paperboy:upvotes>`).
const NS_PREFIX: &str = "paperboy";
const NS_URI: &str = "urn:paperboy:feed:1";
/// Identifies arXiv's category taxonomy in RSS `domain` and Atom `scheme` attributes.
const CATEGORY_SCHEME: &str = "https://arxiv.org/category_taxonomy";
const SITE_NAME: &str = "paperboy";
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// When a paper joined the list: its time on the daily feed, else its first arXiv version.
pub fn item_date(paper: &Paper) -> Option<DateTime<Utc>> {
    paper
        .feed
        .as_ref()
        .map(|f| f.submitted_at)
        .or(paper.published_at)
}

/// The newest item date of a list.
pub fn newest_item(papers: &[Paper]) -> Option<DateTime<Utc>> {
    papers.iter().filter_map(item_date).max()
}

/// Drops the characters XML 1.0 forbids (C0 controls other than tab, newline and carriage
/// return; U+FFFE and U+FFFF) and the C1 controls it discourages.
pub fn xml_text(s: &str) -> String {
    s.chars()
        .filter(|&c| {
            matches!(c, '\t' | '\n' | '\r')
                || !(c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
        })
        .collect()
}

/// A paper as every format sees it, already cleaned for XML.
struct Item {
    arxiv_id: String,
    title: String,
    link: String,
    arxiv_url: String,
    pdf_url: String,
    authors: Vec<String>,
    categories: Vec<String>,
    date: Option<DateTime<Utc>>,
    published: Option<DateTime<Utc>>,
    /// The paper's HTML body: the abstract (escaped), authors, upvotes and links.
    content_html: String,
    upvotes: i64,
}

#[derive(Template)]
#[template(path = "feeds/item.html")]
struct ItemHtml<'a> {
    summary: &'a str,
    authors: String,
    upvotes: i64,
    categories: String,
    paper_url: &'a str,
    arxiv_url: &'a str,
    pdf_url: &'a str,
    code_url: Option<&'a str>,
}

impl Item {
    fn new(paper: &Paper, base_url: &str) -> Result<Item, PageError> {
        let link = format!("{base_url}/papers/{}", paper.id);
        let arxiv_url = paper.abs_url();
        let pdf_url = paper.pdf_url();
        let summary = xml_text(&paper.summary);
        let authors: Vec<String> = paper.authors.iter().map(|a| xml_text(a)).collect();
        let categories: Vec<String> = paper.categories.iter().map(|c| xml_text(c)).collect();
        let code_url = paper
            .github_repo
            .as_deref()
            .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
            .map(xml_text);
        let content_html = ItemHtml {
            summary: &summary,
            authors: authors.join(", "),
            upvotes: paper.upvotes,
            categories: categories.join(", "),
            paper_url: &link,
            arxiv_url: &arxiv_url,
            pdf_url: &pdf_url,
            code_url: code_url.as_deref(),
        }
        .render()
        .map_err(|e| PageError::Internal(anyhow::Error::new(e).context("rendering a feed item")))?;
        Ok(Item {
            arxiv_id: paper.id.to_string(),
            title: xml_text(&paper.title),
            link,
            arxiv_url,
            pdf_url,
            authors,
            categories,
            date: item_date(paper),
            published: paper.published_at,
            content_html,
            upvotes: paper.upvotes,
        })
    }
}

/// The feed document for `papers`, in `format`.
pub fn render(
    format: FeedFormat,
    meta: &FeedMeta,
    papers: &[Paper],
    base_url: &str,
) -> Result<Vec<u8>, PageError> {
    let items = papers
        .iter()
        .map(|p| Item::new(p, base_url))
        .collect::<Result<Vec<_>, _>>()?;
    let head = Head {
        title: xml_text(&format!("{SITE_NAME} · {}", meta.title)),
        description: xml_text(&meta.description),
        page_url: format!("{base_url}{}", meta.page_href()),
        feed_url: format!("{base_url}{}", meta.feed_href(format)),
        updated: items.iter().filter_map(|i| i.date).max(),
    };
    let failed = |e: String| PageError::Internal(anyhow::anyhow!("writing a feed: {e}"));
    match format {
        FeedFormat::Rss => rss_channel(&head, &items)
            .write_to(Vec::new())
            .map_err(|e| failed(e.to_string())),
        FeedFormat::Atom => atom_feed(&head, &items)
            .write_to(Vec::new())
            .map_err(|e| failed(e.to_string())),
        FeedFormat::Json => {
            serde_json::to_vec(&json_feed(&head, &items)).map_err(|e| failed(e.to_string()))
        }
    }
}

/// Feed-level values shared by the formats.
struct Head {
    title: String,
    description: String,
    page_url: String,
    feed_url: String,
    /// The newest item date; None for an empty list.
    updated: Option<DateTime<Utc>>,
}

fn upvotes_extension<E: Default>(
    upvotes: i64,
    make: impl Fn(String, String) -> E,
) -> BTreeMap<String, BTreeMap<String, Vec<E>>> {
    let element = make(format!("{NS_PREFIX}:upvotes"), upvotes.to_string());
    BTreeMap::from([(
        NS_PREFIX.to_owned(),
        BTreeMap::from([("upvotes".to_owned(), vec![element])]),
    )])
}

fn rss_channel(head: &Head, items: &[Item]) -> rss::Channel {
    use rss::extension::dublincore::DublinCoreExtension;

    let items = items
        .iter()
        .map(|item| rss::Item {
            title: Some(item.title.clone()),
            link: Some(item.link.clone()),
            description: Some(item.content_html.clone()),
            guid: Some(rss::Guid {
                value: item.arxiv_id.clone(),
                permalink: false,
            }),
            pub_date: item.date.map(|d| d.to_rfc2822()),
            categories: item
                .categories
                .iter()
                .map(|c| rss::Category {
                    name: c.clone(),
                    domain: Some(CATEGORY_SCHEME.to_owned()),
                })
                .collect(),
            dublin_core_ext: (!item.authors.is_empty()).then(|| DublinCoreExtension {
                creators: item.authors.clone(),
                ..Default::default()
            }),
            extensions: upvotes_extension(item.upvotes, |name, value| rss::extension::Extension {
                name,
                value: Some(value),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    rss::Channel {
        title: head.title.clone(),
        link: head.page_url.clone(),
        description: head.description.clone(),
        language: Some("en".to_owned()),
        last_build_date: head.updated.map(|d| d.to_rfc2822()),
        generator: Some(SITE_NAME.to_owned()),
        // `<atom:link rel="self">`, which RSS readers use to find the feed's own address.
        extensions: BTreeMap::from([(
            "atom".to_owned(),
            BTreeMap::from([(
                "link".to_owned(),
                vec![rss::extension::Extension {
                    name: "atom:link".to_owned(),
                    attrs: BTreeMap::from([
                        ("href".to_owned(), head.feed_url.clone()),
                        ("rel".to_owned(), "self".to_owned()),
                        ("type".to_owned(), FeedFormat::Rss.media_type().to_owned()),
                    ]),
                    ..Default::default()
                }],
            )]),
        )]),
        namespaces: BTreeMap::from([
            ("atom".to_owned(), ATOM_NS.to_owned()),
            (NS_PREFIX.to_owned(), NS_URI.to_owned()),
        ]),
        items,
        ..Default::default()
    }
}

fn atom_feed(head: &Head, items: &[Item]) -> atom_syndication::Feed {
    use atom_syndication::{Category, Content, Entry, Feed, Generator, Link, Person, Text};

    let link = |href: &str, rel: &str, mime: &str| Link {
        href: href.to_owned(),
        rel: rel.to_owned(),
        mime_type: Some(mime.to_owned()),
        ..Default::default()
    };
    // Atom requires an `updated` date; an empty list has none, so it takes the epoch, which
    // keeps the document (and its ETag) stable.
    let feed_updated = head.updated.unwrap_or(DateTime::UNIX_EPOCH);
    let entries = items
        .iter()
        .map(|item| Entry {
            title: Text::plain(item.title.clone()),
            id: item.arxiv_url.clone(),
            updated: item.date.unwrap_or(feed_updated).fixed_offset(),
            published: item.published.map(|d| d.fixed_offset()),
            authors: item
                .authors
                .iter()
                .map(|name| Person {
                    name: name.clone(),
                    ..Default::default()
                })
                .collect(),
            categories: item
                .categories
                .iter()
                .map(|c| Category {
                    term: c.clone(),
                    scheme: Some(CATEGORY_SCHEME.to_owned()),
                    label: None,
                })
                .collect(),
            links: vec![
                link(&item.link, "alternate", "text/html"),
                link(&item.arxiv_url, "related", "text/html"),
                link(&item.pdf_url, "enclosure", "application/pdf"),
            ],
            content: Some(Content {
                value: Some(item.content_html.clone()),
                content_type: Some("html".to_owned()),
                ..Default::default()
            }),
            extensions: upvotes_extension(item.upvotes, |name, value| {
                atom_syndication::extension::Extension {
                    name,
                    value: Some(value),
                    ..Default::default()
                }
            }),
            ..Default::default()
        })
        .collect();
    Feed {
        title: Text::plain(head.title.clone()),
        id: head.feed_url.clone(),
        updated: feed_updated.fixed_offset(),
        // Entries without authors fall back to the feed's author, which RFC 4287 requires.
        authors: vec![Person {
            name: SITE_NAME.to_owned(),
            ..Default::default()
        }],
        generator: Some(Generator {
            value: SITE_NAME.to_owned(),
            ..Default::default()
        }),
        links: vec![
            link(&head.page_url, "alternate", "text/html"),
            link(&head.feed_url, "self", FeedFormat::Atom.media_type()),
        ],
        subtitle: Some(Text::plain(head.description.clone())),
        lang: Some("en".to_owned()),
        namespaces: BTreeMap::from([(NS_PREFIX.to_owned(), NS_URI.to_owned())]),
        entries,
        ..Default::default()
    }
}

/// A JSON Feed 1.1 document (<https://jsonfeed.org/version/1.1>).
#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: &'a str,
    description: &'a str,
    language: &'static str,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    external_url: &'a str,
    title: &'a str,
    content_html: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_published: Option<String>,
    authors: Vec<JsonAuthor<'a>>,
    tags: &'a [String],
    /// Paperboy's own fields; JSON Feed reserves names starting with `_` for extensions.
    #[serde(rename = "_paperboy")]
    paperboy: JsonExtension<'a>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct JsonExtension<'a> {
    upvotes: i64,
    pdf_url: &'a str,
}

fn json_feed<'a>(head: &'a Head, items: &'a [Item]) -> JsonFeed<'a> {
    JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &head.title,
        home_page_url: &head.page_url,
        feed_url: &head.feed_url,
        description: &head.description,
        language: "en",
        items: items
            .iter()
            .map(|item| JsonItem {
                id: &item.arxiv_id,
                url: &item.link,
                external_url: &item.arxiv_url,
                title: &item.title,
                content_html: &item.content_html,
                date_published: item
                    .date
                    .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                authors: item
                    .authors
                    .iter()
                    .map(|name| JsonAuthor { name })
                    .collect(),
                tags: &item.categories,
                paperboy: JsonExtension {
                    upvotes: item.upvotes,
                    pdf_url: &item.pdf_url,
                },
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::domain::{ArxivId, FeedEntry};

    fn hostile_paper() -> Paper {
        let mut p = Paper::new(
            ArxivId::parse("2601.00001").unwrap(),
            "<script>window.__xss=1</script> ]]> \u{1}bell\u{7}",
        );
        p.summary =
            "<script>window.__xss=1</script> <b>tags</b>, ]]> and \u{0}\u{1b} controls & more."
                .into();
        p.authors = vec!["Ada <Lovelace>".into(), "Grace \"Hopper\"".into()];
        p.categories = vec!["cs.CL".into()];
        p.github_repo = Some("javascript:alert(1)".into());
        p.upvotes = 7;
        p.feed = Some(FeedEntry {
            daily_date: chrono::NaiveDate::from_ymd_opt(2026, 1, 2).unwrap(),
            submitted_at: Utc.with_ymd_and_hms(2026, 1, 2, 8, 0, 0).unwrap(),
            submitter: None,
            position: 0,
        });
        p
    }

    fn meta() -> FeedMeta {
        FeedMeta::for_page("Test", "A test feed", "/papers/date/2026-01-02")
    }

    #[test]
    fn xml_text_keeps_text_and_whitespace_and_drops_controls() {
        assert_eq!(
            xml_text("a\tb\nc\r\u{0}\u{1}\u{1f}\u{7f}\u{85}\u{FFFF}é"),
            "a\tb\nc\ré"
        );
    }

    #[test]
    fn hostile_text_is_escaped_in_every_format() {
        for format in FeedFormat::ALL {
            let body = render(
                format,
                &meta(),
                &[hostile_paper()],
                "https://papers.example",
            )
            .unwrap();
            let text = String::from_utf8(body).unwrap();
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\t' | '\r')),
                "{format:?} kept a control character"
            );
            assert!(!text.contains("javascript:"), "{format:?}: {text}");
            // In XML every `<` of the data is escaped; in JSON the HTML body is escaped.
            let markup = match format {
                FeedFormat::Json => {
                    let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
                    doc["items"][0]["content_html"].as_str().unwrap().to_owned()
                }
                _ => text,
            };
            assert!(!markup.contains("<script"), "{format:?}: {markup}");
            assert!(!markup.contains("<b>"), "{format:?}: {markup}");
            assert!(markup.contains("window.__xss=1"), "{format:?}: {markup}");
        }
    }

    #[test]
    fn rss_items_carry_guid_authors_categories_date_and_upvotes() {
        let body = render(
            FeedFormat::Rss,
            &meta(),
            &[hostile_paper()],
            "https://p.example",
        )
        .unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains(r#"<guid isPermaLink="false">2601.00001</guid>"#),
            "{text}"
        );
        assert!(
            text.contains("<dc:creator>Ada &lt;Lovelace&gt;</dc:creator>"),
            "{text}"
        );
        assert!(
            text.contains("<paperboy:upvotes>7</paperboy:upvotes>"),
            "{text}"
        );
        assert!(
            text.contains("<pubDate>Fri, 2 Jan 2026 08:00:00 +0000</pubDate>"),
            "{text}"
        );
        assert!(
            text.contains("<link>https://p.example/papers/2601.00001</link>"),
            "{text}"
        );
    }

    #[test]
    fn an_empty_list_is_a_valid_stable_feed() {
        let a = render(FeedFormat::Atom, &meta(), &[], "https://p.example").unwrap();
        let b = render(FeedFormat::Atom, &meta(), &[], "https://p.example").unwrap();
        assert_eq!(a, b);
        assert!(
            String::from_utf8(a)
                .unwrap()
                .contains("<updated>1970-01-01T00:00:00+00:00</updated>")
        );
    }
}
