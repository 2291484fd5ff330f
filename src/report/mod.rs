//! What a person sees: the terminal summary now (HTML and JUnit come with issue 6). The report
//! never decides validity; it shows what the checkers decided.

mod summary;

pub use summary::{Figures, summary};
