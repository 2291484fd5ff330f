//! `[deploy]` in a workload file: what a valid one plans (the ports the workload's URLs
//! reach are published, deployed containers become the nemesis's nodes by name), and one
//! clear error per mistake, naming the file, line and field. No Docker needed.

use std::path::Path;
use std::time::Duration;

use splitbrain::deploy::{Health, Volume};
use splitbrain::nemesis::{Backend, ContainerRef};
use splitbrain::workload::{Plan, WorkloadError};

const BASE: &str = r#"name = "shop"
time_limit = "10s"
concurrency = 4

[target]
base_url = "http://orders:8080"
preflight = "/health"

[model]
kind = "custom"
mix = { place = 1 }

[model.ops.place]
method = "POST"
path = "/orders"
body = '{"id": {{value}}}'
ok = [200]

[views.payments]
base_url = "http://payments-svc:9000"
path = "/payments"
records = "/payments"
id = "/id"

[[relations]]
kind = "covers"
view = "payments"
op = "place"

[deploy]
startup_timeout = "30s"

[[deploy.containers]]
name = "nats"
image = "splitbrain/nats:dev"
volumes = ["nats-data:/data"]
health = { http = "/healthz", port = 8222 }

[[deploy.containers]]
name = "orders"
image = "splitbrain/shop:dev"
command = ["orders", "--nats", "nats://nats:4222"]
env = { SHOP_BUGS = "${SHOP_BUGS:-}", TOKEN = "${SHOP_TOKEN}" }
health = { http = "/health", port = 8080 }

[[deploy.containers]]
name = "payments"
image = "splitbrain/shop:dev"
aliases = ["payments-svc"]
volumes = ["/var/tmp/pay:/data"]
health = { tcp = 9000 }
"#;

fn parse(text: &str) -> Result<Plan, WorkloadError> {
    Plan::from_toml(text, Path::new("workloads/shop.toml"))
}

fn error(text: &str) -> String {
    match parse(text) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn assert_contains(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in:\n{message}");
    }
}

#[test]
fn a_deploy_section_plans_containers_ports_and_nodes() {
    let text =
        format!("{BASE}\n[nemesis]\nfaults = [\"kill\"]\ninterval = \"2s\"\nduration = \"1s\"\n");
    let plan = parse(&text).unwrap();
    let deploy = plan.deploy.as_ref().unwrap();
    assert_eq!(
        deploy.network, "shop",
        "the network defaults to the workload's name"
    );
    assert_eq!(deploy.startup_timeout, Duration::from_secs(30));
    let names: Vec<&str> = deploy.containers.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["nats", "orders", "payments"],
        "start order is file order"
    );
    let ports = |i: usize| {
        deploy.containers[i]
            .ports
            .iter()
            .copied()
            .collect::<Vec<_>>()
    };
    assert_eq!(ports(0), [8222], "nats: its health port");
    assert_eq!(ports(1), [8080], "orders: the target's port");
    assert_eq!(
        ports(2),
        [9000],
        "payments: reached by its alias from a view"
    );
    assert_eq!(
        deploy.containers[0].volumes,
        [Volume::Named {
            name: "nats-data".into(),
            path: "/data".into()
        }]
    );
    assert_eq!(
        deploy.containers[2].volumes,
        [Volume::Bind {
            host: "/var/tmp/pay".into(),
            path: "/data".into()
        }]
    );
    assert_eq!(
        deploy.containers[2].health,
        Some(Health::Tcp { port: 9000 })
    );
    // ${VAR} stays unresolved in the plan: a secret never enters it.
    assert!(
        deploy.containers[1]
            .env
            .contains(&("TOKEN".into(), "${SHOP_TOKEN}".into()))
    );
    let Some(Backend::Docker(nodes)) = plan.nemesis.as_ref().map(|n| &n.backend) else {
        panic!("deployed containers make the docker backend");
    };
    let nodes: Vec<(&str, &ContainerRef)> = nodes
        .iter()
        .map(|n| (n.name.as_str(), &n.container))
        .collect();
    assert_eq!(
        nodes,
        [
            ("nats", &ContainerRef::Name("shop-nats".into())),
            ("orders", &ContainerRef::Name("shop-orders".into())),
            ("payments", &ContainerRef::Name("shop-payments".into())),
        ]
    );
}

#[test]
fn nodes_may_name_deployed_containers_themselves() {
    let text = format!(
        "{BASE}\n[[nodes]]\nname = \"pay\"\ncontainer = \"payments\"\n[[nodes]]\nname = \"o\"\n\
         container = \"orders\"\n[nemesis]\nfaults = [\"pause\"]\ninterval = \"2s\"\n"
    );
    let plan = parse(&text).unwrap();
    let Some(Backend::Docker(nodes)) = plan.nemesis.as_ref().map(|n| &n.backend) else {
        panic!("docker backend");
    };
    assert_eq!(nodes[0].name, "pay");
    assert_eq!(
        nodes[0].container,
        ContainerRef::Name("shop-payments".into())
    );
}

#[test]
fn each_mistake_names_its_field_and_line() {
    let cases: &[(&str, &str, &[&str])] = &[
        (
            "health = { tcp = 9000 }",
            "health = { tcp = 9000, http = \"/h\" }",
            &[
                ":51:",
                "field deploy.containers.payments.health",
                "expected one of { http = \"/health\", port = 8080 }",
            ],
        ),
        (
            "health = { http = \"/health\", port = 8080 }",
            "health = { http = \"/health\" }",
            &[
                "field deploy.containers.orders.health.port",
                "the container port",
            ],
        ),
        (
            "health = { tcp = 9000 }",
            "health = { tcp = 70000 }",
            &[
                "field deploy.containers.payments.health.tcp",
                "from 1 to 65535",
            ],
        ),
        (
            "volumes = [\"nats-data:/data\"]",
            "volumes = [\"nats-data\"]",
            &[
                ":36:",
                "field deploy.containers.nats.volumes",
                "expected \"NAME:/path\"",
            ],
        ),
        (
            "aliases = [\"payments-svc\"]",
            "aliases = [\"nats\"]",
            &["the host name \"nats\" is used twice"],
        ),
        (
            "\"${SHOP_BUGS:-}\"",
            "\"${shop_bugs}\"",
            &[
                "field deploy.containers.orders.env.SHOP_BUGS",
                "expected an environment variable name",
            ],
        ),
        (
            "image = \"splitbrain/nats:dev\"",
            "imag = \"splitbrain/nats:dev\"",
            &["unknown field `imag`", "expected one of", "`image`"],
        ),
        (
            "name = \"orders\"",
            "name = \"orders and more\"",
            &["field deploy.containers.name", "found \"orders and more\""],
        ),
        (
            "startup_timeout = \"30s\"",
            "startup_timeout = \"soon\"",
            &["field deploy.startup_timeout", "expected a duration"],
        ),
    ];
    for (old, new, parts) in cases {
        assert!(BASE.contains(old), "BASE has no {old:?}");
        let message = error(&BASE.replacen(old, new, 1));
        assert_contains(&message, parts);
        assert!(message.starts_with("workloads/shop.toml"), "{message}");
    }
}

#[test]
fn a_deploy_without_containers_is_an_error() {
    let cut = BASE.find("\n[[deploy.containers]]").unwrap();
    let message = error(&BASE[..cut]);
    assert_contains(
        &message,
        &[
            "field deploy.containers",
            "expected at least one [[deploy.containers]]",
        ],
    );
}
