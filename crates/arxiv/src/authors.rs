//! Splitting arXiv's one-line author lists ("A. One (MIT), B. Two and C. Three") into names.
//!
//! The `arXivRaw` format and the bulk snapshot carry authors as the submitter typed them: names
//! separated by commas and a final "and", affiliations in parentheses, hard-wrapped lines. The
//! `arXiv` format and the API give structured names instead; this is only for the free-text form.

/// Splits an author list into names, dropping parenthesised affiliations and "et al.".
///
/// One pass over the text: words are copied into the name being built, single-spaced, and a
/// comma or the word "and" ends the name. This runs for every `arXivRaw` record, so it avoids
/// intermediate strings.
pub fn split_authors(list: &str) -> Vec<String> {
    // With unbalanced parentheses nothing is treated as an affiliation: dropping the rest of the
    // list would lose authors.
    let skip_parentheses = list.contains('(') && parentheses_balance(list);
    let bytes = list.as_bytes();
    let mut names: Vec<String> = Vec::new();
    let mut name = String::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'(' if skip_parentheses => depth += 1,
            b')' if skip_parentheses => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            b',' => finish_name(&mut name, &mut names),
            b if b.is_ascii_whitespace() => {}
            _ => {
                let start = i;
                while i < bytes.len() && !ends_word(bytes[i], skip_parentheses) {
                    i += 1;
                }
                let word = &list[start..i];
                if word.eq_ignore_ascii_case("and") {
                    finish_name(&mut name, &mut names);
                } else if name.is_empty() {
                    // Most names fit; growing from nothing would reallocate twice on the way.
                    name.reserve(32);
                    name.push_str(word);
                } else {
                    name.push(' ');
                    name.push_str(word);
                }
                continue;
            }
        }
        i += 1;
    }
    finish_name(&mut name, &mut names);
    names
}

/// Words end at whitespace, a comma, or (when they count) a parenthesis. All are ASCII, so a
/// word is always a slice on character boundaries.
fn ends_word(b: u8, parentheses: bool) -> bool {
    b.is_ascii_whitespace() || b == b',' || (parentheses && (b == b'(' || b == b')'))
}

/// True when every `(` has its `)` and none comes first.
fn parentheses_balance(s: &str) -> bool {
    let mut depth = 0usize;
    for b in s.bytes() {
        match b {
            b'(' => depth += 1,
            b')' => match depth.checked_sub(1) {
                Some(d) => depth = d,
                None => return false,
            },
            _ => {}
        }
    }
    depth == 0
}

/// Moves the name being built into `names`.
fn finish_name(name: &mut String, names: &mut Vec<String>) {
    strip_et_al(name);
    if name.is_empty() {
        return;
    }
    match names.last_mut() {
        // "John Smith, Jr." is one author, not two.
        Some(previous) if is_suffix(name) => {
            previous.push_str(", ");
            previous.push_str(name);
            name.clear();
        }
        _ => names.push(std::mem::take(name)),
    }
}

/// Drops a trailing "et al." (leaving nothing when that was the whole name).
fn strip_et_al(name: &mut String) {
    for tail in ["et al.", "et al", "et. al."] {
        let cut = name.len().saturating_sub(tail.len());
        if name.len() >= tail.len()
            && name.is_char_boundary(cut)
            && name[cut..].eq_ignore_ascii_case(tail)
        {
            name.truncate(cut);
            let kept = name.trim_end().len();
            name.truncate(kept);
            return;
        }
    }
}

fn is_suffix(name: &str) -> bool {
    matches!(name, "Jr." | "Jr" | "Sr." | "Sr" | "II" | "III" | "IV")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_commas_and_the_final_and_dropping_affiliations() {
        assert_eq!(
            split_authors(
                "Robert H. Brandenberger (McGill), Keshav Dasgupta (McGill) and\n  \
                 Anne-Christine Davis (DAMTP, Cambridge)"
            ),
            [
                "Robert H. Brandenberger",
                "Keshav Dasgupta",
                "Anne-Christine Davis"
            ]
        );
        assert_eq!(split_authors("Naoum C. Bacalis"), ["Naoum C. Bacalis"]);
        assert_eq!(
            split_authors("C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan"),
            [
                "C. Bal\\'azs",
                "E. L. Berger",
                "P. M. Nadolsky",
                "C.-P. Yuan"
            ]
        );
    }

    #[test]
    fn keeps_names_that_contain_and_and_joins_suffixes() {
        assert_eq!(
            split_authors("Alexander Andersen, John Smith, Jr., and Ann Sand"),
            ["Alexander Andersen", "John Smith, Jr.", "Ann Sand"]
        );
        assert_eq!(split_authors("A. One, B. Two et al."), ["A. One", "B. Two"]);
        assert_eq!(split_authors("A. One, et al."), ["A. One"]);
        assert_eq!(split_authors("  "), Vec::<String>::new());
        assert_eq!(split_authors("A (unclosed, B"), ["A (unclosed", "B"]);
        assert_eq!(split_authors("A) B, C"), ["A) B", "C"]);
        assert_eq!(
            split_authors("Émilie Dubois (Université (Paris)), Zoë Ng"),
            ["Émilie Dubois", "Zoë Ng"]
        );
        assert_eq!(
            split_authors("Sand and Andersen AND Anderson"),
            ["Sand", "Andersen", "Anderson"]
        );
    }
}
