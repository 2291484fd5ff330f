//! `replicas primary|replica [--listen ADDR] ...`: see `replicas --help` and the README.

use std::process::ExitCode;

use replicas::{Command, args::USAGE, primary, replica};
use tokio::signal::unix::{Signal, SignalKind, signal};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let command = match Command::parse(args, std::env::var("REPLICAS_BUGS").ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("replicas: {e}");
            return ExitCode::from(2);
        }
    };
    let role = command.role();
    // Before the startup line: whoever reads it may signal at once.
    let shutdown = match Shutdown::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("replicas {role}: failed to install the SIGINT/SIGTERM handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(command.listen()).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "replicas {role}: failed to listen on {}: {e}",
                command.listen()
            );
            return ExitCode::from(1);
        }
    };
    // The bound address, not the requested one: with port 0 this line says which port.
    let addr = listener
        .local_addr()
        .map_or_else(|_| command.listen().to_owned(), |a| a.to_string());
    let described = command.bugs().describe(role);
    let served = match command {
        Command::Primary {
            stock,
            accounts,
            balance,
            bugs,
            ..
        } => {
            eprintln!("replicas primary listening on {addr}, bugs: {described}");
            let bank = (accounts, balance);
            tokio::select! {
                r = axum::serve(listener, primary::app(bugs, stock, bank)) => r,
                () = shutdown.wait() => Ok(()),
            }
        }
        Command::Replica { config, .. } => {
            eprintln!(
                "replicas replica listening on {addr}, pulling from {} every {:?}, bugs: {described}",
                config.primary, config.poll
            );
            tokio::select! {
                r = replica::serve(listener, config) => r,
                () = shutdown.wait() => Ok(()),
            }
        }
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("replicas {role}: {e}");
            ExitCode::from(1)
        }
    }
}

/// SIGINT (Ctrl-C) and SIGTERM, caught from the moment of `install`.
struct Shutdown {
    interrupt: Signal,
    terminate: Signal,
}

impl Shutdown {
    fn install() -> std::io::Result<Shutdown> {
        Ok(Shutdown {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves on the first of the two.
    async fn wait(mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}
