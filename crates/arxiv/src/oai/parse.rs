//! The streaming `ListRecords` parser: one pass of quick-xml events over a page held in memory,
//! building records as their end tags arrive.
//!
//! A page is either wholly read or rejected with the position of the first problem: a harvest
//! must never store half a page and move its checkpoint past the other half. Problems inside a
//! single record (a malformed id or date) skip that record only and are reported with it.

use chrono::{DateTime, NaiveDate, Utc};
use quick_xml::events::{BytesStart, Event};

use super::{
    ErrorCode, Header, ListRecords, ProtocolError, Record, Response, Resumption, SkippedRecord,
};
use crate::metadata::{parse_version_date, parse_version_label, split_categories};
use crate::xml::{self, DOCTYPE_REFUSED, ParseError, TextBuf, attribute, non_empty};
use crate::{ArxivId, Metadata, Version, split_authors};

/// The elements this parser acts on; everything else is skipped.
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
    fn from_local_name(name: &str) -> Tag {
        match name {
            "responseDate" => Tag::ResponseDate,
            "error" => Tag::Error,
            "ListRecords" => Tag::ListRecords,
            "record" => Tag::Record,
            "header" => Tag::Header,
            "identifier" => Tag::Identifier,
            "datestamp" => Tag::Datestamp,
            "setSpec" => Tag::SetSpec,
            "metadata" => Tag::Metadata,
            "arXiv" | "arXivRaw" => Tag::Format,
            "id" => Tag::Id,
            "created" => Tag::Created,
            "updated" => Tag::Updated,
            "authors" => Tag::Authors,
            "author" => Tag::Author,
            "keyname" => Tag::Keyname,
            "forenames" => Tag::Forenames,
            "suffix" => Tag::Suffix,
            "title" => Tag::Title,
            "categories" => Tag::Categories,
            "comments" => Tag::Comments,
            "report-no" => Tag::ReportNo,
            "journal-ref" => Tag::JournalRef,
            "doi" => Tag::Doi,
            "license" => Tag::License,
            "abstract" => Tag::Abstract,
            "submitter" => Tag::Submitter,
            "version" => Tag::Version,
            "date" => Tag::Date,
            "resumptionToken" => Tag::ResumptionToken,
            _ => Tag::Other,
        }
    }

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

/// Parses one `ListRecords` response (in the `arXiv` or `arXivRaw` metadata format).
pub fn parse_list_records(xml: &[u8]) -> Result<Response, ParseError> {
    let mut reader = xml::reader(xml);
    let mut page = Page::default();
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
                    page.text.push_text(&t);
                }
                Ok(())
            }
            Event::CData(c) => {
                if page.collecting() {
                    page.text.push_str(&c.xml10_content());
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

/// Parser state for one page.
#[derive(Default)]
struct Page {
    stack: Vec<Tag>,
    text: TextBuf,
    saw_root: bool,
    saw_list: bool,
    response_date: Option<DateTime<Utc>>,
    errors: Vec<ProtocolError>,
    error_code: String,
    records: Vec<Record>,
    skipped: Vec<SkippedRecord>,
    resumption: Option<Resumption>,
    record: RecordDraft,
}

/// The record being read.
#[derive(Default)]
struct RecordDraft {
    identifier: String,
    datestamp: String,
    sets: Vec<String>,
    deleted: bool,
    has_metadata: bool,
    /// The first problem found inside the record; the record is skipped with it.
    problem: Option<String>,
    id: String,
    title: String,
    abstract_text: String,
    categories: String,
    comments: String,
    report_no: String,
    journal_ref: String,
    doi: String,
    license: String,
    submitter: String,
    created: String,
    updated: String,
    /// Structured `<author>`s (`arXiv` format).
    authors: Vec<String>,
    /// The one-line author list (`arXivRaw` format).
    authors_line: String,
    author: AuthorDraft,
    versions: Vec<Version>,
    version_label: String,
    version_date: String,
}

#[derive(Default)]
struct AuthorDraft {
    keyname: String,
    forenames: String,
    suffix: String,
}

impl Page {
    fn collecting(&self) -> bool {
        self.stack.last().is_some_and(|t| t.holds_text())
    }

    fn parent(&self) -> Option<Tag> {
        self.stack.len().checked_sub(2).map(|i| self.stack[i])
    }

    fn start(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        let name = e.local_name();
        let tag = if self.stack.is_empty() {
            if self.saw_root {
                return Err("a second root element".into());
            }
            if name.as_ref() != "OAI-PMH" {
                return Err(format!(
                    "not an OAI-PMH response (the root element is <{}>)",
                    name.as_ref()
                ));
            }
            self.saw_root = true;
            Tag::Root
        } else {
            Tag::from_local_name(name.as_ref())
        };
        let parent = self.stack.last().copied();
        // A name only counts in its place: `<title>` inside an abstract's markup is not a title.
        let tag = match (parent, tag) {
            (Some(Tag::Root), Tag::ResponseDate | Tag::Error | Tag::ListRecords) => tag,
            (Some(Tag::ListRecords), Tag::Record | Tag::ResumptionToken) => tag,
            (Some(Tag::Record), Tag::Header | Tag::Metadata) => tag,
            (Some(Tag::Header), Tag::Identifier | Tag::Datestamp | Tag::SetSpec) => tag,
            (Some(Tag::Metadata), Tag::Format) => tag,
            (Some(Tag::Metadata), _) => {
                return Err(format!(
                    "unsupported metadata format <{}> (expected arXiv or arXivRaw)",
                    name.as_ref()
                ));
            }
            (
                Some(Tag::Format),
                Tag::Id
                | Tag::Created
                | Tag::Updated
                | Tag::Authors
                | Tag::Title
                | Tag::Categories
                | Tag::Comments
                | Tag::ReportNo
                | Tag::JournalRef
                | Tag::Doi
                | Tag::License
                | Tag::Abstract
                | Tag::Submitter
                | Tag::Version,
            ) => tag,
            (Some(Tag::Authors), Tag::Author) => tag,
            (Some(Tag::Author), Tag::Keyname | Tag::Forenames | Tag::Suffix) => tag,
            (Some(Tag::Version), Tag::Date) => tag,
            (None, Tag::Root) => tag,
            _ => Tag::Other,
        };
        match tag {
            Tag::Error => self.error_code = attribute(e, "code")?.unwrap_or_default(),
            Tag::ListRecords => self.saw_list = true,
            Tag::Record => self.record = RecordDraft::default(),
            Tag::Header => {
                self.record.deleted = attribute(e, "status")?.as_deref() == Some("deleted");
            }
            Tag::Metadata => self.record.has_metadata = true,
            Tag::Author => self.record.author = AuthorDraft::default(),
            Tag::Version => {
                self.record.version_label = attribute(e, "version")?.unwrap_or_default();
                self.record.version_date.clear();
            }
            Tag::ResumptionToken => {
                self.resumption = Some(Resumption {
                    token: None,
                    complete_list_size: number_attribute(e, "completeListSize")?,
                    cursor: number_attribute(e, "cursor")?,
                });
            }
            _ => {}
        }
        if tag.holds_text() {
            self.text.clear();
        }
        self.stack.push(tag);
        Ok(())
    }

    fn end(&mut self) -> Result<(), String> {
        let parent = self.parent();
        let tag = self.stack.pop().ok_or("an end tag without a start tag")?;
        if !tag.holds_text() {
            if tag == Tag::Author {
                let a = std::mem::take(&mut self.record.author);
                let name = [a.forenames, a.keyname, a.suffix]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ");
                if !name.is_empty() {
                    self.record.authors.push(name);
                }
            } else if tag == Tag::Version {
                self.end_version();
            } else if tag == Tag::Record {
                self.end_record();
            }
            return Ok(());
        }
        let text = self.text.take_trimmed();
        let r = &mut self.record;
        match tag {
            Tag::ResponseDate => {
                self.response_date = Some(
                    DateTime::parse_from_rfc3339(&text)
                        .map_err(|_| format!("responseDate {text:?} is not a UTC timestamp"))?
                        .with_timezone(&Utc),
                );
            }
            Tag::Error => self.errors.push(ProtocolError {
                code: ErrorCode::from_code(&std::mem::take(&mut self.error_code)),
                message: text,
            }),
            Tag::ResumptionToken => {
                if let Some(resumption) = &mut self.resumption {
                    resumption.token = non_empty(text);
                }
            }
            Tag::Identifier => r.identifier = text,
            Tag::Datestamp => r.datestamp = text,
            Tag::SetSpec => r.sets.push(text),
            Tag::Id => r.id = text,
            Tag::Title => r.title = text,
            Tag::Abstract => r.abstract_text = text,
            Tag::Categories => r.categories = text,
            Tag::Comments => r.comments = text,
            Tag::ReportNo => r.report_no = text,
            Tag::JournalRef => r.journal_ref = text,
            Tag::Doi => r.doi = text,
            Tag::License => r.license = text,
            Tag::Submitter => r.submitter = text,
            Tag::Created => r.created = text,
            Tag::Updated => r.updated = text,
            Tag::Authors => r.authors_line = text,
            Tag::Keyname => r.author.keyname = text,
            Tag::Forenames => r.author.forenames = text,
            Tag::Suffix => r.author.suffix = text,
            Tag::Date if parent == Some(Tag::Version) => r.version_date = text,
            _ => {}
        }
        Ok(())
    }

    fn end_version(&mut self) {
        let r = &mut self.record;
        let version = parse_version_label(&r.version_label).and_then(|number| {
            parse_version_date(&r.version_date).map(|submitted| Version { number, submitted })
        });
        match version {
            Ok(v) => r.versions.push(v),
            Err(problem) => {
                r.problem.get_or_insert(problem);
            }
        }
    }

    fn end_record(&mut self) {
        let draft = std::mem::take(&mut self.record);
        let identifier = draft.identifier.clone();
        match draft.finish() {
            Ok(record) => self.records.push(record),
            Err(reason) => self.skipped.push(SkippedRecord { identifier, reason }),
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

impl RecordDraft {
    fn finish(self) -> Result<Record, String> {
        if self.identifier.is_empty() {
            return Err("the header has no identifier".into());
        }
        let header = Header {
            identifier: self.identifier,
            datestamp: parse_datestamp(&self.datestamp)?,
            sets: self.sets,
            deleted: self.deleted,
        };
        if header.deleted {
            return Ok(Record {
                header,
                metadata: None,
            });
        }
        if !self.has_metadata {
            return Err("the record has no metadata and is not marked deleted".into());
        }
        if let Some(problem) = self.problem {
            return Err(problem);
        }
        let id = ArxivId::parse(&self.id).map_err(|e| e.to_string())?;
        if self.title.is_empty() {
            return Err("the record has no title".into());
        }
        let authors = if self.authors.is_empty() {
            split_authors(&self.authors_line)
        } else {
            self.authors
        };
        let mut versions = self.versions;
        versions.sort_by_key(|v| v.number);
        Ok(Record {
            header,
            metadata: Some(Metadata {
                id,
                title: self.title,
                authors,
                abstract_text: self.abstract_text,
                categories: split_categories(&self.categories),
                comments: non_empty(self.comments),
                journal_ref: non_empty(self.journal_ref),
                doi: non_empty(self.doi),
                license: non_empty(self.license),
                report_no: non_empty(self.report_no),
                submitter: non_empty(self.submitter),
                versions,
                created: parse_optional_date(&self.created, "created")?,
                updated: parse_optional_date(&self.updated, "updated")?,
            }),
        })
    }
}

/// Reads a datestamp: a day, or (at seconds granularity) a UTC time whose day is kept.
fn parse_datestamp(s: &str) -> Result<NaiveDate, String> {
    let day = s.get(..10).unwrap_or(s);
    day.parse::<NaiveDate>()
        .map_err(|_| format!("datestamp {s:?} is not a YYYY-MM-DD date"))
}

fn parse_optional_date(s: &str, field: &str) -> Result<Option<NaiveDate>, String> {
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<NaiveDate>()
        .map(Some)
        .map_err(|_| format!("{field} {s:?} is not a YYYY-MM-DD date"))
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
        assert!(list.skipped[0].reason.contains("not an arXiv id"), "{:?}", list.skipped);
    }

    #[test]
    fn malformed_documents_fail_with_a_position() {
        for (xml, want) in [
            (page("<ListRecords><record></ListRecords>"), "line 4, column 22 (byte 165): ill-formed document: expected `</record>`"),
            (page("<ListRecords>").replace("</OAI-PMH>", ""), "ends before"),
            ("<html><body>Service Unavailable</body></html>".to_owned(), "root element is <html>"),
            (
                "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>]><OAI-PMH/>".to_owned(),
                "DOCTYPE",
            ),
            (page("<ListRecords><record><header><identifier>&lol;</identifier></header></record></ListRecords>"), "undefined entity &lol;"),
            (page("<ListRecords><record><metadata><oai_dc/></metadata></record></ListRecords>"), "unsupported metadata format <oai_dc>"),
            (String::new(), "empty"),
        ] {
            let err = parse_list_records(xml.as_bytes()).unwrap_err();
            assert!(err.to_string().contains(want), "{xml}: {err}");
        }
    }
}
