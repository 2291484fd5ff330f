//! `toyset --listen 127.0.0.1:8080 [--bugs lose-every=100,stale-kv-every=10,...]`

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut bugs = std::env::var("TOYSET_BUGS").unwrap_or_default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--listen", Some(v)) => listen = v,
            ("--bugs", Some(v)) => bugs = v,
            _ => {
                eprintln!(
                    "usage: toyset [--listen ADDR] [--bugs lose-every=N,duplicate-every=N,slow-every=N,slow-ms=MS,stale-kv-every=N,unisolated-txn-every=N]"
                );
                return ExitCode::from(2);
            }
        }
    }
    let bugs = match toyset::Bugs::parse(&bugs) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("toyset: {e}");
            return ExitCode::from(2);
        }
    };
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("toyset: failed to listen on {listen}: {e}");
            return ExitCode::from(1);
        }
    };
    eprintln!("toyset listening on {listen} with bugs {bugs:?}");
    let serve = toyset::serve(listener, bugs);
    tokio::select! {
        r = serve => if let Err(e) = r { eprintln!("toyset: {e}"); return ExitCode::from(1); },
        _ = tokio::signal::ctrl_c() => {}
    }
    ExitCode::SUCCESS
}
