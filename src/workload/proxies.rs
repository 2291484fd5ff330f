//! Validates `[[nemesis.proxies]]` into [`ProxySpec`]s (a known node, `IP:port` addresses
//! without DNS, each listen address once) and `[nemesis.slow]` into the [`Toxic`] that `slow`
//! sets on them (only the fields of the chosen toxic).

use std::net::SocketAddr;
use std::time::Duration;

use toml::Spanned;

use crate::nemesis::proxy::{Direction, Toxic};
use crate::nemesis::{DEFAULT_SLOW, ProxySpec};

use super::WorkloadError;
use super::cx::Cx;
use super::raw::{RawProxy, RawSlow};

/// Where a value is in the file.
type Span = std::ops::Range<usize>;

/// The toxic names of `[nemesis.slow]`, as Toxic serializes them.
const TOXICS: &[&str] = &["latency", "reset", "blackhole", "refuse", "bandwidth"];

/// The fault proxies, each in front of one of `names`.
pub(super) fn check_proxies(
    cx: &Cx,
    raw: Option<&Vec<Spanned<RawProxy>>>,
    names: &[String],
) -> Result<Vec<ProxySpec>, WorkloadError> {
    let mut specs: Vec<ProxySpec> = Vec::new();
    for (i, proxy) in raw.into_iter().flatten().enumerate() {
        let proxy = proxy.get_ref();
        let field = |f: &str| format!("nemesis.proxies[{i}].{f}");
        let node = proxy.node.get_ref();
        if !names.contains(node) {
            let message = format!(
                "unknown node {node:?}: expected one of {}",
                names.join(", ")
            );
            return Err(cx.at(&proxy.node, &field("node"), message));
        }
        let listen = address(cx, &proxy.listen, &field("listen"))?;
        let upstream = address(cx, &proxy.upstream, &field("upstream"))?;
        if let Some(j) = specs.iter().position(|s| s.listen == listen) {
            let message = format!(
                "nemesis.proxies[{j}] already listens on {listen}: expected each proxy on its \
                 own address"
            );
            return Err(cx.at(&proxy.listen, &field("listen"), message));
        }
        specs.push(ProxySpec {
            node: node.clone(),
            listen,
            upstream,
        });
    }
    Ok(specs)
}

/// `IP:port` with a port above 0; no host names, so nothing is resolved at validation.
fn address(cx: &Cx, text: &Spanned<String>, field: &str) -> Result<SocketAddr, WorkloadError> {
    let found = text.get_ref();
    match found.parse::<SocketAddr>() {
        Ok(addr) if addr.port() != 0 => Ok(addr),
        _ => Err(cx.at(
            text,
            field,
            format!(
                "expected an IP address and a port above 0, like \"127.0.0.1:18080\" or \
                 \"[::1]:18080\" (no host names), found {found:?}"
            ),
        )),
    }
}

/// The toxic of `[nemesis.slow]`, or the default (latency 100 ms, no jitter, both ways).
pub(super) fn check_slow(cx: &Cx, raw: Option<&Spanned<RawSlow>>) -> Result<Toxic, WorkloadError> {
    let Some(raw) = raw.map(Spanned::get_ref) else {
        return Ok(DEFAULT_SLOW);
    };
    let kind = match &raw.toxic {
        Some(t) if TOXICS.contains(&t.get_ref().as_str()) => t.get_ref().as_str(),
        Some(t) => {
            let message = format!(
                "expected one of {}, found {:?}",
                TOXICS.join(", "),
                t.get_ref()
            );
            return Err(cx.at(t, "nemesis.slow.toxic", message));
        }
        None => "latency",
    };
    // Each field with the toxics it belongs to.
    let fields: [(&str, Option<Span>, &[&str]); 4] = [
        (
            "latency",
            raw.latency.as_ref().map(Spanned::span),
            &["latency"],
        ),
        (
            "jitter",
            raw.jitter.as_ref().map(Spanned::span),
            &["latency"],
        ),
        (
            "bytes_per_sec",
            raw.bytes_per_sec.as_ref().map(Spanned::span),
            &["bandwidth"],
        ),
        (
            "direction",
            raw.direction.as_ref().map(Spanned::span),
            &["latency", "reset", "blackhole", "bandwidth"],
        ),
    ];
    for (name, span, toxics) in fields {
        if let Some(span) = span.filter(|_| !toxics.contains(&kind)) {
            let message = format!(
                "{name} is for toxic = {}, not {kind:?}: remove {name}, or choose another toxic",
                toxics
                    .iter()
                    .map(|t| format!("{t:?}"))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
            return Err(cx.at(
                &Spanned::new(span, ()),
                &format!("nemesis.slow.{name}"),
                message,
            ));
        }
    }
    let direction = direction(cx, raw.direction.as_ref())?;
    Ok(match kind {
        "latency" => Toxic::Latency {
            direction,
            latency: match &raw.latency {
                Some(t) => cx.duration(t, "nemesis.slow.latency", false)?,
                None => Duration::from_millis(100),
            },
            jitter: match &raw.jitter {
                Some(t) => cx.duration(t, "nemesis.slow.jitter", true)?,
                None => Duration::ZERO,
            },
        },
        "reset" => Toxic::Reset { direction },
        "blackhole" => Toxic::Blackhole { direction },
        "refuse" => Toxic::Refuse,
        "bandwidth" => Toxic::Bandwidth {
            direction,
            bytes_per_sec: match &raw.bytes_per_sec {
                Some(n) => *n.get_ref(),
                None => {
                    let message = "expected bytes_per_sec (the rate; 0 stalls the link) with \
                                   toxic = \"bandwidth\"";
                    return Err(cx.plain("nemesis.slow.bytes_per_sec", message));
                }
            },
        },
        _ => unreachable!("checked against TOXICS"),
    })
}

fn direction(cx: &Cx, text: Option<&Spanned<String>>) -> Result<Direction, WorkloadError> {
    match text.map(|t| (t, t.get_ref().as_str())) {
        None => Ok(Direction::Both),
        Some((_, "upstream")) => Ok(Direction::Upstream),
        Some((_, "downstream")) => Ok(Direction::Downstream),
        Some((_, "both")) => Ok(Direction::Both),
        Some((t, found)) => Err(cx.at(
            t,
            "nemesis.slow.direction",
            format!(
                "expected one of upstream (requests), downstream (responses), both, found \
                 {found:?}"
            ),
        )),
    }
}
