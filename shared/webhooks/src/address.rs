//! Where a webhook may be sent. An endpoint's URL is the admin's to choose, so it must not
//! reach inside the network the shop runs in: in AWS only `https`, and never an address in a
//! loopback, private, shared, link-local (the instance metadata service) or unique-local range.
//! The addresses are checked when the endpoint is registered and again on every connection,
//! by the resolver the sender connects through: a name may resolve elsewhere later.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::dns::Name;
use url::{Host, Url};

/// Whether loopback addresses are allowed: only for the local stack, whose tests run their
/// receivers on 127.0.0.1. Every other refused range stays refused there too.
pub const ALLOW_LOOPBACK: &str = "WEBHOOKS_ALLOW_LOOPBACK";

/// Why an endpoint's URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("must be an https URL")]
    NotHttps,
    #[error("must not reach {0}, a loopback, private or link-local address")]
    Internal(IpAddr),
    #[error("names a host that does not resolve")]
    Unresolved,
}

/// Which addresses webhooks may go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddressPolicy {
    allow_loopback: bool,
}

impl AddressPolicy {
    /// As in AWS: https to public addresses only.
    pub const PUBLIC_ONLY: Self = Self {
        allow_loopback: false,
    };
    /// As in the local stack: loopback too, by plain http or https.
    pub const LOOPBACK_TOO: Self = Self {
        allow_loopback: true,
    };

    /// The policy `WEBHOOKS_ALLOW_LOOPBACK` asks for; public only when it is not `true`.
    pub fn from_env() -> Self {
        match shop_runtime::settings::optional(ALLOW_LOOPBACK).as_deref() {
            Some("true") => Self::LOOPBACK_TOO,
            _ => Self::PUBLIC_ONLY,
        }
    }

    /// Whether the URL may be sent to, its host resolved now.
    pub async fn check(&self, url: &Url) -> Result<(), Refused> {
        let addresses = match url.host() {
            Some(Host::Ipv4(ip)) => vec![IpAddr::V4(ip)],
            Some(Host::Ipv6(ip)) => vec![IpAddr::V6(ip)],
            Some(Host::Domain(name)) => resolve(name).await?,
            None => return Err(Refused::Unresolved),
        };
        self.check_addresses(url.scheme(), &addresses)
    }

    /// The check of a host literally written as an address, without resolving anything (a
    /// connection to such a host does not go through the resolver).
    pub fn check_literal(&self, url: &Url) -> Result<(), Refused> {
        match url.host() {
            Some(Host::Ipv4(ip)) => self.check_addresses(url.scheme(), &[IpAddr::V4(ip)]),
            Some(Host::Ipv6(ip)) => self.check_addresses(url.scheme(), &[IpAddr::V6(ip)]),
            Some(Host::Domain(_)) if url.scheme() == "https" || self.allow_loopback => Ok(()),
            Some(Host::Domain(_)) => Err(Refused::NotHttps),
            None => Err(Refused::Unresolved),
        }
    }

    /// Every address must be allowed: a name with one internal address among public ones is
    /// refused whole, since the connection may pick any of them.
    fn check_addresses(&self, scheme: &str, addresses: &[IpAddr]) -> Result<(), Refused> {
        for &ip in addresses {
            if is_loopback(ip) && self.allow_loopback {
                continue;
            }
            if is_internal(ip) {
                return Err(Refused::Internal(ip));
            }
            if scheme != "https" {
                return Err(Refused::NotHttps);
            }
        }
        Ok(())
    }

    /// The resolver a sender connects through: it refuses a name any of whose addresses the
    /// policy refuses, at the moment of connecting.
    pub fn resolver(self) -> GuardedResolver {
        GuardedResolver { policy: self }
    }
}

/// How long a name may take to resolve at registration.
const RESOLVE_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

async fn resolve(name: &str) -> Result<Vec<IpAddr>, Refused> {
    let addresses: Vec<IpAddr> =
        tokio::time::timeout(RESOLVE_WITHIN, tokio::net::lookup_host((name, 0)))
            .await
            .map_err(|_| Refused::Unresolved)?
            .map_err(|_| Refused::Unresolved)?
            .map(|address| address.ip())
            .collect();
    match addresses.is_empty() {
        true => Err(Refused::Unresolved),
        false => Ok(addresses),
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(ip) => ip.is_loopback(),
        IpAddr::V6(ip) => ip.is_loopback(),
    }
}

/// An address a webhook must never reach from AWS: anything not on the public internet.
pub fn is_internal(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(ip) => is_internal_v4(ip),
        IpAddr::V6(ip) => is_internal_v6(ip),
    }
}

/// An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, or through the NAT64
/// prefix `64:ff9b::/96`) is judged as that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let segments = v6.segments();
            if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [.., a, b, c, d] = v6.octets();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            ip
        }
        IpAddr::V4(_) => ip,
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || a == 0 // "this network"
        || ip.is_loopback()
        || ip.is_private() // 10/8, 172.16/12, 192.168/16
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || ip.is_link_local() // 169.254/16: the instance metadata service
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || ip.is_multicast()
        || a >= 240 // reserved, and the broadcast address
        || ip.is_documentation()
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    ip.is_unspecified()
        || ip.is_loopback()
        || (first & 0xfe00) == 0xfc00 // unique local fc00::/7 (AWS's metadata: fd00:ec2::254)
        || (first & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (first & 0xffc0) == 0xfec0 // site-local, deprecated but routable inside
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
}

/// Resolves a host's name for a connection, refusing it when any of its addresses is one the
/// policy refuses; the connection then goes to the addresses checked, never to a second answer.
#[derive(Debug, Clone, Copy)]
pub struct GuardedResolver {
    policy: AddressPolicy,
}

impl tower_service::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, io::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), io::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let policy = self.policy;
        Box::pin(async move {
            let addresses: Vec<SocketAddr> =
                tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let ips: Vec<IpAddr> = addresses.iter().map(SocketAddr::ip).collect();
            // The scheme was checked before the request; here only the addresses are.
            policy
                .check_addresses("https", &ips)
                .map_err(|refused| io::Error::new(io::ErrorKind::PermissionDenied, refused))?;
            Ok(addresses.into_iter())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[tokio::test]
    async fn in_aws_every_internal_range_is_refused() {
        let policy = AddressPolicy::PUBLIC_ONLY;
        for target in [
            "https://127.0.0.1/hook",
            "https://127.8.9.10/hook",
            "https://10.0.0.1/hook",
            "https://172.16.5.4/hook",
            "https://192.168.1.1/hook",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.64.0.1/hook",
            "https://0.0.0.0/hook",
            "https://[::1]/hook",
            "https://[fd00:ec2::254]/hook",
            "https://[fe80::1]/hook",
            "https://[::ffff:10.0.0.1]/hook",
            "https://[64:ff9b::a9fe:a9fe]/hook",
            "https://localhost/hook",
        ] {
            assert!(
                matches!(policy.check(&url(target)).await, Err(Refused::Internal(_))),
                "{target} was let through"
            );
        }
    }

    #[tokio::test]
    async fn in_aws_only_https_goes_out() {
        let policy = AddressPolicy::PUBLIC_ONLY;
        assert_eq!(
            policy.check(&url("http://93.184.215.14/hook")).await,
            Err(Refused::NotHttps)
        );
        assert_eq!(
            policy.check(&url("https://93.184.215.14/hook")).await,
            Ok(())
        );
        assert_eq!(
            policy.check_literal(&url("http://hooks.example.com/")),
            Err(Refused::NotHttps)
        );
    }

    #[tokio::test]
    async fn locally_loopback_is_allowed_and_nothing_else_internal() {
        let policy = AddressPolicy::LOOPBACK_TOO;
        assert_eq!(
            policy.check(&url("http://127.0.0.1:9000/hook")).await,
            Ok(())
        );
        assert_eq!(policy.check(&url("http://[::1]:9000/hook")).await, Ok(()));
        assert_eq!(
            policy.check(&url("http://localhost:9000/hook")).await,
            Ok(())
        );
        for target in [
            "http://10.0.0.1/",
            "https://169.254.169.254/",
            "https://[fd00::1]/",
        ] {
            assert!(
                matches!(policy.check(&url(target)).await, Err(Refused::Internal(_))),
                "{target} was let through"
            );
        }
        // Plain http to the internet stays refused.
        assert_eq!(
            policy.check(&url("http://93.184.215.14/")).await,
            Err(Refused::NotHttps)
        );
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_at_the_moment_of_connecting() {
        use tower_service::Service;
        let name: Name = "localhost".parse().unwrap();
        let refused = AddressPolicy::PUBLIC_ONLY
            .resolver()
            .call(name.clone())
            .await
            .unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::PermissionDenied);
        let allowed: Vec<SocketAddr> = AddressPolicy::LOOPBACK_TOO
            .resolver()
            .call(name)
            .await
            .unwrap()
            .collect();
        assert!(allowed.iter().all(|address| address.ip().is_loopback()));
    }
}
