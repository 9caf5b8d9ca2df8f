//! The Customer service's request bodies, typed and validated like the Product service's.

use garde::Validate;
use serde::Deserialize;
use shop_domain::{AddressLine, Email, PersonName, ProfileUpdate, ShippingAddress};
use shop_http::fields::{Sent, optional, required, valid};

use shop_http::object_field;
use utoipa::ToSchema;

/// `PATCH /customers/{id}`: the fields given change, at least one.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(min_properties = 1)]
pub struct ProfileBody {
    #[garde(custom(optional))]
    #[schema(value_type = Option<PersonName>)]
    #[serde(default)]
    pub name: Option<Sent<PersonName>>,
    #[garde(custom(optional))]
    #[schema(value_type = Option<Email>)]
    #[serde(default)]
    pub email: Option<Sent<Email>>,
    #[garde(dive)]
    #[schema(value_type = Option<ShippingAddressBody>)]
    #[serde(default)]
    pub shipping_address: Option<Sent<ShippingAddressBody>>,
}

#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddressBody {
    #[garde(custom(required))]
    #[schema(value_type = AddressLine)]
    #[serde(default)]
    pub street: Option<Sent<AddressLine>>,
    #[garde(custom(required))]
    #[schema(value_type = AddressLine)]
    #[serde(default)]
    pub city: Option<Sent<AddressLine>>,
    #[garde(custom(required))]
    #[schema(value_type = AddressLine)]
    #[serde(default)]
    pub zip_code: Option<Sent<AddressLine>>,
}

object_field!(ShippingAddressBody);

impl ProfileBody {
    pub fn into_update(self) -> Result<ProfileUpdate, Vec<String>> {
        let address = self
            .shipping_address
            .as_ref()
            .and_then(Sent::valid)
            .and_then(|address| {
                Some(ShippingAddress {
                    street: valid(&address.street)?,
                    city: valid(&address.city)?,
                    zip_code: valid(&address.zip_code)?,
                })
            });
        let update = ProfileUpdate {
            name: valid(&self.name),
            email: valid(&self.email),
            shipping_address: address,
        };
        if update.is_empty() {
            return Err(vec![
                "at least one of name, email or shippingAddress must be given".into(),
            ]);
        }
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn parse(body: Value) -> Result<ProfileUpdate, Vec<String>> {
        let body: ProfileBody = serde_json::from_str(&body.to_string()).unwrap();
        body.validate()
            .map_err(|report| shop_http::body::problems(&report))?;
        body.into_update()
    }

    #[test]
    fn accepts_the_seed_example() {
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
                "shippingAddress.city is required",
                "shippingAddress.street must be a string of 1 to 200 characters",
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
