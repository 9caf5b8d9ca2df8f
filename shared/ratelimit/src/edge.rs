//! The limiter at the HTTP edge: whom a request counts against, and what its answer says of
//! its standing (`X-RateLimit-*`, and `Retry-After` when it is refused).

use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use shop_http::http::{HeaderMap, HeaderValue, header};
use shop_http::{Admission, RateLimit, Request};

use crate::{ClientKey, RateLimiter, Verdict};

pub const LIMIT_HEADER: &str = "x-ratelimit-limit";
pub const REMAINING_HEADER: &str = "x-ratelimit-remaining";
pub const RESET_HEADER: &str = "x-ratelimit-reset";

impl RateLimiter {
    /// The client `request` counts against: the verified caller, else its address.
    pub fn client_key(&self, request: &Request, subject: Option<&str>) -> ClientKey {
        if let Some(subject) = subject {
            return ClientKey::Subject(subject.to_owned());
        }
        let source = match request.request_context_ref() {
            Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
            _ => None,
        };
        let forwarded = request
            .headers()
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect::<Vec<_>>()
            .join(",");
        client_address(source.as_deref(), &forwarded, self.trusted_proxies)
            .map_or(ClientKey::Unknown, ClientKey::Address)
    }
}

impl RateLimit for RateLimiter {
    async fn admission(&self, request: &Request, subject: Option<&str>) -> Admission {
        let verdict = self.admit(&self.client_key(request, subject)).await;
        let mut headers = HeaderMap::new();
        verdict.write_headers(&mut headers);
        match verdict.refused() {
            Some(count) => {
                let retry_after = count.retry_after(self.now());
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
                Admission::Refused(headers)
            }
            None => Admission::Admitted(headers),
        }
    }
}

impl Verdict {
    /// `X-RateLimit-Limit`, `-Remaining` and `-Reset` (only the limit when the count failed).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let (limit, count) = match self {
            Self::Admitted(count) | Self::Refused(count) => (count.limit, Some(count)),
            Self::Unavailable { limit } => (*limit, None),
        };
        headers.insert(LIMIT_HEADER, HeaderValue::from(limit));
        if let Some(count) = count {
            headers.insert(REMAINING_HEADER, HeaderValue::from(count.remaining));
            headers.insert(RESET_HEADER, HeaderValue::from(count.reset));
        }
    }
}

/// The client's address: API Gateway's source address, or, behind `trusted_proxies` proxies
/// that each append the address they received from to `X-Forwarded-For`, the entry the
/// outermost trusted proxy appended (entries further left are the client's to write).
fn client_address(source: Option<&str>, forwarded: &str, trusted_proxies: usize) -> Option<String> {
    if trusted_proxies == 0 {
        return source.map(str::to_owned);
    }
    let hops: Vec<&str> = forwarded
        .split(',')
        .map(str::trim)
        .filter(|hop| !hop.is_empty())
        .collect();
    hops.len()
        .checked_sub(trusted_proxies)
        .and_then(|index| hops.get(index))
        .and_then(|hop| hop.parse::<std::net::IpAddr>().ok())
        .map(|address| address.to_string())
        .or_else(|| source.map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use crate::Count;

    use super::*;

    #[test]
    fn the_source_address_counts_unless_proxies_are_trusted() {
        assert_eq!(
            client_address(Some("203.0.113.9"), "198.51.100.1", 0),
            Some("203.0.113.9".into())
        );
        // Behind CloudFront: the last entry is the viewer address CloudFront saw; anything
        // before it was written by the client.
        assert_eq!(
            client_address(Some("130.176.0.1"), "10.9.9.9, 198.51.100.7", 1),
            Some("198.51.100.7".into())
        );
        assert_eq!(
            client_address(Some("130.176.0.1"), "198.51.100.7, 10.0.0.2", 2),
            Some("198.51.100.7".into())
        );
        assert_eq!(
            client_address(Some("130.176.0.1"), "", 1),
            Some("130.176.0.1".into())
        );
        assert_eq!(
            client_address(Some("130.176.0.1"), "not-an-ip", 1),
            Some("130.176.0.1".into())
        );
        assert_eq!(client_address(None, "", 0), None);
    }

    #[test]
    fn verdicts_turn_into_headers() {
        let count = Count {
            limit: 100,
            remaining: 93,
            reset: 1_700_000_040,
        };
        let mut headers = HeaderMap::new();
        Verdict::Admitted(count).write_headers(&mut headers);
        assert_eq!(headers[LIMIT_HEADER], "100");
        assert_eq!(headers[REMAINING_HEADER], "93");
        assert_eq!(headers[RESET_HEADER], "1700000040");

        let mut headers = HeaderMap::new();
        Verdict::Unavailable { limit: 100 }.write_headers(&mut headers);
        assert_eq!(headers[LIMIT_HEADER], "100");
        assert!(!headers.contains_key(REMAINING_HEADER));
    }
}
