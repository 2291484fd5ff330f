//! The saga end to end, as local processes: what each outcome does to orders, payments,
//! stock and the read model, and that a kill -9 of a service in mid-stream changes none of it.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{Config, Shop, records};
use serde_json::json;

const SETTLE: Duration = Duration::from_secs(20);

/// `/payments` as order id → states.
async fn payments(shop: &Shop) -> BTreeMap<i64, Vec<String>> {
    let mut by_order: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for p in records(&shop.get("payments", "/payments").await, "payments") {
        by_order
            .entry(p["order_id"].as_i64().expect("an order id"))
            .or_default()
            .push(p["state"].as_str().expect("a state").to_owned());
    }
    by_order
}

#[tokio::test]
async fn orders_within_the_limit_are_confirmed_with_one_capture_and_their_stock_sold() {
    let shop = Shop::start(Config {
        stock: "a=10",
        ..Config::default()
    })
    .await;
    for id in 1..=3 {
        let (status, order) = shop.place(id, "c1", "a", 2, 50).await;
        assert_eq!(status, 200, "{order}");
        assert_eq!(order["status"], "PENDING");
    }
    shop.settled(3, SETTLE).await;
    let confirmed: BTreeMap<i64, String> = (1..=3).map(|id| (id, "CONFIRMED".into())).collect();
    assert_eq!(shop.statuses().await, confirmed);
    let captured: BTreeMap<i64, Vec<String>> =
        (1..=3).map(|id| (id, vec!["CAPTURED".into()])).collect();
    assert_eq!(payments(&shop).await, captured);
    assert_eq!(
        shop.get("inventory", "/stock").await,
        json!({"stock": [{"id": "a", "available": 4, "reserved": 0, "sold": 6}]})
    );
    assert_eq!(shop.get("orders", "/orders/2").await["status"], "CONFIRMED");
}

#[tokio::test]
async fn an_order_over_the_limit_is_cancelled_its_payment_declined_and_its_stock_released() {
    let shop = Shop::start(Config {
        stock: "a=10",
        limit: 100,
        ..Config::default()
    })
    .await;
    shop.place(1, "c1", "a", 3, 101).await;
    shop.settled(1, SETTLE).await;
    assert_eq!(shop.statuses().await[&1], "CANCELLED");
    assert_eq!(payments(&shop).await[&1], vec!["DECLINED".to_owned()]);
    assert_eq!(
        shop.get("inventory", "/stock").await,
        json!({"stock": [{"id": "a", "available": 10, "reserved": 0, "sold": 0}]})
    );
}

#[tokio::test]
async fn an_order_without_stock_is_cancelled_and_never_charged() {
    let shop = Shop::start(Config {
        stock: "a=1",
        ..Config::default()
    })
    .await;
    shop.place(1, "c1", "a", 2, 10).await;
    shop.place(2, "c1", "nosuch", 1, 10).await;
    shop.settled(2, SETTLE).await;
    let cancelled: BTreeMap<i64, String> = (1..=2).map(|id| (id, "CANCELLED".into())).collect();
    assert_eq!(shop.statuses().await, cancelled);
    assert!(payments(&shop).await.is_empty());
    assert_eq!(
        shop.get("inventory", "/stock").await,
        json!({"stock": [{"id": "a", "available": 1, "reserved": 0, "sold": 0}]})
    );
}

#[tokio::test]
async fn placing_the_same_order_twice_makes_one_order_and_another_line_on_its_id_is_a_conflict() {
    let shop = Shop::start(Config::default()).await;
    let (first, _) = shop.place(7, "c1", "a", 1, 20).await;
    let (again, order) = shop.place(7, "c1", "a", 1, 20).await;
    assert_eq!((first, again), (200, 200));
    assert_eq!(order["id"], 7);
    let (other, body) = shop.place(7, "c2", "a", 1, 20).await;
    assert_eq!(other, 409, "{body}");
    shop.settled(1, SETTLE).await;
    assert_eq!(payments(&shop).await[&7], vec!["CAPTURED".to_owned()]);
    assert_eq!(
        records(&shop.get("orders", "/orders").await, "orders").len(),
        1
    );
}

#[tokio::test]
async fn the_read_model_matches_the_orders_once_settled_for_all_and_per_customer() {
    let shop = Shop::start(Config {
        stock: "a=6,b=100",
        ..Config::default()
    })
    .await;
    let mut placing = Vec::new();
    for id in 1..=24 {
        let customer = ["c1", "c2", "c3"][id as usize % 3];
        let sku = if id % 2 == 0 { "a" } else { "b" };
        placing.push(shop.place(id, customer, sku, 1, 30 + 5 * id));
    }
    for (status, body) in futures_util::future::join_all(placing).await {
        assert_eq!(status, 200, "{body}");
    }
    shop.settled(24, SETTLE).await;
    let orders = shop.get("orders", "/orders").await;
    assert_eq!(shop.get("orders", "/history").await, orders);
    let c2: Vec<_> = records(&orders, "orders")
        .iter()
        .filter(|o| o["customer"] == "c2")
        .cloned()
        .collect();
    assert_eq!(
        shop.get("orders", "/customers/c2/orders").await,
        json!({"orders": c2})
    );
    let statuses = shop.statuses().await;
    assert!(statuses.values().any(|s| s == "CONFIRMED"), "{statuses:?}");
    assert!(statuses.values().any(|s| s == "CANCELLED"), "{statuses:?}");
}

#[tokio::test]
async fn killing_payments_mid_stream_leaves_every_order_final_and_charged_at_most_once() {
    let mut shop = Shop::start(Config {
        stock: "a=1000",
        ..Config::default()
    })
    .await;
    for id in 1..=60 {
        // 40, 70, 100 are within the limit, 130 is not.
        let (status, body) = shop.place(id, "c1", "a", 1, 40 + id % 4 * 30).await;
        assert_eq!(status, 200, "{body}");
        if id == 20 {
            shop.kill("payments");
        }
        if id == 40 {
            shop.start_service("payments").await;
        }
    }
    shop.settled(60, SETTLE).await;
    let statuses = shop.statuses().await;
    let payments = payments(&shop).await;
    for (id, status) in &statuses {
        let charged = payments.get(id).cloned().unwrap_or_default();
        let (expected, paid) = if id % 4 == 3 {
            ("CANCELLED", "DECLINED")
        } else {
            ("CONFIRMED", "CAPTURED")
        };
        assert_eq!(status, expected, "order {id}");
        assert_eq!(charged, vec![paid.to_owned()], "order {id} ({status})");
    }
    let confirmed = statuses.values().filter(|s| *s == "CONFIRMED").count() as i64;
    assert_eq!(
        shop.get("inventory", "/stock").await,
        json!({"stock": [{"id": "a", "available": 1000 - confirmed, "reserved": 0, "sold": confirmed}]})
    );
}

#[tokio::test]
async fn killing_each_service_in_turn_mid_stream_changes_no_outcome() {
    let mut shop = Shop::start(Config {
        stock: "a=1000",
        ..Config::default()
    })
    .await;
    for id in 1..=60 {
        let (status, body) = shop.place(id, "c1", "a", 1, 40 + id % 4 * 20).await;
        assert_eq!(status, 200, "{body}");
        let role = match id {
            15 => "inventory",
            30 => "orders",
            45 => "payments",
            _ => continue,
        };
        shop.kill(role);
        shop.start_service(role).await;
    }
    shop.settled(60, SETTLE).await;
    let statuses = shop.statuses().await;
    let payments = payments(&shop).await;
    for (id, status) in &statuses {
        assert_eq!(
            status, "CONFIRMED",
            "order {id}: every amount is within the limit"
        );
        assert_eq!(payments[id], vec!["CAPTURED".to_owned()], "order {id}");
    }
    assert_eq!(
        shop.get("inventory", "/stock").await,
        json!({"stock": [{"id": "a", "available": 940, "reserved": 0, "sold": 60}]})
    );
}
