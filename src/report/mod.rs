//! What a person sees: the terminal summary, `report.html` (`html/`), and what a CI job
//! reads (`ci`: junit.xml, GitHub's step summary and annotations, reports/index.html). The
//! report never decides validity; it shows what the checkers decided.

pub mod ci;
pub mod html;
mod summary;

pub use summary::{Figures, summary};
