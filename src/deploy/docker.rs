//! Brings a [`DeployPlan`] up and down through the Docker API (bollard, the API version
//! negotiated with the engine), after testcontainers' model: a network per deployment, each
//! container started in order and polled until its health check passes, its last log lines
//! when it does not, and removal at the end. bollard directly rather than testcontainers
//! 0.28 (which wraps the same bollard 0.21): a deployment needs network aliases, labels that
//! let `splitbrain down` find what a killed run left, removal that has finished when the
//! command returns (testcontainers removes in `Drop`, on a background task), and `--keep`.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkCreateRequest, NetworkingConfig,
    PortBinding, VolumeCreateRequest,
};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, ListContainersOptions, ListNetworksOptions,
    ListVolumesOptions, LogsOptions, RemoveContainerOptions, RemoveVolumeOptions,
    StartContainerOptions,
};
use futures_util::StreamExt;

use super::{ContainerSpec, DeployPlan, Health, LABEL, Published, Volume};

/// Lines of a container's log shown when it fails to start.
const LOG_LINES: usize = 30;

/// Why a deployment could not be brought up or down. The CLI maps all of them to exit 4
/// (the system under test could not be reached).
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(
        "failed to reach Docker at {host}: {reason} (is the daemon running, and may this user \
         use its socket?)"
    )]
    Unreachable { host: String, reason: String },
    #[error(
        "container {name}: image {image:?} is not in the local Docker (no image is pulled here: \
         build it first, e.g. `bash scripts/build-images.sh`)"
    )]
    NoImage { name: String, image: String },
    #[error(
        "deployment {network:?} is already up ({what}): left by a run with --keep or a killed \
         one; `splitbrain down WORKLOAD` removes it"
    )]
    Leftover { network: String, what: String },
    #[error(
        "container {name}: environment variable {var} is not set (its env refers to it as \
         ${{{var}}})"
    )]
    MissingEnv { name: String, var: String },
    #[error("failed to {what}: {reason}")]
    Docker { what: String, reason: String },
    #[error(
        "container {name} ({image}) did not become healthy within {timeout}: {why}\n\
         its last log lines:\n{logs}"
    )]
    NotHealthy {
        name: String,
        image: String,
        timeout: String,
        why: String,
        logs: String,
    },
}

/// A deployment that is up: its containers run and passed their health checks.
pub struct Deployment {
    docker: Docker,
    plan: DeployPlan,
    /// Container IDs by name, in start order.
    ids: Vec<(String, String)>,
    /// Where each published port landed.
    pub published: Published,
}

impl std::fmt::Debug for Deployment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deployment")
            .field("network", &self.plan.network)
            .field("ids", &self.ids)
            .field("published", &self.published)
            .finish()
    }
}

impl Deployment {
    /// Creates the network and volumes, then starts each container in order and waits until
    /// it is healthy. `env` resolves `${VAR}` in the containers' environment; `progress`
    /// hears one line per step. On failure everything created so far is removed again.
    pub async fn up(
        plan: &DeployPlan,
        env: impl Fn(&str) -> Option<String>,
        progress: impl Fn(String),
    ) -> Result<Deployment, DeployError> {
        let envs = plan
            .containers
            .iter()
            .map(|c| resolve_env(c, &env))
            .collect::<Result<Vec<_>, _>>()?;
        let docker = connect().await?;
        for container in &plan.containers {
            if docker.inspect_image(&container.image).await.is_err() {
                return Err(DeployError::NoImage {
                    name: container.name.clone(),
                    image: container.image.clone(),
                });
            }
        }
        if let Some(what) = leftovers(&docker, &plan.network).await?.first() {
            return Err(DeployError::Leftover {
                network: plan.network.clone(),
                what: what.clone(),
            });
        }
        let mut deployment = Deployment {
            docker,
            plan: plan.clone(),
            ids: Vec::new(),
            published: Published::new(),
        };
        match deployment.create(&envs, &progress).await {
            Ok(()) => Ok(deployment),
            Err(e) => {
                progress(format!(
                    "deploy failed; removing deployment {}",
                    plan.network
                ));
                deployment.remove().await;
                Err(e)
            }
        }
    }

    async fn create(
        &mut self,
        envs: &[Vec<String>],
        progress: &impl Fn(String),
    ) -> Result<(), DeployError> {
        let labels = || HashMap::from([(LABEL.to_owned(), self.plan.network.clone())]);
        self.docker
            .create_network(NetworkCreateRequest {
                name: self.plan.network.clone(),
                driver: Some("bridge".into()),
                labels: Some(labels()),
                ..Default::default()
            })
            .await
            .map_err(|e| api(format!("create network {}", self.plan.network), e))?;
        for container in &self.plan.containers {
            for volume in &container.volumes {
                if let Volume::Named { name, .. } = volume {
                    let full = self.plan.volume_name(name);
                    self.docker
                        .create_volume(VolumeCreateRequest {
                            name: Some(full.clone()),
                            labels: Some(labels()),
                            ..Default::default()
                        })
                        .await
                        .map_err(|e| api(format!("create volume {full}"), e))?;
                }
            }
        }
        let plan = self.plan.clone();
        for (container, env) in plan.containers.iter().zip(envs) {
            let started = Instant::now();
            let id = self.start(container, env.clone()).await?;
            self.ids.push((container.name.clone(), id.clone()));
            self.wait_healthy(container, &id).await?;
            progress(format!(
                "deployed {} ({}) healthy in {:.1} s",
                container.name,
                container.image,
                started.elapsed().as_secs_f64()
            ));
        }
        Ok(())
    }

    async fn start(
        &mut self,
        spec: &ContainerSpec,
        env: Vec<String>,
    ) -> Result<String, DeployError> {
        let name = self.plan.container_name(&spec.name);
        let mut bindings = HashMap::new();
        for port in &spec.ports {
            let host_port =
                free_port().map_err(|e| api("find a free port on 127.0.0.1".to_owned(), e))?;
            self.published.insert((spec.name.clone(), *port), host_port);
            bindings.insert(
                format!("{port}/tcp"),
                Some(vec![PortBinding {
                    host_ip: Some("127.0.0.1".into()),
                    host_port: Some(host_port.to_string()),
                }]),
            );
        }
        let binds = spec
            .volumes
            .iter()
            .map(|v| match v {
                Volume::Named { name, path } => format!("{}:{path}", self.plan.volume_name(name)),
                Volume::Bind { host, path } => format!("{host}:{path}"),
            })
            .collect();
        let aliases = std::iter::once(spec.name.clone())
            .chain(spec.aliases.iter().cloned())
            .collect();
        let body = ContainerCreateBody {
            image: Some(spec.image.clone()),
            cmd: (!spec.command.is_empty()).then(|| spec.command.clone()),
            env: Some(env),
            exposed_ports: Some(spec.ports.iter().map(|p| format!("{p}/tcp")).collect()),
            labels: Some(HashMap::from([
                (LABEL.to_owned(), self.plan.network.clone()),
                (format!("{LABEL}.name"), spec.name.clone()),
            ])),
            host_config: Some(HostConfig {
                network_mode: Some(self.plan.network.clone()),
                binds: Some(binds),
                port_bindings: Some(bindings),
                ..Default::default()
            }),
            networking_config: Some(NetworkingConfig {
                endpoints_config: Some(HashMap::from([(
                    self.plan.network.clone(),
                    EndpointSettings {
                        aliases: Some(aliases),
                        ..Default::default()
                    },
                )])),
            }),
            ..Default::default()
        };
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            ..Default::default()
        };
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| api(format!("create container {name}"), e))?;
        self.docker
            .start_container(&created.id, None::<StartContainerOptions>)
            .await
            .map_err(|e| api(format!("start container {name}"), e))?;
        Ok(created.id)
    }

    /// Polls the health check every 200 ms until it passes, the container exits, or the
    /// startup timeout passes.
    async fn wait_healthy(&self, spec: &ContainerSpec, id: &str) -> Result<(), DeployError> {
        let deadline = Instant::now() + self.plan.startup_timeout;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(1))
            .build()
            .map_err(|e| api("build an HTTP client".to_owned(), e))?;
        let mut why = "no health check has passed yet".to_owned();
        loop {
            let info = self
                .docker
                .inspect_container(id, None::<InspectContainerOptions>)
                .await
                .map_err(|e| api(format!("inspect container {}", spec.name), e))?;
            let state = info.state.unwrap_or_default();
            if state.running != Some(true) {
                why = format!("it exited with code {}", state.exit_code.unwrap_or(-1));
                break;
            }
            let passed = match &spec.health {
                None => true,
                Some(Health::Http { path, port }) => {
                    let url = format!(
                        "http://127.0.0.1:{}{path}",
                        self.published[&(spec.name.clone(), *port)]
                    );
                    match http.get(&url).send().await {
                        Ok(r) if r.status().is_success() => true,
                        Ok(r) => {
                            why = format!("GET {path} on port {port} answered {}", r.status());
                            false
                        }
                        Err(e) => {
                            why = format!("GET {path} on port {port} failed: {e}");
                            false
                        }
                    }
                }
                Some(Health::Tcp { port }) => {
                    let host_port = self.published[&(spec.name.clone(), *port)];
                    // Docker's port proxy accepts at once: a byte read tells whether the
                    // container took the connection (a closed one reads 0 bytes at once).
                    match tcp_open(host_port).await {
                        Ok(()) => true,
                        Err(e) => {
                            why = format!("port {port} does not accept connections: {e}");
                            false
                        }
                    }
                }
                Some(Health::Log { text }) => {
                    let logs = self.logs(id, None).await;
                    let found = logs.contains(text.as_str());
                    if !found {
                        why = format!("its log does not show {text:?} yet");
                    }
                    found
                }
            };
            if passed {
                return Ok(());
            }
            if Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Err(DeployError::NotHealthy {
            name: spec.name.clone(),
            image: spec.image.clone(),
            timeout: humantime::format_duration(self.plan.startup_timeout).to_string(),
            why,
            logs: self.logs(id, Some(LOG_LINES)).await,
        })
    }

    /// A container's stdout and stderr (the last `tail` lines, or all).
    async fn logs(&self, id: &str, tail: Option<usize>) -> String {
        let options = LogsOptions {
            stdout: true,
            stderr: true,
            tail: tail.map_or_else(|| "all".to_owned(), |n| n.to_string()),
            ..Default::default()
        };
        let mut stream = self.docker.logs(id, Some(options));
        let mut out = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
        }
        out
    }

    /// Writes each container's whole log to `dir/NAME.log`.
    pub async fn save_logs(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, id) in &self.ids {
            std::fs::write(dir.join(format!("{name}.log")), self.logs(id, None).await)?;
        }
        Ok(())
    }

    /// The Docker names of the containers, in start order.
    pub fn container_names(&self) -> Vec<String> {
        self.ids
            .iter()
            .map(|(name, _)| self.plan.container_name(name))
            .collect()
    }

    /// Removes the containers (killed), then the volumes and the network. Best effort: what
    /// cannot be removed is left for `splitbrain down`.
    pub async fn remove(self) -> Vec<String> {
        remove_labelled(&self.docker, &self.plan.network).await
    }
}

/// `splitbrain down`: removes whatever a deployment left (containers, volumes, network),
/// found by its label. Returns what was removed.
pub async fn down(network: &str) -> Result<Vec<String>, DeployError> {
    let docker = connect().await?;
    Ok(remove_labelled(&docker, network).await)
}

async fn remove_labelled(docker: &Docker, network: &str) -> Vec<String> {
    let mut removed = Vec::new();
    let filters = label_filter(network);
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .unwrap_or_default();
    for container in containers {
        let Some(id) = container.id else { continue };
        let name = container
            .names
            .and_then(|n| n.first().cloned())
            .unwrap_or_else(|| id.clone());
        let options = RemoveContainerOptions {
            force: true,
            ..Default::default()
        };
        if docker.remove_container(&id, Some(options)).await.is_ok() {
            removed.push(format!("container {}", name.trim_start_matches('/')));
        }
    }
    let volumes = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .ok()
        .and_then(|r| r.volumes)
        .unwrap_or_default();
    for volume in volumes {
        if docker
            .remove_volume(&volume.name, None::<RemoveVolumeOptions>)
            .await
            .is_ok()
        {
            removed.push(format!("volume {}", volume.name));
        }
    }
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters),
        }))
        .await
        .unwrap_or_default();
    for net in networks {
        let Some(name) = net.name else { continue };
        if docker.remove_network(&name).await.is_ok() {
            removed.push(format!("network {name}"));
        }
    }
    removed
}

/// What of a deployment is there already (labelled containers, volumes, the network).
async fn leftovers(docker: &Docker, network: &str) -> Result<Vec<String>, DeployError> {
    let filters = label_filter(network);
    let mut found = Vec::new();
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await
        .map_err(|e| api("list containers".to_owned(), e))?;
    found.extend(containers.into_iter().map(|c| {
        let name = c.names.and_then(|n| n.first().cloned()).unwrap_or_default();
        format!("container {}", name.trim_start_matches('/'))
    }));
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(HashMap::from([(
                "name".to_owned(),
                vec![network.to_owned()],
            )])),
        }))
        .await
        .map_err(|e| api("list networks".to_owned(), e))?;
    // The name filter matches substrings: keep the exact name only.
    found.extend(
        networks
            .into_iter()
            .filter_map(|n| n.name)
            .filter(|n| n == network)
            .map(|n| format!("network {n}")),
    );
    Ok(found)
}

fn label_filter(network: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([("label".to_owned(), vec![format!("{LABEL}={network}")])])
}

/// `KEY=value` lines with every `${VAR}` resolved.
fn resolve_env(
    spec: &ContainerSpec,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, DeployError> {
    spec.env
        .iter()
        .map(|(key, value)| {
            crate::workload::resolve_env_refs(value, env)
                .map(|value| format!("{key}={value}"))
                .map_err(|var| DeployError::MissingEnv {
                    name: spec.name.clone(),
                    var,
                })
        })
        .collect()
}

async fn connect() -> Result<Docker, DeployError> {
    let unreachable = |reason: String| DeployError::Unreachable {
        host: std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into()),
        reason,
    };
    Docker::connect_with_local_defaults()
        .map_err(|e| unreachable(e.to_string()))?
        .negotiate_version()
        .await
        .map_err(|e| unreachable(e.to_string()))
}

/// A port on 127.0.0.1 that nothing listens on now.
fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Connects to 127.0.0.1:port and waits briefly for data or a close: through Docker's port
/// proxy a connect always succeeds, and a closed or reset connection means the container
/// did not accept it; a connection still open after 300 ms did.
async fn tcp_open(port: u16) -> std::io::Result<()> {
    use tokio::io::AsyncReadExt;
    let mut stream = tokio::time::timeout(
        Duration::from_secs(1),
        tokio::net::TcpStream::connect(("127.0.0.1", port)),
    )
    .await
    .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "connect timed out"))??;
    let mut byte = [0u8; 1];
    match tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte)).await {
        Err(_) => Ok(()),
        Ok(Ok(n)) if n > 0 => Ok(()),
        Ok(Ok(_)) => Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "closed at once",
        )),
        Ok(Err(e)) => Err(e),
    }
}

fn api(what: String, e: impl std::fmt::Display) -> DeployError {
    DeployError::Docker {
        what,
        reason: e.to_string(),
    }
}
