//! Reports: the terminal summary now; HTML and JUnit later.
