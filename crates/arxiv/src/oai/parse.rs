//! The streaming `ListRecords` parser: one pass of quick-xml events over a page held in memory,
//! building records as their end tags arrive.
//!
//! A page is either wholly read or rejected with the position of the first problem: a harvest
//! must never store half a page and move its checkpoint past the other half. Problems inside a
//! single record (a malformed id or date) skip that record only and are reported with it.
//!
//! Element names are looked up by their parent (`<title>` counts only inside `<arXiv>` or
//! `<arXivRaw>`), which is both the correct reading and the cheap one, and text stays borrowed
//! from the page until a field keeps it.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::events::{BytesStart, Event};

use super::{
    ErrorCode, Header, ListRecords, ProtocolError, Record, Response, Resumption, SkippedRecord,
};
use crate::metadata::{parse_day, parse_version_date, parse_version_label, split_categories};
use crate::xml::{self, DOCTYPE_REFUSED, ParseError, TextBuf, attribute, non_empty};
use crate::{ArxivId, Metadata, Version, split_authors};

/// The elements this parser acts on; everything else is `Other` and skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Root,
    ResponseDate,
    Error,
    ListRecords,
    Record,
    Header,
    Identifier,
    Datestamp,
    SetSpec,
    Metadata,
    /// `<arXiv>` or `<arXivRaw>`, the root of a record's metadata.
    Format,
    Id,
    Created,
    Updated,
    /// A container of `<author>` in `arXiv`, a line of text in `arXivRaw`.
    Authors,
    Author,
    Keyname,
    Forenames,
    Suffix,
    Title,
    Categories,
    Comments,
    ReportNo,
    JournalRef,
    Doi,
    License,
    Abstract,
    Submitter,
    Version,
    Date,
    ResumptionToken,
    Other,
}

impl Tag {
    /// Elements whose text we keep.
    fn holds_text(self) -> bool {
        !matches!(
            self,
            Tag::Root
                | Tag::ListRecords
                | Tag::Record
                | Tag::Header
                | Tag::Metadata
                | Tag::Format
                | Tag::Author
                | Tag::Version
                | Tag::Other
        )
    }
}

/// A child of `<arXiv>` or `<arXivRaw>`.
fn metadata_field(name: &str) -> Tag {
    match name {
        "id" => Tag::Id,
        "title" => Tag::Title,
        "abstract" => Tag::Abstract,
        "authors" => Tag::Authors,
        "categories" => Tag::Categories,
        "version" => Tag::Version,
        "submitter" => Tag::Submitter,
        "comments" => Tag::Comments,
        "created" => Tag::Created,
        "updated" => Tag::Updated,
        "license" => Tag::License,
        "doi" => Tag::Doi,
        "journal-ref" => Tag::JournalRef,
        "report-no" => Tag::ReportNo,
        _ => Tag::Other,
    }
}

/// Parses one `ListRecords` response (in the `arXiv` or `arXivRaw` metadata format).
pub fn parse_list_records(xml: &[u8]) -> Result<Response, ParseError> {
    let mut reader = xml::reader(xml);
    let eols = xml::has_carriage_returns(xml);
    let mut page = Page::default();
    // arXiv's records average about 1.8 kB; reserving for that spares most regrowth.
    page.records.reserve(xml.len() / 1500);
    loop {
        let position = reader.buffer_position();
        let event = reader
            .read_event()
            .map_err(|e| ParseError::at(xml, reader.error_position(), e.to_string()))?;
        let result = match event {
            Event::Start(e) => page.start(&e),
            Event::Empty(e) => page.start(&e).and_then(|()| page.end()),
            Event::End(_) => page.end(),
            Event::Text(t) => {
                if page.collecting() {
                    page.text.push_text(&t, eols);
                }
                Ok(())
            }
            Event::CData(c) => {
                if page.collecting() {
                    page.text.push(c.xml10_content());
                }
                Ok(())
            }
            Event::GeneralRef(r) => {
                if page.collecting() {
                    page.text.push_ref(&r)
                } else {
                    Ok(())
                }
            }
            Event::DocType(_) => Err(DOCTYPE_REFUSED.to_owned()),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => Ok(()),
            Event::Eof => break,
        };
        result.map_err(|message| ParseError::at(xml, position, message))?;
    }
    page.finish()
        .map_err(|message| ParseError::at(xml, xml.len() as u64, message))
}

/// Parser state for one page; `'a` is the page's bytes.
#[derive(Default)]
struct Page<'a> {
    stack: Vec<Tag>,
    text: TextBuf<'a>,
    saw_root: bool,
    saw_list: bool,
    response_date: Option<DateTime<Utc>>,
    errors: Vec<ProtocolError>,
    error_code: String,
    records: Vec<Record>,
    skipped: Vec<SkippedRecord>,
    resumption: Option<Resumption>,
    record: RecordDraft<'a>,
}

/// The record being read. Its text stays borrowed from the page until the record is finished,
/// so fields that are parsed (ids, dates) or combined (author names) are never copied.
#[derive(Default)]
struct RecordDraft<'a> {
    identifier: Cow<'a, str>,
    datestamp: Option<Result<NaiveDate, String>>,
    sets: Vec<String>,
    deleted: bool,
    has_metadata: bool,
    /// The first problem found inside the record; the record is skipped with it.
    problem: Option<String>,
    id: Cow<'a, str>,
    title: Cow<'a, str>,
    abstract_text: Cow<'a, str>,
    categories: Cow<'a, str>,
    comments: Cow<'a, str>,
    report_no: Cow<'a, str>,
    journal_ref: Cow<'a, str>,
    doi: Cow<'a, str>,
    license: Cow<'a, str>,
    submitter: Cow<'a, str>,
    created: Cow<'a, str>,
    updated: Cow<'a, str>,
    /// Structured `<author>`s (`arXiv` format).
    authors: Vec<String>,
    /// The one-line author list (`arXivRaw` format).
    authors_line: Cow<'a, str>,
    author: AuthorDraft<'a>,
    versions: Vec<Version>,
    version_number: Option<Result<u32, String>>,
    version_date: Option<Result<DateTime<Utc>, String>>,
}

#[derive(Default)]
struct AuthorDraft<'a> {
    keyname: Cow<'a, str>,
    forenames: Cow<'a, str>,
    suffix: Cow<'a, str>,
}

impl<'a> Page<'a> {
    fn collecting(&self) -> bool {
        self.stack.last().is_some_and(|t| t.holds_text())
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let local = e.local_name();
        let name: &str = local.as_ref();
        let tag = match self.stack.last() {
            None if self.saw_root => return Err("a second root element".into()),
            None if name == "OAI-PMH" => {
                self.saw_root = true;
                Tag::Root
            }
            None => {
                return Err(format!(
                    "not an OAI-PMH response (the root element is <{name}>)"
                ));
            }
            Some(Tag::Format) => metadata_field(name),
            Some(Tag::Header) => match name {
                "identifier" => Tag::Identifier,
                "datestamp" => Tag::Datestamp,
                "setSpec" => Tag::SetSpec,
                _ => Tag::Other,
            },
            Some(Tag::Authors) if name == "author" => {
                self.record.author = AuthorDraft::default();
                Tag::Author
            }
            Some(Tag::Author) => match name {
                "keyname" => Tag::Keyname,
                "forenames" => Tag::Forenames,
                "suffix" => Tag::Suffix,
                _ => Tag::Other,
            },
            Some(Tag::Version) if name == "date" => Tag::Date,
            Some(Tag::Record) => match name {
                "header" => {
                    self.record.deleted = attribute(e, "status")?.as_deref() == Some("deleted");
                    Tag::Header
                }
                "metadata" => {
                    self.record.has_metadata = true;
                    Tag::Metadata
                }
                _ => Tag::Other,
            },
            Some(Tag::Metadata) => match name {
                "arXiv" | "arXivRaw" => Tag::Format,
                _ => {
                    return Err(format!(
                        "unsupported metadata format <{name}> (expected arXiv or arXivRaw)"
                    ));
                }
            },
            Some(Tag::ListRecords) => match name {
                "record" => {
                    self.record = RecordDraft::default();
                    Tag::Record
                }
                "resumptionToken" => {
                    self.resumption = Some(Resumption {
                        token: None,
                        complete_list_size: number_attribute(e, "completeListSize")?,
                        cursor: number_attribute(e, "cursor")?,
                    });
                    Tag::ResumptionToken
                }
                _ => Tag::Other,
            },
            Some(Tag::Root) => match name {
                "ListRecords" => {
                    self.saw_list = true;
                    Tag::ListRecords
                }
                "responseDate" => Tag::ResponseDate,
                "error" => {
                    self.error_code = attribute(e, "code")?.unwrap_or_default().into_owned();
                    Tag::Error
                }
                _ => Tag::Other,
            },
            Some(_) => Tag::Other,
        };
        if tag == Tag::Version {
            self.record.version_number = Some(
                attribute(e, "version")?
                    .ok_or_else(|| "a version without its number".to_owned())
                    .and_then(|label| parse_version_label(&label)),
            );
            self.record.version_date = None;
        }
        if tag.holds_text() {
            self.text.clear();
        }
        self.stack.push(tag);
        Ok(())
    }

    fn end(&mut self) -> Result<(), String> {
        let tag = self.stack.pop().ok_or("an end tag without a start tag")?;
        if !tag.holds_text() {
            match tag {
                Tag::Author => self.end_author(),
                Tag::Version => self.end_version(),
                Tag::Record => self.end_record(),
                _ => {}
            }
            return Ok(());
        }
        let text: Cow<'a, str> = self.text.take();
        let r = &mut self.record;
        match tag {
            Tag::Title => r.title = text,
            Tag::Abstract => r.abstract_text = text,
            Tag::Id => r.id = text,
            Tag::Authors => r.authors_line = text,
            Tag::Categories => r.categories = text,
            Tag::Date => r.version_date = Some(parse_version_date(&text)),
            Tag::Submitter => r.submitter = text,
            Tag::Comments => r.comments = text,
            Tag::License => r.license = text,
            Tag::Doi => r.doi = text,
            Tag::JournalRef => r.journal_ref = text,
            Tag::ReportNo => r.report_no = text,
            Tag::Created => r.created = text,
            Tag::Updated => r.updated = text,
            Tag::Keyname => r.author.keyname = text,
            Tag::Forenames => r.author.forenames = text,
            Tag::Suffix => r.author.suffix = text,
            Tag::Identifier => r.identifier = text,
            Tag::Datestamp => r.datestamp = Some(parse_datestamp(&text)),
            Tag::SetSpec => r.sets.push(text.into_owned()),
            Tag::ResumptionToken => {
                if let Some(resumption) = &mut self.resumption {
                    resumption.token = non_empty(text.into_owned());
                }
            }
            Tag::ResponseDate => {
                self.response_date = Some(
                    DateTime::parse_from_rfc3339(&text)
                        .map_err(|_| format!("responseDate {text:?} is not a UTC timestamp"))?
                        .with_timezone(&Utc),
                );
            }
            Tag::Error => self.errors.push(ProtocolError {
                code: ErrorCode::from_code(&std::mem::take(&mut self.error_code)),
                message: text.into_owned(),
            }),
            _ => {}
        }
        Ok(())
    }

    fn end_author(&mut self) {
        let a = std::mem::take(&mut self.record.author);
        let parts = [a.forenames, a.keyname, a.suffix];
        let mut name = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
        for part in parts.iter().filter(|p| !p.is_empty()) {
            if !name.is_empty() {
                name.push(' ');
            }
            name.push_str(part);
        }
        if !name.is_empty() {
            self.record.authors.push(name);
        }
    }

    fn end_version(&mut self) {
        let r = &mut self.record;
        let number = r.version_number.take();
        let date = r.version_date.take();
        let version = match (number, date) {
            (Some(Ok(number)), Some(Ok(submitted))) => Ok(Version { number, submitted }),
            (Some(Err(e)), _) | (_, Some(Err(e))) => Err(e),
            (_, None) => Err("a version without its date".to_owned()),
            (None, _) => Err("a version without its number".to_owned()),
        };
        match version {
            Ok(v) => r.versions.push(v),
            Err(problem) => {
                r.problem.get_or_insert(problem);
            }
        }
    }

    fn end_record(&mut self) {
        match std::mem::take(&mut self.record).finish() {
            Ok(record) => self.records.push(record),
            Err(skipped) => self.skipped.push(skipped),
        }
    }

    fn finish(self) -> Result<Response, String> {
        if !self.saw_root {
            return Err("the document is empty".into());
        }
        if !self.stack.is_empty() {
            return Err("the document ends before its last element is closed".into());
        }
        if !self.errors.is_empty() {
            return Ok(Response::Errors {
                response_date: self.response_date,
                errors: self.errors,
            });
        }
        if !self.saw_list {
            return Err("the response has neither ListRecords nor an error".into());
        }
        Ok(Response::Records(ListRecords {
            response_date: self.response_date,
            records: self.records,
            skipped: self.skipped,
            resumption: self.resumption,
        }))
    }
}

/// What a record's checks produce: the parsed values its metadata needs.
struct Checked {
    id: ArxivId,
    created: Option<NaiveDate>,
    updated: Option<NaiveDate>,
}

impl RecordDraft<'_> {
    fn finish(mut self) -> Result<Record, SkippedRecord> {
        let (datestamp, checked) = match self.check() {
            Ok(checked) => checked,
            Err(reason) => {
                return Err(SkippedRecord {
                    identifier: self.identifier.into_owned(),
                    reason,
                });
            }
        };
        let header = Header {
            identifier: self.identifier.into_owned(),
            datestamp,
            sets: self.sets,
            deleted: self.deleted,
        };
        let Some(Checked {
            id,
            created,
            updated,
        }) = checked
        else {
            return Ok(Record {
                header,
                metadata: None,
            });
        };
        let authors = if self.authors.is_empty() {
            split_authors(&self.authors_line)
        } else {
            self.authors
        };
        self.versions.sort_by_key(|v| v.number);
        Ok(Record {
            header,
            metadata: Some(Metadata {
                id,
                title: self.title.into_owned(),
                authors,
                abstract_text: self.abstract_text.into_owned(),
                categories: split_categories(&self.categories),
                comments: owned(self.comments),
                journal_ref: owned(self.journal_ref),
                doi: owned(self.doi),
                license: owned(self.license),
                report_no: owned(self.report_no),
                submitter: owned(self.submitter),
                versions: self.versions,
                created,
                updated,
            }),
        })
    }

    /// Everything that can be wrong with a record, checked before anything moves out of it.
    /// The metadata part is None for a deleted record.
    fn check(&mut self) -> Result<(NaiveDate, Option<Checked>), String> {
        if self.identifier.is_empty() {
            return Err("the header has no identifier".into());
        }
        let datestamp = self
            .datestamp
            .take()
            .unwrap_or_else(|| Err("the header has no datestamp".into()))?;
        if self.deleted {
            return Ok((datestamp, None));
        }
        if !self.has_metadata {
            return Err("the record has no metadata and is not marked deleted".into());
        }
        if let Some(problem) = self.problem.take() {
            return Err(problem);
        }
        let id = ArxivId::parse(&self.id).map_err(|e| e.to_string())?;
        if self.title.is_empty() {
            return Err("the record has no title".into());
        }
        Ok((
            datestamp,
            Some(Checked {
                id,
                created: parse_optional_date(&self.created, "created")?,
                updated: parse_optional_date(&self.updated, "updated")?,
            }),
        ))
    }
}

/// An optional field: empty text means absent.
fn owned(text: Cow<'_, str>) -> Option<String> {
    (!text.is_empty()).then(|| text.into_owned())
}

/// Reads a datestamp: a day, or (at seconds granularity) a UTC time whose day is kept.
fn parse_datestamp(s: &str) -> Result<NaiveDate, String> {
    s.get(..10)
        .and_then(parse_day)
        .filter(|_| s.len() == 10 || s.as_bytes()[10] == b'T')
        .ok_or_else(|| format!("datestamp {s:?} is not a YYYY-MM-DD date"))
}

fn parse_optional_date(s: &str, field: &str) -> Result<Option<NaiveDate>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    parse_day(s)
        .map(Some)
        .ok_or_else(|| format!("{field} {s:?} is not a YYYY-MM-DD date"))
}

fn number_attribute(e: &BytesStart<'_>, name: &str) -> Result<Option<u64>, String> {
    attribute(e, name)?
        .filter(|v| !v.is_empty())
        .map(|v| {
            v.trim()
                .parse::<u64>()
                .map_err(|_| format!("attribute {name} = {v:?} is not a number"))
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str) -> String {
        format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/'>\n\
             <responseDate>2026-08-21T06:00:00Z</responseDate>\n{body}\n</OAI-PMH>"
        )
    }

    fn records(body: &str) -> ListRecords {
        match parse_list_records(page(body).as_bytes()).unwrap() {
            Response::Records(list) => list,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_deleted_records_and_the_last_empty_token() {
        let list = records(
            "<ListRecords><record><header status='deleted'><identifier>oai:arXiv.org:2401.00001\
             </identifier><datestamp>2026-08-20</datestamp></header></record>\
             <resumptionToken cursor='5' completeListSize='6'/></ListRecords>",
        );
        assert_eq!(list.records.len(), 1);
        assert!(list.records[0].header.deleted);
        assert_eq!(list.records[0].metadata, None);
        assert_eq!(list.next_token(), None);
        assert_eq!(list.resumption.unwrap().complete_list_size, Some(6));
    }

    #[test]
    fn carriage_returns_read_as_line_feeds() {
        let list = records(
            "<ListRecords><record><header><identifier>oai:arXiv.org:2401.00001</identifier>\
             <datestamp>2026-08-20</datestamp></header><metadata><arXivRaw><id>2401.00001</id>\
             <title>Two\r\nlines &amp;\rthree</title></arXivRaw></metadata></record></ListRecords>",
        );
        let meta = list.records[0].metadata.as_ref().unwrap();
        assert_eq!(meta.title, "Two\nlines &\nthree");
    }

    #[test]
    fn protocol_errors_are_answers_not_parse_failures() {
        let xml = page("<error code='noRecordsMatch'>No records match</error>");
        let Response::Errors { errors, .. } = parse_list_records(xml.as_bytes()).unwrap() else {
            panic!("expected errors");
        };
        assert_eq!(errors[0].code, ErrorCode::NoRecordsMatch);
        assert_eq!(errors[0].message, "No records match");
    }

    #[test]
    fn a_bad_record_is_skipped_with_its_reason() {
        let list = records(
            "<ListRecords><record><header><identifier>oai:arXiv.org:x</identifier>\
             <datestamp>2026-08-20</datestamp></header><metadata><arXivRaw><id>not-an-id</id>\
             <title>T</title></arXivRaw></metadata></record></ListRecords>",
        );
        assert!(list.records.is_empty());
        assert_eq!(list.skipped[0].identifier, "oai:arXiv.org:x");
        assert!(
            list.skipped[0].reason.contains("not an arXiv id"),
            "{:?}",
            list.skipped
        );
    }

    #[test]
    fn malformed_documents_fail_with_a_position() {
        for (xml, want) in [
            (
                page("<ListRecords><record></ListRecords>"),
                "line 4, column 22 (byte 165): ill-formed document: expected `</record>`",
            ),
            (
                page("<ListRecords>").replace("</OAI-PMH>", ""),
                "ends before",
            ),
            (
                "<html><body>Service Unavailable</body></html>".to_owned(),
                "root element is <html>",
            ),
            (
                "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>]><OAI-PMH/>".to_owned(),
                "DOCTYPE",
            ),
            (
                page(
                    "<ListRecords><record><header><identifier>&lol;</identifier></header></record></ListRecords>",
                ),
                "undefined entity &lol;",
            ),
            (
                page("<ListRecords><record><metadata><oai_dc/></metadata></record></ListRecords>"),
                "unsupported metadata format <oai_dc>",
            ),
            (String::new(), "empty"),
        ] {
            let err = parse_list_records(xml.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(want), "{xml}: {err}");
        }
    }
}
