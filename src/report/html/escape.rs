//! Escaping: everything that came from the system under test (values, errors, explanations,
//! workload text) reaches the page either HTML-escaped here, or as JSON inside
//! `<script type="application/json">` with every `<` written `\u003c`, so no text of theirs
//! can close the script element or open a tag. The page's script renders that JSON with
//! `textContent`, never `innerHTML`.

use std::fmt::{self, Write};

/// `text` with `& < > " '` replaced by entities: safe in element content and in quoted
/// attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON text made safe inside a `<script type="application/json">` element: `<`, `>` and
/// `&` become `\u003c`, `\u003e`, `\u0026` (the same string to `JSON.parse`), and the line
/// separators U+2028/U+2029 are escaped too.
pub fn script_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len() + 64);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// The `Display` of `value`, cut after about `max` bytes with `…`: a read of a million
/// elements is formatted only as far as it is shown.
pub fn shorten(value: &impl fmt::Display, max: usize) -> String {
    struct Limited {
        out: String,
        max: usize,
        cut: bool,
    }
    impl Write for Limited {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let room = self.max.saturating_sub(self.out.len());
            if s.len() <= room {
                self.out.push_str(s);
                return Ok(());
            }
            let mut end = room;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            self.out.push_str(&s[..end]);
            self.cut = true;
            Err(fmt::Error) // stops the formatting early
        }
    }
    let mut w = Limited {
        out: String::new(),
        max,
        cut: false,
    };
    let _ = write!(w, "{value}");
    if w.cut {
        w.out.push('…');
    }
    w.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Value;

    #[test]
    fn html_escaping_leaves_no_markup_in_attributes_either() {
        assert_eq!(
            esc(r#"<img src=x onerror="alert('1')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn html_escaping_leaves_no_tag_open() {
        assert_eq!(
            esc(r#"<img src=x onerror="alert(1)">&'"#),
            "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn script_json_cannot_close_the_script_element() {
        let json = serde_json::to_string(&"</script><img src=x onerror=alert(1)>").unwrap();
        let safe = script_json(&json);
        assert!(!safe.contains('<') && !safe.contains('>'), "{safe}");
        let back: String = serde_json::from_str(&safe).unwrap();
        assert_eq!(back, "</script><img src=x onerror=alert(1)>");
    }

    #[test]
    fn shorten_stops_formatting_a_huge_value_early() {
        let big = Value::list((0..1_000_000).map(Value::Int));
        let short = shorten(&big, 20);
        assert_eq!(short, "[0 1 2 3 4 5 6 7 8 9…");
        assert_eq!(shorten(&Value::Int(7), 20), "7");
    }
}
