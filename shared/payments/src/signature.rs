//! Stripe's webhook signatures: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]`,
//! each `v1` an HMAC-SHA256 of `<t>.<raw body>` under an endpoint secret. During a secret's
//! rotation Stripe signs with both secrets, so any `v1` verifying under any secret held is
//! enough; a timestamp further than [`TOLERANCE_SECONDS`] from now is refused, so that a
//! captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far a signature's timestamp may be from now, either way: Stripe's libraries' default.
pub const TOLERANCE_SECONDS: i64 = 300;

/// An endpoint secret (`whsec_...`), never printed.
#[derive(Clone)]
pub struct EndpointSecret(String);

impl EndpointSecret {
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length.
        Hmac::<Sha256>::new_from_slice(self.0.as_bytes()).expect("HMAC takes any key length")
    }
}

impl std::fmt::Debug for EndpointSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndpointSecret(..)")
    }
}

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or has no timestamp and v1 signature")]
    Malformed,
    #[error("the signature's timestamp is more than {TOLERANCE_SECONDS} s from now")]
    Stale,
    #[error("no v1 signature matches the body under the endpoint's secrets")]
    Mismatch,
}

/// Checks `header` over `body` at `now` (unix seconds) against every secret held.
pub fn verify(
    header: &str,
    body: &[u8],
    secrets: &[EndpointSecret],
    now: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => signatures.extend(decode_hex(value)),
            _ => {} // v0 (test mode's old scheme) and anything newer are not ours to check
        }
    }
    let (Some(timestamp), false) = (timestamp, signatures.is_empty()) else {
        return Err(SignatureError::Malformed);
    };
    if (now - timestamp).abs() > TOLERANCE_SECONDS {
        return Err(SignatureError::Stale);
    }
    let matches = secrets.iter().any(|secret| {
        signatures.iter().any(|signature| {
            let mut mac = secret.mac();
            mac.update(timestamp.to_string().as_bytes());
            mac.update(b".");
            mac.update(body);
            // Compared in constant time.
            mac.verify_slice(signature).is_ok()
        })
    });
    if matches {
        Ok(())
    } else {
        Err(SignatureError::Mismatch)
    }
}

/// The `Stripe-Signature` header Stripe would send for `body` at `timestamp`, signed with
/// each of `secrets` (as during a rotation).
pub fn sign(body: &[u8], secrets: &[EndpointSecret], timestamp: i64) -> String {
    let mut header = format!("t={timestamp}");
    for secret in secrets {
        let mut mac = secret.mac();
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        header.push_str(",v1=");
        for byte in mac.finalize().into_bytes() {
            header.push_str(&format!("{byte:02x}"));
        }
    }
    header
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_796_540_000;
    const BODY: &[u8] = br#"{"id":"evt_1","type":"payment_intent.succeeded"}"#;

    fn secret(text: &str) -> EndpointSecret {
        EndpointSecret::new(text)
    }

    #[test]
    fn a_signature_by_the_secret_held_verifies() {
        let header = sign(BODY, &[secret("whsec_a")], NOW);
        assert_eq!(
            verify(&header, BODY, &[secret("whsec_a")], NOW + 10),
            Ok(())
        );
        // Stripe's documented example: HMAC-SHA256 of "t.body", hex.
        assert!(header.starts_with(&format!("t={NOW},v1=")));
        assert_eq!(header.len(), format!("t={NOW},v1=").len() + 64);
    }

    #[test]
    fn during_a_rotation_any_v1_under_any_secret_is_enough() {
        let both = sign(BODY, &[secret("whsec_old"), secret("whsec_new")], NOW);
        assert_eq!(verify(&both, BODY, &[secret("whsec_new")], NOW), Ok(()));
        assert_eq!(verify(&both, BODY, &[secret("whsec_old")], NOW), Ok(()));
        let old_only = sign(BODY, &[secret("whsec_old")], NOW);
        assert_eq!(
            verify(
                &old_only,
                BODY,
                &[secret("whsec_x"), secret("whsec_old")],
                NOW
            ),
            Ok(())
        );
    }

    #[test]
    fn a_changed_body_another_secret_or_a_stale_time_is_refused() {
        let header = sign(BODY, &[secret("whsec_a")], NOW);
        let changed = br#"{"id":"evt_1","type":"payment_intent.canceled"}"#;
        assert_eq!(
            verify(&header, changed, &[secret("whsec_a")], NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&header, BODY, &[secret("whsec_b")], NOW),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(
                &header,
                BODY,
                &[secret("whsec_a")],
                NOW + TOLERANCE_SECONDS + 1
            ),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(
                &header,
                BODY,
                &[secret("whsec_a")],
                NOW - TOLERANCE_SECONDS - 1
            ),
            Err(SignatureError::Stale)
        );
        // A replay re-stamped with a new time no longer matches its signature.
        let replayed = header.replacen(&NOW.to_string(), &(NOW + 600).to_string(), 1);
        assert_eq!(
            verify(&replayed, BODY, &[secret("whsec_a")], NOW + 600),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_header_without_a_time_or_a_v1_is_malformed() {
        for header in [
            "",
            "t=1796540000",
            "v1=abcd",
            "t=x,v1=abcd",
            "t=1796540000,v0=abcd",
            "t=1796540000,v1=zz",
        ] {
            assert_eq!(
                verify(header, BODY, &[secret("whsec_a")], NOW),
                Err(SignatureError::Malformed),
                "{header}"
            );
        }
    }
}
