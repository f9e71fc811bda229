//! The search box's query language, parsed without ever failing.
//!
//! Plain terms, `"quoted phrases"`, and the filters `author:`, `cat:`, `after:` and `before:`
//! (a filter's value may be quoted: `author:"Yann LeCun"`). Dates are `YYYY`, `YYYY-MM` or
//! `YYYY-MM-DD`; `after:` is inclusive and `before:` exclusive. Anything that does not parse as
//! syntax (an unknown `field:`, a bad date, an unclosed quote) is read as plain terms instead.

use chrono::NaiveDate;

/// The longest query accepted, in characters (as on Hugging Face).
pub const MAX_QUERY_CHARS: usize = 250;

/// A parsed query. Every part may be empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedQuery {
    /// Plain words, in order; each matches title, abstract, authors or id.
    pub terms: Vec<String>,
    /// Phrases that must appear (in the title or abstract).
    pub phrases: Vec<String>,
    /// Author names (or parts of names) that must all match.
    pub authors: Vec<String>,
    /// arXiv categories; a paper matches if it has any of them.
    pub categories: Vec<String>,
    /// Published on or after this day.
    pub after: Option<NaiveDate>,
    /// Published before this day.
    pub before: Option<NaiveDate>,
}

impl ParsedQuery {
    /// True when the query restricts nothing and asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.text_is_empty() && !self.has_filters()
    }

    /// True when there are no terms and no phrases (only filters, or nothing).
    pub fn text_is_empty(&self) -> bool {
        self.terms.is_empty() && self.phrases.is_empty()
    }

    pub fn has_filters(&self) -> bool {
        !self.authors.is_empty()
            || !self.categories.is_empty()
            || self.after.is_some()
            || self.before.is_some()
    }

    /// Whether a paper found by meaning must pass checks of its own: the filters, or "quoted
    /// phrases" it must hold.
    pub fn constrains(&self) -> bool {
        self.has_filters() || !self.phrases.is_empty()
    }

    /// The free text (terms and phrases) as one string, for the embedding model.
    pub fn text(&self) -> String {
        let mut parts: Vec<&str> = self.phrases.iter().map(String::as_str).collect();
        parts.extend(self.terms.iter().map(String::as_str));
        parts.join(" ")
    }
}

/// Parses `input`. Never fails and never panics (a property test checks this).
pub fn parse(input: &str) -> ParsedQuery {
    let mut q = ParsedQuery::default();
    let mut rest = input.trim();
    while !rest.is_empty() {
        let (token, after) = next_token(rest);
        rest = after.trim_start();
        match token {
            Token::Phrase(p) => push_phrase(&mut q, &p),
            Token::Word(w) => read_word(&mut q, &w),
            Token::Field(field, value) => read_field(&mut q, &field, &value),
        }
    }
    q
}

enum Token {
    Word(String),
    Phrase(String),
    /// `field:value` or `field:"quoted value"`.
    Field(String, String),
}

/// Splits the next token off `s` (which starts with a non-space character).
fn next_token(s: &str) -> (Token, &str) {
    if let Some(body) = s.strip_prefix('"') {
        return match body.find('"') {
            Some(end) => (Token::Phrase(body[..end].to_owned()), &body[end + 1..]),
            // An unclosed quote: the rest is plain words.
            None => (Token::Word(body.to_owned()), ""),
        };
    }
    let end = s.find(char::is_whitespace).unwrap_or(s.len());
    let word = &s[..end];
    if let Some(colon) = word.find(':') {
        let field = &word[..colon];
        if is_field(field) {
            let after_colon = &s[colon + 1..];
            if let Some(body) = after_colon.strip_prefix('"') {
                if let Some(close) = body.find('"') {
                    return (
                        Token::Field(field.to_ascii_lowercase(), body[..close].to_owned()),
                        &body[close + 1..],
                    );
                }
                return (
                    Token::Field(field.to_ascii_lowercase(), body.to_owned()),
                    "",
                );
            }
            return (
                Token::Field(field.to_ascii_lowercase(), word[colon + 1..].to_owned()),
                &s[end..],
            );
        }
    }
    (Token::Word(word.to_owned()), &s[end..])
}

fn is_field(name: &str) -> bool {
    ["author", "cat", "after", "before"]
        .iter()
        .any(|f| f.eq_ignore_ascii_case(name))
}

fn read_field(q: &mut ParsedQuery, field: &str, value: &str) {
    let value = value.trim();
    if value.is_empty() {
        return; // `author:` alone asks for nothing.
    }
    match field {
        "author" => q.authors.push(value.to_owned()),
        "cat" => q.categories.extend(
            value
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        ),
        "after" | "before" => match parse_date(value) {
            Some(d) if field == "after" => q.after = Some(d),
            Some(d) => q.before = Some(d),
            None => read_word(q, value),
        },
        _ => read_word(q, value),
    }
}

/// Reads `YYYY`, `YYYY-MM` or `YYYY-MM-DD` (the value of `after:` and `before:`) as the first
/// day it names; None for anything else, such as a day that is not in the calendar.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = s.split('-').collect();
    let num = |p: &str, len: usize| -> Option<u32> {
        (p.len() == len && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    match parts.as_slice() {
        [y] => NaiveDate::from_ymd_opt(num(y, 4)? as i32, 1, 1),
        [y, m] => NaiveDate::from_ymd_opt(num(y, 4)? as i32, num(m, 2)?, 1),
        [y, m, d] => NaiveDate::from_ymd_opt(num(y, 4)? as i32, num(m, 2)?, num(d, 2)?),
        _ => None,
    }
}

/// Adds the words of `s` as plain terms: query syntax characters are dropped.
fn read_word(q: &mut ParsedQuery, s: &str) {
    for word in s.split(|c: char| c.is_whitespace() || is_syntax(c)) {
        if !word.is_empty() && !matches!(word, "AND" | "OR" | "NOT") {
            q.terms.push(word.to_owned());
        }
    }
}

fn push_phrase(q: &mut ParsedQuery, s: &str) {
    let words: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || is_syntax(c))
        .filter(|w| !w.is_empty())
        .collect();
    match words.len() {
        0 => {}
        1 => q.terms.push(words[0].to_owned()),
        _ => q.phrases.push(words.join(" ")),
    }
}

/// Characters that are syntax in common search boxes and never part of a word here.
fn is_syntax(c: char) -> bool {
    matches!(
        c,
        '"' | '(' | ')' | '[' | ']' | '{' | '}' | '^' | '~' | '*' | '?' | '\\' | '+' | '!' | ':'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn plain_terms_phrases_and_filters_are_separated() {
        let q = parse(
            r#"spin chain "quantum battery" author:"Marco Polini" cat:quant-ph after:2020 before:2024-06"#,
        );
        assert_eq!(q.terms, ["spin", "chain"]);
        assert_eq!(q.phrases, ["quantum battery"]);
        assert_eq!(q.authors, ["Marco Polini"]);
        assert_eq!(q.categories, ["quant-ph"]);
        assert_eq!(q.after, Some(d("2020-01-01")));
        assert_eq!(q.before, Some(d("2024-06-01")));
    }

    #[test]
    fn malformed_syntax_falls_back_to_plain_terms() {
        let q = parse(r#"title:transformers after:yesterday "unclosed quote (a OR b"#);
        assert_eq!(
            q.terms,
            [
                "title",
                "transformers",
                "yesterday",
                "unclosed",
                "quote",
                "a",
                "b"
            ]
        );
        assert!(q.phrases.is_empty() && q.after.is_none());
    }

    #[test]
    fn operators_only_is_empty() {
        assert!(parse("author: cat: after: \"\" AND ()").is_empty());
        assert!(parse("   ").is_empty());
    }

    #[test]
    fn fields_are_case_insensitive_and_categories_may_be_a_list() {
        let q = parse("CAT:cs.CL,cs.LG Author:hinton");
        assert_eq!(q.categories, ["cs.CL", "cs.LG"]);
        assert_eq!(q.authors, ["hinton"]);
    }

    proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,300}") {
            let q = parse(&s);
            let _ = q.text();
        }

        #[test]
        fn parsing_syntax_soup_never_panics(s in "[a-z: \"\\-,()0-9é日]{0,80}") {
            let _ = parse(&s);
        }
    }
}
