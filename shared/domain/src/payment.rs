//! An order's payment, as the payment provider reports it.
//!
//! ```text
//! PENDING ──> AUTHORIZED ──> CAPTURED ──> PARTIALLY_REFUNDED ──> REFUNDED
//!    │  ▲          │              └──────────────────────────────────┘
//!    ▼  │          ▼
//!  FAILED ───> VOIDED   (PENDING and AUTHORIZED may be voided too)
//! ```
//! A provider tells what happened in webhooks that come late, twice and out of order. So a
//! payment is not moved by events one after another: it is what its [`PaymentFacts`] add up
//! to, and facts only ever grow (the furthest the provider's intent got, each refund by its
//! id). Joining facts is commutative, associative and idempotent, so any order and any number
//! of copies of the same events end in the same payment: an older event after a newer one
//! changes nothing. (A provider never reports both a capture and a void of one payment;
//! whichever it reported first would stand.)

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Money, OrderStatus, Timestamp};

/// Where a payment is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentStatus {
    /// Waiting for the shopper to pay.
    Pending,
    /// The last attempt to pay was declined; the shopper may try another way.
    Failed,
    /// The amount is held on the shopper's card until captured or voided.
    Authorized,
    Captured,
    PartiallyRefunded,
    Refunded,
    /// Released without being taken (the order was cancelled or expired).
    Voided,
}

/// How far the provider's side of a payment got. Ordered: a later stage includes the earlier
/// ones (a capture was an authorisation first), and a voided payment was never captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Pending,
    Declined,
    Authorized,
    Voided,
    Captured,
}

/// Everything the provider has said of one payment, each fact kept once.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentFacts {
    /// The furthest stage reported (see [`Stage`]); `None` before any report.
    pub stage: Option<Stage>,
    /// What was authorised, in cents (the largest reported).
    pub authorized_cents: i64,
    /// What was captured, in cents (the largest reported).
    pub captured_cents: i64,
    /// Each refund by the provider's id, in cents. Left out while there is none: an empty
    /// map is not written (DynamoDB Local's stream records lose an empty map's type).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub refunds: BTreeMap<String, i64>,
    /// Why an attempt was declined, while none has succeeded since.
    pub decline: Option<String>,
}

/// One thing the provider reports (a webhook, or the answer to one of our calls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderReport {
    Declined { reason: String },
    Authorized { cents: i64 },
    Captured { cents: i64 },
    Voided,
    Refunded { refund_id: String, cents: i64 },
}

impl PaymentFacts {
    /// These facts with `report` added: the same facts when it adds nothing (a copy, or an
    /// older report than one already held).
    pub fn with(&self, report: &ProviderReport) -> Self {
        let mut facts = self.clone();
        let mut reach = |stage: Stage| {
            // Voided and captured exclude each other; whichever the provider reported
            // stands (it never reports both for one payment).
            let keep = matches!(
                (facts.stage, stage),
                (Some(Stage::Voided), Stage::Captured) | (Some(Stage::Captured), Stage::Voided)
            );
            if !keep && facts.stage.is_none_or(|held| held < stage) {
                facts.stage = Some(stage);
            }
        };
        match report {
            ProviderReport::Declined { reason } => {
                reach(Stage::Declined);
                if facts.stage == Some(Stage::Declined) {
                    // Of several declines, one reason is kept, the same whatever their order.
                    facts.decline = facts.decline.take().max(Some(reason.clone()));
                }
            }
            ProviderReport::Authorized { cents } => {
                reach(Stage::Authorized);
                facts.authorized_cents = facts.authorized_cents.max(*cents);
            }
            ProviderReport::Captured { cents } => {
                reach(Stage::Captured);
                facts.authorized_cents = facts.authorized_cents.max(*cents);
                facts.captured_cents = facts.captured_cents.max(*cents);
            }
            ProviderReport::Voided => reach(Stage::Voided),
            ProviderReport::Refunded { refund_id, cents } => {
                facts.refunds.entry(refund_id.clone()).or_insert(*cents);
            }
        }
        if facts.stage > Some(Stage::Declined) {
            facts.decline = None;
        }
        facts
    }

    pub fn refunded_cents(&self) -> i64 {
        self.refunds.values().sum()
    }

    /// The payment these facts add up to.
    pub fn status(&self) -> PaymentStatus {
        // A refund is only ever of a capture: one reported before its capture's own report
        // is a capture already.
        let captured = self.stage == Some(Stage::Captured) || !self.refunds.is_empty();
        if captured {
            let refunded = self.refunded_cents();
            return match refunded {
                0 => PaymentStatus::Captured,
                _ if refunded >= self.captured_cents.max(1) => PaymentStatus::Refunded,
                _ => PaymentStatus::PartiallyRefunded,
            };
        }
        match self.stage {
            None | Some(Stage::Pending) => PaymentStatus::Pending,
            Some(Stage::Declined) => PaymentStatus::Failed,
            Some(Stage::Authorized) => PaymentStatus::Authorized,
            Some(Stage::Voided) => PaymentStatus::Voided,
            Some(Stage::Captured) => PaymentStatus::Captured,
        }
    }

    /// What may still be refunded, in cents.
    pub fn refundable_cents(&self) -> i64 {
        match self.status() {
            PaymentStatus::Captured | PaymentStatus::PartiallyRefunded => {
                (self.captured_cents - self.refunded_cents()).max(0)
            }
            _ => 0,
        }
    }
}

/// Something that happened to a payment between two readings of its facts: what the
/// payment events announce, each once (a refund by its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentNews {
    Authorized { cents: i64 },
    Captured { cents: i64 },
    Refunded { refund_id: String, cents: i64 },
    Failed { reason: String },
}

impl PaymentFacts {
    /// What these facts say that `before` did not: an authorisation, a capture, each new
    /// refund, a new decline. Facts only grow, so each is told by exactly one change.
    pub fn news_since(&self, before: &PaymentFacts) -> Vec<PaymentNews> {
        let mut news = Vec::new();
        if let (Some(reason), true) = (&self.decline, self.decline != before.decline) {
            news.push(PaymentNews::Failed {
                reason: reason.clone(),
            });
        }
        if self.authorized_cents > 0 && before.authorized_cents == 0 {
            news.push(PaymentNews::Authorized {
                cents: self.authorized_cents,
            });
        }
        if self.captured_cents > 0 && before.captured_cents == 0 {
            news.push(PaymentNews::Captured {
                cents: self.captured_cents,
            });
        }
        for (refund_id, cents) in &self.refunds {
            if !before.refunds.contains_key(refund_id) {
                news.push(PaymentNews::Refunded {
                    refund_id: refund_id.clone(),
                    cents: *cents,
                });
            }
        }
        news
    }
}

/// Who takes an order's payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PaymentProvider {
    Stripe,
}

/// What a shopper's browser confirms a payment with: shown to the order's customer only,
/// while the payment waits for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmation {
    /// The intent's client secret.
    pub client_secret: String,
    /// The provider's publishable key, that the browser confirms with beside the secret.
    pub publishable_key: Option<String>,
    /// Where the browser confirms it (the provider's API, for this payment).
    pub confirm_url: Option<String>,
}

/// An order's payment: the provider's intent for it, and what the provider has reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub provider: PaymentProvider,
    /// The provider's intent; `None` until it is opened (just after the order is placed).
    pub intent_id: Option<String>,
    /// The order is cancelled by the system unless its payment is authorised by then.
    pub pay_by: Timestamp,
    pub facts: PaymentFacts,
    /// Counts the writes of `facts`: a write is made from the version it read, so that no
    /// report is lost between a read and a write.
    pub version: u64,
    pub confirmation: Option<Confirmation>,
}

impl Payment {
    /// A payment not yet opened at the provider, due by `pay_by`.
    pub fn new(provider: PaymentProvider, pay_by: Timestamp) -> Self {
        Self {
            provider,
            intent_id: None,
            pay_by,
            facts: PaymentFacts::default(),
            version: 0,
            confirmation: None,
        }
    }

    pub fn status(&self) -> PaymentStatus {
        self.facts.status()
    }

    /// Whether the payment still waits for the shopper (no authorisation yet).
    pub fn unpaid(&self) -> bool {
        matches!(
            self.status(),
            PaymentStatus::Pending | PaymentStatus::Failed
        )
    }

    /// From when the system must act on this payment, if ever: an order still `CREATED`
    /// and unpaid expires at `pay_by`; a cancelled order's open payment is voided at once
    /// (`since`, the order's creation, is always past).
    pub fn due(&self, order: OrderStatus, since: Timestamp) -> Option<Timestamp> {
        match order {
            OrderStatus::Created if self.unpaid() => Some(self.pay_by),
            OrderStatus::Cancelled if self.intent_id.is_some() && self.voidable() => Some(since),
            _ => None,
        }
    }

    /// Whether the provider still holds (or may yet take) money for this payment that a
    /// void releases.
    pub fn voidable(&self) -> bool {
        self.unpaid() || self.status() == PaymentStatus::Authorized
    }
}

/// How a payment is shown (in an order).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Payment)]
pub struct PaymentView<'a> {
    provider: PaymentProvider,
    status: PaymentStatus,
    /// What the provider holds on the shopper's card.
    authorized: Money,
    captured: Money,
    refunded: Money,
    /// The provider's intent (a Stripe PaymentIntent's id).
    #[serde(skip_serializing_if = "Option::is_none")]
    intent_id: Option<&'a str>,
    /// Unless authorised by then, the order is cancelled by the system.
    pay_by: Timestamp,
    /// Why the last attempt to pay was declined, while none has succeeded.
    #[serde(skip_serializing_if = "Option::is_none")]
    decline_reason: Option<&'a str>,
    /// For the order's customer only, while unpaid: what their browser confirms the payment
    /// with (Stripe.js's `confirmCardPayment`).
    #[serde(skip_serializing_if = "Option::is_none")]
    client_secret: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    publishable_key: Option<&'a str>,
    /// Where the browser confirms it: `POST` the publishable key (as a bearer token), the
    /// client secret and a payment method, as Stripe.js does.
    #[serde(skip_serializing_if = "Option::is_none")]
    confirm_url: Option<&'a str>,
}

impl Serialize for Payment {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let cents = |cents: i64| Money::from_cents(cents).unwrap_or(Money::ZERO);
        let confirmation = self.confirmation.as_ref();
        PaymentView {
            provider: self.provider,
            status: self.status(),
            authorized: cents(self.facts.authorized_cents),
            captured: cents(self.facts.captured_cents),
            refunded: cents(self.facts.refunded_cents()),
            intent_id: self.intent_id.as_deref(),
            pay_by: self.pay_by,
            decline_reason: self.facts.decline.as_deref(),
            client_secret: confirmation.map(|shown| shown.client_secret.as_str()),
            publishable_key: confirmation.and_then(|shown| shown.publishable_key.as_deref()),
            confirm_url: confirmation.and_then(|shown| shown.confirm_url.as_deref()),
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn after(reports: &[ProviderReport]) -> PaymentFacts {
        reports
            .iter()
            .fold(PaymentFacts::default(), |facts, report| facts.with(report))
    }

    fn refund(id: &str, cents: i64) -> ProviderReport {
        ProviderReport::Refunded {
            refund_id: id.into(),
            cents,
        }
    }

    fn declined() -> ProviderReport {
        ProviderReport::Declined {
            reason: "insufficient_funds".into(),
        }
    }

    #[test]
    fn a_payment_goes_through_its_life_in_order() {
        use PaymentStatus::*;
        let life = [
            declined(),
            ProviderReport::Authorized { cents: 5997 },
            ProviderReport::Captured { cents: 5997 },
            refund("re_1", 1000),
            refund("re_2", 4997),
        ];
        let statuses: Vec<PaymentStatus> = (0..=life.len())
            .map(|reports| after(&life[..reports]).status())
            .collect();
        assert_eq!(
            statuses,
            [
                Pending,
                Failed,
                Authorized,
                Captured,
                PartiallyRefunded,
                Refunded
            ]
        );
        let facts = after(&life);
        assert_eq!(facts.refunded_cents(), 5997);
        assert_eq!(facts.refundable_cents(), 0);
        assert_eq!(facts.decline, None, "the decline was overtaken");
        assert_eq!(
            after(&life[..1]).decline.as_deref(),
            Some("insufficient_funds")
        );
    }

    #[test]
    fn an_older_report_after_a_newer_one_changes_nothing() {
        let captured = after(&[ProviderReport::Captured { cents: 700 }]);
        for older in [declined(), ProviderReport::Authorized { cents: 700 }] {
            assert_eq!(captured.with(&older), captured);
        }
        let voided = after(&[
            ProviderReport::Authorized { cents: 700 },
            ProviderReport::Voided,
        ]);
        assert_eq!(voided.status(), PaymentStatus::Voided);
        assert_eq!(voided.with(&declined()), voided);
        assert_eq!(
            voided.with(&ProviderReport::Authorized { cents: 700 }),
            voided
        );
        // A refund counted once, however often it is reported.
        let refunded = captured.with(&refund("re_1", 300));
        assert_eq!(refunded.with(&refund("re_1", 300)), refunded);
        assert_eq!(refunded.status(), PaymentStatus::PartiallyRefunded);
        assert_eq!(refunded.refundable_cents(), 400);
    }

    #[test]
    fn facts_without_refunds_are_written_without_an_empty_map() {
        let authorised = after(&[ProviderReport::Authorized { cents: 700 }]);
        let written = serde_json::to_value(&authorised).unwrap();
        assert!(written.get("refunds").is_none(), "{written}");
        let read: PaymentFacts = serde_json::from_value(written).unwrap();
        assert_eq!(read, authorised);
        let refunded = after(&[ProviderReport::Captured { cents: 700 }, refund("re_1", 100)]);
        let read: PaymentFacts =
            serde_json::from_value(serde_json::to_value(&refunded).unwrap()).unwrap();
        assert_eq!(read, refunded);
    }

    #[test]
    fn each_thing_that_happened_is_news_once() {
        let life = [
            declined(),
            ProviderReport::Authorized { cents: 5997 },
            ProviderReport::Captured { cents: 5997 },
            refund("re_1", 1000),
            refund("re_1", 1000),
            refund("re_2", 4997),
        ];
        let mut facts = PaymentFacts::default();
        let mut told = Vec::new();
        for report in &life {
            let after = facts.with(report);
            told.extend(after.news_since(&facts));
            facts = after;
        }
        assert_eq!(
            told,
            [
                PaymentNews::Failed {
                    reason: "insufficient_funds".into()
                },
                PaymentNews::Authorized { cents: 5997 },
                PaymentNews::Captured { cents: 5997 },
                PaymentNews::Refunded {
                    refund_id: "re_1".into(),
                    cents: 1000
                },
                PaymentNews::Refunded {
                    refund_id: "re_2".into(),
                    cents: 4997
                },
            ]
        );
        // A capture reported before its authorisation is both at once.
        let captured = PaymentFacts::default().with(&ProviderReport::Captured { cents: 700 });
        assert_eq!(
            captured.news_since(&PaymentFacts::default()),
            [
                PaymentNews::Authorized { cents: 700 },
                PaymentNews::Captured { cents: 700 }
            ]
        );
    }

    fn report() -> impl Strategy<Value = ProviderReport> {
        prop_oneof![
            Just(declined()),
            Just(ProviderReport::Declined {
                reason: "card_declined".into()
            }),
            Just(ProviderReport::Authorized { cents: 5997 }),
            Just(ProviderReport::Captured { cents: 5997 }),
            Just(refund("re_1", 1000)),
            Just(refund("re_2", 2000)),
        ]
    }

    /// Some reports, and the same reports each delivered twice, shuffled.
    fn deliveries() -> impl Strategy<Value = (Vec<ProviderReport>, Vec<ProviderReport>)> {
        prop::collection::vec(report(), 1..40).prop_flat_map(|reports| {
            let twice: Vec<ProviderReport> = reports.iter().chain(&reports).cloned().collect();
            (Just(reports), Just(twice).prop_shuffle())
        })
    }

    proptest! {
        /// However the provider's webhooks come (shuffled, repeated), the payment ends as the
        /// same reports delivered once in order.
        #[test]
        fn any_order_and_any_copies_end_in_the_same_payment((reports, delivered) in deliveries()) {
            let mut distinct: Vec<ProviderReport> = Vec::new();
            for report in reports {
                if !distinct.contains(&report) {
                    distinct.push(report);
                }
            }
            prop_assert_eq!(after(&delivered), after(&distinct));
        }
    }
}
