//! The Customer service's request bodies, typed and read like the Product service's.

use shop_domain::{AddressLine, Email, PersonName, ProfileUpdate, ShippingAddress};
use shop_http::RequestBody;
use shop_http::body::Scalar;
use utoipa::{IntoParams, ToSchema};

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

/// `PATCH /customers/{id}`: the fields given change, at least one.
#[derive(Debug, RequestBody, ToSchema)]
#[body(check = ProfileBody::changes_something)]
#[schema(rename_all = "camelCase", min_properties = 1)]
pub struct ProfileBody {
    pub name: Option<PersonName>,
    pub email: Option<Email>,
    pub shipping_address: Option<ShippingAddressBody>,
}

#[derive(Debug, Clone, RequestBody, ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ShippingAddressBody {
    pub street: AddressLine,
    pub city: AddressLine,
    pub zip_code: AddressLine,
}

impl ProfileBody {
    fn changes_something(&self) -> Result<(), Vec<String>> {
        match self.name.is_none() && self.email.is_none() && self.shipping_address.is_none() {
            true => Err(vec![
                "at least one of name, email or shippingAddress must be given".into(),
            ]),
            false => Ok(()),
        }
    }
}

impl From<ProfileBody> for ProfileUpdate {
    fn from(body: ProfileBody) -> Self {
        ProfileUpdate {
            name: body.name,
            email: body.email,
            shipping_address: body.shipping_address.map(|address| ShippingAddress {
                street: address.street,
                city: address.city,
                zip_code: address.zip_code,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn parse(body: Value) -> Result<ProfileUpdate, Vec<String>> {
        shop_http::body::from_text::<ProfileBody>(&body.to_string()).map(ProfileUpdate::from)
    }

    #[test]
    fn accepts_the_customer_services_example() {
        let update = parse(json!({"email": "updated@example.com", "shippingAddress": {"street": "456 Oak Ave", "city": "Los Angeles", "zipCode": "90001"}})).unwrap();
        assert_eq!(update.email.unwrap().as_str(), "updated@example.com");
        assert_eq!(update.shipping_address.unwrap().zip_code.as_str(), "90001");
        assert!(update.name.is_none());
    }

    #[test]
    fn lists_every_problem() {
        let errors =
            parse(json!({"email": "nope", "shippingAddress": {"street": "", "zipCode": 5}}))
                .unwrap_err();
        assert_eq!(
            errors,
            vec![
                "email must be an email",
                "shippingAddress.street must be a string of 1 to 200 characters",
                "shippingAddress.city is required",
                "shippingAddress.zipCode must be a string of 1 to 200 characters",
            ]
        );
        assert_eq!(
            parse(json!({})).unwrap_err(),
            vec!["at least one of name, email or shippingAddress must be given"]
        );
        assert_eq!(
            parse(json!({"shippingAddress": "home"})).unwrap_err(),
            vec!["shippingAddress must be an object"]
        );
    }

    #[test]
    fn refuses_control_characters_in_text() {
        assert_eq!(
            parse(json!({"name": "Ada\u{0}Lovelace"})).unwrap_err(),
            vec!["name must not contain control characters"]
        );
        let errors =
            parse(json!({"shippingAddress": {"street": "1\nMain", "city": "X", "zipCode": "1"}}))
                .unwrap_err();
        assert!(errors[0].contains("control characters"), "{errors:?}");
    }
}
