//! Input quoted back to the person who sent it, in the messages that refuse it.

/// The most characters of the input that a message repeats.
const QUOTED_CHARS: usize = 60;

/// `s` in double quotes, as a message shows it: cut to [`QUOTED_CHARS`] characters (then "…"),
/// with every character that would not show as itself written as `<U+XXXX>`: controls,
/// direction overrides and other invisible format marks, so a message can neither hide nor
/// reorder what was sent. Unlike Rust's `{:?}` it leaves backslashes, quotes and letters of
/// any script as they are (`\alpha` is not shown as `\\alpha`).
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len().min(4 * QUOTED_CHARS) + 2);
    out.push('"');
    for (n, c) in s.chars().enumerate() {
        if n == QUOTED_CHARS {
            out.push('…');
            break;
        }
        if shows(c) {
            out.push(c);
        } else {
            out.push_str(&format!("<U+{:04X}>", c as u32));
        }
    }
    out.push('"');
    out
}

/// Whether `c` shows as itself: not a control (other than a space), a format mark (Unicode
/// category Cf: soft hyphen, zero-width and direction marks, the byte-order mark, …) or a line
/// or paragraph separator.
fn shows(c: char) -> bool {
    !(c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}'
            | '\u{2028}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_quoted_as_it_is() {
        assert_eq!(quoted("2026-13-01"), r#""2026-13-01""#);
        assert_eq!(quoted(r#"\alpha "x""#), r#""\alpha "x"""#);
        assert_eq!(quoted("Émile 東京"), "\"Émile 東京\"");
        assert_eq!(quoted(""), "\"\"");
    }

    #[test]
    fn invisible_characters_are_named() {
        assert_eq!(quoted("a\0b"), "\"a<U+0000>b\"");
        assert_eq!(quoted("abc\u{202E}fed"), "\"abc<U+202E>fed\"");
        assert_eq!(quoted("x\ny\t"), "\"x<U+000A>y<U+0009>\"");
        assert_eq!(quoted("\u{200B}"), "\"<U+200B>\"");
    }

    #[test]
    fn long_input_is_cut() {
        let long = "a".repeat(500);
        let q = quoted(&long);
        assert_eq!(q.chars().count(), QUOTED_CHARS + 3);
        assert!(q.ends_with("…\""));
        assert_eq!(
            quoted(&"a".repeat(QUOTED_CHARS)).chars().count(),
            QUOTED_CHARS + 2
        );
    }
}
