//! Highlighting: which words of a title or abstract matched the query, as HF's
//! `highlightedTitle`/`highlightedSummary` spans and as HTML snippets.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use tantivy::tokenizer::{Language, LowerCaser, SimpleTokenizer, StopWordFilter, TextAnalyzer};

use super::index::LexicalIndex;
use super::query::ParsedQuery;

/// A run of text, highlighted or not. Concatenating the spans gives the original text back.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Span {
    #[serde(rename = "type")]
    pub kind: SpanKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SpanKind {
    Text,
    Highlight,
}

/// Keeps a word only when it is not an English stop word (made once: every highlighter clones
/// it, which shares the word list).
static STOP_WORDS: LazyLock<TextAnalyzer> = LazyLock::new(|| {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(LowerCaser)
        .filter(StopWordFilter::new(Language::English).expect("tantivy has English stop words"))
        .build()
});

/// Marks the words of texts that match a query's terms and phrases, by their stems as the index
/// matches them ([`crate::search::Search::highlighter`]). Stemming dominated the search API's
/// time (it highlights the whole abstract of every result), so each distinct word is stemmed
/// once per highlighter: one serves all the texts of a page of results.
pub struct Highlighter {
    /// Splits a text into lower-cased words, and stems one.
    words: TextAnalyzer,
    stemmer: TextAnalyzer,
    /// The query's stems.
    wanted: HashSet<String>,
    /// Each lower-cased word met so far: whether its stem is wanted.
    seen: HashMap<String, bool>,
}

impl Highlighter {
    /// Marks the stems of the query's words, except English stop words ("with", "the"): they
    /// match, with a low weight, but marking them in every abstract would hide the words that
    /// matter. A query made only of stop words has them marked.
    pub fn new(lexical: &LexicalIndex, q: &ParsedQuery) -> Highlighter {
        let text = q.text();
        let tokens = lexical.tokens(&text);
        let mut stop_words = STOP_WORDS.clone();
        let mut is_stop_word = |word: &str| !stop_words.token_stream(word).advance();
        let content: HashSet<String> = tokens
            .iter()
            .filter(|(from, to, _)| !is_stop_word(&text[*from..*to]))
            .map(|(_, _, stem)| stem.clone())
            .collect();
        let wanted = if content.is_empty() {
            tokens.into_iter().map(|(_, _, stem)| stem).collect()
        } else {
            content
        };
        Highlighter {
            words: lexical.analyzer(false),
            stemmer: lexical.analyzer(true),
            wanted,
            seen: HashMap::new(),
        }
    }

    /// `text` as spans, the matching words highlighted.
    pub fn spans(&mut self, text: &str) -> Vec<Span> {
        if self.wanted.is_empty() {
            return spans(text, &[]);
        }
        let mut matches = Vec::new();
        let mut words = self.words.token_stream(text);
        while words.advance() {
            let word = words.token();
            let hit = match self.seen.get(&word.text) {
                Some(&hit) => hit,
                None => {
                    // The stemmer works word by word: stemming a word alone gives the stem it
                    // gets in running text.
                    let mut stem = self.stemmer.token_stream(&word.text);
                    let hit = stem.advance() && self.wanted.contains(&stem.token().text);
                    self.seen.insert(word.text.clone(), hit);
                    hit
                }
            };
            if hit {
                matches.push((word.offset_from, word.offset_to));
            }
        }
        spans(text, &matches)
    }
}

/// Splits `text` into spans, highlighting the byte ranges `matches` (in order, not
/// overlapping; any other is skipped).
pub fn spans(text: &str, matches: &[(usize, usize)]) -> Vec<Span> {
    let mut out: Vec<Span> = Vec::new();
    let mut at = 0;
    let push = |kind: SpanKind, s: &str, out: &mut Vec<Span>| {
        if s.is_empty() {
            return;
        }
        match out.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(s),
            _ => out.push(Span {
                kind,
                text: s.to_owned(),
            }),
        }
    };
    for &(from, to) in matches {
        if from < at
            || to > text.len()
            || !text.is_char_boundary(from)
            || !text.is_char_boundary(to)
        {
            continue;
        }
        push(SpanKind::Text, &text[at..from], &mut out);
        out.push(Span {
            kind: SpanKind::Highlight,
            text: text[from..to].to_owned(),
        });
        at = to;
    }
    push(SpanKind::Text, &text[at..], &mut out);
    out
}

/// A window of about `chars` characters around the first highlight (the opening of the text
/// when nothing is highlighted), as spans, with "…" where the text was cut. Cuts fall between
/// words: the window starts after a space and ends before one.
pub fn window(spans: &[Span], chars: usize) -> Vec<Span> {
    /// How far a cut may move to reach a space.
    const SNAP: usize = 25;
    let total: usize = spans.iter().map(|s| s.text.chars().count()).sum();
    if total <= chars {
        return spans.to_vec();
    }
    let first_hit: usize = spans
        .iter()
        .take_while(|s| s.kind == SpanKind::Text)
        .map(|s| s.text.chars().count())
        .sum();
    let mut start = if first_hit >= total {
        0
    } else {
        first_hit
            .saturating_sub(chars / 4)
            .min(total.saturating_sub(chars))
    };
    let mut end = start + chars;
    let plain: Vec<char> = spans.iter().flat_map(|s| s.text.chars()).collect();
    let space = |i: usize| plain.get(i).is_some_and(|c| c.is_whitespace());
    if start > 0
        && !space(start - 1)
        && let Some(at) = (start..(start + SNAP).min(first_hit)).find(|&i| space(i))
    {
        start = at + 1;
    }
    if end < total
        && !space(end)
        && let Some(at) = (end.saturating_sub(SNAP).max(start + 1)..end)
            .rev()
            .find(|&i| space(i))
    {
        end = at;
    }
    let mut out = Vec::new();
    if start > 0 {
        out.push(Span {
            kind: SpanKind::Text,
            text: "…".into(),
        });
    }
    let mut pos = 0;
    for span in spans {
        let len = span.text.chars().count();
        let (a, b) = (pos.max(start), (pos + len).min(end));
        if a < b {
            let text: String = span.text.chars().skip(a - pos).take(b - a).collect();
            match out.last_mut() {
                Some(last) if last.kind == span.kind => last.text.push_str(&text),
                _ => out.push(Span {
                    kind: span.kind,
                    text,
                }),
            }
        }
        pos += len;
    }
    if end < total {
        out.push(Span {
            kind: SpanKind::Text,
            text: "…".into(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_rebuild_the_text_and_mark_matches() {
        let text = "Kazakh QA: a Kazakh dataset";
        let s = spans(text, &[(0, 6), (13, 19)]);
        assert_eq!(s.iter().map(|s| s.text.as_str()).collect::<String>(), text);
        assert_eq!(s[0].kind, SpanKind::Highlight);
        assert_eq!(s[1].text, " QA: a ");
        assert_eq!(s[2].text, "Kazakh");
    }

    #[test]
    fn window_keeps_the_first_highlight() {
        let long = "x ".repeat(300);
        let s = vec![
            Span {
                kind: SpanKind::Text,
                text: long.clone(),
            },
            Span {
                kind: SpanKind::Highlight,
                text: "hit".into(),
            },
            Span {
                kind: SpanKind::Text,
                text: long,
            },
        ];
        let w = window(&s, 100);
        assert!(w.iter().any(|s| s.kind == SpanKind::Highlight));
        assert!(w.iter().map(|s| s.text.chars().count()).sum::<usize>() <= 104);
    }

    #[test]
    fn a_window_is_cut_between_words_and_opens_the_text_without_a_highlight() {
        let text = "Large language models increasingly rely on long chains of thought, which \
                    inflate memory consumption during decoding; we compress the cache of keys \
                    and values while keeping accuracy on reasoning benchmarks intact.";
        let at = text.find("memory").unwrap();
        let s = spans(text, &[(at, at + 6)]);
        let w: String = window(&s, 80).iter().map(|s| s.text.as_str()).collect();
        let inner = w.trim_start_matches('…').trim_end_matches('…');
        assert!(inner.contains("memory"), "{w}");
        for word in inner.split_whitespace() {
            let word = word.trim_matches(|c: char| c.is_ascii_punctuation());
            assert!(
                text.split_whitespace()
                    .any(|t| t.trim_matches(|c: char| c.is_ascii_punctuation()) == word),
                "{word:?} is cut in {w:?}"
            );
        }
        let none: String = window(&spans(text, &[]), 80)
            .iter()
            .map(|s| s.text.as_str())
            .collect();
        assert!(none.starts_with("Large language models"), "{none}");
        assert!(none.ends_with('…'), "{none}");
    }
}
