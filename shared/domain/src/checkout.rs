//! What an order costs beyond its goods: where it ships, how, and the tax on it.
//!
//! The one tax rule: **tax = (subtotal + shipping) × the destination country's rate, rounded
//! to the nearest cent, a half cent rounded up.** Shipping is taxed with the goods, as VAT
//! and most sales taxes tax it; a country without a rate of its own takes the default rate.
//! An order with no shipping address is priced as goods only (no shipping, no tax), as the
//! NestJS services' clients order.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::Type;
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};

use crate::RequestBody;
use crate::catalogue::MAX_PRICE_CENTS;
use crate::money::Money;
use crate::text::{AddressLine, PersonName, ShippingMethodName};

/// Every code ISO 3166-1 alpha-2 assigns to a country or territory.
const ISO_3166_ALPHA_2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS \
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE \
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM \
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC \
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA \
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO \
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// A country, by its ISO 3166-1 alpha-2 code (`DE`, `US`), upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Country([u8; 2]);

impl Country {
    const EXPECTED: &str = "must be an ISO 3166-1 alpha-2 country code (such as US or DE)";

    pub fn parse(code: &str) -> Option<Self> {
        let [a, b] = <[u8; 2]>::try_from(code.as_bytes()).ok()?;
        let assigned = ISO_3166_ALPHA_2
            .split(' ')
            .any(|assigned| assigned.as_bytes() == [a, b]);
        assigned.then_some(Self([a, b]))
    }

    pub fn as_str(&self) -> &str {
        // Only assigned codes, all ASCII, are ever held.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Country {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Country {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code: String = crate::read::shaped(deserializer, Self::EXPECTED)?;
        crate::read::parsed(code, |code| Self::parse(&code).ok_or(Self::EXPECTED))
    }
}

impl utoipa::PartialSchema for Country {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[A-Z]{2}$"))
            .description(Some("ISO 3166-1 alpha-2 country code"))
            .examples(["US"])
            .into()
    }
}
impl ToSchema for Country {}

/// Where an order is shipped to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, RequestBody, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryAddress {
    pub full_name: PersonName,
    pub street: AddressLine,
    pub city: AddressLine,
    pub zip_code: AddressLine,
    pub country: Country,
}

/// How a shop names one of its shipping methods: `standard`, `next-day` (lower-case letters,
/// digits and dashes, 1 to 32).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ShippingMethodId(String);

impl ShippingMethodId {
    const EXPECTED: &str = "must be a shipping method's id (lower-case letters, digits and dashes)";

    pub fn parse(text: &str) -> Option<Self> {
        let shaped = (1..=32).contains(&text.len())
            && text
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
        shaped.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ShippingMethodId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ShippingMethodId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text: String = crate::read::shaped(deserializer, Self::EXPECTED)?;
        crate::read::parsed(text, |text| Self::parse(&text).ok_or(Self::EXPECTED))
    }
}

impl utoipa::PartialSchema for ShippingMethodId {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .pattern(Some("^[a-z0-9-]{1,32}$"))
            .description(Some(
                "A shipping method's id, as `GET /shipping-methods` lists it",
            ))
            .examples(["standard"])
            .into()
    }
}
impl ToSchema for ShippingMethodId {}

/// A way the shop ships, and what it charges for it (0 for free shipping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ShippingMethod {
    pub id: ShippingMethodId,
    pub name: ShippingMethodName,
    pub price: Money,
}

/// A tax rate in percent: 0 to 100, at most three decimals (`8.875`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TaxRate(Decimal);

impl TaxRate {
    pub fn percent(&self) -> Decimal {
        self.0
    }

    /// The tax on `base`, by the rule this module states.
    pub fn tax_on(&self, base: Money) -> Money {
        let tax = (Decimal::from(base.cents()) * self.0 / Decimal::ONE_HUNDRED)
            .round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
        // At most the base itself (the rate is at most 100 %), so always in range.
        Money::from_cents(tax.to_i64().unwrap_or(i64::MAX)).unwrap_or(base)
    }
}

impl FromStr for TaxRate {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        let expected = || format!("{text:?} is not a tax rate (a percentage from 0 to 100)");
        let rate = Decimal::from_str_exact(text.trim()).map_err(|_| expected())?;
        if rate.is_sign_negative() || rate > Decimal::ONE_HUNDRED || rate.normalize().scale() > 3 {
            return Err(expected());
        }
        Ok(Self(rate))
    }
}

/// What a shop charges beyond its goods: its shipping methods and tax rates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    methods: Vec<ShippingMethod>,
    default_rate: TaxRate,
    rates: BTreeMap<Country, TaxRate>,
}

/// A shipping method the shop does not offer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shippingMethod must be one of {offered}")]
pub struct UnknownShippingMethod {
    pub offered: String,
}

impl Checkout {
    /// `methods` as `id:Name:price` separated by commas (`standard:Standard:5.99`), `rates`
    /// as `CC:percent` separated by commas (`DE:19,FR:20`).
    pub fn parse(methods: &str, default_rate: &str, rates: &str) -> Result<Self, String> {
        let methods = methods
            .split(',')
            .map(str::trim)
            .filter(|method| !method.is_empty())
            .map(parse_method)
            .collect::<Result<Vec<_>, _>>()?;
        if methods.is_empty() {
            return Err("at least one shipping method is needed".into());
        }
        for (index, method) in methods.iter().enumerate() {
            if methods[..index].iter().any(|other| other.id == method.id) {
                return Err(format!("shipping method {} is named twice", method.id));
            }
        }
        let rates = rates
            .split(',')
            .map(str::trim)
            .filter(|rate| !rate.is_empty())
            .map(|entry| {
                let (country, rate) = entry
                    .split_once(':')
                    .ok_or_else(|| format!("{entry:?} is not COUNTRY:percent"))?;
                let country = Country::parse(country.trim())
                    .ok_or_else(|| format!("{country:?} is not an ISO 3166-1 alpha-2 code"))?;
                Ok((country, rate.parse()?))
            })
            .collect::<Result<BTreeMap<_, _>, String>>()?;
        Ok(Self {
            methods,
            default_rate: default_rate.parse()?,
            rates,
        })
    }

    pub const STANDARD_METHODS: &str = "standard:Standard:5.99,express:Express:15.99";
    pub const STANDARD_TAX_RATE: &str = "7";

    /// Standard and express shipping, 7 % tax everywhere.
    pub fn standard() -> Self {
        Self::parse(Self::STANDARD_METHODS, Self::STANDARD_TAX_RATE, "")
            .unwrap_or_else(|problem| unreachable!("the standard checkout is valid: {problem}"))
    }

    pub fn methods(&self) -> &[ShippingMethod] {
        &self.methods
    }

    /// The rate charged on orders shipped to `country`.
    pub fn rate_for(&self, country: Country) -> TaxRate {
        self.rates
            .get(&country)
            .copied()
            .unwrap_or(self.default_rate)
    }

    /// The shipping and tax an order shipped to `address` by `method` is charged.
    pub fn delivery(
        &self,
        address: DeliveryAddress,
        method: &ShippingMethodId,
    ) -> Result<Delivery, UnknownShippingMethod> {
        let Some(method) = self.methods.iter().find(|offered| &offered.id == method) else {
            let offered: Vec<&str> = self.methods.iter().map(|m| m.id.as_str()).collect();
            return Err(UnknownShippingMethod {
                offered: offered.join(", "),
            });
        };
        Ok(Delivery {
            tax_rate: self.rate_for(address.country),
            address,
            method: method.id.clone(),
            price: method.price,
        })
    }
}

fn parse_method(text: &str) -> Result<ShippingMethod, String> {
    let bad = || format!("{text:?} is not id:Name:price");
    let mut parts = text.splitn(3, ':');
    let (Some(id), Some(name), Some(price)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let price = Money::parse_exact(price.trim())
        .ok()
        .filter(|price| price.cents() <= MAX_PRICE_CENTS)
        .ok_or_else(bad)?;
    Ok(ShippingMethod {
        id: ShippingMethodId::parse(id.trim()).ok_or_else(bad)?,
        name: ShippingMethodName::parse(name).map_err(|_| bad())?,
        price,
    })
}

/// The delivery an order is placed with: where, how, and what that costs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub address: DeliveryAddress,
    pub method: ShippingMethodId,
    pub price: Money,
    pub tax_rate: TaxRate,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(text: &str) -> Money {
        text.parse().unwrap()
    }

    fn address(country: &str) -> DeliveryAddress {
        DeliveryAddress {
            full_name: PersonName::parse("Ada Lovelace").unwrap(),
            street: AddressLine::parse("12 St James's Square").unwrap(),
            city: AddressLine::parse("London").unwrap(),
            zip_code: AddressLine::parse("SW1Y 4JH").unwrap(),
            country: Country::parse(country).unwrap(),
        }
    }

    #[test]
    fn only_assigned_upper_case_codes_are_countries() {
        for code in ["US", "DE", "GB", "ZW", "AD"] {
            assert_eq!(Country::parse(code).unwrap().as_str(), code);
        }
        for code in ["us", "UK", "XX", "USA", "U", "", "D1", "ÄÖ"] {
            assert_eq!(Country::parse(code), None, "{code}");
        }
        assert_eq!(ISO_3166_ALPHA_2.split(' ').count(), 249);
    }

    #[test]
    fn tax_rounds_to_the_nearest_cent_a_half_cent_up() {
        let rate: TaxRate = "7".parse().unwrap();
        assert_eq!(rate.tax_on(money("10.00")), money("0.70"));
        // 0.07 × 0.50 = 0.035: a half cent, rounded up.
        assert_eq!(rate.tax_on(money("0.50")), money("0.04"));
        // 0.07 × 0.64 = 0.0448: down.
        assert_eq!(rate.tax_on(money("0.64")), money("0.04"));
        let city: TaxRate = "8.875".parse().unwrap();
        // 8.875 % of 99.99 = 8.8741125.
        assert_eq!(city.tax_on(money("99.99")), money("8.87"));
        let all: TaxRate = "100".parse().unwrap();
        assert_eq!(all.tax_on(money("12.34")), money("12.34"));
        assert_eq!(rate.tax_on(Money::ZERO), Money::ZERO);
    }

    #[test]
    fn tax_rates_are_percentages_from_0_to_100() {
        for good in ["0", "7", "19.5", "8.875", "100"] {
            assert!(good.parse::<TaxRate>().is_ok(), "{good}");
        }
        for bad in ["-1", "100.01", "7.0001", "seven", "", "1e2"] {
            assert!(bad.parse::<TaxRate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_country_without_a_rate_takes_the_default() {
        let checkout = Checkout::parse("standard:Standard:5.99", "7", "DE:19, FR:20").unwrap();
        assert_eq!(
            checkout.rate_for(Country::parse("DE").unwrap()).percent(),
            Decimal::from(19)
        );
        assert_eq!(
            checkout.rate_for(Country::parse("US").unwrap()).percent(),
            Decimal::from(7)
        );
        let standard = ShippingMethodId::parse("standard").unwrap();
        let delivery = checkout.delivery(address("FR"), &standard).unwrap();
        assert_eq!(delivery.price, money("5.99"));
        assert_eq!(delivery.tax_rate.percent(), Decimal::from(20));
    }

    #[test]
    fn an_unknown_method_names_the_offered_ones() {
        let checkout = Checkout::standard();
        let overnight = ShippingMethodId::parse("overnight").unwrap();
        assert_eq!(
            checkout
                .delivery(address("US"), &overnight)
                .unwrap_err()
                .to_string(),
            "shippingMethod must be one of standard, express"
        );
    }

    #[test]
    fn a_bad_configuration_is_refused_with_its_reason() {
        for (methods, default, rates) in [
            ("", "7", ""),
            ("standard:Standard", "7", ""),
            ("Standard:Standard:5.99", "7", ""),
            ("standard:Standard:-1", "7", ""),
            ("standard:Standard:5.999", "7", ""),
            ("standard:Standard:1000000.01", "7", ""),
            ("a:A:1,a:B:2", "7", ""),
            ("a:A:1", "107", ""),
            ("a:A:1", "7", "UK:20"),
            ("a:A:1", "7", "DE=19"),
        ] {
            assert!(
                Checkout::parse(methods, default, rates).is_err(),
                "{methods} {default} {rates}"
            );
        }
        let free = Checkout::parse("pickup:Pick up in store:0", "0", "").unwrap();
        assert_eq!(free.methods()[0].price, Money::ZERO);
        assert_eq!(free.methods()[0].name.as_str(), "Pick up in store");
    }
}
