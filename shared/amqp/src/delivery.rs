//! What Lambda's Amazon MQ event source hands a function of a broker message.

use aws_lambda_events::event::rabbitmq::RabbitMqMessage;
use base64::Engine;

/// The queue of an event's `rmqMessagesByQueue` key, which Lambda writes
/// `<queue>::<virtual host>`.
pub fn queue_of(source: &str) -> &str {
    source.split("::").next().unwrap_or(source)
}

/// The message's body as it came: Lambda hands it over base64-encoded (the text itself when
/// it is not, so that a dead letter keeps what arrived).
pub fn raw_body(message: &RabbitMqMessage) -> Vec<u8> {
    let encoded = message.data.as_deref().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .unwrap_or_else(|_| encoded.as_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_names_a_queue_with_its_virtual_host_and_encodes_the_body() {
        assert_eq!(queue_of("ORDER_STOCK_CHECK::/"), "ORDER_STOCK_CHECK");
        assert_eq!(queue_of("order_created"), "order_created");
        let mut message = RabbitMqMessage::default();
        message.data = Some("e30=".into());
        assert_eq!(raw_body(&message), b"{}");
        message.data = Some("not base64!".into());
        assert_eq!(raw_body(&message), b"not base64!");
    }
}
