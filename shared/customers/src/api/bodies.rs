//! The Customer service's request bodies, typed and read like the Product service's: a profile's
//! change is the domain's own `ProfileUpdate`.

use shop_domain::RequestBody;
use shop_domain::read::Scalar;
use utoipa::IntoParams;

use crate::profiles::ExportCursor;

/// `GET /customers/{id}/export`: which page.
#[derive(Debug, RequestBody, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Where the previous page said the next one starts (`nextCursor`).
    #[param(value_type = Option<String>)]
    pub cursor: Option<ExportCursor>,
}

impl Scalar for ExportCursor {}
