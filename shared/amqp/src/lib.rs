//! RabbitMQ (Amazon MQ) publishing, with the broker's confirmation of every message: the
//! relay's events in the NestJS services' wire format, and the consumer's dead letters.

mod dead_letters;
pub mod delivery;
mod publisher;
pub mod settings;

pub use dead_letters::{DeadLetters, dead_letter_exchange, dead_letter_queue};
pub use lapin::uri::AMQPUri;
pub use publisher::{
    Binding, DEFAULT_QUEUE, DEFAULT_STOCK_QUEUE, Message, PublishError, RabbitPublisher, Route,
    Unsent,
};
