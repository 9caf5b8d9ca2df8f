//! Token verification against key sets served over HTTP by a server of the test's own: every
//! way a token can be wrong, and every way fetching the keys can go wrong.

use std::convert::Infallible;
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use shop_auth::{Issuer, KeySet, Verifier};
use shop_http::AuthFailure;
use shop_http::http::{HeaderMap, HeaderValue, header};

const ISSUER: &str = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_test";
const AUDIENCE: &str = "client-1";

/// An RSA key pair made for this test run by openssl: its PEM and its public JWK.
struct TestKey {
    pem: Vec<u8>,
    kid: String,
}

impl TestKey {
    fn generate(kid: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("shop-auth-test-{}-{kid}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("key.pem");
        let status = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&path)
            .status()
            .expect("openssl is needed to make test keys");
        assert!(status.success());
        Self {
            pem: std::fs::read(&path).unwrap(),
            kid: kid.to_owned(),
        }
    }

    fn jwk(&self) -> Value {
        let dir = std::env::temp_dir().join(format!(
            "shop-auth-test-{}-{}",
            std::process::id(),
            self.kid
        ));
        let output = Command::new("openssl")
            .args(["rsa", "-noout", "-modulus", "-in"])
            .arg(dir.join("key.pem"))
            .output()
            .unwrap();
        let text = String::from_utf8(output.stdout).unwrap();
        let hex = text.trim().trim_start_matches("Modulus=");
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        use base64::Engine;
        let n = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        json!({"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid, "n": n, "e": "AQAB"})
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(
            &header,
            claims,
            &EncodingKey::from_rsa_pem(&self.pem).unwrap(),
        )
        .unwrap()
    }
}

fn keys() -> &'static (TestKey, TestKey) {
    static KEYS: OnceLock<(TestKey, TestKey)> = OnceLock::new();
    KEYS.get_or_init(|| (TestKey::generate("key-a"), TestKey::generate("key-b")))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims() -> Value {
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "550e8400-e29b-41d4-a716-446655440000",
           "exp": now() + 600, "iat": now(), "token_use": "id"})
}

fn with(mut claims: Value, key: &str, value: Value) -> Value {
    claims[key] = value;
    claims
}

fn bearer(token: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::AUTHORIZATION,
        HeaderValue::from_str(&format!("Bearer {token}")).unwrap(),
    );
    headers
}

/// What the key set server answers.
#[derive(Clone)]
enum Serve {
    Keys(Value),
    Fail,
    Hang,
}

/// A key set server on 127.0.0.1, answering as `state` says at each request.
async fn key_server(state: Arc<Mutex<Serve>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let state = state.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_request| {
                    let serve = state.lock().unwrap().clone();
                    async move {
                        let response = match serve {
                            Serve::Keys(keys) => {
                                hyper::Response::new(Full::new(Bytes::from(keys.to_string())))
                            }
                            Serve::Fail => hyper::Response::builder()
                                .status(500)
                                .body(Full::new(Bytes::from_static(b"down")))
                                .unwrap(),
                            Serve::Hang => {
                                tokio::time::sleep(Duration::from_secs(120)).await;
                                hyper::Response::new(Full::new(Bytes::new()))
                            }
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    format!("http://{address}/.well-known/jwks.json")
}

fn verifier(url: &str, max_age: Duration) -> Verifier {
    Verifier::new(vec![Issuer::new(
        ISSUER,
        AUDIENCE,
        KeySet::from_url(url).unwrap().with_max_age(max_age),
    )])
}

#[tokio::test]
async fn a_good_id_token_names_its_caller() {
    let (a, _) = keys();
    let state = Arc::new(Mutex::new(Serve::Keys(json!({"keys": [a.jwk()]}))));
    let verifier = verifier(&key_server(state).await, Duration::from_secs(600));
    let caller = verifier
        .verify(&bearer(&a.sign(&with(
            claims(),
            "iat",
            json!(1_795_243_380),
        ))))
        .await
        .unwrap();
    assert_eq!(caller.subject, "550e8400-e29b-41d4-a716-446655440000");
    assert!(!caller.admin);
    // When it was issued: an erasure refuses the tokens from before it.
    assert_eq!(caller.issued_at, 1_795_243_380);
    let admin = with(claims(), "cognito:groups", json!(["admin"]));
    assert!(
        verifier
            .verify(&bearer(&a.sign(&admin)))
            .await
            .unwrap()
            .admin
    );
}

#[tokio::test]
async fn every_bad_token_is_refused_for_its_reason() {
    let (a, b) = keys();
    let state = Arc::new(Mutex::new(Serve::Keys(json!({"keys": [a.jwk()]}))));
    let verifier = verifier(&key_server(state).await, Duration::from_secs(600));
    let forged_with_b = {
        // Signed by another key under the trusted key's id.
        let mut header = Header::new(Algorithm::RS256);
        header.kid = Some(a.kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_rsa_pem(&b.pem).unwrap(),
        )
        .unwrap()
    };
    let hs256 = {
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some(a.kid.clone());
        jsonwebtoken::encode(
            &header,
            &claims(),
            &EncodingKey::from_secret(b"public key bytes"),
        )
        .unwrap()
    };
    let unsigned = {
        use base64::Engine;
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            b64(&json!({"alg": "none", "kid": a.kid})),
            b64(&claims())
        )
    };
    let cases: Vec<(String, AuthFailure)> = vec![
        ("not.a.token".into(), AuthFailure::Malformed),
        (hs256, AuthFailure::WrongAlgorithm),
        (unsigned, AuthFailure::Malformed),
        (
            a.sign(&with(claims(), "exp", json!(now() - 3600))),
            AuthFailure::Expired,
        ),
        (
            a.sign(&with(claims(), "nbf", json!(now() + 3600))),
            AuthFailure::NotYetValid,
        ),
        (
            a.sign(&with(claims(), "iss", json!("https://evil.example"))),
            AuthFailure::WrongIssuer,
        ),
        (
            a.sign(&with(claims(), "aud", json!("another-client"))),
            AuthFailure::WrongAudience,
        ),
        (forged_with_b, AuthFailure::BadSignature),
        (b.sign(&claims()), AuthFailure::UnknownKey),
        (
            a.sign(&with(claims(), "token_use", json!("access"))),
            AuthFailure::WrongTokenUse,
        ),
    ];
    for (token, expected) in cases {
        assert_eq!(
            verifier.verify(&bearer(&token)).await,
            Err(expected),
            "{token}"
        );
    }
    let mut no_token_use = claims();
    no_token_use.as_object_mut().unwrap().remove("token_use");
    assert_eq!(
        verifier.verify(&bearer(&a.sign(&no_token_use))).await,
        Err(AuthFailure::WrongTokenUse)
    );
    assert_eq!(
        verifier.verify(&HeaderMap::new()).await,
        Err(AuthFailure::Missing)
    );
    let mut basic = HeaderMap::new();
    basic.insert(
        header::AUTHORIZATION,
        HeaderValue::from_static("Basic dXNlcjpwYXNz"),
    );
    assert_eq!(verifier.verify(&basic).await, Err(AuthFailure::NotBearer));
}

#[tokio::test]
async fn a_failed_first_fetch_is_retried_by_the_next_request() {
    let (a, _) = keys();
    let state = Arc::new(Mutex::new(Serve::Fail));
    let verifier = verifier(&key_server(state.clone()).await, Duration::from_secs(600));
    let token = a.sign(&claims());
    assert_eq!(
        verifier.verify(&bearer(&token)).await,
        Err(AuthFailure::KeysUnavailable)
    );
    // The issuer is back: no lock-out, the very next request fetches and verifies.
    *state.lock().unwrap() = Serve::Keys(json!({"keys": [a.jwk()]}));
    assert!(verifier.verify(&bearer(&token)).await.is_ok());
}

#[tokio::test]
async fn a_hanging_key_server_times_out() {
    let (a, _) = keys();
    let state = Arc::new(Mutex::new(Serve::Hang));
    let verifier = verifier(&key_server(state).await, Duration::from_secs(600));
    let outcome = tokio::time::timeout(
        Duration::from_secs(100),
        verifier.verify(&bearer(&a.sign(&claims()))),
    )
    .await
    .expect("the fetch gives up long before the server answers");
    assert_eq!(outcome, Err(AuthFailure::KeysUnavailable));
}

#[tokio::test]
async fn a_key_rotated_out_is_no_longer_trusted() {
    let (a, b) = keys();
    let state = Arc::new(Mutex::new(Serve::Keys(json!({"keys": [a.jwk()]}))));
    // Keys are fetched again whenever they are older than zero: every request sees the
    // issuer's current set.
    let verifier = verifier(&key_server(state.clone()).await, Duration::ZERO);
    assert!(verifier.verify(&bearer(&a.sign(&claims()))).await.is_ok());
    *state.lock().unwrap() = Serve::Keys(json!({"keys": [b.jwk()]}));
    assert_eq!(
        verifier.verify(&bearer(&a.sign(&claims()))).await,
        Err(AuthFailure::UnknownKey)
    );
    assert!(verifier.verify(&bearer(&b.sign(&claims()))).await.is_ok());
}

#[tokio::test]
async fn each_trusted_issuer_is_checked_with_its_own_keys_and_audience() {
    let (a, b) = keys();
    let cognito = Arc::new(Mutex::new(Serve::Keys(json!({"keys": [a.jwk()]}))));
    let local = Arc::new(Mutex::new(Serve::Keys(json!({"keys": [b.jwk()]}))));
    let local_issuer = "https://auth.shop.localhost/local-pool";
    let verifier = Verifier::new(vec![
        Issuer::new(
            ISSUER,
            AUDIENCE,
            KeySet::from_url(&key_server(cognito).await).unwrap(),
        ),
        Issuer::new(
            local_issuer,
            "shop-local-client",
            KeySet::from_url(&key_server(local).await).unwrap(),
        ),
    ]);
    let local_claims = with(
        with(claims(), "iss", json!(local_issuer)),
        "aud",
        json!("shop-local-client"),
    );
    assert!(verifier.verify(&bearer(&a.sign(&claims()))).await.is_ok());
    assert!(
        verifier
            .verify(&bearer(&b.sign(&local_claims)))
            .await
            .is_ok()
    );
    // The local issuer's key cannot sign for the user pool, nor the other way round.
    assert_eq!(
        verifier.verify(&bearer(&b.sign(&claims()))).await,
        Err(AuthFailure::UnknownKey)
    );
    assert_eq!(
        verifier.verify(&bearer(&a.sign(&local_claims))).await,
        Err(AuthFailure::UnknownKey)
    );
}
