//! The arXiv API's Atom feeds (<https://info.arxiv.org/help/api/user-manual.html>): entries, the
//! OpenSearch totals that drive paging, and the error entries the API uses instead of statuses.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use quick_xml::events::{BytesStart, Event};

use crate::VersionedId;
use crate::xml::{self, DOCTYPE_REFUSED, ParseError, TextBuf, attribute, non_empty};

/// One feed: a page of results.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Feed {
    /// How many results the query has in all (`opensearch:totalResults`).
    pub total_results: Option<u64>,
    /// The index of this page's first result (`opensearch:startIndex`).
    pub start_index: Option<u64>,
    /// The page size asked for (`opensearch:itemsPerPage`).
    pub items_per_page: Option<u64>,
    pub entries: Vec<Entry>,
    /// Messages of error entries, such as "incorrect id format for abc". The API reports bad
    /// queries this way, as a feed with one entry whose id is under `/api/errors`.
    pub errors: Vec<String>,
    /// Entries that could not be used (no id, or a malformed date), with the reason.
    pub skipped: Vec<String>,
}

impl Feed {
    /// The `start` of the next page, or None when this page reaches the last result.
    pub fn next_start(&self) -> Option<u64> {
        let start = self.start_index.unwrap_or(0);
        let next = start + self.entries.len() as u64 + self.skipped.len() as u64;
        let more = self.total_results.is_some_and(|total| next < total);
        (more && next > start).then_some(next)
    }
}

/// One paper, at the version the entry describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The id with the version this entry describes (the API always names one).
    pub id: VersionedId,
    pub title: String,
    pub summary: String,
    pub authors: Vec<Author>,
    /// Categories, primary first.
    pub categories: Vec<String>,
    /// When version 1 appeared.
    pub published: DateTime<Utc>,
    /// When the version in `id` appeared.
    pub updated: DateTime<Utc>,
    pub comment: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub name: String,
    pub affiliations: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Feed,
    Entry,
    Id,
    Title,
    Summary,
    Published,
    Updated,
    Author,
    Name,
    Affiliation,
    Comment,
    JournalRef,
    Doi,
    TotalResults,
    StartIndex,
    ItemsPerPage,
    Other,
}

impl Tag {
    fn holds_text(self) -> bool {
        !matches!(self, Tag::Feed | Tag::Entry | Tag::Author | Tag::Other)
    }
}

/// Parses one API response.
pub fn parse_feed(xml: &[u8]) -> Result<Feed, ParseError> {
    let mut reader = xml::reader(xml);
    let eols = xml::has_carriage_returns(xml);
    let mut state = State::default();
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ParseError::at(xml, reader.error_position(), e.to_string()))?;
        let result = match event {
            Event::Start(e) => state.start(&e),
            Event::Empty(e) => state.start(&e).map(|()| state.end()),
            Event::End(_) => {
                state.end();
                Ok(())
            }
            Event::Text(t) => {
                if state.collecting() {
                    state.text.push_text(&t, eols);
                }
                Ok(())
            }
            Event::CData(c) => {
                if state.collecting() {
                    state.text.push(c.xml10_content());
                }
                Ok(())
            }
            Event::GeneralRef(r) if state.collecting() => state.text.push_ref(&r),
            Event::GeneralRef(_) => Ok(()),
            Event::DocType(_) => Err(DOCTYPE_REFUSED.to_owned()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
            Event::Eof => break,
        };
        result.map_err(|message| ParseError::at(xml, position, message))?;
    }
    if !state.saw_feed {
        return Err(ParseError::at(xml, 0, "the document has no <feed>"));
    }
    if !state.stack.is_empty() {
        return Err(ParseError::at(
            xml,
            xml.len() as u64,
            "the document ends before its last element is closed",
        ));
    }
    Ok(state.feed)
}

#[derive(Default)]
struct State<'a> {
    stack: Vec<Tag>,
    text: TextBuf<'a>,
    saw_feed: bool,
    feed: Feed,
    entry: EntryDraft,
}

#[derive(Default)]
struct EntryDraft {
    id: String,
    title: String,
    summary: String,
    published: String,
    updated: String,
    authors: Vec<Author>,
    author_name: String,
    affiliations: Vec<String>,
    categories: Vec<String>,
    primary_category: Option<String>,
    comment: String,
    journal_ref: String,
    doi: String,
}

impl<'a> State<'a> {
    fn collecting(&self) -> bool {
        self.stack.last().is_some_and(|t| t.holds_text())
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let local = e.local_name();
        let name = local.as_ref();
        let parent = self.stack.last().copied();
        let tag = match (parent, name) {
            (None, "feed") if !self.saw_feed => {
                self.saw_feed = true;
                Tag::Feed
            }
            (None, _) => {
                return Err(format!("not an Atom feed (the root element is <{}>)", name));
            }
            (Some(Tag::Feed), "entry") => {
                self.entry = EntryDraft::default();
                Tag::Entry
            }
            (Some(Tag::Feed), "totalResults") => Tag::TotalResults,
            (Some(Tag::Feed), "startIndex") => Tag::StartIndex,
            (Some(Tag::Feed), "itemsPerPage") => Tag::ItemsPerPage,
            (Some(Tag::Entry), "id") => Tag::Id,
            (Some(Tag::Entry), "title") => Tag::Title,
            (Some(Tag::Entry), "summary") => Tag::Summary,
            (Some(Tag::Entry), "published") => Tag::Published,
            (Some(Tag::Entry), "updated") => Tag::Updated,
            (Some(Tag::Entry), "comment") => Tag::Comment,
            (Some(Tag::Entry), "journal_ref") => Tag::JournalRef,
            (Some(Tag::Entry), "doi") => Tag::Doi,
            (Some(Tag::Entry), "author") => {
                self.entry.author_name.clear();
                self.entry.affiliations.clear();
                Tag::Author
            }
            (Some(Tag::Entry), "category") => {
                if let Some(term) = attribute(e, "term")? {
                    self.entry.categories.push(term.into_owned());
                }
                Tag::Other
            }
            (Some(Tag::Entry), "primary_category") => {
                self.entry.primary_category = attribute(e, "term")?.map(Cow::into_owned);
                Tag::Other
            }
            (Some(Tag::Author), "name") => Tag::Name,
            (Some(Tag::Author), "affiliation") => Tag::Affiliation,
            _ => Tag::Other,
        };
        if tag.holds_text() {
            self.text.clear();
        }
        self.stack.push(tag);
        Ok(())
    }

    fn end(&mut self) {
        let Some(tag) = self.stack.pop() else { return };
        if !tag.holds_text() {
            match tag {
                Tag::Author => {
                    let name = std::mem::take(&mut self.entry.author_name);
                    let affiliations = std::mem::take(&mut self.entry.affiliations);
                    if !name.is_empty() {
                        self.entry.authors.push(Author { name, affiliations });
                    }
                }
                Tag::Entry => self.end_entry(),
                _ => {}
            }
            return;
        }
        let text = self.text.take();
        let e = &mut self.entry;
        match tag {
            Tag::TotalResults => self.feed.total_results = text.parse().ok(),
            Tag::StartIndex => self.feed.start_index = text.parse().ok(),
            Tag::ItemsPerPage => self.feed.items_per_page = text.parse().ok(),
            Tag::Id => e.id = text.into_owned(),
            Tag::Title => e.title = text.into_owned(),
            Tag::Summary => e.summary = text.into_owned(),
            Tag::Published => e.published = text.into_owned(),
            Tag::Updated => e.updated = text.into_owned(),
            Tag::Comment => e.comment = text.into_owned(),
            Tag::JournalRef => e.journal_ref = text.into_owned(),
            Tag::Doi => e.doi = text.into_owned(),
            Tag::Name => e.author_name = text.into_owned(),
            Tag::Affiliation => e.affiliations.push(text.into_owned()),
            _ => {}
        }
    }

    fn end_entry(&mut self) {
        let draft = std::mem::take(&mut self.entry);
        if draft.id.contains("/api/errors") {
            self.feed.errors.push(draft.summary);
            return;
        }
        let id = draft.id.clone();
        match draft.finish() {
            Ok(entry) => self.feed.entries.push(entry),
            Err(reason) => self.feed.skipped.push(format!("entry {id:?}: {reason}")),
        }
    }
}

impl EntryDraft {
    fn finish(self) -> Result<Entry, String> {
        let id = VersionedId::parse_lenient(&self.id).map_err(|e| e.to_string())?;
        let mut categories = self.categories;
        if let Some(primary) = self.primary_category {
            categories.retain(|c| *c != primary);
            categories.insert(0, primary);
        }
        Ok(Entry {
            id,
            title: self.title,
            summary: self.summary,
            authors: self.authors,
            categories,
            published: parse_time(&self.published, "published")?,
            updated: parse_time(&self.updated, "updated")?,
            comment: non_empty(self.comment),
            journal_ref: non_empty(self.journal_ref),
            doi: non_empty(self.doi),
        })
    }
}

fn parse_time(s: &str, field: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{field} {s:?} is not an RFC 3339 time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_stops_at_the_total() {
        let mut feed = Feed {
            total_results: Some(25),
            start_index: Some(10),
            ..Feed::default()
        };
        assert_eq!(feed.next_start(), None, "an empty page never pages on");
        feed.skipped = vec![String::new(); 10];
        assert_eq!(feed.next_start(), Some(20));
        feed.start_index = Some(20);
        assert_eq!(feed.next_start(), None);
    }

    #[test]
    fn rejects_what_is_not_a_feed() {
        for (xml, want) in [
            ("<html/>", "root element is <html>"),
            ("", "no <feed>"),
            ("<feed><entry>", "ends before"),
            ("<!DOCTYPE feed [<!ENTITY a 'b'>]><feed/>", "DOCTYPE"),
        ] {
            let err = parse_feed(xml.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(want), "{xml}: {err}");
        }
    }
}
