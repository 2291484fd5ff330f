//! `[deploy]` and `[[deploy.containers]]` into a [`DeployPlan`]: names, images, environment
//! (`${VAR}` checked, not resolved), volumes, aliases and health checks, each error naming
//! the field. Which ports to publish comes from the workload's URLs ([`publish_ports`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use toml::Spanned;

use super::cx::Cx;
use super::env::parse_env_refs;
use super::error::WorkloadError;
use super::raw::{RawContainer, RawDeploy, RawHealth, RawNode};
use crate::deploy::{ContainerSpec, DeployPlan, Health, Volume};
use crate::nemesis::{Backend, ContainerRef, NemesisPlan};

const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Letters, digits, `.`, `_`, `-`, starting with a letter or digit: a Docker name, a host
/// name on the network and a node name at once.
fn is_name(text: &str) -> bool {
    text.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

pub(super) fn check(
    cx: &Cx,
    raw: Option<RawDeploy>,
    workload_name: &str,
) -> Result<Option<DeployPlan>, WorkloadError> {
    let Some(raw) = raw else { return Ok(None) };
    let network = match &raw.network {
        Some(network) if is_name(network.get_ref()) => network.get_ref().clone(),
        Some(network) => {
            return Err(cx.at(
                network,
                "deploy.network",
                format!(
                    "expected a Docker network name (letters, digits, '.', '_', '-'), found {:?}",
                    network.get_ref()
                ),
            ));
        }
        None => workload_name.to_owned(),
    };
    let startup_timeout = match &raw.startup_timeout {
        Some(text) => cx.duration(text, "deploy.startup_timeout", false)?,
        None => DEFAULT_STARTUP_TIMEOUT,
    };
    let raws = raw.containers.unwrap_or_default();
    if raws.is_empty() {
        return Err(cx.plain(
            "deploy.containers",
            "expected at least one [[deploy.containers]] (name and image) to start",
        ));
    }
    let mut containers = Vec::new();
    let mut hosts = BTreeSet::new();
    for raw in &raws {
        let container = check_container(cx, raw.get_ref())?;
        for host in std::iter::once(&container.name).chain(&container.aliases) {
            if !hosts.insert(host.clone()) {
                return Err(cx.at(
                    &raw.get_ref().name,
                    "deploy.containers",
                    format!(
                        "the host name {host:?} is used twice (names and aliases must be unique)"
                    ),
                ));
            }
        }
        containers.push(container);
    }
    Ok(Some(DeployPlan {
        network,
        startup_timeout,
        containers,
    }))
}

fn check_container(cx: &Cx, raw: &RawContainer) -> Result<ContainerSpec, WorkloadError> {
    let name = raw.name.get_ref().clone();
    if !is_name(&name) {
        return Err(cx.at(
            &raw.name,
            "deploy.containers.name",
            format!(
                "expected letters, digits, '.', '_' or '-' (it is the node's name and its host \
                 name on the network), found {name:?}"
            ),
        ));
    }
    let field = |key: &str| format!("deploy.containers.{name}.{key}");
    let image = raw.image.get_ref().clone();
    if image.is_empty() || image.contains(char::is_whitespace) {
        return Err(cx.at(
            &raw.image,
            &field("image"),
            format!("expected an image reference like \"splitbrain/shop:dev\", found {image:?}"),
        ));
    }
    let command = strings(raw.command.as_ref());
    let mut env = Vec::new();
    for (key, value) in &raw.env {
        let ok_key = key
            .get_ref()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && key
                .get_ref()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !ok_key {
            return Err(cx.at(
                key,
                &field("env"),
                format!(
                    "expected an environment variable name (letters, digits, '_'), found {:?}",
                    key.get_ref()
                ),
            ));
        }
        parse_env_refs(value.get_ref())
            .map_err(|message| cx.at(value, &field(&format!("env.{}", key.get_ref())), message))?;
        env.push((key.get_ref().clone(), value.get_ref().clone()));
    }
    let mut volumes = Vec::new();
    for volume in raw.volumes.iter().flat_map(|v| v.get_ref()) {
        volumes.push(check_volume(cx, volume, &field("volumes"))?);
    }
    let mut aliases = Vec::new();
    for alias in raw.aliases.iter().flat_map(|v| v.get_ref()) {
        if !is_name(alias.get_ref()) {
            return Err(cx.at(
                alias,
                &field("aliases"),
                format!(
                    "expected a host name of letters, digits, '.', '_' or '-', found {:?}",
                    alias.get_ref()
                ),
            ));
        }
        aliases.push(alias.get_ref().clone());
    }
    let health = match &raw.health {
        Some(health) => Some(check_health(cx, health, &field("health"))?),
        None => None,
    };
    let ports = match &health {
        Some(Health::Http { port, .. } | Health::Tcp { port }) => BTreeSet::from([*port]),
        _ => BTreeSet::new(),
    };
    Ok(ContainerSpec {
        name,
        image,
        command,
        env,
        volumes,
        aliases,
        health,
        ports,
    })
}

fn strings(list: Option<&Spanned<Vec<Spanned<String>>>>) -> Vec<String> {
    list.iter()
        .flat_map(|l| l.get_ref())
        .map(|s| s.get_ref().clone())
        .collect()
}

fn check_volume(cx: &Cx, volume: &Spanned<String>, field: &str) -> Result<Volume, WorkloadError> {
    let text = volume.get_ref();
    let bad = || {
        cx.at(
            volume,
            field,
            format!(
                "expected \"NAME:/path\" (a volume of the deployment) or \"/host/path:/path\", \
                 found {text:?}"
            ),
        )
    };
    let (source, path) = text.split_once(':').ok_or_else(bad)?;
    if !path.starts_with('/') || path.contains(':') {
        return Err(bad());
    }
    if source.starts_with('/') {
        Ok(Volume::Bind {
            host: source.to_owned(),
            path: path.to_owned(),
        })
    } else if is_name(source) {
        Ok(Volume::Named {
            name: source.to_owned(),
            path: path.to_owned(),
        })
    } else {
        Err(bad())
    }
}

fn check_health(
    cx: &Cx,
    health: &Spanned<RawHealth>,
    field: &str,
) -> Result<Health, WorkloadError> {
    let raw = health.get_ref();
    let expected = "expected one of { http = \"/health\", port = 8080 }, { tcp = 4222 } or \
                    { log = \"text\" }";
    let port = |p: &Spanned<i64>, key: &str| {
        cx.int_in(p, &format!("{field}.{key}"), 1, 65535)
            .map(|p| u16::try_from(p).expect("checked to be a port"))
    };
    match (&raw.http, &raw.tcp, &raw.log) {
        (Some(path), None, None) => {
            if !path.get_ref().starts_with('/') {
                return Err(cx.at(
                    path,
                    &format!("{field}.http"),
                    format!(
                        "expected a path starting with '/', found {:?}",
                        path.get_ref()
                    ),
                ));
            }
            let Some(p) = &raw.port else {
                return Err(cx.at(
                    health,
                    &format!("{field}.port"),
                    "expected the container port the http check goes to (port = 8080)",
                ));
            };
            Ok(Health::Http {
                path: path.get_ref().clone(),
                port: port(p, "port")?,
            })
        }
        (None, Some(p), None) if raw.port.is_none() => Ok(Health::Tcp {
            port: port(p, "tcp")?,
        }),
        (None, None, Some(text)) if raw.port.is_none() && !text.get_ref().is_empty() => {
            Ok(Health::Log {
                text: text.get_ref().clone(),
            })
        }
        _ => Err(cx.at(health, field, expected)),
    }
}

/// Adds to each container the ports the workload's URLs reach it on (by its name or an
/// alias), so they are published.
pub(super) fn publish_ports<'a>(plan: &mut DeployPlan, urls: impl IntoIterator<Item = &'a str>) {
    let mut wanted: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for url in urls {
        if let Some((host, port)) = crate::deploy::url_host_port(url)
            && let Some(container) = plan.by_host(&host)
        {
            wanted
                .entry(container.name.clone())
                .or_default()
                .insert(port);
        }
    }
    for container in &mut plan.containers {
        if let Some(ports) = wanted.remove(&container.name) {
            container.ports.extend(ports);
        }
    }
}

/// `[[nodes]]` for a deployment without any: each container a docker node of its name.
pub(super) fn nodes(plan: &DeployPlan) -> Vec<Spanned<RawNode>> {
    plan.containers
        .iter()
        .map(|c| {
            Spanned::new(
                0..0,
                RawNode {
                    name: Spanned::new(0..0, c.name.clone()),
                    command: None,
                    container: Some(Spanned::new(0..0, c.name.clone())),
                    label: None,
                },
            )
        })
        .collect()
}

/// Docker nodes whose `container` is a deployed container's name get its Docker name.
pub(super) fn name_containers(plan: &DeployPlan, nemesis: &mut NemesisPlan) {
    if let Backend::Docker(specs) = &mut nemesis.backend {
        for spec in specs {
            if let ContainerRef::Name(name) = &spec.container
                && plan.containers.iter().any(|c| &c.name == name)
            {
                spec.container = ContainerRef::Name(plan.container_name(name));
            }
        }
    }
}
