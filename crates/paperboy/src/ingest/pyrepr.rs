//! Reads Python literals (`repr()` of dicts, lists, strings, numbers, True/False/None) as JSON.
//!
//! Some archived Hugging Face `daily_papers` responses hold `repr()` strings of Python dicts
//! instead of JSON objects. No maintained crate parses Python literals, and the grammar needed is
//! small, so this is a recursive-descent parser over exactly what `repr()` emits.

use serde_json::{Map, Number, Value};

/// Parses one Python literal into a JSON value.
pub fn parse(input: &str) -> Result<Value, String> {
    let mut p = Parser {
        s: input.as_bytes(),
        src: input,
        pos: 0,
        depth: 0,
    };
    let v = p.value()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return Err(p.error("trailing characters"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    depth: u32,
}

impl Parser<'_> {
    fn error(&self, what: &str) -> String {
        format!("Python literal: {what} at byte {}", self.pos)
    }

    fn skip_ws(&mut self) {
        while self.pos < self.s.len() && self.s[self.pos].is_ascii_whitespace() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_ws();
        self.depth += 1;
        if self.depth > 64 {
            return Err(self.error("nesting too deep"));
        }
        let v = match self.peek() {
            Some(b'{') => self.dict(),
            Some(b'[') => self.sequence(b']').map(Value::Array),
            Some(b'(') => self.sequence(b')').map(Value::Array),
            Some(b'\'' | b'"') => self.string().map(Value::String),
            Some(b'-' | b'+' | b'0'..=b'9' | b'.') => self.number(),
            Some(_) => self.word(),
            None => Err(self.error("unexpected end")),
        };
        self.depth -= 1;
        v
    }

    fn dict(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut map = Map::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(b'}') {
                self.pos += 1;
                return Ok(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':'"));
            }
            self.pos += 1;
            let v = self.value()?;
            map.insert(key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {}
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    fn sequence(&mut self, close: u8) -> Result<Vec<Value>, String> {
        self.pos += 1;
        let mut items = Vec::new();
        loop {
            self.skip_ws();
            if self.peek() == Some(close) {
                self.pos += 1;
                return Ok(items);
            }
            items.push(self.value()?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(c) if c == close => {}
                _ => return Err(self.error("expected ',' or a closing bracket")),
            }
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.s[self.pos];
        self.pos += 1;
        let mut out = String::new();
        loop {
            let start = self.pos;
            while self.pos < self.s.len() && self.s[self.pos] != quote && self.s[self.pos] != b'\\'
            {
                self.pos += 1;
            }
            out.push_str(&self.src[start..self.pos]);
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(_) => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let c = self
            .peek()
            .ok_or_else(|| self.error("unterminated escape"))?;
        self.pos += 1;
        match c {
            b'\\' => out.push('\\'),
            b'\'' => out.push('\''),
            b'"' => out.push('"'),
            b'n' => out.push('\n'),
            b't' => out.push('\t'),
            b'r' => out.push('\r'),
            b'0' => out.push('\0'),
            b'a' => out.push('\u{7}'),
            b'b' => out.push('\u{8}'),
            b'f' => out.push('\u{c}'),
            b'v' => out.push('\u{b}'),
            b'\n' => {}
            b'x' => out.push(self.hex_char(2)?),
            b'u' => out.push(self.hex_char(4)?),
            b'U' => out.push(self.hex_char(8)?),
            _ => {
                out.push('\\');
                self.pos -= 1;
                // Keep an unknown escape as written, as Python does; the next char is copied by
                // the caller's loop.
            }
        }
        Ok(())
    }

    fn hex_char(&mut self, n: usize) -> Result<char, String> {
        let digits = self
            .src
            .get(self.pos..self.pos + n)
            .ok_or_else(|| self.error("short hex escape"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.error("bad hex escape"))?;
        self.pos += n;
        char::from_u32(code).ok_or_else(|| self.error("escape is not a character"))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self.pos < self.s.len()
            && matches!(
                self.s[self.pos],
                b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E' | b'_'
            )
        {
            self.pos += 1;
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|c| *c != '_')
            .collect();
        if let Ok(i) = text.parse::<i64>() {
            return Ok(Value::Number(i.into()));
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| self.error("bad number"))
    }

    fn word(&mut self) -> Result<Value, String> {
        for (word, value) in [
            ("True", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("None", Value::Null),
        ] {
            if self.s[self.pos..].starts_with(word.as_bytes()) {
                self.pos += word.len();
                return Ok(value);
            }
        }
        Err(self.error("unexpected token"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_what_repr_writes() {
        let v = parse(r#"{'paper': {'id': '2412.07730', 'hidden': False, 'x': None, 'n': -3, 'f': 1.5, 'q': "it's", 'e': 'a\'b\\c\n\xe9\u2013', 't': (1, 2), 'l': []}}"#).unwrap();
        assert_eq!(
            v,
            json!({"paper": {"id": "2412.07730", "hidden": false, "x": null, "n": -3, "f": 1.5,
                  "q": "it's", "e": "a'b\\c\n\u{e9}\u{2013}", "t": [1, 2], "l": []}})
        );
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for s in [
            "{'a': ",
            "{'a' 1}",
            "'abc",
            "[1, 2",
            "nope",
            "{'a': 1} x",
            "'\\x4'",
            "",
        ] {
            assert!(parse(s).is_err(), "{s:?}");
        }
    }
}
