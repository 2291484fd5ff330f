//! The bug switches as local processes: each one tested here makes the anomaly the README
//! promises, where the correct shop under the same scenario does not.

mod common;

use std::time::Duration;

use common::{Config, Shop, records, within};
use serde_json::{Value, json};

const SETTLE: Duration = Duration::from_secs(20);

#[test]
fn an_unknown_bug_switch_exits_2_naming_it() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_shop"))
        .args(["orders", "--listen", "127.0.0.1:0"])
        .env("SHOP_BUGS", "no-inbox,no-inbx")
        .output()
        .expect("shop runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("unknown bug switch \"no-inbx\""),
        "{stderr}"
    );
}

/// Waits until `/stock` satisfies `done`, returning it.
async fn stock_until(shop: &Shop, done: impl Fn(&Value) -> bool) -> Value {
    let last = within(SETTLE, || async {
        let stock = shop.get("inventory", "/stock").await;
        done(&stock).then_some(stock)
    })
    .await;
    match last {
        Some(stock) => stock,
        None => panic!(
            "stock never got there: {}",
            shop.get("inventory", "/stock").await
        ),
    }
}

#[tokio::test]
async fn no_compensation_keeps_the_stock_of_a_declined_order_reserved() {
    let shop = Shop::start(Config {
        bugs: "no-compensation",
        stock: "a=10",
        limit: 100,
    })
    .await;
    shop.place(1, "c1", "a", 3, 500).await;
    let cancelled = within(SETTLE, || async {
        let history = shop.get("orders", "/history").await;
        (records(&history, "orders").first()?["status"] == "CANCELLED").then_some(())
    })
    .await;
    assert!(
        cancelled.is_some(),
        "order 1 never reached CANCELLED in the read model"
    );
    // Order 2's reservation comes after order 1's cancellation in the stream.
    shop.place(2, "c1", "a", 1, 50).await;
    let stock = stock_until(&shop, |s| s["stock"][0]["sold"] == 1).await;
    assert_eq!(
        stock,
        json!({"stock": [{"id": "a", "available": 6, "reserved": 3, "sold": 1}]}),
        "the declined order's 3 stay reserved: wrong-total against available + sold"
    );
}

#[tokio::test]
async fn racy_stock_sells_more_than_there_is_under_concurrent_orders() {
    let shop = Shop::start(Config {
        bugs: "racy-stock",
        stock: "a=5",
        limit: 100,
    })
    .await;
    let placing: Vec<_> = (1..=20)
        .map(|id| shop.place(id, "c1", "a", 1, 10))
        .collect();
    futures_util::future::join_all(placing).await;
    let statuses = within(SETTLE, || async {
        let statuses = shop.statuses().await;
        statuses
            .values()
            .all(|s| s != "PENDING")
            .then_some(statuses)
    })
    .await
    .expect("every order reaches a final state");
    let confirmed = statuses.values().filter(|s| *s == "CONFIRMED").count();
    let stock = shop.get("inventory", "/stock").await;
    let level = &stock["stock"][0];
    let total: i64 = ["available", "reserved", "sold"]
        .iter()
        .map(|k| level[k].as_i64().expect("a number"))
        .sum();
    assert!(
        confirmed > 5 || total != 5,
        "no oversell: {confirmed} confirmed of 5, stock {stock}"
    );
}

/// Places order 1 while NATS is down, kills orders -9 right after the commit, brings NATS and
/// orders back, and places order 2; returns the statuses once order 2 is final.
async fn crash_after_commit_while_nats_is_down(shop: &mut Shop) -> Value {
    shop.stop_nats();
    let (http, url) = (shop.http.clone(), format!("{}/orders", shop.url("orders")));
    let body = json!({"id": 1, "customer": "c1", "sku": "a", "qty": 1, "amount": 10});
    // With no-outbox the request waits on the publish, so it runs on its own.
    let placing = tokio::spawn(async move { http.post(url).json(&body).send().await });
    let committed = within(SETTLE, || async {
        let resp = shop
            .http
            .get(format!("{}/orders/1", shop.url("orders")))
            .send()
            .await;
        resp.ok().filter(|r| r.status() == 200).map(|_| ())
    })
    .await;
    assert!(committed.is_some(), "order 1 was never committed");
    shop.kill("orders");
    placing.abort();
    shop.start_nats();
    shop.start_service("orders").await;
    shop.place(2, "c1", "a", 1, 10).await;
    within(SETTLE, || async {
        let orders = shop.get("orders", "/orders").await;
        let second = records(&orders, "orders")
            .iter()
            .find(|o| o["id"] == 2)?
            .clone();
        (second["status"] != "PENDING").then_some(())
    })
    .await
    .expect("order 2 reaches a final state");
    shop.get("orders", "/orders").await
}

#[tokio::test]
async fn the_outbox_publishes_an_event_committed_before_a_crash_while_nats_was_down() {
    let mut shop = Shop::start(Config::default()).await;
    crash_after_commit_while_nats_is_down(&mut shop).await;
    shop.settled(2, SETTLE).await;
    assert_eq!(shop.get("orders", "/orders/1").await["status"], "CONFIRMED");
}

#[tokio::test]
async fn no_outbox_loses_the_event_of_a_crash_after_commit_leaving_the_order_pending() {
    let mut shop = Shop::start(Config {
        bugs: "no-outbox",
        ..Config::default()
    })
    .await;
    let orders = crash_after_commit_while_nats_is_down(&mut shop).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let statuses = shop.statuses().await;
    assert_eq!(statuses[&1], "PENDING", "{orders}");
    assert_eq!(statuses[&2], "CONFIRMED", "{orders}");
    assert_eq!(
        records(&shop.get("orders", "/history").await, "orders").len(),
        1,
        "the read model never heard of order 1"
    );
}

/// Settles 5 orders within the limit, then replays every `shop.stock.reserved` to payments
/// (its durable consumer deleted while it is down, so the new one starts from the stream's
/// beginning) and waits until the replay is acked; returns `/payments`.
async fn replay_to_payments(shop: &mut Shop) -> Value {
    for id in 1..=5 {
        shop.place(id, "c1", "a", 1, 10).await;
    }
    shop.settled(5, SETTLE).await;
    shop.kill("payments");
    let client = async_nats::connect(shop.nats_url.as_str())
        .await
        .expect("the test reaches NATS");
    let stream = async_nats::jetstream::new(client)
        .get_stream("SHOP")
        .await
        .expect("the SHOP stream exists");
    stream
        .delete_consumer("payments")
        .await
        .expect("the payments consumer exists");
    shop.start_service("payments").await;
    let drained = within(SETTLE, || async {
        let info = stream.consumer_info("payments").await.ok()?;
        (info.num_pending == 0 && info.num_ack_pending == 0 && info.delivered.stream_sequence > 0)
            .then_some(())
    })
    .await;
    assert!(drained.is_some(), "payments never acked the replay");
    shop.get("payments", "/payments").await
}

#[tokio::test]
async fn the_inbox_skips_redelivered_events_so_a_replay_charges_nobody_twice() {
    let mut shop = Shop::start(Config::default()).await;
    let payments = replay_to_payments(&mut shop).await;
    assert_eq!(records(&payments, "payments").len(), 5, "{payments}");
}

#[tokio::test]
async fn no_inbox_applies_redelivered_events_again_charging_every_order_twice() {
    let mut shop = Shop::start(Config {
        bugs: "no-inbox",
        ..Config::default()
    })
    .await;
    let payments = replay_to_payments(&mut shop).await;
    let mut orders: Vec<i64> = records(&payments, "payments")
        .iter()
        .map(|p| p["order_id"].as_i64().expect("an order id"))
        .collect();
    orders.sort_unstable();
    assert_eq!(
        orders,
        vec![1, 1, 2, 2, 3, 3, 4, 4, 5, 5],
        "duplicated: {payments}"
    );
}

/// Holds payments' database locked while order 1's reservation reaches it, until its handler
/// has failed once, then places order 2 and returns once order 2 is final.
async fn payments_fails_once_on_a_locked_database(shop: &Shop) {
    let lock = rusqlite::Connection::open(shop.db("payments")).expect("the database opens");
    lock.execute_batch("BEGIN EXCLUSIVE")
        .expect("the test takes the write lock");
    shop.place(1, "c1", "a", 1, 10).await;
    shop.wait_log("payments", "failed to apply", SETTLE);
    lock.execute_batch("ROLLBACK")
        .expect("the lock is released");
    shop.place(2, "c1", "a", 1, 10).await;
    within(SETTLE, || async {
        (shop.statuses().await.get(&2)? != "PENDING").then_some(())
    })
    .await
    .expect("order 2 reaches a final state");
}

#[tokio::test]
async fn a_failed_commit_is_redelivered_until_it_applies() {
    let shop = Shop::start(Config::default()).await;
    payments_fails_once_on_a_locked_database(&shop).await;
    shop.settled(2, SETTLE).await;
    assert_eq!(shop.statuses().await[&1], "CONFIRMED");
}

#[tokio::test]
async fn ack_before_commit_loses_the_effect_of_a_failed_commit_leaving_the_order_pending() {
    let shop = Shop::start(Config {
        bugs: "ack-before-commit",
        ..Config::default()
    })
    .await;
    payments_fails_once_on_a_locked_database(&shop).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let statuses = shop.statuses().await;
    assert_eq!(statuses[&1], "PENDING", "{statuses:?}");
    assert_eq!(statuses[&2], "CONFIRMED", "{statuses:?}");
    let payments = shop.get("payments", "/payments").await;
    assert_eq!(records(&payments, "payments").len(), 1, "{payments}");
}
