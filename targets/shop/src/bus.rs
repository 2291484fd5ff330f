//! NATS JetStream: the `SHOP` stream and the role's durable pull consumer (created if
//! missing), the outbox relay, and the consumer loop that acks only after the handler's
//! commit.

use std::sync::Arc;
use std::time::Duration;

use async_nats::header::NATS_MESSAGE_ID;
use async_nats::jetstream::{self, AckKind, consumer, context::Publish, stream};
use futures_util::StreamExt;
use tokio::sync::Semaphore;

use crate::event::{Body, Event, Incoming};
use crate::service::Shared;

pub const STREAM: &str = "SHOP";
/// How long JetStream waits for an ack before it redelivers.
pub const ACK_WAIT: Duration = Duration::from_secs(3);
/// Events one service applies at once (the racy-stock bug needs more than one).
const IN_FLIGHT: usize = 16;
const RETRY: Duration = Duration::from_millis(500);

/// Connects (retrying until it works), then runs the relay and the consumer for good.
pub async fn run(shared: Arc<Shared>) {
    let role = shared.cmd.role;
    let mut logged = false;
    let (js, consumer) = loop {
        match connect(&shared).await {
            Ok(c) => break c,
            Err(e) => {
                if !logged {
                    eprintln!(
                        "shop {role}: NATS at {} is not ready, retrying: {e}",
                        shared.cmd.nats
                    );
                    logged = true;
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    let _ = shared.js.set(js.clone());
    shared.set_ready();
    eprintln!("shop {role}: NATS ready, consuming {}", role.consumer().1);
    tokio::spawn(relay(shared.clone(), js));
    consume(shared, consumer).await;
}

async fn connect(
    shared: &Shared,
) -> Result<(jetstream::Context, consumer::PullConsumer), async_nats::Error> {
    let client = async_nats::ConnectOptions::new()
        .connection_timeout(Duration::from_secs(2))
        // Back soon after NATS is: at most a second between attempts, for good.
        .reconnect_delay_callback(|attempts| Duration::from_millis(100 * attempts.min(10) as u64))
        .connect(shared.cmd.nats.as_str())
        .await?;
    let js = jetstream::new(client);
    let stream = js
        .get_or_create_stream(stream::Config {
            name: STREAM.to_owned(),
            subjects: vec!["shop.>".to_owned()],
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await?;
    let (name, filter) = shared.cmd.role.consumer();
    let consumer = stream
        .get_or_create_consumer(
            name,
            consumer::pull::Config {
                durable_name: Some(name.to_owned()),
                filter_subject: filter.to_owned(),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: ACK_WAIT,
                ..Default::default()
            },
        )
        .await?;
    Ok((js, consumer))
}

/// Publishes one event with its id as `Nats-Msg-Id` and waits for JetStream's ack.
pub async fn publish(js: &jetstream::Context, e: &Event) -> Result<(), String> {
    let message = Publish::build()
        .payload(e.payload.clone().into())
        .message_id(&e.id);
    let ack = js
        .send_publish(e.subject.clone(), message)
        .await
        .map_err(|err| err.to_string())?;
    ack.await.map(|_| ()).map_err(|err| err.to_string())
}

/// The outbox relay: publishes unsent rows in the order they were written and marks each sent
/// after JetStream acknowledged it. A crash between the two republishes the row, which
/// JetStream drops as a duplicate within its window (and the inboxes beyond it).
async fn relay(shared: Arc<Shared>, js: jetstream::Context) {
    let role = shared.cmd.role;
    loop {
        let batch = match shared.db.unsent(64).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("shop {role}: relay failed to read the outbox: {e}");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = shared.relay.notified() => {}
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        for pending in batch {
            let done = match publish(&js, &pending.event).await {
                Ok(()) => shared
                    .db
                    .mark_sent(pending.seq)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                eprintln!("shop {role}: relay failed on {}: {e}", pending.event.id);
                tokio::time::sleep(RETRY).await;
                break;
            }
        }
    }
}

/// Pulls messages for good, applying up to `IN_FLIGHT` at once.
async fn consume(shared: Arc<Shared>, consumer: consumer::PullConsumer) {
    let role = shared.cmd.role;
    let permits = Arc::new(Semaphore::new(IN_FLIGHT));
    loop {
        let mut messages = match consumer.messages().await {
            Ok(m) => m,
            Err(e) => {
                eprintln!("shop {role}: failed to pull messages: {e}");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        while let Some(message) = messages.next().await {
            let message = match message {
                Ok(m) => m,
                Err(e) => {
                    eprintln!("shop {role}: pull failed, pulling again: {e}");
                    break;
                }
            };
            let permit = permits
                .clone()
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let shared = shared.clone();
            tokio::spawn(async move {
                deliver(&shared, message).await;
                drop(permit);
            });
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Applies one message and acks it after the commit (before it, with `ack-before-commit`).
/// A failed handler naks, so JetStream redelivers.
async fn deliver(shared: &Arc<Shared>, message: jetstream::Message) {
    let role = shared.cmd.role;
    let id = message
        .headers
        .as_ref()
        .and_then(|h| h.get(NATS_MESSAGE_ID))
        .map(|v| v.to_string());
    let body = serde_json::from_slice::<Body>(&message.payload);
    let (Some(id), Ok(body)) = (id, body) else {
        eprintln!(
            "shop {role}: dropping a malformed message on {} (no Nats-Msg-Id or a bad body)",
            message.subject
        );
        let _ = message.ack_with(AckKind::Term).await;
        return;
    };
    let early = shared.cmd.bugs.ack_before_commit;
    if early {
        let _ = message.ack().await;
    }
    let incoming = Incoming {
        id,
        subject: message.subject.to_string(),
        body,
    };
    match shared.handle(incoming).await {
        Ok(()) if !early => {
            if let Err(e) = message.ack().await {
                eprintln!("shop {role}: failed to ack {}: {e}", message.subject);
            }
        }
        Ok(()) => {}
        Err(e) => {
            eprintln!("shop {role}: failed to apply {}: {e}", message.subject);
            if !early {
                let _ = message.ack_with(AckKind::Nak(Some(RETRY))).await;
            }
        }
    }
}
