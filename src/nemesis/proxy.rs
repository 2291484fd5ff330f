//! The fault proxy: a TCP proxy that splitbrain puts between two services to slow, cut, reset
//! or refuse one link, because the kernels splitbrain runs on here have no netem. It decides
//! what a toxic does to the bytes of live and new connections, and follows Toxiproxy's model
//! (a listener per link, toxics per direction, `upstream` = client → server); the facts carry
//! over, the code is ours.
//!
//! Point service A at [`FaultProxy::local_addr`] instead of at B, then [`FaultProxy::set`]
//! toxics and [`FaultProxy::clear`] them to heal. Toxics are read by each copy loop on each
//! chunk, so they reach connections that are already open.

mod connection;
mod delay;
mod toxic;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

pub use toxic::{Direction, Toxic};

use connection::Link;
use toxic::ToxicSet;

/// A proxy that could not start.
#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    /// The listening socket could not be bound (address in use, no permission, ...).
    #[error("failed to bind fault proxy {name:?} on {addr}: {source}")]
    Bind {
        /// The proxy's name.
        name: String,
        /// The address it tried to listen on.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
}

/// One listener forwarding every connection to one upstream, through the active toxics.
///
/// Dropping a `FaultProxy` stops it too (in the background); [`FaultProxy::shutdown`] waits
/// until every connection is closed.
#[derive(Debug)]
pub struct FaultProxy {
    name: String,
    local_addr: SocketAddr,
    upstream: SocketAddr,
    toxics: watch::Sender<ToxicSet>,
    accept_task: JoinHandle<()>,
}

impl FaultProxy {
    /// Binds `listen` (port 0 picks a free port) and starts forwarding to `upstream`, with no
    /// toxic. `seed` pins the latency jitter: the same seed and the same connection order
    /// give the same delays.
    pub async fn start(
        name: &str,
        listen: SocketAddr,
        upstream: SocketAddr,
        seed: u64,
    ) -> Result<FaultProxy, ProxyError> {
        let bind_error = |source| ProxyError::Bind {
            name: name.to_owned(),
            addr: listen,
            source,
        };
        let listener = TcpListener::bind(listen).await.map_err(bind_error)?;
        let local_addr = listener.local_addr().map_err(bind_error)?;
        let (toxics, watching) = watch::channel(ToxicSet::default());
        let accept_task = tokio::spawn(accept_loop(listener, upstream, watching, seed));
        Ok(FaultProxy {
            name: name.to_owned(),
            local_addr,
            upstream,
            toxics,
            accept_task,
        })
    }

    /// The proxy's name, as given to [`FaultProxy::start`].
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the proxy listens: the address to give the client instead of the upstream's.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Where the proxy forwards to.
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// Activates `toxic`, replacing the active toxic of the same kind. It applies to new
    /// connections and to the next chunk of existing ones (a reset closes them at once).
    pub fn set(&self, toxic: Toxic) {
        self.toxics.send_modify(|set| set.set(toxic));
    }

    /// Heals: removes every toxic. Existing connections flow normally from their next chunk,
    /// blackholed ones included (what was dropped stays dropped).
    pub fn clear(&self) {
        self.toxics.send_if_modified(ToxicSet::clear);
    }

    /// The active toxics, for the history's nemesis events and for `heal`.
    pub fn toxics(&self) -> Vec<Toxic> {
        self.toxics.borrow().list()
    }

    /// Stops listening and closes every connection, then returns.
    pub async fn shutdown(self) {
        let FaultProxy {
            toxics,
            accept_task,
            ..
        } = self;
        drop(toxics); // the accept loop and every connection see the sender go
        let _ = accept_task.await;
    }
}

/// Accepts clients until the proxy's toxic sender is dropped, then closes every connection.
async fn accept_loop(
    listener: TcpListener,
    upstream: SocketAddr,
    toxics: watch::Receiver<ToxicSet>,
    seed: u64,
) {
    let mut stopping = toxics.clone();
    let mut connections = JoinSet::new();
    let mut index = 0u64;
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((client, _)) => {
                    let link = Link { upstream, toxics: toxics.clone(), seed, index };
                    connections.spawn(connection::serve(client, link));
                    index += 1;
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            changed = stopping.changed() => {
                if changed.is_err() {
                    break;
                }
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    connections.shutdown().await;
}
