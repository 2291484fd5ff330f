//! A dependency cycle drawn as inline SVG, rendered here so it reads without the script: the
//! transactions as nodes on a circle in cycle order, clockwise from the top, and one curved
//! arrow per step, labelled with its number and edge kind (ww, wr, rw, process, realtime),
//! each kind with its own colour and dash (`style.css`, `.ek-KIND`). Bowing every arrow
//! outward keeps a two-step cycle's arrows apart.

use std::f64::consts::PI;
use std::fmt::Write;

use super::escape::esc;

/// The edge kinds, with what each says, for the legend.
pub const EDGE_KINDS: [(&str, &str); 5] = [
    ("ww", "wrote the version after"),
    ("wr", "read what it wrote"),
    ("rw", "read a version it overwrote"),
    ("process", "ran before it on the same process"),
    ("realtime", "completed before it began"),
];

/// One step of a cycle: `from →edge to`.
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub edge: &'a str,
}

/// Where everything goes: node radius, circle radius, canvas size.
struct Layout {
    node: f64,
    circle: f64,
    size: f64,
}

impl Layout {
    fn of(nodes: &[&str]) -> Layout {
        let longest = nodes.iter().map(|n| n.chars().count()).max().unwrap_or(1) as f64;
        let node = (4.2 * longest + 8.0).max(20.0);
        let n = nodes.len().max(2) as f64;
        // Adjacent nodes stay a node and an arrow with its label apart, however many.
        let circle = ((2.0 * node + 80.0) / (2.0 * (PI / n).sin())).max(100.0);
        let size = 2.0 * (circle + node + 36.0);
        Layout { node, circle, size }
    }

    fn centre(&self, i: usize, n: usize) -> (f64, f64) {
        let angle = -PI / 2.0 + 2.0 * PI * i as f64 / n as f64;
        let c = self.size / 2.0;
        (c + self.circle * angle.cos(), c + self.circle * angle.sin())
    }
}

/// The nodes in first-seen order (a cycle visits each once; a repeat is drawn once).
fn nodes<'a>(steps: &[Step<'a>]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for s in steps {
        for name in [s.from, s.to] {
            if !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

/// The cycle as an `<svg>`; `id` keeps its arrowheads' ids apart from other diagrams'.
pub fn draw(id: usize, steps: &[Step]) -> String {
    let names = nodes(steps);
    let layout = Layout::of(&names);
    let at = |name: &str| {
        let i = names.iter().position(|n| *n == name).unwrap_or(0);
        layout.centre(i, names.len())
    };
    let size = layout.size.round();
    let mut out = format!(
        "<svg class=\"elle-svg\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {size} {size}\" \
         width=\"{size}\" height=\"{size}\" role=\"img\" aria-label=\"dependency cycle of {} \
         transactions\"><defs>",
        names.len()
    );
    for (kind, _) in EDGE_KINDS {
        let _ = write!(
            out,
            "<marker id=\"elle-{id}-{kind}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
             <path class=\"head ek-{kind}\" d=\"M0,0 L10,5 L0,10 z\"/></marker>"
        );
    }
    out.push_str("</defs>");
    for (i, step) in steps.iter().enumerate() {
        out.push_str(&arrow(id, i + 1, step, at(step.from), at(step.to), &layout));
    }
    for name in &names {
        let (x, y) = at(name);
        let _ = write!(
            out,
            "<g class=\"elle-node\"><circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"{:.1}\"/>\
             <text x=\"{x:.1}\" y=\"{y:.1}\" dy=\".35em\">{}</text></g>",
            layout.node,
            esc(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// A kind we draw, or "other" for one we do not know (drawn grey, labelled as given).
fn kind_class(edge: &str) -> &str {
    if EDGE_KINDS.iter().any(|(k, _)| *k == edge) {
        edge
    } else {
        "other"
    }
}

/// Step `n`'s arrow: a quadratic curve between the node rims, bowed to its left (outward,
/// as the nodes go clockwise), with its label at the bow.
fn arrow(id: usize, n: usize, step: &Step, a: (f64, f64), b: (f64, f64), l: &Layout) -> String {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let chord = (dx * dx + dy * dy).sqrt().max(1.0);
    let (ux, uy) = (dx / chord, dy / chord);
    // The left normal in screen coordinates (y down), pointing out of the circle.
    let (nx, ny) = (uy, -ux);
    let bow = chord * 0.18 + 12.0;
    let mid = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    let ctrl = (mid.0 + nx * bow, mid.1 + ny * bow);
    let rim = |from: (f64, f64), to: (f64, f64), gap: f64| {
        let (x, y) = (to.0 - from.0, to.1 - from.1);
        let d = (x * x + y * y).sqrt().max(1.0);
        (from.0 + x / d * gap, from.1 + y / d * gap)
    };
    let start = rim(a, ctrl, l.node + 2.0);
    let end = rim(b, ctrl, l.node + 3.0);
    // The curve's midpoint, and the label a little further out.
    let top = (
        0.25 * start.0 + 0.5 * ctrl.0 + 0.25 * end.0,
        0.25 * start.1 + 0.5 * ctrl.1 + 0.25 * end.1,
    );
    let label = (top.0 + nx * 14.0, top.1 + ny * 14.0);
    let kind = kind_class(step.edge);
    let marker = if kind == "other" { "ww" } else { kind };
    format!(
        "<g class=\"elle-edge ek-{kind}\" data-edge=\"{}\" data-step=\"{n}\">\
         <title>{n}. {} →{} {}</title>\
         <path d=\"M{:.1},{:.1} Q{:.1},{:.1} {:.1},{:.1}\" marker-end=\"url(#elle-{id}-{marker})\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" dy=\".35em\"><tspan class=\"step-n\">{n}</tspan> {}</text></g>",
        esc(step.edge),
        esc(step.from),
        esc(step.edge),
        esc(step.to),
        start.0,
        start.1,
        ctrl.0,
        ctrl.1,
        end.0,
        end.1,
        label.0,
        label.1,
        esc(step.edge),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps<'a>(cycle: &[(&'a str, &'a str, &'a str)]) -> Vec<Step<'a>> {
        cycle
            .iter()
            .map(|&(from, edge, to)| Step { from, to, edge })
            .collect()
    }

    #[test]
    fn a_cycle_draws_one_node_per_transaction_and_one_labelled_arrow_per_step() {
        let s = steps(&[("T6", "rw", "T2"), ("T2", "wr", "T4"), ("T4", "ww", "T6")]);
        let svg = draw(0, &s);
        assert_eq!(svg.matches("<g class=\"elle-node\">").count(), 3, "{svg}");
        assert_eq!(svg.matches("<g class=\"elle-edge").count(), 3);
        assert!(svg.contains("data-edge=\"rw\" data-step=\"1\""), "{svg}");
        assert!(svg.contains("<tspan class=\"step-n\">3</tspan> ww</text>"));
        assert!(svg.contains("marker-end=\"url(#elle-0-wr)\""));
        assert!(svg.contains("<title>1. T6 →rw T2</title>"));
    }

    #[test]
    fn the_two_arrows_of_a_two_step_cycle_bow_apart() {
        let s = steps(&[("T1", "rw", "T2"), ("T2", "rw", "T1")]);
        let svg = draw(4, &s);
        let controls: Vec<&str> = svg
            .split(" Q")
            .skip(1)
            .map(|rest| rest.split(' ').next().unwrap_or_default())
            .collect();
        assert_eq!(controls.len(), 2, "{svg}");
        assert_ne!(controls[0], controls[1], "the arrows would overlap");
    }

    #[test]
    fn a_longer_cycle_gets_a_larger_circle_and_names_are_escaped() {
        let three = draw(
            0,
            &steps(&[("a", "ww", "b"), ("b", "ww", "c"), ("c", "ww", "a")]),
        );
        let names: Vec<String> = (0..16).map(|i| format!("T{i}")).collect();
        let long: Vec<Step> = (0..16)
            .map(|i| Step {
                from: &names[i],
                to: &names[(i + 1) % 16],
                edge: "<b>",
            })
            .collect();
        let sixteen = draw(1, &long);
        let width = |svg: &str| -> f64 {
            let w = svg.split("width=\"").nth(1).unwrap_or_default();
            w.split('"')
                .next()
                .unwrap_or_default()
                .parse()
                .unwrap_or(0.0)
        };
        assert!(width(&sixteen) > 2.0 * width(&three), "{}", width(&sixteen));
        assert!(!sixteen.contains("<b>"), "an unknown kind is escaped");
        assert!(sixteen.contains("class=\"elle-edge ek-other\" data-edge=\"&lt;b&gt;\""));
    }
}
