//! The events the services exchange: one JSON body for every subject, carrying the whole
//! order line so that each consumer (and the read model) needs nothing but the event.

use serde::{Deserialize, Serialize};

pub const ORDER_PLACED: &str = "shop.order.placed";
pub const ORDER_CONFIRMED: &str = "shop.order.confirmed";
pub const ORDER_CANCELLED: &str = "shop.order.cancelled";
pub const STOCK_RESERVED: &str = "shop.stock.reserved";
pub const STOCK_REJECTED: &str = "shop.stock.rejected";
pub const PAYMENT_CAPTURED: &str = "shop.payment.captured";
pub const PAYMENT_DECLINED: &str = "shop.payment.declined";

/// What a customer ordered: the body of `POST /orders` and the heart of every event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderLine {
    pub id: i64,
    pub customer: String,
    pub sku: String,
    pub qty: i64,
    pub amount: i64,
}

/// An event's body.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Body {
    pub order: OrderLine,
    /// Why an order was cancelled or stock rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An event on its way out: through the outbox, or straight to NATS with `no-outbox`.
#[derive(Clone, Debug)]
pub struct Event {
    /// The `Nats-Msg-Id`: the subject and the order, so a step of one order's saga is one
    /// event however often it is produced, and JetStream drops a republished copy.
    pub id: String,
    pub subject: String,
    pub payload: Vec<u8>,
}

impl Event {
    pub fn new(subject: &'static str, order: &OrderLine, reason: Option<&str>) -> Event {
        let body = Body {
            order: order.clone(),
            reason: reason.map(str::to_owned),
        };
        Event {
            id: format!("{subject}.{}", order.id),
            subject: subject.to_owned(),
            payload: serde_json::to_vec(&body).expect("a Body always serialises"),
        }
    }
}

/// An event as a consumer receives it.
#[derive(Clone, Debug)]
pub struct Incoming {
    /// From `Nats-Msg-Id`; the inbox key.
    pub id: String,
    pub subject: String,
    pub body: Body,
}
