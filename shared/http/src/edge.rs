//! The edge itself: what runs around every handler.

use std::future::Future;

use lambda_http::http::{HeaderMap, HeaderValue, Method, header};
use lambda_http::{Body, Request, Response, service_fn};
use shop_domain::Caller;
use tracing::Instrument;
use utoipa::openapi::path::HttpMethod;

use crate::HttpResult;
use crate::error::{ApiError, AuthFailure, ErrorCode};
use crate::respond;

/// How a function learns who is calling. Functions whose routes need a caller verify bearer
/// tokens (`shop-auth`); public ones use [`Public`] and link no token verification at all.
pub trait Authenticate: Send + Sync {
    fn authenticate(
        &self,
        headers: &HeaderMap,
    ) -> impl Future<Output = Result<Caller, AuthFailure>> + Send;
}

/// A function of public routes only: no token is verified, a token sent anyway is ignored,
/// and requests count against the client's address.
pub struct Public;

impl Authenticate for Public {
    async fn authenticate(&self, _: &HeaderMap) -> Result<Caller, AuthFailure> {
        Err(AuthFailure::Missing)
    }
}

/// How a function keeps each client to its share of requests (`shop_ratelimit::RateLimiter`,
/// one allowance shared by every instance): asked before the handler runs.
pub trait RateLimit: Send + Sync {
    /// Whether `request` may be served; `subject` is its verified caller's, if it has one.
    fn admission(
        &self,
        request: &Request,
        subject: Option<&str>,
    ) -> impl Future<Output = Admission> + Send;
}

/// A route whose caller is a provider signing every request (a payment provider's webhooks):
/// its few addresses send for every shopper at once, so a per-client allowance would throttle
/// the shop's own payments. The API's per-route throttle still bounds a flood, and the
/// handler refuses anything unsigned before reading or writing.
pub struct SignedByItsSender;

impl RateLimit for SignedByItsSender {
    async fn admission(&self, _: &Request, _: Option<&str>) -> Admission {
        Admission::Admitted(HeaderMap::new())
    }
}

/// What the rate limit says of one request, with the headers its answer carries either way.
#[derive(Debug, Clone)]
pub enum Admission {
    /// The handler runs.
    Admitted(HeaderMap),
    /// Answered 429 at once: the handler never runs, so nothing is read or written.
    Refused(HeaderMap),
}

/// A request's authentication outcome, kept in its extensions by [`serve`] for the handler.
#[derive(Debug, Clone)]
pub struct Authenticated(pub Result<Caller, AuthFailure>);

/// The verified caller of `request`, or 401 when it has none.
pub fn caller(request: &Request) -> Result<Caller, ApiError> {
    match request.extensions().get::<Authenticated>() {
        Some(Authenticated(Ok(caller))) => Ok(caller.clone()),
        Some(Authenticated(Err(failure))) => Err(ApiError::unauthorized(*failure)),
        None => Err(ApiError::unauthorized(AuthFailure::Missing)),
    }
}

/// The verified caller of `request` if it is in the admin group; 401 or 403 otherwise.
pub fn admin(request: &Request) -> Result<Caller, ApiError> {
    let caller = caller(request)?;
    if caller.admin {
        Ok(caller)
    } else {
        Err(ApiError::new(
            ErrorCode::Forbidden,
            "This action needs the admin group",
        ))
    }
}

/// The method a function serves, as its handler declares it in `#[utoipa::path]`: API Gateway
/// routes by method, but a function invoked directly (`cargo lambda watch`, its function URL,
/// the Invoke API) may be sent any, and answers another as a route no function serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Declared(Vec<Method>),
    /// Every method: the function that answers the routes no other serves.
    Any,
}

impl Route {
    /// The route `P` declares (the handler's name, where the service crate exports its path
    /// under it).
    pub fn of<P: utoipa::Path>() -> Self {
        Self::Declared(P::methods().iter().map(method_of).collect())
    }

    fn serves(&self, method: &Method) -> bool {
        match self {
            Self::Declared(declared) => declared.contains(method),
            Self::Any => true,
        }
    }
}

fn method_of(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Trace => Method::TRACE,
    }
}

/// What every API function does around its handler.
pub struct Edge<A, L> {
    auth: A,
    limiter: L,
}

impl<A: Authenticate, L: RateLimit> Edge<A, L> {
    pub fn new(auth: A, limiter: L) -> Self {
        Self { auth, limiter }
    }

    /// One request: refuse a method the route does not serve, authenticate the caller, admit
    /// the request against the caller's rate limit (a refused request never reaches the
    /// handler), run the handler, and answer with the `X-RateLimit-*` headers.
    pub async fn handle<F, Fut>(
        &self,
        route: &Route,
        handler: &F,
        mut request: Request,
    ) -> Response<Body>
    where
        F: Fn(Request) -> Fut + Sync,
        Fut: Future<Output = HttpResult> + Send,
    {
        if !route.serves(request.method()) {
            return respond::error(&respond::route_not_found(&request));
        }
        let caller = self.auth.authenticate(request.headers()).await;
        let authenticated = caller.is_ok();
        let subject = caller.as_ref().ok().map(|caller| caller.subject.as_str());
        let admission = self.limiter.admission(&request, subject).await;
        let (mut response, headers) = match admission {
            Admission::Refused(headers) => {
                (respond::error(&ApiError::too_many_requests()), headers)
            }
            Admission::Admitted(headers) => {
                request.extensions_mut().insert(Authenticated(caller));
                let response = match handler(request).await {
                    Ok(response) => response,
                    Err(error) => respond::error(&error),
                };
                (response, headers)
            }
        };
        response.headers_mut().extend(headers);
        if authenticated {
            // What a signed-in caller is answered is theirs (a profile, an export, their
            // orders): no browser or proxy keeps a copy.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        response
    }
}

/// Runs an API function: every request for `route` goes through the [`Edge`] to `handler`.
/// Logs one line per request with the method, path and status (never the body, a token or an
/// address).
pub async fn serve<A, L, F, Fut>(
    edge: &Edge<A, L>,
    route: Route,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    A: Authenticate,
    L: RateLimit,
    F: Fn(Request) -> Fut + Sync,
    Fut: Future<Output = HttpResult> + Send,
{
    let handler = &handler;
    lambda_http::run(service_fn(|request: Request| {
        // The method and path are said once, on the request's last line; the span holds only
        // the ids a handler records (every line carries the runtime's request id anyway).
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let span = shop_runtime::work_span!("request");
        let response = edge
            .handle(&route, handler, request)
            .instrument(span.clone());
        async move {
            let response = response.await;
            span.in_scope(|| {
                tracing::info!(
                    %method,
                    path,
                    status = response.status().as_u16(),
                    "request handled"
                )
            });
            Ok::<_, std::convert::Infallible>(response)
        }
    }))
    .await
}
