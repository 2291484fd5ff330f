//! The `splitbrain` binary: everything happens in `cli`.

mod cli;
mod cli_linear;
mod cli_model;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(cli::main())
}
