//! `shop orders|inventory|payments [--listen ADDR] [--db FILE] [--nats URL] ...`: see
//! `shop --help` and the README.

use std::process::ExitCode;

use shop::args::USAGE;
use shop::{Command, bus, service};
use tokio::signal::unix::{Signal, SignalKind, signal};

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let cmd = match Command::parse(args, std::env::var("SHOP_BUGS").ok()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("shop: {e}");
            return ExitCode::from(2);
        }
    };
    let role = cmd.role;
    // Before the startup line: whoever reads it may signal at once.
    let shutdown = match Shutdown::install() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("shop {role}: failed to install the SIGINT/SIGTERM handlers: {e}");
            return ExitCode::from(1);
        }
    };
    let shared = match service::Shared::open(cmd.clone()).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("shop {role}: {e}");
            return ExitCode::from(1);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&cmd.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("shop {role}: failed to listen on {}: {e}", cmd.listen);
            return ExitCode::from(1);
        }
    };
    // The bound address, not the requested one: with port 0 this line says which port.
    let addr = listener
        .local_addr()
        .map_or_else(|_| cmd.listen.clone(), |a| a.to_string());
    eprintln!(
        "shop {role} listening on {addr}, db {}, nats {}, bugs: {}",
        cmd.db,
        cmd.nats,
        cmd.bugs.describe()
    );
    tokio::spawn(bus::run(shared.clone()));
    let served = tokio::select! {
        r = axum::serve(listener, service::app(shared)) => r,
        () = shutdown.wait() => Ok(()),
    };
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("shop {role}: {e}");
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
