//! What a person sees: the terminal summary and `report.html` (`html/`). The report never
//! decides validity; it shows what the checkers decided.

pub mod html;
mod summary;

pub use summary::{Figures, summary};
