//! Retries with exponential backoff and jitter, for optimistic writes that lose a race.

use std::future::Future;
use std::time::Duration;

use crate::DynamoError;

/// The outcome of one attempt: done, or lost a race and worth trying again.
pub enum Attempt<T> {
    Done(T),
    Retry,
}

/// How long to wait before attempt `attempt + 1`: 10, 20, 40, 80 ms... (at most 640 ms) plus
/// up to 10 ms of jitter from the clock, so that contending writers do not retry in lockstep.
pub fn backoff(attempt: u32) -> Duration {
    let jitter = u64::from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_micros())
            % 10_000,
    );
    Duration::from_millis(10 << attempt.min(6)) + Duration::from_micros(jitter)
}

/// Runs `attempt` until it is done, at most `attempts` times, backing off between tries;
/// [`DynamoError::Contended`] if every try lost its race.
pub async fn with_retries<T, E, F, Fut>(attempts: u32, mut attempt: F) -> Result<T, E>
where
    E: From<DynamoError>,
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<Attempt<T>, E>>,
{
    for number in 1..=attempts {
        match attempt(number).await? {
            Attempt::Done(value) => return Ok(value),
            Attempt::Retry if number < attempts => tokio::time::sleep(backoff(number)).await,
            Attempt::Retry => {}
        }
    }
    Err(DynamoError::Contended { attempts }.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert!(backoff(1) >= Duration::from_millis(20) && backoff(1) < Duration::from_millis(31));
        assert!(backoff(30) <= Duration::from_millis(651));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_until_done_or_gives_up() {
        let done: Result<u32, DynamoError> = with_retries(5, |attempt| async move {
            Ok(if attempt < 3 {
                Attempt::Retry
            } else {
                Attempt::Done(attempt)
            })
        })
        .await;
        assert_eq!(done.unwrap(), 3);
        let contended: Result<(), DynamoError> =
            with_retries(2, |_| async { Ok(Attempt::Retry) }).await;
        assert!(matches!(
            contended,
            Err(DynamoError::Contended { attempts: 2 })
        ));
    }
}
