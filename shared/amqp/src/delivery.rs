//! What Lambda's Amazon MQ event source hands a function of a broker message.

use aws_lambda_events::event::rabbitmq::RabbitMqMessage;
use base64::Engine;

/// The queue of an event's `rmqMessagesByQueue` key, which Lambda writes
/// `<queue>::<virtual host>`.
pub fn queue_of(source: &str) -> &str {
    source.split("::").next().unwrap_or(source)
}

/// The message's body: Lambda hands it over base64-encoded.
pub fn body(message: &RabbitMqMessage) -> Result<Vec<u8>, base64::DecodeError> {
    base64::engine::general_purpose::STANDARD.decode(message.data.as_deref().unwrap_or_default())
}

/// The message's body as it came: decoded, or the text itself when it is not base64, so that
/// a dead letter keeps what arrived.
pub fn raw_body(message: &RabbitMqMessage) -> Vec<u8> {
    body(message).unwrap_or_else(|_| message.data.as_deref().unwrap_or_default().into())
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
