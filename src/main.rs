//! The `splitbrain` binary: everything happens in `cli`.

mod cli;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(cli::main())
}
