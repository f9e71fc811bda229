//! What the OAI-PMH and Atom parsers share: a quick-xml reader set up for untrusted input, text
//! collection with entity resolution, and errors that say where in the document they happened.
//!
//! Both formats are matched on local names (`entry`, not `atom:entry`): arXiv's responses bind
//! the same namespaces to different prefixes from one response to the next (compare the API's
//! `recorded-10.xml` with `recorded-04.xml`), and no two elements we read share a local name
//! across namespaces in a way that matters. Namespace resolution would cost time and buy nothing.

use std::borrow::Cow;
use std::fmt;

use quick_xml::events::{BytesRef, BytesStart, BytesText};
use quick_xml::{Reader, XmlVersion};

/// Why a document could not be read, and where: a byte offset and the line and column it falls on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    offset: u64,
    line: u64,
    column: u64,
    message: String,
}

impl ParseError {
    /// An error at byte `offset` of `xml`; the line and column are computed from the bytes.
    pub(crate) fn at(xml: &[u8], offset: u64, message: impl Into<String>) -> ParseError {
        let end = usize::try_from(offset).unwrap_or(usize::MAX).min(xml.len());
        let before = &xml[..end];
        let line = before.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        // Columns count characters, not bytes, so that they match what an editor shows.
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count() as u64
            + 1;
        ParseError {
            offset,
            line,
            column,
            message: message.into(),
        }
    }

    /// Byte offset into the document.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// 1-based line.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// 1-based column, in characters.
    pub fn column(&self) -> u64 {
        self.column
    }

    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {} (byte {}): {}",
            self.line, self.column, self.offset, self.message
        )
    }
}

impl std::error::Error for ParseError {}

/// A reader over a whole document in memory, with end-tag checking on (truncated or mangled
/// pages must fail, not parse as fewer records).
pub(crate) fn reader(xml: &[u8]) -> Reader<&[u8]> {
    let mut reader = Reader::from_reader(xml);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.trim_text(false);
    reader
}

/// The message for a DOCTYPE, which neither format has. Refusing it outright means no entity
/// declared in it can ever be expanded ("billion laughs").
pub(crate) const DOCTYPE_REFUSED: &str =
    "a DOCTYPE is not allowed here (entity declarations are refused)";

/// Collects the text of the element being read: plain text, CDATA and entity references.
///
/// Most elements hold one run of text with no references, which stays a slice of the input; a
/// copy is made only when pieces have to be joined. Taking the text then costs at most the one
/// allocation of the field that keeps it.
#[derive(Debug, Default)]
pub(crate) enum TextBuf<'a> {
    #[default]
    Empty,
    One(Cow<'a, str>),
    Many(String),
}

impl<'a> TextBuf<'a> {
    pub(crate) fn clear(&mut self) {
        *self = TextBuf::Empty;
    }

    pub(crate) fn push(&mut self, piece: Cow<'a, str>) {
        match self {
            TextBuf::Empty => *self = TextBuf::One(piece),
            TextBuf::One(first) => {
                let mut joined = String::with_capacity(first.len() + piece.len());
                joined.push_str(first);
                joined.push_str(&piece);
                *self = TextBuf::Many(joined);
            }
            TextBuf::Many(s) => s.push_str(&piece),
        }
    }

    /// Appends text. `eols` says whether the document has any `\r` at all: XML reads `\r\n`
    /// and `\r` as `\n`, and a document without them (arXiv's) need not be searched again for
    /// every piece of text.
    pub(crate) fn push_text(&mut self, text: &BytesText<'a>, eols: bool) {
        if eols {
            self.push(text.xml10_content());
        } else {
            self.push(text.clone().into_inner());
        }
    }

    /// Appends the character an entity or character reference stands for. Only the five
    /// predefined entities exist in these formats; anything else is an error.
    pub(crate) fn push_ref(&mut self, reference: &BytesRef<'_>) -> Result<(), String> {
        match reference.resolve_char_ref() {
            Ok(Some(c)) => {
                let mut utf8 = [0u8; 4];
                self.push(Cow::Owned(c.encode_utf8(&mut utf8).to_owned()));
                Ok(())
            }
            Ok(None) => match quick_xml::escape::resolve_predefined_entity(reference) {
                Some(s) => {
                    self.push(Cow::Borrowed(s));
                    Ok(())
                }
                None => Err(format!("undefined entity &{};", &**reference)),
            },
            Err(e) => Err(format!("bad character reference &{};: {e}", &**reference)),
        }
    }

    /// The collected text, trimmed, leaving the buffer empty for the next element.
    pub(crate) fn take(&mut self) -> Cow<'a, str> {
        match std::mem::take(self) {
            TextBuf::Empty => Cow::Borrowed(""),
            TextBuf::One(Cow::Borrowed(s)) => Cow::Borrowed(s.trim()),
            TextBuf::One(Cow::Owned(s)) | TextBuf::Many(s) => {
                if s.trim().len() == s.len() {
                    Cow::Owned(s)
                } else {
                    Cow::Owned(s.trim().to_owned())
                }
            }
        }
    }
}

/// Whether `xml` has any carriage return, which text then has to be normalised for.
pub(crate) fn has_carriage_returns(xml: &[u8]) -> bool {
    xml.contains(&b'\r')
}

/// The value of the attribute with local name `name`, unescaped (borrowed when it can be).
pub(crate) fn attribute<'e>(
    e: &'e BytesStart<'_>,
    name: &str,
) -> Result<Option<Cow<'e, str>>, String> {
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("bad attribute: {err}"))?;
        if attr.key.local_name().as_ref() == name {
            return attr
                .normalized_value(XmlVersion::Implicit1_0)
                .map(Some)
                .map_err(|err| format!("bad attribute value: {err}"));
        }
    }
    Ok(None)
}

/// An optional text field: empty text means absent.
pub(crate) fn non_empty(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_lines_and_characters() {
        let xml = "<a>\n  <bé>x</c>".as_bytes();
        let err = ParseError::at(xml, xml.len() as u64 - 4, "mismatch");
        assert_eq!((err.line(), err.column()), (2, 8));
        assert_eq!(err.to_string(), "line 2, column 8 (byte 12): mismatch");
    }
}
