//! Splitting arXiv's one-line author lists ("A. One (MIT), B. Two and C. Three") into names.
//!
//! The `arXivRaw` format and the bulk snapshot carry authors as the submitter typed them: names
//! separated by commas and a final "and", affiliations in parentheses, hard-wrapped lines. The
//! `arXiv` format and the API give structured names instead; this is only for the free-text form.

/// Splits an author list into names, dropping parenthesised affiliations and "et al.".
pub fn split_authors(list: &str) -> Vec<String> {
    let without_affiliations = strip_parentheses(list);
    let mut names: Vec<String> = Vec::new();
    for piece in without_affiliations.split(',') {
        for part in split_on_and(piece) {
            let name = part.split_whitespace().collect::<Vec<_>>().join(" ");
            let name = strip_et_al(&name);
            if name.is_empty() {
                continue;
            }
            match names.last_mut() {
                // "John Smith, Jr." is one author, not two.
                Some(previous) if is_suffix(&name) => {
                    previous.push_str(", ");
                    previous.push_str(&name);
                }
                _ => names.push(name.to_owned()),
            }
        }
    }
    names
}

/// Removes every parenthesised group, nested or not. With unbalanced parentheses nothing is
/// removed: dropping the rest of the list would lose authors.
fn strip_parentheses(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut depth = 0usize;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    if depth == 0 { out } else { s.to_owned() }
}

/// Splits on the word "and" (any case, surrounded by whitespace).
fn split_on_and(piece: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let bytes = piece.as_bytes();
    let mut i = 0;
    while i + 3 <= bytes.len() {
        let at_word = (i == 0 || bytes[i - 1].is_ascii_whitespace())
            && bytes[i..i + 3].eq_ignore_ascii_case(b"and")
            && (i + 3 == bytes.len() || bytes[i + 3].is_ascii_whitespace());
        if at_word {
            parts.push(&piece[start..i]);
            start = i + 3;
            i += 3;
        } else {
            i += 1;
        }
    }
    parts.push(&piece[start..]);
    parts
}

/// Drops a trailing "et al." (or a piece that is nothing else).
fn strip_et_al(name: &str) -> &str {
    for tail in ["et al.", "et al", "et. al."] {
        if name.len() >= tail.len()
            && name.is_char_boundary(name.len() - tail.len())
            && name[name.len() - tail.len()..].eq_ignore_ascii_case(tail)
        {
            return name[..name.len() - tail.len()].trim_end();
        }
    }
    name
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
            ["Robert H. Brandenberger", "Keshav Dasgupta", "Anne-Christine Davis"]
        );
        assert_eq!(split_authors("Naoum C. Bacalis"), ["Naoum C. Bacalis"]);
        assert_eq!(
            split_authors("C. Bal\\'azs, E. L. Berger, P. M. Nadolsky, C.-P. Yuan"),
            ["C. Bal\\'azs", "E. L. Berger", "P. M. Nadolsky", "C.-P. Yuan"]
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
    }
}
