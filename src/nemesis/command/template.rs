//! Command templates and node names: what a hook's shell command looks like once its
//! placeholders are filled, and which node names may be put into it.
//!
//! A template is parsed once (when the workload is validated) and rendered for every fault.
//! Node names are put into the command unquoted; [`validate_node_name`] is what makes that
//! safe (see its documentation).

use crate::workload::{find_open, placeholder_list};

/// The placeholder names a command template may use, for error messages.
pub const COMMAND_PLACEHOLDERS: &[&str] = &["node", "nodes", "peers"];

/// The longest node name accepted: the longest DNS name.
const MAX_NODE_NAME: usize = 253;

/// A shell command template, parsed once. Placeholders:
/// `{{node}}` (one affected node; the command is run once per affected node),
/// `{{nodes}}` (the affected nodes, space-separated) and
/// `{{peers}}` (the nodes not affected, space-separated; for a partition, the other side).
///
/// Everything else is passed to `sh -c` as written, so `$VAR` is expanded by the shell when
/// the command runs and never by splitbrain: the history records `$KUBECONFIG`, not its value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandTemplate {
    text: String,
    pieces: Vec<Piece>,
}

/// One run of literal text or one placeholder.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Node,
    Nodes,
    Peers,
}

impl CommandTemplate {
    /// Parses `text`. `{{name}}` (spaces inside the braces allowed) is a placeholder; a lone
    /// `{` or `}` is literal, so `${VAR}` needs no escaping. An empty command, an unknown name
    /// (`{{nod}}`) or an unclosed `{{` is an error message naming it and the valid
    /// placeholders.
    pub fn parse(text: &str) -> Result<CommandTemplate, String> {
        if text.trim().is_empty() {
            return Err("the command is empty: expected a shell command".to_owned());
        }
        let mut pieces = Vec::new();
        let mut rest = text;
        while let Some(open) = find_open(rest) {
            push_literal(&mut pieces, &rest[..open]);
            let after = &rest[open + 2..];
            let at = text.len() - rest.len() + open;
            let column = text[..at].chars().count() + 1;
            let Some(close) = after.find("}}") else {
                let start: String = after.chars().take(20).collect();
                return Err(format!(
                    "unclosed placeholder \"{{{{{start}\" at character {column}: expected {}",
                    valid_list()
                ));
            };
            let name = after[..close].trim();
            let piece = match name {
                "node" => Piece::Node,
                "nodes" => Piece::Nodes,
                "peers" => Piece::Peers,
                _ => {
                    return Err(format!(
                        "unknown placeholder \"{{{{{name}}}}}\" at character {column}: expected \
                         {} (text that must reach the shell as `{{{{...}}}}`, such as a Go \
                         template, belongs in a script the command calls)",
                        valid_list()
                    ));
                }
            };
            pieces.push(piece);
            rest = &after[close + 2..];
        }
        push_literal(&mut pieces, rest);
        Ok(CommandTemplate {
            text: text.to_owned(),
            pieces,
        })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the template uses `{{node}}`, so it is run once per affected node rather than
    /// once for the whole fault.
    pub fn uses_node(&self) -> bool {
        self.pieces.contains(&Piece::Node)
    }

    /// The commands this template stands for: one per affected node if it uses `{{node}}`
    /// (none if no node is affected), otherwise exactly one. Every name in `nodes` and `peers`
    /// is checked with [`validate_node_name`] first; the first bad one is the error.
    pub fn render(&self, nodes: &[String], peers: &[String]) -> Result<Vec<String>, String> {
        for name in nodes.iter().chain(peers) {
            validate_node_name(name)?;
        }
        let all = nodes.join(" ");
        let others = peers.join(" ");
        if self.uses_node() {
            Ok(nodes
                .iter()
                .map(|node| self.fill(node, &all, &others))
                .collect())
        } else {
            Ok(vec![self.fill("", &all, &others)])
        }
    }

    fn fill(&self, node: &str, nodes: &str, peers: &str) -> String {
        let mut out = String::with_capacity(self.text.len() + nodes.len() + peers.len());
        for piece in &self.pieces {
            out.push_str(match piece {
                Piece::Literal(text) => text,
                Piece::Node => node,
                Piece::Nodes => nodes,
                Piece::Peers => peers,
            });
        }
        out
    }
}

/// Checks a node name: `[A-Za-z0-9][A-Za-z0-9._:-]*`, at most 253 characters. That covers
/// DNS names (`orders-1.staging.svc`), pod names, IP addresses and `host:port`
/// (`10.0.0.5:22`). Anything else is refused with a message naming the name and the first
/// character that is not allowed.
///
/// This is what lets a hook put node names into a shell command unquoted: none of the
/// allowed characters means anything to `sh` (no blank, `;`, `&`, `|`, `<`, `>`, `(`, `$`,
/// backtick, quote, backslash, `*`, `?`, `[`, `{`, `~`, `#`, `=` or newline), so a name is
/// always exactly one word that expands to itself. The first character being a letter or
/// digit keeps a name from being read as an option (`ssh -oProxyCommand=...`).
pub fn validate_node_name(name: &str) -> Result<(), String> {
    const EXPECTED: &str = "a node name is letters, digits, '.', '_', ':' and '-', starting \
                            with a letter or digit (a DNS name, pod name, IP or host:port)";
    let length = name.chars().count();
    if length == 0 {
        return Err(format!("node name is empty: {EXPECTED}"));
    }
    if length > MAX_NODE_NAME {
        return Err(format!(
            "node name {name:?} is {length} characters long: at most {MAX_NODE_NAME} are allowed"
        ));
    }
    for (at, c) in name.chars().enumerate() {
        let allowed = c.is_ascii_alphanumeric() || (at > 0 && matches!(c, '.' | '_' | ':' | '-'));
        if !allowed {
            return Err(format!(
                "node name {name:?} has {c:?} at character {}: {EXPECTED}",
                at + 1
            ));
        }
    }
    Ok(())
}

fn push_literal(pieces: &mut Vec<Piece>, text: &str) {
    if !text.is_empty() {
        pieces.push(Piece::Literal(text.to_owned()));
    }
}

fn valid_list() -> String {
    placeholder_list(COMMAND_PLACEHOLDERS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn node_placeholder_renders_one_command_per_affected_node() {
        let t = CommandTemplate::parse("stop {{node}} of {{nodes}} away from {{ peers }}").unwrap();
        assert!(t.uses_node());
        let commands = t.render(&names(&["n1", "n2"]), &names(&["n3"])).unwrap();
        assert_eq!(
            commands,
            [
                "stop n1 of n1 n2 away from n3",
                "stop n2 of n1 n2 away from n3"
            ]
        );
    }

    #[test]
    fn template_without_node_renders_one_command_for_all_nodes() {
        let t = CommandTemplate::parse("cut {{nodes}} | {{peers}}").unwrap();
        assert!(!t.uses_node());
        let commands = t.render(&names(&["a", "b"]), &names(&["c", "d"])).unwrap();
        assert_eq!(commands, ["cut a b | c d"]);
    }

    #[test]
    fn node_template_with_no_affected_node_renders_no_command() {
        let t = CommandTemplate::parse("kill {{node}}").unwrap();
        assert!(t.render(&[], &names(&["a"])).unwrap().is_empty());
    }

    #[test]
    fn shell_variables_and_single_braces_are_kept_as_written() {
        let text = "kubectl --kubeconfig $KUBECONFIG -n ${NAMESPACE} get pod -o jsonpath='{.x}'";
        let t = CommandTemplate::parse(text).unwrap();
        assert_eq!(t.as_str(), text);
        assert_eq!(t.render(&[], &[]).unwrap(), [text]);
    }

    #[test]
    fn unknown_placeholder_is_refused_naming_it_and_the_valid_ones() {
        let err = CommandTemplate::parse("ssh {{nod}} true").unwrap_err();
        assert!(err.contains("{{nod}}"), "{err}");
        assert!(err.contains("character 5"), "{err}");
        assert!(err.contains("{{node}}, {{nodes}}, {{peers}}"), "{err}");
    }

    #[test]
    fn unclosed_placeholder_and_empty_command_are_refused() {
        let err = CommandTemplate::parse("ssh {{node true").unwrap_err();
        assert!(
            err.starts_with("unclosed placeholder \"{{node true\""),
            "{err}"
        );
        let err = CommandTemplate::parse("  ").unwrap_err();
        assert!(err.contains("empty"), "{err}");
    }

    #[test]
    fn names_that_could_inject_shell_syntax_are_refused_naming_them() {
        for bad in [
            "a;rm -rf /",
            "$(reboot)",
            "`id`",
            "a b",
            "'a'",
            "\"a\"",
            "a/b",
            "-oProxyCommand",
            "a\nb",
            "a&",
            "a|b",
            "a>b",
            "*",
            "~root",
            "x=y",
            "a{b,c}",
            "",
        ] {
            let err = validate_node_name(bad).unwrap_err();
            assert!(err.contains(&format!("{bad:?}")) || bad.is_empty(), "{err}");
        }
        let err = validate_node_name("a;b").unwrap_err();
        assert!(err.contains("';' at character 2"), "{err}");
    }

    #[test]
    fn dns_names_pod_names_ips_and_host_ports_are_accepted() {
        for good in [
            "orders-1.staging.svc",
            "10.0.0.5:22",
            "orders-7d9f8c-x2x4k",
            "node_3",
            "n",
            &"a".repeat(253),
        ] {
            assert_eq!(validate_node_name(good), Ok(()), "{good}");
        }
        assert!(validate_node_name(&"a".repeat(254)).is_err());
    }

    #[test]
    fn rendering_refuses_a_bad_peer_name_before_building_any_command() {
        let t = CommandTemplate::parse("true {{node}}").unwrap();
        let err = t.render(&names(&["a"]), &names(&["b;c"])).unwrap_err();
        assert!(err.contains("\"b;c\""), "{err}");
    }
}
