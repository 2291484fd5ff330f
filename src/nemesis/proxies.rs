//! The workload's fault proxies (`[[nemesis.proxies]]`) for one run: they live inside the
//! splitbrain process from before the workload to before the check, and are where `slow`
//! lands whatever the backend: its toxic on every proxy of the nodes it hits, cleared on heal.
//! Because they live in the process, a killed run leaves no toxic behind.

use std::sync::Mutex;

use serde_json::json;

use super::plan::ProxySpec;
use super::proxy::{FaultProxy, ProxyError, Toxic};

/// The running proxies, each with the node its link leads to.
#[derive(Debug, Default)]
pub struct Proxies {
    /// Emptied by [`Proxies::shutdown`].
    running: Mutex<Vec<(String, FaultProxy)>>,
}

impl Proxies {
    /// Starts one proxy per spec, the i-th seeded with `seed ^ i` so its jitter is
    /// reproducible. Already started proxies stop (by `Drop`) if a later one fails to bind.
    pub async fn start(specs: &[ProxySpec], seed: u64) -> Result<Proxies, ProxyError> {
        let mut running = Vec::with_capacity(specs.len());
        for (i, spec) in (0u64..).zip(specs) {
            let proxy =
                FaultProxy::start(&spec.name(), spec.listen, spec.upstream, seed ^ i).await?;
            running.push((spec.node.clone(), proxy));
        }
        Ok(Proxies {
            running: Mutex::new(running),
        })
    }

    /// Sets `toxic` on every proxy of `nodes`; returns what the history says of it.
    pub fn inject(&self, nodes: &[String], toxic: &Toxic) -> serde_json::Value {
        self.each(nodes, |proxy| proxy.set(toxic.clone()))
    }

    /// Clears every proxy of `nodes` (safe when nothing is set).
    pub fn heal(&self, nodes: &[String]) -> serde_json::Value {
        self.each(nodes, FaultProxy::clear)
    }

    /// Clears every proxy; returns the names of those that had a toxic.
    pub fn heal_all(&self) -> Vec<String> {
        let running = self
            .running
            .lock()
            .expect("no panic while holding the lock");
        running
            .iter()
            .filter(|(_, proxy)| !proxy.toxics().is_empty())
            .map(|(_, proxy)| {
                proxy.clear();
                proxy.name().to_owned()
            })
            .collect()
    }

    /// Stops every proxy and waits until its connections are closed.
    pub async fn shutdown(&self) {
        let running = std::mem::take(&mut *self.running.lock().expect("no panic holding it"));
        for (_, proxy) in running {
            proxy.shutdown().await;
        }
    }

    /// `act` on every proxy of `nodes`; each proxy's name, addresses and active toxics after.
    fn each(&self, nodes: &[String], act: impl Fn(&FaultProxy)) -> serde_json::Value {
        let running = self
            .running
            .lock()
            .expect("no panic while holding the lock");
        let touched = running
            .iter()
            .filter(|(node, _)| nodes.contains(node))
            .map(|(_, proxy)| {
                act(proxy);
                json!({
                    "proxy": proxy.name(),
                    "listen": proxy.local_addr().to_string(),
                    "upstream": proxy.upstream().to_string(),
                    "toxics": proxy.toxics(),
                })
            })
            .collect();
        serde_json::Value::Array(touched)
    }
}
