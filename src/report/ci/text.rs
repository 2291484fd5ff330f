//! Text the CI outputs share: one line per witnessed anomaly, and HTML escaping.

use crate::checker::Anomaly;

/// `lost: 17 was added (op 12) but no final read has it (ops 40, 41) [ops 12, 40, 41]
/// during: partition …`: the explanation, the witness indexes, the faults active then.
pub(super) fn witness_line(anomaly: &Anomaly) -> String {
    let ops: Vec<String> = anomaly.ops.iter().map(u64::to_string).collect();
    let mut line = format!(
        "{}: {} [ops {}]",
        anomaly.kind,
        anomaly.explanation,
        ops.join(", ")
    );
    if !anomaly.faults.is_empty() {
        line.push_str(" during: ");
        line.push_str(&anomaly.faults.join("; "));
    }
    line
}

/// Escapes text for HTML element content and quoted attribute values.
pub(super) fn html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_escaping_leaves_no_markup() {
        assert_eq!(
            html(r#"<img src=x onerror="alert('1')">&"#),
            "&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;"
        );
    }
}
