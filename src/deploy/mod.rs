//! `[deploy]`: the system under test as containers splitbrain brings up itself, the way
//! testcontainers does for a test: a network of their own, each container started in the
//! order written and waited for until healthy, the workload pointed at them, and everything
//! removed at the end (`--keep` leaves it up; `splitbrain down` removes what a run left).
//!
//! `mod.rs` is the plan, pure and checked by `workload::validate`; `docker.rs` does it through
//! the Docker API (bollard).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

mod docker;

pub use docker::{DeployError, Deployment, down};

/// The label every container, network and volume of a deployment carries, with the
/// deployment's network name as its value: how `splitbrain down` finds what a run left.
pub const LABEL: &str = "io.splitbrain.deploy";

/// What `[deploy]` asks for.
#[derive(Clone, Debug, PartialEq)]
pub struct DeployPlan {
    /// The Docker network the containers share; also the prefix of their container and
    /// volume names (`shop-orders`, `shop-orders-data`).
    pub network: String,
    /// How long one container may take to become healthy.
    pub startup_timeout: Duration,
    /// In start order.
    pub containers: Vec<ContainerSpec>,
}

/// One `[[deploy.containers]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ContainerSpec {
    /// The node name, and the host name the other containers and the workload use.
    pub name: String,
    pub image: String,
    /// Arguments after the image's entrypoint; empty = the image's own.
    pub command: Vec<String>,
    /// Environment; values may hold `${VAR}` (from splitbrain's environment when it starts
    /// them; never logged).
    pub env: Vec<(String, String)>,
    pub volumes: Vec<Volume>,
    /// More host names on the network.
    pub aliases: Vec<String>,
    pub health: Option<Health>,
    /// Container ports published on 127.0.0.1 (a free host port each): those the workload's
    /// URLs and the health check use.
    pub ports: BTreeSet<u16>,
}

/// A volume mounted into a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Volume {
    /// `NAME:/path`: a Docker volume of the deployment (`NETWORK-NAME`), created empty for
    /// the run and kept across the container's kills and restarts.
    Named { name: String, path: String },
    /// `/host/path:/path`: a folder of the host, never removed.
    Bind { host: String, path: String },
}

/// When a started container counts as up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// `GET path` on the container's port answers 2xx.
    Http { path: String, port: u16 },
    /// The port accepts a TCP connection.
    Tcp { port: u16 },
    /// The container has written this text to stdout or stderr.
    Log { text: String },
}

impl DeployPlan {
    /// The Docker name of the container `name` (`NETWORK-NAME`).
    pub fn container_name(&self, name: &str) -> String {
        format!("{}-{name}", self.network)
    }

    /// The Docker name of the volume `name` (`NETWORK-NAME`).
    pub fn volume_name(&self, name: &str) -> String {
        format!("{}-{name}", self.network)
    }

    /// The container a host name in a URL is (its name or one of its aliases).
    pub fn by_host(&self, host: &str) -> Option<&ContainerSpec> {
        self.containers
            .iter()
            .find(|c| c.name == host || c.aliases.iter().any(|a| a == host))
    }
}

/// Host ports the containers' published ports landed on: (container name, container port)
/// → host port on 127.0.0.1.
pub type Published = BTreeMap<(String, u16), u16>;

/// `url` with its host replaced by `127.0.0.1:HOSTPORT` when it names a deployed container
/// (by name or alias) on a published port; otherwise `None`. The port is the URL's own, or
/// the scheme's default.
pub fn rewrite_url(plan: &DeployPlan, published: &Published, url: &str) -> Option<String> {
    let (host, port) = url_host_port(url)?;
    let container = plan.by_host(&host)?;
    let host_port = published.get(&(container.name.clone(), port))?;
    let mut parsed = reqwest::Url::parse(url).ok()?;
    parsed.set_host(Some("127.0.0.1")).ok()?;
    parsed.set_port(Some(*host_port)).ok()?;
    let text = parsed.to_string();
    // Url adds a trailing slash to an empty path; base URLs are kept without one.
    Some(if url.ends_with('/') {
        text
    } else {
        text.trim_end_matches('/').to_owned()
    })
}

/// The host and port of an http(s) URL (the scheme's default port when none is written).
pub fn url_host_port(url: &str) -> Option<(String, u16)> {
    let parsed = reqwest::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_owned();
    let port = parsed.port_or_known_default()?;
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> DeployPlan {
        DeployPlan {
            network: "shop".into(),
            startup_timeout: Duration::from_secs(60),
            containers: vec![ContainerSpec {
                name: "orders".into(),
                image: "splitbrain/shop:dev".into(),
                command: vec![],
                env: vec![],
                volumes: vec![],
                aliases: vec!["orders-svc".into()],
                health: None,
                ports: [8080].into(),
            }],
        }
    }

    #[test]
    fn urls_naming_a_container_go_to_its_published_port() {
        let plan = plan();
        let published: Published = [(("orders".to_owned(), 8080), 40001)].into();
        assert_eq!(
            rewrite_url(&plan, &published, "http://orders:8080").as_deref(),
            Some("http://127.0.0.1:40001")
        );
        assert_eq!(
            rewrite_url(&plan, &published, "http://orders-svc:8080/api").as_deref(),
            Some("http://127.0.0.1:40001/api")
        );
        // Another port, another host: left alone.
        assert_eq!(rewrite_url(&plan, &published, "http://orders:9090"), None);
        assert_eq!(rewrite_url(&plan, &published, "http://10.0.0.1:8080"), None);
    }

    #[test]
    fn names_are_prefixed_with_the_network() {
        let plan = plan();
        assert_eq!(plan.container_name("orders"), "shop-orders");
        assert_eq!(plan.volume_name("orders-data"), "shop-orders-data");
        assert_eq!(
            url_host_port("http://orders"),
            Some(("orders".to_owned(), 80))
        );
    }
}
